import { describe, expect, it } from 'vitest';
import { ChurnMap, ChurnSet } from '../../src/churn-map.js';

/** A deterministic stream of numbers (xorshift), so a failure replays. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('ChurnMap', () => {
  it('behaves as a Map through thousands of inserts and deletes, fresh tables and all', () => {
    const next = random(7);
    const model = new Map<string, number>();
    const churn = new ChurnMap<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = `k${Math.floor(next() * 300)}`;
      const roll = next();
      if (roll < 0.5) {
        model.set(key, i);
        churn.set(key, i);
      } else if (roll < 0.9) {
        expect(churn.delete(key)).toBe(model.delete(key));
      } else {
        expect(churn.get(key)).toBe(model.get(key));
        expect(churn.has(key)).toBe(model.has(key));
      }
      if (i % 997 === 0) {
        // Insertion order survives a fresh table, as a Map keeps it.
        expect([...churn]).toEqual([...model]);
        expect([...churn.keys()]).toEqual([...model.keys()]);
        expect([...churn.values()]).toEqual([...model.values()]);
      }
      expect(churn.size).toBe(model.size);
    }
  });

  it('keeps every entry of a large map when it starts over', () => {
    const churn = new ChurnMap<number, number>();
    for (let i = 0; i < 5000; i++) churn.set(i, i * 2);
    for (let i = 0; i < 5000; i += 2) churn.delete(i);
    for (let i = 5000; i < 12_000; i++) churn.set(i, i * 2);
    expect(churn.size).toBe(2500 + 7000);
    expect(churn.get(4999)).toBe(9998);
    expect(churn.has(4998)).toBe(false);
    expect(churn.get(11_999)).toBe(23_998);
    churn.clear();
    expect(churn.size).toBe(0);
    expect([...churn]).toEqual([]);
  });
});

describe('ChurnSet', () => {
  it('behaves as a Set through thousands of adds and deletes', () => {
    const next = random(11);
    const model = new Set<number>();
    const churn = new ChurnSet<number>();
    for (let i = 0; i < 20_000; i++) {
      const value = Math.floor(next() * 200);
      if (next() < 0.55) {
        model.add(value);
        churn.add(value);
      } else {
        expect(churn.delete(value)).toBe(model.delete(value));
      }
      expect(churn.has(value)).toBe(model.has(value));
      expect(churn.size).toBe(model.size);
      if (i % 1009 === 0) expect([...churn]).toEqual([...model]);
    }
    expect([...churn.values()]).toEqual([...model.values()]);
    churn.clear();
    expect(churn.size).toBe(0);
  });
});
