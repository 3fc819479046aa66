import { afterEach, describe, expect, it, vi } from 'vitest';
import { UdpSenderThread } from '../../../sip/stack/transports/udp-sender-thread.js';
import { SILENT_LOGGER, type StackLogger } from '../../../sip/stack/transport-types.js';
import { UdpTransport } from '../../../sip/stack/transports/udp-transport.js';
import { startStack, UdpPeer } from './harness.js';
import { subscribe } from './messages.js';
import { threadNiceValues } from '../../support/thread-priorities.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function peer(): Promise<UdpPeer> {
  const p = await UdpPeer.open();
  cleanups.push(() => p.close());
  return p;
}

async function sender(ringBytes: number, log: StackLogger = SILENT_LOGGER): Promise<UdpSenderThread> {
  const s = await UdpSenderThread.start({ type: 'udp4', host: '127.0.0.1', port: 0, ringBytes, sendBufferSize: 1 << 20, log });
  cleanups.push(() => s.stop());
  return s;
}

describe('UDP listener with a send thread', () => {
  it('answers from the port the request was sent to, and still receives everything itself', async () => {
    const stack = await startStack([{ transport: 'udp', host: '127.0.0.1', port: 0 }], {}, true);
    cleanups.push(() => stack.stop());
    const port = stack.transport.localAddress('udp')!.port;
    let handled = 0;
    stack.transactions.onRequest((req, tx) => {
      handled++;
      void tx.respond(200, 'OK', { Expires: 60 });
    });
    const phone = await peer();
    for (let i = 0; i < 20; i++) phone.send(subscribe({ Via: `SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKthr${i};rport`, 'Call-ID': `thr-${i}` }), port);
    const answers = await phone.waitFor(20);
    expect(handled).toBe(20);
    expect(answers.every((m) => m.kind === 'response' && m.status === 200)).toBe(true);
    // RFC 3581 / NAT: a response from any other port would not get back through.
    expect(new Set(phone.sourcePorts)).toEqual(new Set([port]));
  });

  it('sends what does not fit in the ring from the event loop, and loses none of it', async () => {
    const transport = new UdpTransport('127.0.0.1', 0, { onData: () => {}, onFramingError: () => {}, onConnectionClosed: () => {} }, SILENT_LOGGER, {
      senderThread: true,
      sendRingBytes: 16 * 1024,
      sendThreadAbove: 0,
    });
    await transport.start();
    cleanups.push(() => transport.stop());
    const phone = await peer();
    phone.socket.setRecvBufferSize(4 * 1024 * 1024);
    const queued = vi.spyOn(UdpSenderThread.prototype, 'enqueue');
    cleanups.push(async () => queued.mockRestore());
    // 84 KB in one go: the thread sends none of it before this loop ends.
    const sent = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const text = `burst ${String(i).padStart(3, '0')} ${'y'.repeat(690)}`;
      sent.add(text);
      transport.post({ transport: 'udp', address: '127.0.0.1', port: phone.port }, Buffer.from(text));
    }
    const taken = queued.mock.results.filter((r) => r.value === true).length;
    expect(taken).toBeGreaterThan(10);
    expect(taken).toBeLessThan(30);
    await waitUntil(() => phone.received.length >= 120);
    expect(new Set(phone.received.map((b) => b.toString()))).toEqual(sent);
    expect(new Set(phone.sourcePorts)).toEqual(new Set([transport.localAddress().port]));
  });

  it('sends part of a NOTIFY burst from the event loop, but never ahead of a response still queued', async () => {
    const transport = new UdpTransport('127.0.0.1', 0, { onData: () => {}, onFramingError: () => {}, onConnectionClosed: () => {} }, SILENT_LOGGER, { senderThread: true, sendThreadAbove: 0 });
    await transport.start();
    cleanups.push(() => transport.stop());
    const phone = await peer();
    phone.socket.setRecvBufferSize(4 * 1024 * 1024);
    const dest = { transport: 'udp' as const, address: '127.0.0.1', port: phone.port };
    const queued = vi.spyOn(UdpSenderThread.prototype, 'enqueue');
    cleanups.push(async () => queued.mockRestore());
    const burst = (tag: string): unknown[] =>
      Array.from({ length: 100 }, (_, i) => transport.send(dest, Buffer.from(`${tag} ${String(i).padStart(3, '0')} ${'n'.repeat(690)}`)));
    // A 200 queued first: the 70 KB of NOTIFYs after it all wait behind it in the ring.
    transport.post(dest, Buffer.from('SIP/2.0 200 OK'));
    await Promise.all(burst('first'));
    expect(queued.mock.results.filter((r) => r.value === true)).toHaveLength(101);
    await waitUntil(() => phone.received.length >= 101);
    expect(phone.received[0]!.toString()).toBe('SIP/2.0 200 OK');
    // With no response queued, past 32 KB of backlog the event loop sends the rest itself.
    queued.mockClear();
    await Promise.all(burst('second'));
    const taken = queued.mock.results.filter((r) => r.value === true).length;
    expect(taken).toBeGreaterThan(10);
    expect(taken).toBeLessThan(100);
    await waitUntil(() => phone.received.length >= 201);
    expect(phone.received).toHaveLength(201);
  });

  it('sends from the event loop once the thread has died, and keeps answering', async () => {
    const errors: object[] = [];
    const started = vi.spyOn(UdpSenderThread, 'start');
    cleanups.push(async () => started.mockRestore());
    const stack = await startStack([{ transport: 'udp', host: '127.0.0.1', port: 0 }], { logger: { ...SILENT_LOGGER, error: (o) => errors.push(o) } }, true);
    cleanups.push(() => stack.stop());
    const port = stack.transport.localAddress('udp')!.port;
    stack.transactions.onRequest((req, tx) => void tx.respond(200, 'OK', { Expires: 60 }));
    const thread = (await started.mock.results[0]!.value) as UdpSenderThread;
    await thread.terminate();
    await waitUntil(() => !thread.running);
    expect(errors).toContainEqual({ transport: 'udp' });
    const phone = await peer();
    phone.send(subscribe({ Via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKafterdeath;rport', 'Call-ID': 'after-death' }), port);
    const [answer] = await phone.waitFor(1);
    expect(answer!.kind === 'response' && answer!.status).toBe(200);
    expect(phone.sourcePorts).toEqual([port]);
  });

  it('sends from the event loop while the server is lightly loaded', async () => {
    const transport = new UdpTransport('127.0.0.1', 0, { onData: () => {}, onFramingError: () => {}, onConnectionClosed: () => {} }, SILENT_LOGGER, { senderThread: true });
    await transport.start();
    cleanups.push(() => transport.stop());
    const phone = await peer();
    const queued = vi.spyOn(UdpSenderThread.prototype, 'enqueue');
    cleanups.push(async () => queued.mockRestore());
    const dest = { transport: 'udp' as const, address: '127.0.0.1', port: phone.port };
    for (let i = 0; i < 5; i++) {
      transport.post(dest, Buffer.from(`response ${i}`));
      expect(await transport.send(dest, Buffer.from(`request ${i}`))).toEqual({ ok: true });
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitUntil(() => phone.received.length >= 10);
    expect(queued).not.toHaveBeenCalled();
    expect(new Set(phone.sourcePorts)).toEqual(new Set([transport.localAddress().port]));
  });

  it('will not share its port with another server started on it', async () => {
    const first = await startStack([{ transport: 'udp', host: '127.0.0.1', port: 0 }], {}, true);
    cleanups.push(() => first.stop());
    const port = first.transport.localAddress('udp')!.port;
    await expect(startStack([{ transport: 'udp', host: '127.0.0.1', port }], {}, true)).rejects.toThrow(/EADDRINUSE/);
    await expect(startStack([{ transport: 'udp', host: '127.0.0.1', port }])).rejects.toThrow(/EADDRINUSE/);
  });

  it('sends every datagram, in order and intact, while the ring wraps around many times', async () => {
    const s = await sender(4096);
    const p = await peer();
    const sent: string[] = [];
    for (let i = 0; i < 600; i++) {
      // Lengths that leave every alignment and end-of-ring case behind them.
      const text = `datagram ${i} ${'x'.repeat((i * 37) % 700)}`;
      while (!s.enqueue('127.0.0.1', p.port, Buffer.from(text))) await new Promise((r) => setImmediate(r));
      sent.push(text);
    }
    await waitUntil(() => p.received.length >= sent.length);
    expect(p.received.map((b) => b.toString())).toEqual(sent);
    expect(new Set(p.sourcePorts)).toEqual(new Set([s.port]));
  });

  it('refuses a datagram the ring has no room for', async () => {
    const s = await sender(256);
    const p = await peer();
    expect(s.enqueue('127.0.0.1', p.port, Buffer.alloc(300, 97))).toBe(false);
    expect(s.enqueue('127.0.0.1', p.port, Buffer.from('small'))).toBe(true);
    await waitUntil(() => p.received.length === 1);
    expect(p.received[0]!.toString()).toBe('small');
  });

  it('sends what is queued before it stops', async () => {
    const s = await UdpSenderThread.start({ type: 'udp4', host: '127.0.0.1', port: 0, ringBytes: 1 << 20, sendBufferSize: 1 << 20, log: SILENT_LOGGER });
    const p = await peer();
    for (let i = 0; i < 200; i++) expect(s.enqueue('127.0.0.1', p.port, Buffer.from(`last words ${i}`))).toBe(true);
    await s.stop();
    expect(s.running).toBe(false);
    await waitUntil(() => p.received.length >= 200);
    expect(p.received).toHaveLength(200);
  });

  it.runIf(process.platform === 'linux')('runs the given nice steps below the event loop, which keeps its own priority', async () => {
    const before = threadNiceValues();
    const s = await UdpSenderThread.start({ type: 'udp4', host: '127.0.0.1', port: 0, ringBytes: 1 << 16, sendBufferSize: 1 << 20, nice: 7, log: SILENT_LOGGER });
    cleanups.push(() => s.stop());
    const own = threadNiceValues()[0]!;
    const niced = Math.min(19, own + 7);
    expect(before.filter((n) => n === niced)).toEqual([]);
    await waitUntil(() => threadNiceValues().includes(niced));
    // The first task is the main thread.
    expect(threadNiceValues()[0]).toBe(own);
    const p = await peer();
    expect(s.enqueue('127.0.0.1', p.port, Buffer.from('niced'))).toBe(true);
    await waitUntil(() => p.received.length === 1);
  });

  it('resolves host names in the thread, as dgram would', async () => {
    const s = await sender(1 << 16);
    const p = await peer();
    expect(s.enqueue('localhost', p.port, Buffer.from('by name'))).toBe(true);
    await waitUntil(() => p.received.length === 1);
    expect(p.received[0]!.toString()).toBe('by name');
  });
});

async function waitUntil(done: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

