import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

function serverDialogId(sip: string): string {
  const callId = /^Call-ID: *(.+)$/im.exec(sip)?.[1]?.trim() ?? '';
  const fromTag = /^From: .*;tag=([^;\s]+)/im.exec(sip)?.[1] ?? '';
  return `${callId};from-tag=${fromTag}`;
}

/** A message the application sent over the admin connection, split into its leader tokens and SIP text. */
export interface AppMessage {
  msgId: string;
  tokens: string[];
  sip: string;
}

/**
 * Just enough of drachtio-server's admin protocol (`<length>#<msgId>|<verb>|...`) to drive
 * drachtio-srf in unit tests: authentication, relaying a SIP request to the application,
 * acknowledging what it sends, and relaying a response to a request it sent.
 */
export class FakeDrachtioServer {
  readonly received: AppMessage[] = [];
  private server: Server | undefined;
  private socket: Socket | undefined;
  private buffer = '';
  private waiters: Array<() => void> = [];
  private txn = 0;
  port = 0;

  constructor(
    private readonly secret: string,
    private readonly hostports = 'udp/127.0.0.1:5070,tcp/127.0.0.1:5070',
  ) {}

  async listen(port = 0): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  /** Drops the application's connection (as a restarted drachtio server would). */
  dropConnection(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  async close(): Promise<void> {
    this.dropConnection();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** Relays a request from the network; `dialogId` is set for a request inside a dialog the server knows. */
  sendRequest(sip: string, opts: { transport?: string; source?: [string, number]; dialogId?: string } = {}): string {
    const txnId = `txn-${++this.txn}`;
    const [address, port] = opts.source ?? ['127.0.0.1', 5099];
    const leader = ['sip', 'network', String(Buffer.byteLength(sip)), opts.transport ?? 'udp', address, String(port), '08:00:00.000000', txnId, opts.dialogId ?? '', '127.0.0.1', '5070'];
    this.write(leader.join('|'), sip);
    return txnId;
  }

  /** Relays the watcher's answer to a request the application sent (`txnId` from acknowledge). */
  sendResponse(txnId: string, dialogId: string, sip: string): void {
    this.write(['sip', 'network', String(Buffer.byteLength(sip)), 'udp', '127.0.0.1', '5099', '08:00:00.000000', txnId, dialogId].join('|'), sip);
  }

  /** Waits for a message from the application that satisfies `match`. */
  async next(match: (m: AppMessage) => boolean, timeoutMs = 2000): Promise<AppMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) {
        this.received.splice(this.received.indexOf(found), 1);
        return found;
      }
      if (Date.now() > deadline) throw new Error(`no matching message; got ${this.received.map((m) => m.tokens.join('|')).join(' ; ')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private accept(socket: Socket): void {
    this.socket = socket;
    this.buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
    });
    socket.on('error', () => undefined);
  }

  private write(leader: string, sip = ''): void {
    const body = `${randomUUID()}|${leader}${sip ? `\r\n${sip}` : ''}`;
    this.socket?.write(`${Buffer.byteLength(body)}#${body}`);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const hash = this.buffer.indexOf('#');
      if (hash < 0) return;
      const length = Number(this.buffer.slice(0, hash));
      const bytes = Buffer.from(this.buffer.slice(hash + 1));
      if (bytes.length < length) return;
      const body = bytes.subarray(0, length).toString('utf8');
      this.buffer = bytes.subarray(length).toString('utf8');
      this.onMessage(body);
    }
  }

  private onMessage(body: string): void {
    const crlf = body.indexOf('\r\n');
    const leader = crlf < 0 ? body : body.slice(0, crlf);
    const sip = crlf < 0 ? '' : body.slice(crlf + 2);
    const [msgId = '', ...tokens] = leader.split('|');
    if (tokens[0] === 'authenticate') {
      const ok = tokens[1] === this.secret;
      this.write(ok ? `response|${msgId}|OK|${this.hostports}|v0.8.0` : `response|${msgId}|NOK|bad secret`);
      if (!ok) setImmediate(() => this.dropConnection());
      return;
    }
    if (tokens[0] === 'sip') {
      // Echo what was sent, as drachtio does once it is on the wire; a request gets a transaction id.
      const txnId = `app-${++this.txn}`;
      // A 2xx to a new SUBSCRIBE creates the server's dialog, named `<Call-ID>;from-tag=<tag>`.
      const dialogId = tokens[2] || (/^SIP\/2\.0 2\d\d/.test(sip) && /^CSeq: *\d+ SUBSCRIBE/im.test(sip) ? serverDialogId(sip) : '');
      this.write(`response|${msgId}|OK|application|${Buffer.byteLength(sip)}|udp|127.0.0.1|5070|08:00:00.000000|${txnId}|${dialogId}`, sip);
      this.received.push({ msgId: txnId, tokens, sip });
    } else {
      this.received.push({ msgId, tokens, sip });
    }
    for (const w of this.waiters.splice(0)) w();
  }
}
