import { describe, expect, it } from 'vitest';
import { StringPool } from '../../src/string-pool.js';

/** Copies are counted: a string copied again is one the pool had forgotten. */
function counting(): { copy: (s: string) => string; copies: string[] } {
  const copies: string[] = [];
  return {
    copies,
    copy: (s) => {
      copies.push(s);
      return s;
    },
  };
}

describe('StringPool', () => {
  it('hands out the copy it keeps for every string equal to it', () => {
    const pool = new StringPool(8);
    const { copy, copies } = counting();
    const a = pool.intern(['<sip:1001', '@example.com>'].join(''), copy);
    const b = pool.intern(['<sip:1001@', 'example.com>'].join(''), copy);
    expect(a).toBe('<sip:1001@example.com>');
    expect(b).toBe(a);
    expect(copies).toEqual(['<sip:1001@example.com>']);
  });

  it('keeps the strings in use and forgets, after two turns, those seen once', () => {
    const pool = new StringPool(2);
    const { copy, copies } = counting();
    pool.intern('a', copy);
    pool.intern('b', copy);
    // The young table is full: it becomes the old one, and 'c' starts a new one.
    pool.intern('c', copy);
    // Found in the old table, 'a' moves back to the young one.
    pool.intern('a', copy);
    // Another turn: the table of 'c' and 'a' becomes the old one, and the one with 'b' goes.
    pool.intern('d', copy);
    pool.intern('a', copy);
    pool.intern('b', copy);
    expect(copies).toEqual(['a', 'b', 'c', 'd', 'b']);
  });

  it('stops looking while its strings do not repeat, and looks again later', () => {
    const pool = new StringPool();
    const { copy, copies } = counting();
    // A load generator's From: new for every SUBSCRIBE.
    for (let i = 0; i < 4 * 1024; i++) pool.intern(`<sip:watcher${i}@example.com>`, copy);
    copies.length = 0;
    pool.intern('<sip:phone@example.com>', copy);
    pool.intern('<sip:phone@example.com>', copy);
    // Nothing is kept or looked up: each string is copied, as without a pool.
    expect(copies).toEqual(['<sip:phone@example.com>', '<sip:phone@example.com>']);
    for (let i = 0; i < 64 * 1024; i++) pool.intern(`<sip:watcher${i}@example.com>`, copy);
    copies.length = 0;
    pool.intern('<sip:phone@example.com>', copy);
    pool.intern('<sip:phone@example.com>', copy);
    expect(copies).toEqual(['<sip:phone@example.com>']);
  });

  it('keeps looking while a set of strings it can hold comes round again', () => {
    const pool = new StringPool();
    const { copy, copies } = counting();
    // 3,000 extensions, each watched by 10 phones subscribing in turn: the first 3,000 are new.
    for (let i = 0; i < 30_000; i++) pool.intern(`<sip:${1000 + (i % 3000)}@example.com>`, copy);
    expect(copies).toHaveLength(3000);
  });
});
