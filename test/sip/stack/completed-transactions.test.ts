import { afterEach, describe, expect, it, vi } from 'vitest';
import { CompletedTransactions, hashKey } from '../../../sip/stack/completed-transactions.js';
import { DeadlineQueue } from '../../../sip/stack/deadline-queue.js';

afterEach(() => {
  vi.useRealTimers();
});

const dest = (port: number) => ({ transport: 'udp' as const, address: `192.0.2.${port % 250}`, port });
const response = (i: number) => Buffer.from(`SIP/2.0 200 OK\r\nCSeq: ${i} SUBSCRIBE\r\nContent-Length: 0\r\n\r\n`);

describe('CompletedTransactions', () => {
  it('answers a key with the response and destination it was added with, until the delay passes', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const store = new CompletedTransactions(1000);
    store.add('z9hG4bK1|127.0.0.1:5060|SUBSCRIBE', { destination: dest(5060), data: response(1) });
    store.add('z9hG4bK2|127.0.0.1:5060|SUBSCRIBE', { destination: { transport: 'udp', address: '::1', port: 5070 }, data: response(2) });
    expect(store.size).toBe(2);
    const a = store.answer('z9hG4bK1|127.0.0.1:5060|SUBSCRIBE');
    expect(a?.destination).toEqual(dest(5060));
    expect(a?.data.equals(response(1))).toBe(true);
    expect(store.answer('z9hG4bK2|127.0.0.1:5060|SUBSCRIBE')?.destination).toEqual({ transport: 'udp', address: '::1', port: 5070 });
    expect(store.answer('z9hG4bK3|127.0.0.1:5060|SUBSCRIBE')).toBeUndefined();
    vi.advanceTimersByTime(999);
    expect(store.answer('z9hG4bK1|127.0.0.1:5060|SUBSCRIBE')).toBeDefined();
    vi.advanceTimersByTime(10);
    expect(store.answer('z9hG4bK1|127.0.0.1:5060|SUBSCRIBE')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('keeps every entry exact while the slots grow and shrink and chunks come and go, with non-ASCII keys', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    // 64 KiB chunks, so that a few MB of entries go through many of them.
    const store = new CompletedTransactions(100, 64 * 1024);
    const key = (i: number) => `z9hG4bK-${i}-ü|host${i % 7}.example.com:5060|SUBSCRIBE`;
    // Waves of different sizes: the slots grow, wrap while entries expire, then shrink; the
    // bytes fill several chunks (some entries bigger than a chunk) that are let go in turn.
    let next = 0;
    for (const wave of [50, 3000, 200, 6000, 10, 0, 0]) {
      const first = next;
      for (let i = 0; i < wave; i++, next++) {
        store.add(key(next), { destination: dest(next), data: Buffer.concat([response(next), Buffer.alloc(next % 1000 === 7 ? 100_000 : next % 300, 0x41)]) });
      }
      for (let i = first; i < next; i++) {
        if (i % 97 !== 0 && i % 1000 !== 7) continue;
        const a = store.answer(key(i));
        expect(a?.destination).toEqual(dest(i));
        expect(a?.data.equals(Buffer.concat([response(i), Buffer.alloc(i % 1000 === 7 ? 100_000 : i % 300, 0x41)]))).toBe(true);
      }
      vi.advanceTimersByTime(60);
    }
    vi.advanceTimersByTime(200);
    expect(store.size).toBe(0);
    store.add(key(1), { destination: dest(1), data: response(1) });
    expect(store.answer(key(1))?.data.equals(response(1))).toBe(true);
  });

  it('tells apart keys whose hashes collide, and expires them in turn', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    // Find two keys with the same 30-bit hash (birthday bound: some 2^15 tries).
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const k = `z9hG4bK${i}|10.0.0.1:5060|SUBSCRIBE`;
      const other = seen.get(hashKey(k));
      if (other !== undefined) pair = [other, k];
      else seen.set(hashKey(k), k);
    }
    const [a, b] = pair;
    const store = new CompletedTransactions(100);
    store.add(a, { destination: dest(1), data: response(1) });
    vi.advanceTimersByTime(50);
    store.add(b, { destination: dest(2), data: response(2) });
    expect(store.answer(a)?.data.equals(response(1))).toBe(true);
    expect(store.answer(b)?.data.equals(response(2))).toBe(true);
    vi.advanceTimersByTime(60);
    expect(store.answer(a)).toBeUndefined();
    expect(store.answer(b)?.data.equals(response(2))).toBe(true);
    vi.advanceTimersByTime(60);
    expect(store.answer(b)).toBeUndefined();
  });
});

describe('DeadlineQueue', () => {
  it('expires items in order after the delay, skips cancelled ones and ignores stale tickets', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const expired: number[] = [];
    const q = new DeadlineQueue<number>(100, (n) => expired.push(n));
    const tickets: number[] = [];
    // Enough to make the ring grow several times.
    for (let i = 0; i < 1000; i++) {
      tickets.push(q.add(i));
      if (i % 100 === 99) vi.advanceTimersByTime(5);
    }
    for (let i = 0; i < 1000; i += 3) q.cancel(tickets[i]);
    vi.advanceTimersByTime(200);
    expect(expired).toEqual(Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 3 !== 0));
    expect(q.size).toBe(0);
    // The expired tickets are stale now; cancelling them must not touch newer entries.
    const fresh = q.add(5000);
    for (const t of tickets.slice(0, 10)) q.cancel(t);
    if (tickets.includes(fresh)) throw new Error('ticket reused too early');
    vi.advanceTimersByTime(200);
    expect(expired.at(-1)).toBe(5000);
  });
});
