import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import type { SipMessage, SipRequest, SipResponse } from '../../sip/stack/message.js';
import { parseMessage } from '../../sip/stack/parser.js';
import { StreamFramer } from '../../sip/stack/stream-framer.js';

type Transport = 'udp' | 'tcp' | 'tls';

/**
 * A bare SIP phone for tests: sends hand-written requests over UDP, TCP or TLS, collects what
 * comes back (parsed by our stack's parser) and answers every NOTIFY with 200, as phones do.
 */
export class RawSipClient {
  readonly received: SipMessage[] = [];
  private waiters: Array<() => void> = [];
  private udp?: dgram.Socket;
  private stream?: net.Socket;
  localPort = 0;

  private constructor(
    readonly transport: Transport,
    private readonly host: string,
    private readonly port: number,
  ) {}

  static async connect(transport: Transport, port: number, host = '127.0.0.1', opts: { localPort?: number } = {}): Promise<RawSipClient> {
    const c = new RawSipClient(transport, host, port);
    if (transport === 'udp') {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(opts.localPort ?? 0, '127.0.0.1', () => resolve());
      });
      sock.on('message', (buf) => c.onData(buf));
      c.udp = sock;
      c.localPort = sock.address().port;
    } else {
      const framer = new StreamFramer();
      const sock =
        transport === 'tls'
          ? tls.connect({ host, port, rejectUnauthorized: false })
          : net.connect({ host, port });
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.once(transport === 'tls' ? 'secureConnect' : 'connect', () => resolve());
      });
      sock.on('data', (chunk: Buffer) => {
        for (const ev of framer.push(chunk)) if (ev.kind === 'message') c.onData(ev.data, true);
      });
      c.stream = sock;
      c.localPort = sock.localPort ?? 0;
    }
    return c;
  }

  send(text: string): void {
    const data = Buffer.from(text.replace(/\r?\n/g, '\r\n'));
    if (this.udp) this.udp.send(data, this.port, this.host);
    else this.stream?.write(data);
  }

  /** Resolves with the first message received (now or later) that matches and was not taken before. */
  async next<T extends SipMessage = SipMessage>(match: (m: SipMessage) => boolean, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex(match);
      if (i >= 0) return this.received.splice(i, 1)[0] as T;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching SIP message within ${timeoutMs} ms; have: ${this.received.map(firstLine).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  response(status: number, timeoutMs?: number): Promise<SipResponse> {
    return this.next<SipResponse>((m) => m.kind === 'response' && m.status === status, timeoutMs);
  }

  notify(timeoutMs?: number): Promise<SipRequest> {
    return this.next<SipRequest>((m) => m.kind === 'request' && m.method === 'NOTIFY', timeoutMs);
  }

  close(): void {
    this.udp?.close();
    this.stream?.destroy();
  }

  private onData(buf: Buffer, stream = false): void {
    const r = parseMessage(buf, { stream });
    if (!r.ok) return;
    const m = r.message;
    if (m.kind === 'request' && m.method === 'NOTIFY') {
      const h = m.headers;
      const vias = h.getAll('Via').map((v) => `Via: ${v}`).join('\r\n');
      this.send(
        `SIP/2.0 200 OK\r\n${vias}\r\nFrom: ${h.get('From')}\r\nTo: ${h.get('To')}\r\nCall-ID: ${h.get('Call-ID')}\r\nCSeq: ${h.get('CSeq')}\r\nContent-Length: 0\r\n\r\n`,
      );
    }
    this.received.push(m);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function firstLine(m: SipMessage): string {
  return m.kind === 'request' ? `${m.method} ${m.uri}` : `${m.status} ${m.reason}`;
}

/** A SUBSCRIBE as a desk phone writes it. */
export function subscribeText(o: {
  transport: Transport;
  localPort: number;
  ext: string;
  domain: string;
  callId: string;
  fromTag: string;
  toTag?: string;
  cseq: number;
  expires: number;
  branch: string;
}): string {
  const T = o.transport.toUpperCase();
  return [
    `SUBSCRIBE sip:${o.ext}@${o.domain} SIP/2.0`,
    `Via: SIP/2.0/${T} 127.0.0.1:${o.localPort};branch=${o.branch};rport`,
    `From: <sip:watcher@${o.domain}>;tag=${o.fromTag}`,
    `To: <sip:${o.ext}@${o.domain}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} SUBSCRIBE`,
    `Contact: <sip:watcher@127.0.0.1:${o.localPort};transport=${o.transport}>`,
    'Max-Forwards: 70',
    'Event: dialog',
    'Accept: application/dialog-info+xml',
    `Expires: ${o.expires}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
