import { describe, expect, it } from 'vitest';
import { ExpiryWheel } from '../../src/expiry-wheel.js';
import { FakeClock } from './fake-clock.js';

interface Item {
  name: string;
  at: number;
}

function wheel(clock: FakeClock) {
  const expired: string[] = [];
  const w = new ExpiryWheel<Item>(clock, (i) => i.at, (i) => expired.push(i.name));
  return { w, expired };
}

describe('ExpiryWheel', () => {
  it('expires each item at its exact millisecond, in one slot or across many, on one timer', () => {
    const clock = new FakeClock();
    const { w, expired } = wheel(clock);
    const t0 = clock.now();
    const items = [1500, 1200, 1999, 2000, 7_000, 3_600_000].map((ms) => ({ name: String(ms), at: t0 + ms }));
    for (const i of items) w.add(i, i.at);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1199);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual(['1200']);
    clock.advance(800);
    expect(expired.sort()).toEqual(['1200', '1500', '1999', '2000']);
    clock.advanceTo(t0 + 6_999);
    expect(expired).toHaveLength(4);
    clock.advanceTo(t0 + 3_600_000);
    expect(expired).toContain('7000');
    expect(expired).toContain('3600000');
    expect(clock.pendingTimers).toBe(0);
  });

  it('forgets a removed item, and moves a re-added one to its new time', () => {
    const clock = new FakeClock();
    const { w, expired } = wheel(clock);
    const t0 = clock.now();
    const gone = { name: 'gone', at: t0 + 1000 };
    const moved = { name: 'moved', at: t0 + 1000 };
    w.add(gone, gone.at);
    w.add(moved, moved.at);
    w.remove(gone, gone.at);
    w.remove(moved, moved.at);
    moved.at = t0 + 5000;
    w.add(moved, moved.at);
    clock.advance(4999);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired).toEqual(['moved']);
  });

  it('hands an item whose time moved on without a re-add to the callback only when that time comes', () => {
    const clock = new FakeClock();
    const { w, expired } = wheel(clock);
    const t0 = clock.now();
    const late = { name: 'late', at: t0 + 1000 };
    w.add(late, late.at);
    late.at = t0 + 2500;
    clock.advance(1000);
    expect(expired).toEqual([]);
    clock.advance(1500);
    expect(expired).toEqual(['late']);
  });

  it('clear() forgets everything and stops its timer', () => {
    const clock = new FakeClock();
    const { w, expired } = wheel(clock);
    w.add({ name: 'a', at: clock.now() + 10 }, clock.now() + 10);
    w.clear();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    expect(expired).toEqual([]);
  });
});
