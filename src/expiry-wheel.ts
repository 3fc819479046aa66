import type { Clock, TimerHandle } from './ports/clock.js';
import { ChurnSet } from './churn-map.js';

/** Width of one slot. Expiry itself stays exact to the millisecond; slots only group items. */
const SLOT_MS = 1000;

/**
 * Expiry of many items on one timer: items sit in one-second slots by their expiry time and
 * a single timer wakes for the earliest. A subscription costs one Set entry here instead of a
 * Timeout, its closure and a map entry (about 230 bytes less per held subscription), and a
 * subscribe/unsubscribe no longer creates and clears a Node timer.
 *
 * The caller removes an item with the expiry it was added with, and the wheel reads the
 * current expiry through `expiresAt` when a slot comes due: an item whose time has moved on
 * (it was not removed and re-added) is handed to `onExpire` anyway, which re-checks.
 */
export class ExpiryWheel<T> {
  private readonly slots = new Map<number, ChurnSet<T>>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly expiresAt: (item: T) => number,
    /** Must not throw: it runs on a timer, for many items in a row. */
    private readonly onExpire: (item: T) => void,
  ) {}

  add(item: T, at: number): void {
    const slot = Math.floor(at / SLOT_MS);
    let set = this.slots.get(slot);
    if (set === undefined) {
      set = new ChurnSet();
      this.slots.set(slot, set);
    }
    set.add(item);
    if (at < this.timerAt) this.arm(at);
  }

  remove(item: T, at: number): void {
    const slot = Math.floor(at / SLOT_MS);
    const set = this.slots.get(slot);
    if (set !== undefined && set.delete(item) && set.size === 0) this.slots.delete(slot);
  }

  /** Forgets every item and stops the timer. */
  clear(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.slots.clear();
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimer(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    const current = Math.floor(now / SLOT_MS);
    const expired: T[] = [];
    let next = Infinity;
    // Slots span at most the longest expiry (hours): a few thousand entries, scanned once per wake.
    for (const [slot, set] of this.slots) {
      if (slot > current) {
        next = Math.min(next, slot * SLOT_MS);
        continue;
      }
      for (const item of set) {
        const at = this.expiresAt(item);
        if (at <= now) {
          set.delete(item);
          expired.push(item);
        } else next = Math.min(next, at);
      }
      if (set.size === 0) this.slots.delete(slot);
    }
    if (next < this.timerAt) this.arm(next);
    for (const item of expired) this.onExpire(item);
  }
}
