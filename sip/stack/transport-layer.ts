import { EventEmitter } from 'node:events';
import type { SipMessage, SipRequest } from './message.js';
import { parseMessage, type PartialRequest } from './parser.js';
import { serialize } from './serialize.js';
import {
  SILENT_LOGGER,
  type Destination,
  type ListenSpec,
  type LocalAddress,
  type MessageSource,
  type SendResult,
  type StackLogger,
  type TransportProtocol,
} from './transport-types.js';
import { StreamTransport } from './transports/stream-transport.js';
import { errorReason, type Transport, type TransportSink } from './transports/transport.js';
import { UdpTransport } from './transports/udp-transport.js';
import { WsTransport } from './transports/ws-transport.js';
import { formatVia, topVia, type Via } from './via.js';
import type { ReadTally } from '../../src/receive-priority.js';

/** A message that could not be parsed; `request` is set when there is something to answer. */
export interface MalformedMessage {
  error: string;
  /** 400, or 505 for an unsupported SIP version. */
  status: 400 | 505;
  request?: PartialRequest;
}

export interface TransportLayerEvents {
  message: [message: SipMessage, source: MessageSource];
  malformed: [malformed: MalformedMessage, source: MessageSource];
  connectionClosed: [connectionId: string, transport: TransportProtocol];
}

export interface TransportLayerOptions {
  listen: readonly ListenSpec[];
  logger?: StackLogger;
  /** Largest accepted message on stream and WebSocket transports (default 64 KiB). */
  maxMessageSize?: number;
  /** UDP listeners send from a thread of their own (UdpSenderThread); default false. */
  udpSenderThread?: boolean;
  /** Event loop utilization above which that thread is used (default 0.5; 0: always). */
  udpSendThreadAbove?: number;
  /** Nice steps below the event loop for that thread (Linux; default 0, the same). */
  udpSendThreadNice?: number;
  /** Gives each UDP listener a tally to count its reads in (ReceivePriority). */
  udpReadTally?: () => ReadTally;
}

/**
 * Owns every listening socket and connection, parses what arrives, and sends what the
 * transaction layer hands it (RFC 3261 18). Emits `message`, `malformed` and
 * `connectionClosed`; emits nothing else and never throws on bad input.
 */
export class TransportLayer extends EventEmitter<TransportLayerEvents> {
  private readonly transports: Transport[] = [];
  private readonly specs: readonly ListenSpec[];
  private readonly log: StackLogger;
  private readonly sink: TransportSink;
  private running = false;

  constructor(opts: TransportLayerOptions) {
    super();
    this.specs = opts.listen;
    this.log = opts.logger ?? SILENT_LOGGER;
    const maxMessageSize = opts.maxMessageSize ?? 65536;
    this.sink = {
      onData: (data, source, stream) => this.receive(data, source, stream),
      onFramingError: (error, head, source) => this.framingError(error, head, source),
      onConnectionClosed: (id, transport) => this.emit('connectionClosed', id, transport),
    };
    for (const spec of opts.listen) {
      switch (spec.transport) {
        case 'udp':
          this.transports.push(
            new UdpTransport(spec.host, spec.port, this.sink, this.log, {
              senderThread: opts.udpSenderThread === true,
              ...(opts.udpSendThreadAbove !== undefined ? { sendThreadAbove: opts.udpSendThreadAbove } : {}),
              ...(opts.udpSendThreadNice !== undefined ? { sendThreadNice: opts.udpSendThreadNice } : {}),
              ...(opts.udpReadTally !== undefined ? { readTally: opts.udpReadTally() } : {}),
            }),
          );
          break;
        case 'tcp':
          this.transports.push(new StreamTransport({ protocol: 'tcp', host: spec.host, port: spec.port, maxMessageSize }, this.sink, this.log));
          break;
        case 'tls':
          this.transports.push(
            new StreamTransport(
              { protocol: 'tls', host: spec.host, port: spec.port, maxMessageSize, tls: { cert: spec.cert, key: spec.key, rejectUnauthorized: spec.rejectUnauthorized } },
              this.sink,
              this.log,
            ),
          );
          break;
        case 'ws':
          this.transports.push(new WsTransport({ protocol: 'ws', host: spec.host, port: spec.port, maxMessageSize }, this.sink, this.log));
          break;
        case 'wss':
          this.transports.push(
            new WsTransport({ protocol: 'wss', host: spec.host, port: spec.port, maxMessageSize, tls: { cert: spec.cert, key: spec.key } }, this.sink, this.log),
          );
          break;
      }
    }
  }

  /** Binds every listener; if one fails, the others are closed again and the error names it. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.transports.map((t) => t.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(this.transports.map((t) => t.stop()));
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.transports.map((t) => t.stop()));
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Sends a message or raw bytes. Never throws and never rejects. For TCP/TLS an open
   * connection (by id, else by peer address) is reused and otherwise one is opened; for
   * WS/WSS only an open connection can be used.
   */
  send(dest: Destination, message: SipMessage | Buffer): SendResult | Promise<SendResult> {
    const transport = this.transportFor(dest.transport);
    if (transport === undefined) return Promise.resolve({ ok: false, reason: `no ${dest.transport} transport configured` });
    let data: Buffer;
    try {
      data = Buffer.isBuffer(message) ? message : serialize(message);
    } catch (err) {
      return Promise.resolve({ ok: false, reason: `cannot serialize message: ${errorReason(err)}` });
    }
    return transport.send(dest, data);
  }

  /**
   * Sends bytes when nothing waits on the outcome (responses); a failure is only logged.
   * UDP skips the completion callback and the promise.
   */
  post(dest: Destination, data: Buffer): void {
    const transport = this.transportFor(dest.transport);
    if (transport === undefined) {
      this.log.debug({ transport: dest.transport }, 'no transport for a response');
      return;
    }
    if (transport.post !== undefined) {
      transport.post(dest, data);
      return;
    }
    void Promise.resolve(transport.send(dest, data)).then((r) => {
      if (!r.ok) this.log.debug({ transport: dest.transport, address: dest.address, port: dest.port, reason: r.reason }, 'response not sent');
    });
  }

  /** The address to put in Via sent-by / Contact for this transport (the advertised one if configured). */
  localAddress(transport: TransportProtocol): LocalAddress | undefined {
    const idx = this.transports.findIndex((t) => t.protocol === transport);
    if (idx < 0) return undefined;
    const bound = this.transports[idx].localAddress();
    const adv = this.specs[idx].advertise;
    if (adv === undefined) return bound;
    return { address: adv.host, port: adv.port ?? bound.port };
  }

  /** True while a stream/WebSocket connection with this id is open. */
  hasConnection(connectionId: string): boolean {
    return this.transports.some((t) => t.hasConnection(connectionId));
  }

  private transportFor(protocol: TransportProtocol): Transport | undefined {
    for (const t of this.transports) if (t.protocol === protocol) return t;
    return undefined;
  }

  private receive(data: Buffer, source: MessageSource, stream: boolean): void {
    const result = parseMessage(data, { stream });
    if (!result.ok) {
      this.log.debug({ source, error: result.error }, 'malformed message');
      const malformed: MalformedMessage = { error: result.error, status: result.status };
      if (result.request !== undefined) malformed.request = result.request;
      this.emitSafely('malformed', malformed, source);
      return;
    }
    const message = result.message;
    if (message.kind === 'request') markReceived(message, source);
    this.emitSafely('message', message, source);
  }

  private framingError(error: string, head: Buffer | undefined, source: MessageSource): void {
    const malformed: MalformedMessage = { error, status: 400 };
    if (head !== undefined) {
      const partial = parseMessage(head, { stream: false });
      if (partial.ok && partial.message.kind === 'request') {
        markReceived(partial.message, source);
        const { method, uri, headers } = partial.message;
        malformed.request = { method, uri, headers };
      } else if (!partial.ok && partial.request !== undefined) malformed.request = partial.request;
    }
    this.emitSafely('malformed', malformed, source);
  }

  /** A throwing listener must not take the socket's event loop callback down with it. */
  private emitSafely(event: 'message', message: SipMessage, source: MessageSource): void;
  private emitSafely(event: 'malformed', malformed: MalformedMessage, source: MessageSource): void;
  private emitSafely(event: 'message' | 'malformed', payload: SipMessage | MalformedMessage, source: MessageSource): void {
    try {
      if (event === 'message') this.emit('message', payload as SipMessage, source);
      else this.emit('malformed', payload as MalformedMessage, source);
    } catch (err) {
      this.log.error({ err: errorReason(err), event }, 'listener threw');
    }
  }
}

function bare(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/**
 * RFC 3261 18.2.1 / RFC 3581 4: stamp the top Via with where the request really came
 * from, so the response (and later requests, for NAT) go back there.
 */
function markReceived(req: SipRequest, source: MessageSource): void {
  const line = req.headers.get('via');
  if (line === undefined) return;
  const via = topVia(req);
  // RFC 3581 4: with rport, received is added even if it matches sent-by.
  const received = via.rport === true || bare(via.host) !== source.address;
  const rport = via.rport === true;
  if (received || rport) {
    const stamped = stampedAsReceived(line, via, source, received, rport);
    if (received) {
      via.params.set('received', source.address);
      via.received = source.address;
    }
    if (rport) {
      via.params.set('rport', String(source.port));
      via.rport = source.port;
    }
    req.headers.replaceFirst('via', stamped ?? formatVia(via));
  }
  req.topVia = via;
}

/**
 * The top Via as the phone wrote it, with `received` added and the empty `rport` filled in,
 * or undefined when it takes more than that (another Via on the line, a `received` already
 * there, an `rport` not found as an empty flag): formatVia() then writes it from its parts.
 * Cheaper than writing it again, and the rest of the phone's Via comes back to it unchanged.
 */
function stampedAsReceived(line: string, via: Via, source: MessageSource, received: boolean, rport: boolean): string | undefined {
  if (line.includes(',') || via.params.has('received')) return undefined;
  const stamp = received ? `;received=${source.address}` : '';
  if (!rport) return line + stamp;
  const at = emptyParamAt(line, 'rport');
  if (at < 0) return undefined;
  return `${line.slice(0, at)}${stamp};rport=${source.port}${line.slice(at + 6)}`;
}

/** Index of the ';' of the parameter `name` (lowercase) written without a value, or -1. */
function emptyParamAt(line: string, name: string): number {
  const lower = line.toLowerCase();
  for (let at = lower.indexOf(`;${name}`); at >= 0; at = lower.indexOf(`;${name}`, at + 1)) {
    const next = at + 1 + name.length;
    if (next === line.length || line.charCodeAt(next) === 59) return at;
  }
  return -1;
}
