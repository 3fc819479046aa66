import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Destination, LocalAddress, MessageSource, SendResult, StackLogger } from '../transport-types.js';
import { errorReason, listenOn, newConnectionId, normalizeAddress, type Transport, type TransportSink } from './transport.js';

export interface WsTransportOptions {
  protocol: 'ws' | 'wss';
  host: string;
  port: number;
  /** Required for wss. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  maxMessageSize: number;
}

interface WsConnection {
  id: string;
  ws: WebSocket;
  source: MessageSource;
  peer: string;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function isOnlyCrlf(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 13 && b[i] !== 10) return false;
  return true;
}

/**
 * SIP over WebSocket (RFC 7118): subprotocol "sip", one SIP message per WebSocket message.
 * Browsers cannot accept connections, so everything sent to them must use the connection
 * they opened; there is no outbound connect.
 */
export class WsTransport implements Transport {
  readonly protocol: 'ws' | 'wss';
  private server: http.Server | https.Server | undefined;
  private wss: WebSocketServer | undefined;
  private bound: LocalAddress = { address: '', port: 0 };
  private readonly connections = new Map<string, WsConnection>();
  private readonly byPeer = new Map<string, WsConnection>();

  constructor(
    private readonly opts: WsTransportOptions,
    private readonly sink: TransportSink,
    private readonly log: StackLogger,
  ) {
    this.protocol = opts.protocol;
  }

  start(): Promise<void> {
    const { host, port } = this.opts;
    return new Promise((resolve, reject) => {
      const onHttp = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
        res.writeHead(426, { Connection: 'close', Upgrade: 'websocket' }).end('SIP over WebSocket only\n');
      };
      let server: http.Server | https.Server;
      try {
        if (this.protocol === 'wss') {
          if (this.opts.tls === undefined) throw new Error('wss transport needs cert and key');
          server = https.createServer({ cert: this.opts.tls.cert, key: this.opts.tls.key }, onHttp);
        } else server = http.createServer(onHttp);
      } catch (err) {
        reject(new Error(`cannot listen on ${this.protocol} ${host}:${port}: ${errorReason(err)}`));
        return;
      }
      const wss = new WebSocketServer({
        noServer: true,
        maxPayload: this.opts.maxMessageSize,
        clientTracking: false,
        handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
      });
      server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        socket.on('error', () => socket.destroy());
        // RFC 7118 4: the client offers the "sip" subprotocol; a server that accepts the
        // connection must select it, so one without it is refused.
        const offered = String(req.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .map((p) => p.trim());
        if (!offered.includes('sip')) {
          socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => this.adopt(ws, req));
      });
      listenOn(server, this.protocol, host, port, this.log).then((bound) => {
        this.bound = bound;
        this.server = server;
        this.wss = wss;
        resolve();
      }, reject);
    });
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.connections.values()) c.ws.terminate();
    this.wss?.close();
    this.wss = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  hasConnection(connectionId: string): boolean {
    return this.connections.has(connectionId);
  }

  localAddress(): LocalAddress {
    return this.bound;
  }

  send(dest: Destination, data: Buffer): Promise<SendResult> {
    let conn = dest.connectionId === undefined ? undefined : this.connections.get(dest.connectionId);
    conn ??= this.byPeer.get(`${dest.address}:${dest.port}`);
    if (conn === undefined || conn.ws.readyState !== conn.ws.OPEN) {
      return Promise.resolve({ ok: false, reason: 'no open WebSocket connection to that peer' });
    }
    const ws = conn.ws;
    return new Promise((resolve) => {
      // Text frames: SIP is UTF-8 text and browser stacks (SIP.js, JsSIP) expect strings.
      ws.send(data, { binary: false }, (err) => resolve(err ? { ok: false, reason: errorReason(err) } : { ok: true }));
    });
  }

  private adopt(ws: WebSocket, req: http.IncomingMessage): void {
    const id = newConnectionId(this.protocol);
    const address = normalizeAddress(req.socket.remoteAddress);
    const port = req.socket.remotePort ?? 0;
    const source: MessageSource = {
      transport: this.protocol,
      address,
      port,
      local: { address: normalizeAddress(req.socket.localAddress), port: req.socket.localPort ?? 0 },
      connectionId: id,
    };
    const conn: WsConnection = { id, ws, source, peer: `${address}:${port}` };
    this.connections.set(id, conn);
    this.byPeer.set(conn.peer, conn);
    ws.on('message', (data: RawData) => {
      const buf = toBuffer(data);
      if (isOnlyCrlf(buf)) {
        // SIP.js keepalives send CRLFCRLF in a message and wait for a CRLF (RFC 5626 3.5.1).
        if (buf.length >= 4) ws.send('\r\n');
        return;
      }
      this.sink.onData(buf, source, false);
    });
    ws.on('error', (err) => {
      this.log.debug({ connectionId: id, err: errorReason(err) }, 'websocket error');
      ws.terminate();
    });
    ws.on('close', () => {
      this.connections.delete(id);
      if (this.byPeer.get(conn.peer) === conn) this.byPeer.delete(conn.peer);
      this.sink.onConnectionClosed(id, this.protocol);
    });
  }
}
