import { describe, expect, it } from 'vitest';
import { ReceivePriority } from '../../src/receive-priority.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ReceivePriority', () => {
  it('lets requests go at once while the listener keeps up, and stops watching when they stop', async () => {
    const p = new ReceivePriority();
    const udp = p.tally();
    const went: number[] = [];
    udp.reads = 500; // counted before anyone watched: not this turn's
    p.admit(() => went.push(1));
    expect(went).toEqual([1]);
    udp.reads = 31;
    await nextTurn();
    expect(p.behind).toBe(false);
    p.admit(() => went.push(2));
    expect(went).toEqual([1, 2]);
    await nextTurn();
    await nextTurn();
    // Idle: not watching, so a full tally now is not read until a request comes.
    udp.reads = 100;
    await nextTurn();
    expect(p.behind).toBe(false);
    p.admit(() => went.push(3));
    expect(went).toEqual([1, 2, 3]);
  });

  it('while a listener reads full turns, lets requests go a few per turn, in the order they came', async () => {
    const p = new ReceivePriority(2);
    const v4 = p.tally();
    const v6 = p.tally();
    const went: number[] = [];
    p.admit(() => went.push(0));
    v6.reads = 32;
    await nextTurn();
    expect(p.behind).toBe(true);
    for (let i = 1; i <= 5; i++) p.admit(() => went.push(i));
    expect(went).toEqual([0]);
    expect(p.queued).toBe(5);
    v4.reads = 32;
    await nextTurn();
    expect(went).toEqual([0, 1, 2]);
    v6.reads = 40;
    await nextTurn();
    expect(went).toEqual([0, 1, 2, 3, 4]);
    // Both caught up: whatever still waits goes, and so does what comes after.
    v4.reads = 3;
    v6.reads = 0;
    await nextTurn();
    expect(went).toEqual([0, 1, 2, 3, 4, 5]);
    expect(p.queued).toBe(0);
    p.admit(() => went.push(6));
    expect(went.at(-1)).toBe(6);
  });

  it('with no UDP listener to watch (drachtio, TCP only), lets every request go at once', async () => {
    const p = new ReceivePriority();
    const went: number[] = [];
    for (let i = 0; i < 3; i++) p.admit(() => went.push(i));
    expect(went).toEqual([0, 1, 2]);
    await nextTurn();
    expect(p.behind).toBe(false);
  });

  it('never holds a request for good while a listener stays behind', async () => {
    const p = new ReceivePriority(1);
    const udp = p.tally();
    p.admit(() => {});
    const went: number[] = [];
    udp.reads = 32;
    await nextTurn();
    for (let i = 0; i < 10; i++) p.admit(() => went.push(i));
    for (let turn = 0; turn < 10; turn++) {
      udp.reads = 32;
      await nextTurn();
    }
    expect(went).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
