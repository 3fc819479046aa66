import { randomHex } from '../../src/random-hex.js';

/** RFC 3261 8.1.1.7: branches starting with this are unique per transaction. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** A fresh Via branch: the magic cookie plus 128 random bits. */
export function newBranch(): string {
  return MAGIC_COOKIE + randomHex(16);
}

/** A random tag for To/From (RFC 3261 19.3 asks for at least 32 random bits; 64 are used). */
export function newTag(): string {
  return randomHex(8);
}
