import { describe, expect, it } from 'vitest';
import { HeapReclaimer } from '../../src/heap-reclaimer.js';
import { silentLogger } from '../../src/ports/logger.js';
import { FakeClock } from './fake-clock.js';

const MiB = 1024 * 1024;

/** A reclaimer with its default timing (a look every 5 s, 35 s of quiet) over a fake process. */
function setup() {
  const clock = new FakeClock();
  const memory = { resident: 120 * MiB, committed: 60 * MiB, used: 40 * MiB };
  let busy = 0;
  const compactions: number[] = [];
  const reclaimer = new HeapReclaimer({
    clock,
    logger: silentLogger,
    readHeap: () => ({ ...memory }),
    busyShare: () => busy,
    compact: () => {
      compactions.push(clock.now());
      memory.resident = 124 * MiB;
      memory.committed = memory.used + 4 * MiB;
    },
  });
  return { clock, memory, setBusy: (b: number) => (busy = b), compactions, reclaimer };
}

describe('HeapReclaimer', () => {
  it('compacts once after a burst, when memory grew and the server has been quiet longer than Timer J', () => {
    const s = setup();
    s.reclaimer.start();
    const burstEnd = s.clock.now() + 10_000;
    s.setBusy(0.9);
    s.memory.resident = 220 * MiB;
    s.memory.committed = 160 * MiB;
    s.clock.advance(10_000);
    // The burst is over: quiet from the next look on.
    s.setBusy(0.01);
    s.clock.advance(30_000);
    expect(s.compactions).toHaveLength(0);
    // Within 45 s of the burst's end: after Timer J (32 s), before anyone reads memory a minute on.
    s.clock.advance(15_000);
    expect(s.compactions).toEqual([expect.any(Number)]);
    expect(s.compactions[0]! - burstEnd).toBeLessThanOrEqual(45_000);
    expect(s.compactions[0]! - burstEnd).toBeGreaterThan(32_000);
    s.clock.advance(120_000);
    expect(s.compactions).toHaveLength(1);
    s.reclaimer.stop();
  });

  it('compacts when the process grew though the JS heap barely did', () => {
    // 10,000 SUBSCRIBEs: the JS heap 17 MiB up, the process 54 MiB (transaction chunks outside the heap).
    const s = setup();
    s.reclaimer.start();
    s.memory.resident = 174 * MiB;
    s.memory.committed = 77 * MiB;
    s.clock.advance(60_000);
    expect(s.compactions).toHaveLength(1);
    s.reclaimer.stop();
  });

  it('leaves a process alone that has not grown by 32 MiB, and never compacts under load', () => {
    const s = setup();
    s.reclaimer.start();
    s.memory.resident = 150 * MiB;
    s.memory.committed = 120 * MiB;
    s.clock.advance(120_000);
    expect(s.compactions).toHaveLength(0);
    s.memory.resident = 300 * MiB;
    s.setBusy(0.3);
    s.clock.advance(120_000);
    expect(s.compactions).toHaveLength(0);
    s.reclaimer.stop();
  });
});
