import type { Clock } from '../ports/clock.js';

export interface AuthFailureLimiterOptions {
  clock: Clock;
  /** Failures within `windowSeconds` that start a block. */
  maxFailures: number;
  windowSeconds: number;
  /** How long a blocked source is refused, seconds. */
  blockSeconds: number;
}

interface SourceFailures {
  failures: number[];
  blockedUntil: number;
}

/** Above this many tracked sources, idle ones are swept on the next failure. */
const SWEEP_THRESHOLD = 10_000;

/**
 * Slows password guessing: a source address with too many failed digest attempts in a short
 * window is refused outright for a while (the adapter answers 403 without a challenge).
 */
export class AuthFailureLimiter {
  private readonly sources = new Map<string, SourceFailures>();

  constructor(private readonly o: AuthFailureLimiterOptions) {}

  isBlocked(source: string): boolean {
    const r = this.sources.get(source);
    return r !== undefined && r.blockedUntil > this.o.clock.now();
  }

  /** Counts a failure; true when this one starts a block. */
  recordFailure(source: string): boolean {
    const now = this.o.clock.now();
    if (this.sources.size > SWEEP_THRESHOLD) this.sweep(now);
    let r = this.sources.get(source);
    if (!r) {
      r = { failures: [], blockedUntil: 0 };
      this.sources.set(source, r);
    }
    const since = now - this.o.windowSeconds * 1000;
    r.failures = r.failures.filter((t) => t > since);
    r.failures.push(now);
    if (r.blockedUntil <= now && r.failures.length >= this.o.maxFailures) {
      r.blockedUntil = now + this.o.blockSeconds * 1000;
      r.failures = [];
      return true;
    }
    return false;
  }

  private sweep(now: number): void {
    const since = now - this.o.windowSeconds * 1000;
    for (const [source, r] of this.sources) {
      if (r.blockedUntil <= now && r.failures.every((t) => t <= since)) this.sources.delete(source);
    }
  }
}
