import type { Clock, TimerHandle } from '../../src/ports/clock.js';

interface PendingTimer {
  handle: TimerHandle;
  dueAt: number;
  /** Insertion order breaks ties between timers due at the same instant. */
  seq: number;
  callback: () => void;
}

/**
 * A clock that only moves when the test says so. `advance(ms)` fires every timer that falls
 * due on the way, in due order, with `now()` reading each timer's own due time while it runs;
 * timers a callback sets are fired too if they fall due before the end of the step.
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const handle: TimerHandle = { fakeTimer: this.seq };
    this.timers.push({ handle, dueAt: this.current + Math.max(0, delayMs), seq: this.seq++, callback });
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.handle !== handle);
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const next = this.nextDue(until);
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = next.dueAt;
      next.callback();
    }
    this.current = until;
  }

  /** Moves time to an absolute instant (never backwards). */
  advanceTo(epochMs: number): void {
    this.advance(Math.max(0, epochMs - this.current));
  }

  /** How many timers are waiting. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  private nextDue(until: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.dueAt > until) continue;
      if (!best || t.dueAt < best.dueAt || (t.dueAt === best.dueAt && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
