import type { Subscription } from '../subscription.js';

/**
 * Durable home of subscriptions. A write is committed when the call returns, or queued on a
 * group commit that the adapters wait on before a reply or NOTIFY that follows it leaves, so
 * that reply or NOTIFY never outlives a `kill -9` the write did not.
 */
export interface SubscriptionStore {
  /** Every stored subscription (expired ones included: the caller sweeps them). */
  loadAll(): Subscription[];
  /** Inserts or replaces the whole row. */
  save(subscription: Subscription): void;
  /**
   * Records, in one transaction, what must be durable before NOTIFYs leave: each
   * subscription's local CSeq, version and notify count.
   */
  saveProgress(subscriptions: readonly Subscription[]): void;
  /** Records the watchers' last answers (reply code, body sent, failures) for the listing API. */
  saveAnswers(subscriptions: readonly Subscription[]): void;
  remove(id: string): void;
  /** Deletes every subscription whose expiresAt is before `now`; returns how many. */
  removeExpired(now: number): number;
}
