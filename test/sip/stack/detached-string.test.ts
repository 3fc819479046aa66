import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { detachedString } from '../../../sip/stack/detached-string.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('detachedString', () => {
  it('keeps the text and lets the string it was cut from go', () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept: string[] = [];
    for (let i = 0; i < 100; i++) {
      const parent = 'x'.repeat(1_000_000) + String(i);
      kept.push(detachedString(parent.slice(500_000, 500_040) + String(i)));
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // Slices would keep the 100 parents alive: 100 MB.
    expect(grown).toBeLessThan(10_000_000);
    expect(kept[7]).toBe('x'.repeat(40) + '7');
  });

  it('keeps a bare copy, not a slice of one: a 37-character string costs what a flat one does', () => {
    const messages = Array.from({ length: 100 }, (_, i) => `SUBSCRIBE sip:x SIP/2.0\r\nCall-ID: abcdef-${i}-0123456789012345678@host.example\r\n`);
    const kept: unknown[] = [];
    for (let i = 0; i < 20_000; i++) kept.push(detachedString(messages[i % 100].slice(34, 70) + (i % 7)));
    gc();
    const full = process.memoryUsage().heapUsed;
    kept.fill(0);
    gc();
    const perString = (full - process.memoryUsage().heapUsed) / kept.length;
    // A flat one-byte string of 37 characters takes 56 bytes; a slice of a copy took 88.
    expect(perString).toBeGreaterThan(40);
    expect(perString).toBeLessThan(72);
    expect(detachedString(messages[3].slice(34, 70))).toBe('abcdef-3-0123456789012345678@host.ex');
  });

  it('returns short strings as they are', () => {
    expect(detachedString('abc')).toBe('abc');
    expect(detachedString('')).toBe('');
  });
});
