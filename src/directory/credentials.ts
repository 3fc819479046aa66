import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Secrets of the directory and how they are kept. Nothing here is stored in clear except a
 * device's SIP password (digest authentication needs it); api keys and tokens are stored as
 * SHA-256 (they are 256 random bits, so a fast hash is enough), user credentials as scrypt.
 */

const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** A document id: 32 lower-case hex characters, like Kazoo's. */
export function newDocumentId(): string {
  return randomBytes(16).toString('hex');
}

export function isDocumentId(value: string): boolean {
  return HEX32.test(value);
}

/** An account's api key: 64 hex characters (Kazoo's format). */
export function newApiKey(): string {
  return randomBytes(32).toString('hex');
}

export function isApiKey(value: string): boolean {
  return HEX64.test(value);
}

/** A REST auth token: 256 random bits, hex. */
export function newAuthToken(): string {
  return randomBytes(32).toString('hex');
}

/** How api keys and tokens are stored and looked up. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests (different lengths are simply unequal). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * Kazoo's user_auth credentials: md5hex(lower(username) + ':' + password). Clients compute it;
 * the server computes it once when a password is set and never keeps the password.
 */
export function userCredentials(username: string, password: string): string {
  return createHash('md5').update(`${username.toLowerCase()}:${password}`, 'utf8').digest('hex');
}

export function isUserCredentials(value: string): boolean {
  return HEX32.test(value);
}

/** scrypt cost (RFC 7914): N=2^14, r=8, p=1 is ~16 MiB and a few tens of ms per login. */
const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const SCRYPT_KEY_LENGTH = 32;

/**
 * The stored form of user_auth credentials. The md5 credentials are a password equivalent, so
 * they get a slow hash. The salt is the account id: a login names its account, not its user,
 * so the hash must be computable before the user is known (one scrypt per login attempt and
 * an indexed lookup); and the md5 already mixes in the username, unique in its account, so
 * no two users share an input.
 */
export function credentialsHash(accountId: string, credentials: string): Promise<string> {
  return new Promise((resolve, reject) => {
    scrypt(credentials.toLowerCase(), `presence-user-auth:${accountId}`, SCRYPT_KEY_LENGTH, SCRYPT, (err, key) => {
      if (err) reject(err);
      else resolve(key.toString('hex'));
    });
  });
}
