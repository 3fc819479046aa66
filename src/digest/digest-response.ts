import { createHash } from 'node:crypto';

/** The digest algorithms this server verifies (RFC 2617 MD5, RFC 8760 SHA-256). */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256'];

const NODE_HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** Everything the `response` of a Digest Authorization is computed from. */
export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  /** The `uri` parameter as the client sent it (RFC 2617 3.2.2.5: the digest covers it, not the Request-URI). */
  uri: string;
  nonce: string;
  /** `auth` with a nonce count and client nonce, or absent for an RFC 2069 client. */
  qop?: 'auth';
  nc?: string;
  cnonce?: string;
}

export function parseDigestAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  // RFC 2617 3.2.2: a missing algorithm means MD5. Tokens compare case-insensitively.
  if (value === undefined) return 'MD5';
  return DIGEST_ALGORITHMS.find((a) => a.toLowerCase() === value.toLowerCase());
}

/**
 * RFC 2617 3.2.2.1 (RFC 7616 3.4.1 for SHA-256):
 * response = H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2)), A1 = user:realm:password,
 * A2 = method:uri; without qop, response = H(H(A1) ":" nonce ":" H(A2)).
 */
export function digestResponse(i: DigestResponseInput): string {
  const h = (text: string) => createHash(NODE_HASH[i.algorithm]).update(text, 'utf8').digest('hex');
  const ha1 = h(`${i.username}:${i.realm}:${i.password}`);
  const ha2 = h(`${i.method}:${i.uri}`);
  if (i.qop === undefined) return h(`${ha1}:${i.nonce}:${ha2}`);
  return h(`${ha1}:${i.nonce}:${i.nc ?? ''}:${i.cnonce ?? ''}:${i.qop}:${ha2}`);
}
