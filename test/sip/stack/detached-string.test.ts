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

  it('returns short strings as they are', () => {
    expect(detachedString('abc')).toBe('abc');
    expect(detachedString('')).toBe('');
  });
});
