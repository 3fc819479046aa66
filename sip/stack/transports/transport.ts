import type { Destination, LocalAddress, MessageSource, SendResult, TransportProtocol } from '../transport-types.js';

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
  send(dest: Destination, data: Buffer): Promise<SendResult>;
  localAddress(): LocalAddress;
  hasConnection(connectionId: string): boolean;
}

/** Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; Via and logs want a.b.c.d. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

let nextConnection = 0;

/** Connection ids are unique for the process's life, so a stale id never hits a new connection. */
export function newConnectionId(protocol: TransportProtocol): string {
  nextConnection++;
  return `${protocol}-${nextConnection}`;
}

export function errorReason(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === undefined ? err.message : `${code}: ${err.message}`;
  }
  return String(err);
}
