import { randomBytes } from 'node:crypto';

/**
 * Random bytes drawn in 4 KiB batches: one randomBytes() call per SUBSCRIBE or NOTIFY (a To
 * tag, a Via branch) showed up at 3-4% of the CPU profile at a few thousand a second.
 */
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** `bytes` random bytes as lowercase hex. */
export function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(Math.max(4096, bytes));
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}
