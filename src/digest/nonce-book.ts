import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/clock.js';

/** What a nonce presented in an Authorization header amounts to. */
export type NonceStatus = 'fresh' | 'stale' | 'invalid';

export interface NonceBookOptions {
  clock: Clock;
  /** How long a nonce may be used, seconds. */
  ttlSeconds: number;
  /** HMAC key; a random one per process (a restart makes older nonces stale, which phones handle). */
  secret?: Buffer;
}

const STAMP_BYTES = 8;
const RANDOM_BYTES = 8;
const MAC_BYTES = 16;

interface Usage {
  /** Highest nonce count accepted so far; Infinity for a nonce used without qop (single use). */
  highestNc: number;
  forgetAt: number;
}

/**
 * Issues digest nonces and guards them against replay (RFC 2617 3.2.1, 4.5). A nonce is its
 * issue time, random bits and an HMAC over both, so it is checked without keeping every nonce
 * handed out (a challenge costs no memory, whoever asks). Only a nonce that authenticated a
 * request is remembered, with the highest nonce count (`nc`) it was used with, until it
 * expires: the same or a lower count again is a replay.
 */
export class NonceBook {
  private readonly secret: Buffer;
  private readonly used = new Map<string, Usage>();

  constructor(private readonly o: NonceBookOptions) {
    this.secret = o.secret ?? randomBytes(32);
  }

  issue(): string {
    const body = Buffer.alloc(STAMP_BYTES + RANDOM_BYTES);
    body.writeBigUInt64BE(BigInt(this.o.clock.now()), 0);
    randomBytes(RANDOM_BYTES).copy(body, STAMP_BYTES);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  /** Whether the nonce is one of ours, and still within its lifetime. */
  status(nonce: string): NonceStatus {
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== STAMP_BYTES + RANDOM_BYTES + MAC_BYTES || raw.toString('base64url') !== nonce) return 'invalid';
    const body = raw.subarray(0, STAMP_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(raw.subarray(STAMP_BYTES + RANDOM_BYTES), this.mac(body))) return 'invalid';
    const issuedAt = Number(body.readBigUInt64BE(0));
    const age = this.o.clock.now() - issuedAt;
    return age >= 0 && age < this.o.ttlSeconds * 1000 ? 'fresh' : 'stale';
  }

  /**
   * Records a use of a fresh nonce with nonce count `nc` (undefined: a client without qop,
   * whose nonce then serves once). False when that count was already used: a replay.
   */
  use(nonce: string, nc: number | undefined): boolean {
    const now = this.o.clock.now();
    this.sweep(now);
    const usage = this.used.get(nonce);
    const count = nc ?? Number.POSITIVE_INFINITY;
    if (usage) {
      // RFC 2617 3.2.2: the count only goes up; one seen before is a replayed request.
      if (nc === undefined || count <= usage.highestNc) return false;
      usage.highestNc = count;
      return true;
    }
    const raw = Buffer.from(nonce, 'base64url');
    const issuedAt = Number(raw.readBigUInt64BE(0));
    this.used.set(nonce, { highestNc: count, forgetAt: issuedAt + this.o.ttlSeconds * 1000 });
    return true;
  }

  /** How many used nonces are remembered (for tests and metrics). */
  get remembered(): number {
    return this.used.size;
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(body).digest().subarray(0, MAC_BYTES);
  }

  /** Drops expired nonces from the front of the map (insertion order is about issue order). */
  private sweep(now: number): void {
    for (const [nonce, usage] of this.used) {
      if (usage.forgetAt > now) break;
      this.used.delete(nonce);
    }
  }
}
