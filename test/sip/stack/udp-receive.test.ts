import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ReceivePriority } from '../../../src/receive-priority.js';
import { SILENT_LOGGER } from '../../../sip/stack/transport-types.js';
import { UdpTransport } from '../../../sip/stack/transports/udp-transport.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('UDP listener reads', () => {
  it('behind on its reads, holds REST work back to a few per turn until it has caught up', async () => {
    const priority = new ReceivePriority(1);
    let received = 0;
    const transport = new UdpTransport('127.0.0.1', 0, { onData: () => void received++, onFramingError: () => {}, onConnectionClosed: () => {} }, SILENT_LOGGER, {
      readTally: priority.tally(),
    });
    await transport.start();
    cleanups.push(() => transport.stop());
    const port = transport.localAddress().port;
    const phone = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => phone.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => phone.close(() => resolve())));

    // 160 datagrams in the kernel before the listener's next read: libuv takes 32 a turn.
    await new Promise<void>((resolve) => {
      let sent = 0;
      for (let i = 0; i < 160; i++) phone.send(`datagram ${i}`, port, '127.0.0.1', () => ++sent === 160 && resolve());
    });
    const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 100 && received === 0; i++) await nextTurn();
    expect(received).toBe(32);
    const readsWhenLetGo: number[] = [];
    // Nothing watched the turns yet: the first request goes at once and starts the watch.
    priority.admit(() => readsWhenLetGo.push(received));
    await nextTurn();
    expect(received).toBe(64);
    expect(priority.behind).toBe(true);
    for (let i = 0; i < 3; i++) priority.admit(() => readsWhenLetGo.push(received));
    expect(readsWhenLetGo).toHaveLength(1);
    for (let i = 0; i < 200 && (received < 160 || priority.queued > 0); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(received).toBe(160);
    // The others went one per turn, each after another full read.
    expect(readsWhenLetGo).toEqual([32, 96, 128, 160]);
    expect(priority.behind).toBe(false);
  });
});
