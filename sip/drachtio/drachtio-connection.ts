import Srf from 'drachtio-srf';
import type { Logger } from '../../src/ports/logger.js';
import { parseDrachtioEndpoints, type SipEndpoint } from './drachtio-endpoints.js';
import { DEFAULT_RECONNECT_BACKOFF, reconnectDelay, type ReconnectBackoff } from './reconnect-backoff.js';

export interface DrachtioConnectionOptions {
  host: string;
  port: number;
  secret?: string;
  logger: Logger;
  backoff?: ReconnectBackoff;
  /** While the server stays unreachable, repeat the warning at most this often. */
  warnEveryMs?: number;
}

const DEFAULT_WARN_EVERY_MS = 30_000;

/**
 * The inbound connection to a drachtio server (the application dials the server's admin
 * port). srf's own retry loop is turned off (`maxAttempts: 1`: its backoff has no cap by
 * default and it cannot be stopped before the first connect); this class retries with
 * ReconnectBackoff and logs an unreachable server once, then every `warnEveryMs`.
 *
 * Every `srf.connect()` builds a fresh drachtio agent with the registered verbs, so the
 * handlers given to `srf` survive reconnects. Dialogs do not: they belong to the connection.
 */
export class DrachtioConnection {
  readonly srf = new Srf();
  private readonly log: Logger;
  private readonly backoff: ReconnectBackoff;
  private readonly warnEveryMs: number;
  private connected = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** Consecutive failed attempts since the last success. */
  private failures = 0;
  private lastWarnAt = 0;
  private downSince: number | undefined;
  private current: SipEndpoint[] = [];
  private readonly connectListeners: Array<(endpoints: SipEndpoint[]) => void> = [];
  private readonly disconnectListeners: Array<() => void> = [];
  /** Callers of whenConnected() still waiting: told true on connect, false on stop. */
  private readonly connectWaiters = new Set<(connected: boolean) => void>();

  constructor(private readonly o: DrachtioConnectionOptions) {
    this.log = o.logger;
    this.backoff = o.backoff ?? DEFAULT_RECONNECT_BACKOFF;
    this.warnEveryMs = o.warnEveryMs ?? DEFAULT_WARN_EVERY_MS;
    this.srf.on('connect', (err, hostports) => this.onConnect(err, hostports));
    // A refused or broken socket: srf emits 'error' then 'close'; both lead to one retry.
    this.srf.on('error', (err) => this.onFailure(err.message));
    this.srf.on('close', () => this.onFailure('connection closed'));
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** The server's SIP endpoints as announced on the current connection; empty while down. */
  endpoints(): SipEndpoint[] {
    return this.connected ? this.current : [];
  }

  onConnected(listener: (endpoints: SipEndpoint[]) => void): void {
    this.connectListeners.push(listener);
  }

  onDisconnected(listener: () => void): void {
    this.disconnectListeners.push(listener);
  }

  /**
   * Resolves true once connected and authenticated (at once if already), false after
   * `waitMs` or when the connection is stopped.
   */
  whenConnected(waitMs: number): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (connected: boolean): void => {
        clearTimeout(timer);
        this.connectWaiters.delete(done);
        resolve(connected);
      };
      const timer = setTimeout(() => done(false), waitMs);
      // A wait never keeps the process alive by itself.
      timer.unref();
      this.connectWaiters.add(done);
    });
  }

  /** Starts connecting; resolves once connected or after `waitMs`, retrying in the background. */
  async start(waitMs: number): Promise<boolean> {
    this.stopped = false;
    this.attempt();
    return this.whenConnected(waitMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wasConnected = this.connected;
    this.connected = false;
    this.closeSocket();
    for (const w of [...this.connectWaiters]) w(false);
    if (wasConnected) for (const l of this.disconnectListeners) l();
  }

  private attempt(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const opts = { host: this.o.host, port: this.o.port, reconnect: { maxAttempts: 1 } };
    this.srf.connect(this.o.secret !== undefined ? { ...opts, secret: this.o.secret } : opts);
  }

  private closeSocket(): void {
    try {
      this.srf.disconnect();
    } catch {
      // No socket yet (still connecting, or never connected): nothing to close.
    }
  }

  private onConnect(err: Error | null, hostports: string): void {
    if (this.stopped) {
      this.closeSocket();
      return;
    }
    if (err) {
      // The server closes the socket next; onFailure schedules the retry.
      this.log.error({ host: this.o.host, port: this.o.port, err: err.message }, 'drachtio server rejected the connection: check DRACHTIO_SECRET');
      return;
    }
    this.connected = true;
    this.current = parseDrachtioEndpoints(hostports);
    const downtimeMs = this.downSince !== undefined ? Date.now() - this.downSince : undefined;
    this.log.info({ host: this.o.host, port: this.o.port, sip: hostports, attempts: this.failures + 1, downtimeMs }, 'connected to drachtio server');
    this.failures = 0;
    this.lastWarnAt = 0;
    this.downSince = undefined;
    for (const l of this.connectListeners) l(this.current);
    for (const w of [...this.connectWaiters]) w(true);
  }

  private onFailure(reason: string): void {
    if (this.stopped) return;
    if (this.connected) {
      this.connected = false;
      this.log.warn({ host: this.o.host, port: this.o.port, reason }, 'lost the connection to the drachtio server; reconnecting');
      for (const l of this.disconnectListeners) l();
    }
    if (this.timer) return; // 'error' and 'close' of one socket: one retry
    this.downSince ??= Date.now();
    this.failures++;
    const delayMs = reconnectDelay(this.backoff, this.failures);
    const now = Date.now();
    if (now - this.lastWarnAt >= this.warnEveryMs) {
      this.lastWarnAt = now;
      this.log.warn({ host: this.o.host, port: this.o.port, reason, attempts: this.failures, retryInMs: delayMs }, 'drachtio server unreachable; retrying');
    } else {
      this.log.debug({ host: this.o.host, port: this.o.port, reason, attempts: this.failures, retryInMs: delayMs }, 'drachtio server still unreachable');
    }
    this.timer = setTimeout(() => this.attempt(), delayMs);
    this.timer.unref();
  }
}
