import { afterEach, describe, expect, it } from 'vitest';
import { UdpSenderThread } from '../../../sip/stack/transports/udp-sender-thread.js';
import { SILENT_LOGGER, type StackLogger } from '../../../sip/stack/transport-types.js';
import { startStack, UdpPeer } from './harness.js';
import { subscribe } from './messages.js';

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

  it('drops a datagram the ring cannot hold, and says so', async () => {
    const warnings: object[] = [];
    const s = await sender(256, { ...SILENT_LOGGER, warn: (o) => warnings.push(o) });
    const p = await peer();
    expect(s.enqueue('127.0.0.1', p.port, Buffer.alloc(300, 97))).toBe(false);
    expect(warnings).toHaveLength(1);
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

