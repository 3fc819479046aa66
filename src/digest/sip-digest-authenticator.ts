import { timingSafeEqual } from 'node:crypto';
import type { Logger } from '../ports/logger.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';
import { digestResponse, parseDigestAlgorithm, type DigestAlgorithm } from './digest-response.js';
import type { NonceBook } from './nonce-book.js';

/** The parameters of one `Authorization: Digest ...` header (RFC 2617 3.2.2), as parsed by the SIP adapter. */
export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

/** One `WWW-Authenticate: Digest ...` challenge for the adapter to format. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  qop: 'auth';
  /** RFC 2617 3.2.1: the credentials were right, only the nonce was not (expired or used). */
  stale: boolean;
}

/** What digest authentication needs to know of a device. */
export interface SipAccountCredentials {
  password: string;
  /** The realm of the device's account: the presentities it may watch live there. */
  accountRealm: string;
  deviceId: string;
}

/** Finds the device whose SIP username is `username` in `realm` (its `sip.realm`, else its account's). */
export type SipCredentialLookup = (realm: string, username: string) => SipAccountCredentials | undefined;

/** A request to authenticate, in the adapter's words. */
export interface DigestAttempt {
  method: string;
  /** The realm the request names (the From host), which the challenge offers. */
  realm: string;
  /** Every Digest Authorization header of the request. */
  credentials: readonly DigestCredentials[];
  /** The address the request came from, for logs and the failure limiter. */
  source: string;
}

export type DigestOutcome =
  | { kind: 'authenticated'; username: string; realm: string; accountRealm: string; deviceId: string }
  | { kind: 'challenge'; challenges: DigestChallenge[] }
  | { kind: 'blocked' };

export interface SipDigestAuthenticatorOptions {
  nonces: NonceBook;
  limiter: AuthFailureLimiter;
  lookup: SipCredentialLookup;
  logger: Logger;
  /** Algorithms offered, most preferred first (RFC 8760 2.4: one challenge per algorithm). */
  algorithms?: readonly DigestAlgorithm[];
}

const NC = /^[0-9a-fA-F]{8}$/;

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * SIP digest authentication (RFC 3261 22.4, RFC 2617 with qop=auth, RFC 8760): challenges,
 * verifies responses against the device's SIP password, refuses expired and replayed nonces,
 * and refuses a source that keeps failing. Pure: the adapter parses and formats the headers.
 */
export class SipDigestAuthenticator {
  private readonly algorithms: readonly DigestAlgorithm[];

  constructor(private readonly o: SipDigestAuthenticatorOptions) {
    this.algorithms = o.algorithms && o.algorithms.length > 0 ? o.algorithms : ['MD5'];
  }

  authenticate(a: DigestAttempt): DigestOutcome {
    if (this.o.limiter.isBlocked(a.source)) {
      this.o.logger.debug({ source: a.source, method: a.method }, 'request from a blocked source refused');
      return { kind: 'blocked' };
    }
    const realm = a.realm.toLowerCase();
    // RFC 3261 22.4: the credentials for our realm; others (a proxy's) are not ours to check.
    const c = a.credentials.find((x) => x.realm.toLowerCase() === realm);
    if (!c) return this.challenge(realm, false);

    const algorithm = parseDigestAlgorithm(c.algorithm);
    if (!algorithm || !this.algorithms.includes(algorithm)) return this.fail(a, c, `unsupported algorithm ${c.algorithm ?? ''}`);
    let nc: number | undefined;
    if (c.qop !== undefined) {
      if (c.qop.toLowerCase() !== 'auth') return this.fail(a, c, `unsupported qop ${c.qop}`);
      if (c.nc === undefined || !NC.test(c.nc) || !c.cnonce) return this.fail(a, c, 'qop=auth without a valid nc and cnonce');
      nc = parseInt(c.nc, 16);
    }
    const nonceStatus = this.o.nonces.status(c.nonce);
    if (nonceStatus === 'invalid') return this.fail(a, c, 'nonce not issued by this server');

    const account = this.o.lookup(realm, c.username);
    if (!account) return this.fail(a, c, 'unknown user');
    const expected = digestResponse({
      algorithm,
      username: c.username,
      realm: c.realm,
      password: account.password,
      method: a.method,
      uri: c.uri,
      nonce: c.nonce,
      ...(c.qop !== undefined ? { qop: 'auth' as const, nc: c.nc!, cnonce: c.cnonce! } : {}),
    });
    if (!safeEqualHex(expected, c.response)) return this.fail(a, c, 'wrong response (password)');

    // RFC 2617 3.2.1: right password, old nonce: challenge again with stale=true, and the
    // phone retries at once without asking its user.
    if (nonceStatus === 'stale') return this.challenge(realm, true);
    if (!this.o.nonces.use(c.nonce, nc)) {
      this.o.logger.warn({ source: a.source, username: c.username, realm, method: a.method, nc: c.nc }, 'digest nonce replayed');
      this.countFailure(a.source);
      return this.challenge(realm, true);
    }
    return { kind: 'authenticated', username: c.username, realm, accountRealm: account.accountRealm, deviceId: account.deviceId };
  }

  /** A fresh challenge for `realm`, one per offered algorithm. */
  challenge(realm: string, stale: boolean): DigestOutcome {
    const nonce = this.o.nonces.issue();
    return { kind: 'challenge', challenges: this.algorithms.map((algorithm) => ({ realm, nonce, algorithm, qop: 'auth', stale })) };
  }

  private fail(a: DigestAttempt, c: DigestCredentials, reason: string): DigestOutcome {
    this.o.logger.warn({ source: a.source, username: c.username, realm: a.realm, method: a.method, reason }, 'digest authentication failed');
    if (this.countFailure(a.source)) return { kind: 'blocked' };
    return this.challenge(a.realm.toLowerCase(), false);
  }

  /** True when the source is now blocked. */
  private countFailure(source: string): boolean {
    const blocked = this.o.limiter.recordFailure(source);
    if (blocked) this.o.logger.warn({ source }, 'too many failed authentications: source blocked');
    return blocked;
  }
}
