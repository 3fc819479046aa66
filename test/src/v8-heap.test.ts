import { describe, expect, it } from 'vitest';
import { v8Heap } from '../../src/v8-heap.js';

describe('v8Heap', () => {
  it('reads the heap and compacts it without --expose-gc on the command line', () => {
    const heap = v8Heap();
    const before = heap.readHeap();
    expect(before.committed).toBeGreaterThanOrEqual(before.used);
    // The whole process holds at least the JS heap's committed pages that it has touched.
    expect(before.resident).toBeGreaterThan(before.used);
    heap.compact();
    const after = heap.readHeap();
    expect(after.used).toBeGreaterThan(0);
    expect(after.committed).toBeGreaterThanOrEqual(after.used);
    const share = heap.busyShare();
    expect(share).toBeGreaterThanOrEqual(0);
    expect(share).toBeLessThanOrEqual(1);
  });
});
