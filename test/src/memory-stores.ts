import type { StateKind } from '../../src/event-package.js';
import type { StateStore } from '../../src/ports/state-store.js';
import type { SubscriptionStore } from '../../src/ports/subscription-store.js';
import type { Presentity } from '../../src/presentity.js';
import type { StateSource } from '../../src/state-source.js';
import { lastBodyOf, notifiesReserved, type Subscription } from '../../src/subscription.js';

/**
 * A SubscriptionStore in a Map. Rows are copies, as a database would keep them: what the
 * domain changes in memory afterwards does not leak into the store until it writes again.
 * Every write is appended to `journal` (shared with other fakes to check ordering).
 */
export class MemorySubscriptionStore implements SubscriptionStore {
  readonly rows = new Map<string, Subscription>();

  constructor(readonly journal: string[] = []) {}

  loadAll(): Subscription[] {
    return [...this.rows.values()].map((s) => structuredClone(s));
  }

  save(subscription: Subscription): void {
    this.journal.push(`save ${subscription.id}`);
    // Stored as SQLite stores it: the last body spelled out.
    const { lastRendering: _rendering, ...plain } = subscription;
    const row = structuredClone(plain);
    const body = lastBodyOf(subscription);
    if (body !== undefined) row.lastBody = body;
    // As the SQLite store: written as it will be after the NOTIFY reserved ahead.
    const ahead = notifiesReserved(subscription);
    row.dialog.localCseq += ahead;
    row.version += ahead;
    row.notifyCount += ahead;
    delete row.durableCseq;
    this.rows.set(subscription.id, row);
  }

  saveProgress(subscriptions: readonly Subscription[]): void {
    this.journal.push(`saveProgress ${subscriptions.map((s) => `${s.id}@cseq=${s.dialog.localCseq}`).join(',')}`);
    for (const s of subscriptions) {
      const row = this.rows.get(s.id);
      if (!row) continue;
      row.dialog.localCseq = s.dialog.localCseq;
      row.version = s.version;
      row.notifyCount = s.notifyCount;
    }
  }

  saveAnswers(subscriptions: readonly Subscription[]): void {
    this.journal.push(`saveAnswers ${subscriptions.map((s) => s.id).join(',')}`);
    for (const s of subscriptions) {
      const row = this.rows.get(s.id);
      if (!row) continue;
      row.lastReply = s.lastReply;
      row.failures = s.failures;
      const body = lastBodyOf(s);
      if (body !== undefined) row.lastBody = body;
    }
  }

  remove(id: string): void {
    this.journal.push(`remove ${id}`);
    this.rows.delete(id);
  }

  removeExpired(now: number): number {
    let removed = 0;
    for (const [id, row] of this.rows) {
      if (row.expiresAt < now) {
        this.rows.delete(id);
        removed++;
      }
    }
    return removed;
  }
}

function sourceKey(presentity: Presentity, id: string): string {
  return `${presentity}\n${id}`;
}

/** A StateStore in a Map, keyed by presentity and source id; rows are copies. */
export class MemoryStateStore implements StateStore {
  readonly rows = new Map<string, StateSource>();

  loadAll(): StateSource[] {
    return [...this.rows.values()].map((s) => structuredClone(s));
  }

  put(source: StateSource): void {
    this.rows.set(sourceKey(source.presentity, source.id), structuredClone(source));
  }

  remove(presentity: Presentity, sourceId: string): void {
    this.rows.delete(sourceKey(presentity, sourceId));
  }

  removeKinds(presentity: Presentity, kinds: readonly StateKind[]): void {
    for (const [key, row] of this.rows) {
      if (row.presentity === presentity && kinds.includes(row.kind)) this.rows.delete(key);
    }
  }

  /** The stored sources of one presentity, by id. */
  idsOf(presentity: Presentity): string[] {
    return [...this.rows.values()].filter((s) => s.presentity === presentity).map((s) => s.id);
  }
}
