import { describe, expect, it } from 'vitest';
import { microtask } from '../../src/microtask.js';

describe('microtask', () => {
  it('runs after the current code and before the next macrotask, in the order queued', async () => {
    const seen: string[] = [];
    const immediate = new Promise<void>((resolve) => setImmediate(() => (seen.push('immediate'), resolve())));
    microtask(() => seen.push('first'));
    microtask(() => seen.push('second'));
    seen.push('sync');
    await immediate;
    expect(seen).toEqual(['sync', 'first', 'second', 'immediate']);
  });
});
