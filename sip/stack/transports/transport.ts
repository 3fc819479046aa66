import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { Destination, LocalAddress, MessageSource, SendResult, StackLogger, TransportProtocol } from '../transport-types.js';

/** How a transport hands what it received to the transport layer. */
export interface TransportSink {
  /** One complete message's bytes. `stream` is true when a framer cut it by Content-Length. */
  onData(data: Buffer, source: MessageSource, stream: boolean): void;
  /**
   * The stream cannot be framed; the connection is closed right after this returns, so a
   * 400 sent synchronously from here still goes out first.
   */
  onFramingError(error: string, head: Buffer | undefined, source: MessageSource): void;
  onConnectionClosed(connectionId: string, transport: TransportProtocol): void;
}

/** One listening socket of one protocol. */
export interface Transport {
  readonly protocol: TransportProtocol;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A datagram queued at once may come back as the result itself rather than a promise. */
  send(dest: Destination, data: Buffer): SendResult | Promise<SendResult>;
  /**
   * Sends without reporting the outcome, for what nothing waits on (responses: a client that
   * misses one retransmits its request). Cheaper where the transport can skip the bookkeeping.
   */
  post?(dest: Destination, data: Buffer): void;
  localAddress(): LocalAddress;
  hasConnection(connectionId: string): boolean;
}

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; Via and logs want a.b.c.d. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

let nextConnection = 0;
/** Differs per process: subscriptions store connection ids, and survive restarts. */
const BOOT = randomBytes(4).toString('hex');

/**
 * Connection ids are unique across restarts too, so an id stored with a subscription before
 * a restart can never name another phone's new connection.
 */
export function newConnectionId(protocol: TransportProtocol): string {
  nextConnection++;
  return `${protocol}-${BOOT}-${nextConnection}`;
}

export function errorReason(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === undefined ? err.message : `${code}: ${err.message}`;
  }
  return String(err);
}

/**
 * Binds a listening server (TCP, TLS, HTTP for WebSocket): a bind failure rejects with the
 * address in the message; later listener errors are logged, never thrown.
 */
export function listenOn(server: net.Server, protocol: TransportProtocol, host: string, port: number, log: StackLogger): Promise<LocalAddress> {
  return new Promise((resolve, reject) => {
    const onStartError = (err: Error): void => {
      reject(new Error(`cannot listen on ${protocol} ${host}:${port}: ${errorReason(err)}`));
    };
    server.once('error', onStartError);
    server.listen(port, host, () => {
      server.off('error', onStartError);
      server.on('error', (err) => log.error({ err, transport: protocol }, 'listener error'));
      const a = server.address() as net.AddressInfo;
      resolve({ address: a.address, port: a.port });
    });
  });
}
