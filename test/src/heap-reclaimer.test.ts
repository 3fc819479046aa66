import { describe, expect, it } from 'vitest';
import { HeapReclaimer } from '../../src/heap-reclaimer.js';
import { silentLogger } from '../../src/ports/logger.js';
import { FakeClock } from './fake-clock.js';

const MiB = 1024 * 1024;

function setup() {
  const clock = new FakeClock();
  const heap = { committed: 60 * MiB, used: 40 * MiB };
  let busy = 0;
  const compactions: number[] = [];
  const reclaimer = new HeapReclaimer({
    clock,
    logger: silentLogger,
    readHeap: () => ({ ...heap }),
    busyShare: () => busy,
    compact: () => {
      compactions.push(clock.now());
      heap.committed = heap.used + 4 * MiB;
    },
    intervalMs: 10_000,
    quietMs: 40_000,
  });
  return { clock, heap, setBusy: (b: number) => (busy = b), compactions, reclaimer };
}

describe('HeapReclaimer', () => {
  it('compacts once after a burst, when the heap grew and the server has been quiet longer than Timer J', () => {
    const s = setup();
    s.reclaimer.start();
    s.setBusy(0.9);
    s.heap.committed = 160 * MiB;
    s.clock.advance(10_000);
    s.setBusy(0.01);
    s.clock.advance(30_000);
    expect(s.compactions).toHaveLength(0);
    s.clock.advance(20_000);
    expect(s.compactions).toHaveLength(1);
    s.clock.advance(120_000);
    expect(s.compactions).toHaveLength(1);
    s.reclaimer.stop();
  });

  it('leaves a heap alone that has not grown by 32 MiB, and never compacts under load', () => {
    const s = setup();
    s.reclaimer.start();
    s.heap.committed = 80 * MiB;
    s.clock.advance(120_000);
    expect(s.compactions).toHaveLength(0);
    s.heap.committed = 200 * MiB;
    s.setBusy(0.3);
    s.clock.advance(120_000);
    expect(s.compactions).toHaveLength(0);
    s.reclaimer.stop();
  });
});
