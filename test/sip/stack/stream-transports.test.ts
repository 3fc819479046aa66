import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SipHeaders } from '../../../sip/stack/headers.js';
import type { SipMessage, SipRequest } from '../../../sip/stack/message.js';
import { parseMessage } from '../../../sip/stack/parser.js';
import { StreamFramer } from '../../../sip/stack/stream-framer.js';
import type { MessageSource, TransportProtocol } from '../../../sip/stack/transport-types.js';
import { parseVia } from '../../../sip/stack/via.js';
import { sleep, startStack, type Stack } from './harness.js';
import { subscribe, wire } from './messages.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let certDir = '';
let cert = '';
let key = '';
beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), 'sip-stack-tls-'));
  execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', join(certDir, 'k'), '-out', join(certDir, 'c')], { stdio: 'ignore' });
  cert = readFileSync(join(certDir, 'c'), 'utf8');
  key = readFileSync(join(certDir, 'k'), 'utf8');
});
afterAll(() => rmSync(certDir, { recursive: true, force: true }));

/** Collects the SIP messages arriving on a client stream socket. */
function collect(socket: net.Socket): { messages: SipMessage[]; raw: Buffer[]; next(count: number): Promise<SipMessage[]> } {
  const framer = new StreamFramer();
  const messages: SipMessage[] = [];
  const raw: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    raw.push(chunk);
    for (const ev of framer.push(chunk)) {
      if (ev.kind !== 'message') continue;
      const r = parseMessage(ev.data, { stream: true });
      if (r.ok) messages.push(r.message);
    }
  });
  return {
    messages,
    raw,
    async next(count) {
      for (let i = 0; i < 200 && messages.length < count; i++) await sleep(10);
      if (messages.length < count) throw new Error(`expected ${count} messages, got ${messages.length}`);
      return messages;
    },
  };
}

function answer(req: SipMessage, status: number): Buffer {
  const h = req.headers;
  return wire([`SIP/2.0 ${status} OK`, ...h.getLines('via').map((v) => `Via: ${v}`), `From: ${h.get('from') ?? ''}`, `To: ${h.get('to') ?? ''};tag=client`, `Call-ID: ${h.get('call-id') ?? ''}`, `CSeq: ${h.get('cseq') ?? ''}`, 'Content-Length: 0']);
}

function notifyRequest(stack: Stack, transport: TransportProtocol): SipRequest {
  return {
    kind: 'request',
    method: 'NOTIFY',
    uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws',
    headers: new SipHeaders({
      Via: stack.transactions.viaFor(transport) ?? '',
      'Max-Forwards': 70,
      From: '<sip:100@example.com>;tag=srv',
      To: '<sip:alice@example.com>;tag=a1',
      'Call-ID': 'notify-stream',
      CSeq: '2 NOTIFY',
      Event: 'dialog',
      'Subscription-State': 'active;expires=60',
    }),
    body: Buffer.alloc(0),
  };
}

async function tcpStack(): Promise<{ stack: Stack; port: number }> {
  const stack = await startStack([{ transport: 'tcp', host: '127.0.0.1', port: 0 }]);
  cleanups.push(() => stack.stop());
  return { stack, port: stack.transport.localAddress('tcp')?.port ?? 0 };
}

async function connectTcp(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  cleanups.push(() => void socket.destroy());
  return socket;
}

describe('TCP transport', () => {
  it('answers a request written in two pieces on the same connection, and NOTIFYs back over it', async () => {
    const { stack, port } = await tcpStack();
    let source: MessageSource | undefined;
    stack.transactions.onRequest((req, tx, src) => {
      source = src;
      void tx.respond(200, 'OK', [['Expires', '60']]);
    });
    const socket = await connectTcp(port);
    const inbox = collect(socket);
    const msg = subscribe({ Via: 'SIP/2.0/TCP 10.9.9.9:5060;branch=z9hG4bKtcp1' });
    socket.write(msg.subarray(0, 100));
    await sleep(20);
    socket.write(msg.subarray(100));
    const [res] = await inbox.next(1);
    expect(res.kind === 'response' && res.status).toBe(200);
    expect(parseVia(res.headers.get('via') ?? '').received).toBe('127.0.0.1');
    // tcp-<process boot id>-<n>: unique across restarts, since subscriptions store it.
    expect(source?.connectionId).toMatch(/^tcp-[0-9a-f]{8}-\d+$/);

    // The server's NOTIFY goes out on the phone's connection, found by connection id.
    const pending = stack.transactions.sendRequest(notifyRequest(stack, 'tcp'), { transport: 'tcp', address: '192.0.2.99', port: 5060, connectionId: source?.connectionId });
    const [, notify] = await inbox.next(2);
    expect(notify.kind === 'request' && notify.method).toBe('NOTIFY');
    socket.write(answer(notify, 200));
    const result = await pending;
    expect(result.kind === 'response' && result.response.status).toBe(200);
  });

  it('answers a CRLFCRLF ping with a CRLF pong (RFC 5626)', async () => {
    const { port } = await tcpStack();
    const socket = await connectTcp(port);
    const inbox = collect(socket);
    socket.write('\r\n\r\n');
    for (let i = 0; i < 100 && inbox.raw.length === 0; i++) await sleep(5);
    expect(Buffer.concat(inbox.raw).toString()).toBe('\r\n');
  });

  it('answers 400 to a request without Content-Length, then closes the connection', async () => {
    const { stack, port } = await tcpStack();
    const closed: string[] = [];
    stack.transport.on('connectionClosed', (id) => closed.push(id));
    const socket = await connectTcp(port);
    const inbox = collect(socket);
    const ended = new Promise<void>((r) => socket.once('close', () => r()));
    socket.write(subscribe({ 'Content-Length': null, Via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKnocl' }));
    const [res] = await inbox.next(1);
    expect(res.kind === 'response' && res.reason).toBe('Bad Request - Missing Content-Length header on a stream transport');
    await ended;
    for (let i = 0; i < 100 && closed.length === 0; i++) await sleep(5);
    expect(closed).toHaveLength(1);
  });

  it('drops a connection that sends garbage without affecting others', async () => {
    const { stack, port } = await tcpStack();
    stack.transactions.onRequest((req, tx) => void tx.respond(200));
    const bad = await connectTcp(port);
    bad.on('error', () => {});
    bad.write(Buffer.alloc(70_000, 0x7f));
    const good = await connectTcp(port);
    const inbox = collect(good);
    good.write(subscribe({ Via: 'SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKgood' }));
    const [res] = await inbox.next(1);
    expect(res.kind === 'response' && res.status).toBe(200);
  });

  it('opens an outbound connection when none is open to the destination', async () => {
    const { stack } = await tcpStack();
    const server = net.createServer();
    const received: SipMessage[] = [];
    const sockets: net.Socket[] = [];
    server.on('connection', (s) => {
      sockets.push(s);
      const inbox = collect(s);
      void inbox.next(1).then((m) => {
        received.push(m[0]);
        s.write(answer(m[0], 200));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          server.close(() => r());
          for (const s of sockets) s.destroy();
        }),
    );
    const port = (server.address() as net.AddressInfo).port;
    const result = await stack.transactions.sendRequest(notifyRequest(stack, 'tcp'), { transport: 'tcp', address: '127.0.0.1', port });
    expect(result.kind === 'response' && result.response.status).toBe(200);
    expect(received).toHaveLength(1);
  });
});

describe('TLS transport', () => {
  it('answers a SUBSCRIBE over TLS with a self-signed certificate', async () => {
    const stack = await startStack([{ transport: 'tls', host: '127.0.0.1', port: 0, cert, key }]);
    cleanups.push(() => stack.stop());
    stack.transactions.onRequest((req, tx) => void tx.respond(200, 'OK', { Expires: 60 }));
    const port = stack.transport.localAddress('tls')?.port ?? 0;
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    cleanups.push(() => void socket.destroy());
    await new Promise<void>((r) => socket.once('secureConnect', () => r()));
    const inbox = collect(socket);
    socket.write(subscribe({ Via: 'SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKtls1' }));
    const [res] = await inbox.next(1);
    expect(res.kind === 'response' && res.status).toBe(200);
  });
});

async function wsStack(secure: boolean): Promise<{ stack: Stack; url: string }> {
  const stack = await startStack([secure ? { transport: 'wss', host: '127.0.0.1', port: 0, cert, key } : { transport: 'ws', host: '127.0.0.1', port: 0 }]);
  cleanups.push(() => stack.stop());
  const port = stack.transport.localAddress(secure ? 'wss' : 'ws')?.port ?? 0;
  return { stack, url: `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}` };
}

function wsInbox(ws: WebSocket): { messages: Array<{ text: string; binary: boolean }>; next(n: number): Promise<void> } {
  const messages: Array<{ text: string; binary: boolean }> = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => messages.push({ text: data.toString('utf8'), binary: isBinary }));
  return {
    messages,
    async next(n) {
      for (let i = 0; i < 200 && messages.length < n; i++) await sleep(10);
      if (messages.length < n) throw new Error(`expected ${n} ws messages, got ${messages.length}`);
    },
  };
}

async function openWs(url: string, protocols: string[] = ['sip']): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, { rejectUnauthorized: false });
  cleanups.push(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

describe('WebSocket transport (RFC 7118)', () => {
  for (const secure of [false, true]) {
    it(`answers a SUBSCRIBE over ${secure ? 'WSS' : 'WS'} with subprotocol sip, as text, and NOTIFYs on the same connection`, async () => {
      const { stack, url } = await wsStack(secure);
      let source: MessageSource | undefined;
      stack.transactions.onRequest((req, tx, src) => {
        source = src;
        void tx.respond(200, 'OK', { Expires: 60 });
      });
      const ws = await openWs(url);
      expect(ws.protocol).toBe('sip');
      const inbox = wsInbox(ws);
      ws.send(subscribe({ Via: `SIP/2.0/${secure ? 'WSS' : 'WS'} df7jal23ls0d.invalid;branch=z9hG4bKws1`, 'Content-Length': null }).toString());
      await inbox.next(1);
      expect(inbox.messages[0].binary).toBe(false);
      const res = parseMessage(Buffer.from(inbox.messages[0].text));
      expect(res.ok && res.message.kind === 'response' && res.message.status).toBe(200);

      const transport = secure ? 'wss' : 'ws';
      const pending = stack.transactions.sendRequest(notifyRequest(stack, transport), { transport, address: 'df7jal23ls0d.invalid', port: 0, connectionId: source?.connectionId });
      await inbox.next(2);
      const notify = parseMessage(Buffer.from(inbox.messages[1].text));
      if (!notify.ok) throw new Error(notify.error);
      ws.send(answer(notify.message, 200));
      const result = await pending;
      expect(result.kind === 'response' && result.response.status).toBe(200);
    });
  }

  it('refuses a WebSocket handshake that does not offer the sip subprotocol', async () => {
    const { url } = await wsStack(false);
    await expect(openWs(url, ['chat'])).rejects.toThrow(/400/);
  });

  it('answers a CRLFCRLF keepalive message with CRLF and a malformed request with 400', async () => {
    const { url } = await wsStack(false);
    const ws = await openWs(url);
    const inbox = wsInbox(ws);
    ws.send('\r\n\r\n');
    await inbox.next(1);
    expect(inbox.messages[0].text).toBe('\r\n');
    ws.send(subscribe({ CSeq: 'x SUBSCRIBE', Via: 'SIP/2.0/WS h.invalid;branch=z9hG4bKbad' }));
    await inbox.next(2);
    expect(inbox.messages[1].text).toMatch(/^SIP\/2.0 400 Bad Request - Malformed CSeq header\r\n/);
  });

  it('emits connectionClosed when the browser goes away, and sends to it then fail', async () => {
    const { stack, url } = await wsStack(false);
    const closed: string[] = [];
    stack.transport.on('connectionClosed', (id) => closed.push(id));
    let source: MessageSource | undefined;
    stack.transactions.onRequest((req, tx, src) => {
      source = src;
      void tx.respond(200);
    });
    const ws = await openWs(url);
    const inbox = wsInbox(ws);
    ws.send(subscribe({ Via: 'SIP/2.0/WS h.invalid;branch=z9hG4bKgone' }));
    await inbox.next(1);
    ws.close();
    for (let i = 0; i < 100 && closed.length === 0; i++) await sleep(10);
    expect(closed).toEqual([source?.connectionId]);
    expect(stack.transport.hasConnection(source?.connectionId ?? '')).toBe(false);
    const result = await stack.transactions.sendRequest(notifyRequest(stack, 'ws'), { transport: 'ws', address: 'h.invalid', port: 0, connectionId: source?.connectionId });
    expect(result.kind).toBe('transport-error');
  });
});
