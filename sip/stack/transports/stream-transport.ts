import net from 'node:net';
import tls from 'node:tls';
import { StreamFramer } from '../stream-framer.js';
import type { Destination, LocalAddress, MessageSource, SendResult, StackLogger } from '../transport-types.js';
import { errorReason, listenOn, newConnectionId, normalizeAddress, type Transport, type TransportSink } from './transport.js';

export interface StreamTransportOptions {
  protocol: 'tcp' | 'tls';
  host: string;
  port: number;
  /** Required for tls. */
  tls?: { cert: string | Buffer; key: string | Buffer; rejectUnauthorized?: boolean };
  maxMessageSize: number;
  /** How long an outbound connect may take. */
  connectTimeoutMs?: number;
}

interface Connection {
  id: string;
  socket: net.Socket;
  framer: StreamFramer;
  /** "address:port" of the peer, for reuse by later sends (RFC 3261 18.1.1). */
  peer: string;
  source: MessageSource;
}

const PONG = Buffer.from('\r\n');

/**
 * SIP over TCP and TLS (RFC 3261 18, 26.2). Every connection, accepted or opened, is kept
 * by id and by peer address so responses and NOTIFYs reuse it (RFC 3261 18.2.2, and a phone
 * behind NAT can only be reached on the connection it opened).
 */
export class StreamTransport implements Transport {
  readonly protocol: 'tcp' | 'tls';
  private server: net.Server | undefined;
  private bound: LocalAddress = { address: '', port: 0 };
  private readonly connections = new Map<string, Connection>();
  private readonly byPeer = new Map<string, Connection>();
  private readonly connecting = new Map<string, Promise<Connection | string>>();

  constructor(
    private readonly opts: StreamTransportOptions,
    private readonly sink: TransportSink,
    private readonly log: StackLogger,
  ) {
    this.protocol = opts.protocol;
  }

  start(): Promise<void> {
    const { host, port } = this.opts;
    return new Promise((resolve, reject) => {
      let server: net.Server;
      if (this.protocol === 'tls') {
        const t = this.opts.tls;
        if (t === undefined) {
          reject(new Error('tls transport needs cert and key'));
          return;
        }
        try {
          server = tls.createServer({ cert: t.cert, key: t.key }, (s) => this.adopt(s));
        } catch (err) {
          reject(new Error(`cannot listen on tls ${host}:${port}: ${errorReason(err)}`));
          return;
        }
        // A failed handshake is the peer's problem, not ours.
        server.on('tlsClientError', (err) => this.log.debug({ err: errorReason(err) }, 'tls handshake failed'));
      } else {
        server = net.createServer((s) => this.adopt(s));
      }
      listenOn(server, this.protocol, host, port, this.log).then((bound) => {
        this.bound = bound;
        this.server = server;
        resolve();
      }, reject);
    });
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.connections.values()) c.socket.destroy();
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  hasConnection(connectionId: string): boolean {
    return this.connections.has(connectionId);
  }

  localAddress(): LocalAddress {
    return this.bound;
  }

  send(dest: Destination, data: Buffer): Promise<SendResult> {
    let conn = dest.connectionId === undefined ? undefined : this.connections.get(dest.connectionId);
    const peer = `${stripBrackets(dest.address)}:${dest.port}`;
    conn ??= this.byPeer.get(peer);
    // Written synchronously when the connection exists, so a 400 sent just before the
    // connection is closed still goes out.
    if (conn !== undefined) return write(conn.socket, data);
    if (this.server === undefined) return Promise.resolve({ ok: false, reason: `${this.protocol} transport not running` });
    return this.connect(stripBrackets(dest.address), dest.port, peer).then((c) =>
      typeof c === 'string' ? { ok: false, reason: c } : write(c.socket, data),
    );
  }

  private connect(address: string, port: number, peer: string): Promise<Connection | string> {
    const pending = this.connecting.get(peer);
    if (pending !== undefined) return pending;
    const p = new Promise<Connection | string>((resolve) => {
      const t = this.opts.tls;
      const socket =
        this.protocol === 'tls' && t !== undefined
          ? tls.connect({
              host: address,
              port,
              rejectUnauthorized: t.rejectUnauthorized ?? true,
              ...(net.isIP(address) === 0 ? { servername: address } : {}),
            })
          : net.connect({ host: address, port });
      const ready = this.protocol === 'tls' ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(`connect to ${peer} timed out`);
      }, this.opts.connectTimeoutMs ?? 10_000);
      socket.once('error', (err) => {
        clearTimeout(timer);
        resolve(`connect to ${peer} failed: ${errorReason(err)}`);
      });
      socket.once(ready, () => {
        clearTimeout(timer);
        resolve(this.adopt(socket, peer));
      });
    });
    this.connecting.set(peer, p);
    void p.then(() => this.connecting.delete(peer));
    return p;
  }

  private adopt(socket: net.Socket, peerKey?: string): Connection {
    const id = newConnectionId(this.protocol);
    const address = normalizeAddress(socket.remoteAddress);
    const port = socket.remotePort ?? 0;
    const peer = peerKey ?? `${address}:${port}`;
    const source: MessageSource = {
      transport: this.protocol,
      address,
      port,
      local: { address: normalizeAddress(socket.localAddress), port: socket.localPort ?? 0 },
      connectionId: id,
    };
    const conn: Connection = { id, socket, framer: new StreamFramer({ maxMessageSize: this.opts.maxMessageSize }), peer, source };
    this.connections.set(id, conn);
    this.byPeer.set(peer, conn);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', (err) => this.log.debug({ connectionId: id, err: errorReason(err) }, 'connection error'));
    socket.on('close', () => {
      this.connections.delete(id);
      if (this.byPeer.get(peer) === conn) this.byPeer.delete(peer);
      this.sink.onConnectionClosed(id, this.protocol);
    });
    return conn;
  }

  private onData(conn: Connection, chunk: Buffer): void {
    const events = conn.framer.push(chunk);
    for (const ev of events) {
      switch (ev.kind) {
        case 'message':
          this.sink.onData(ev.data, conn.source, true);
          break;
        case 'keepalive':
          // RFC 5626 3.5.1: answer a CRLFCRLF ping with a CRLF pong.
          conn.socket.write(PONG);
          break;
        case 'error':
          this.log.warn({ connectionId: conn.id, error: ev.error }, 'cannot frame stream, closing connection');
          this.sink.onFramingError(ev.error, ev.head, conn.source);
          conn.socket.end();
          // Do not wait forever for a peer that never reads the 400.
          setTimeout(() => conn.socket.destroy(), 2000).unref();
          return;
      }
    }
  }
}

function stripBrackets(address: string): string {
  return address.startsWith('[') ? address.slice(1, -1) : address;
}

function write(socket: net.Socket, data: Buffer): Promise<SendResult> {
  if (socket.destroyed || !socket.writable) return Promise.resolve({ ok: false, reason: 'connection closed' });
  return new Promise((resolve) => {
    socket.write(data, (err) => resolve(err ? { ok: false, reason: errorReason(err) } : { ok: true }));
  });
}
