import type { Database, Statement } from 'better-sqlite3';
import type { SubscriptionStore } from '../src/ports/subscription-store.js';
import { splitPresentity } from '../src/presentity.js';
import { StringPool } from '../src/string-pool.js';
import { lastBodyOf, notifiesReserved, type Subscription } from '../src/subscription.js';
import { SUBSCRIPTION_COLUMNS, type AnswerValues, type ProgressValues, type SubscriptionRow, type SubscriptionValues } from './subscription-row.js';
import { WriteExecutor } from './write-executor.js';
import type { WriteSink } from './write-op.js';

type Addressed<T> = T & { rowid: number };

/**
 * SubscriptionStore on SQLite. Reads and the boot sweep run here, on the caller's connection;
 * writes go as WriteOps to a sink: a group commit, or (without one) an executor that commits
 * each when the call returns.
 */
export class SqliteSubscriptionStore implements SubscriptionStore {
  private readonly selectAll: Statement<[], Addressed<SubscriptionRow>>;
  private readonly deleteByRowid: Statement<[number], void>;
  private readonly deleteExpired: Statement<[number], void>;

  constructor(
    db: Database,
    private readonly writes: WriteSink = new WriteExecutor(db),
  ) {
    this.selectAll = db.prepare<[], Addressed<SubscriptionRow>>(`SELECT rowid AS rowid, ${SUBSCRIPTION_COLUMNS.join(', ')} FROM subscriptions ORDER BY rowid`);
    this.deleteByRowid = db.prepare<[number], void>('DELETE FROM subscriptions WHERE rowid = ?');
    this.deleteExpired = db.prepare<[number], void>('DELETE FROM subscriptions WHERE expires_at < ?');
  }

  loadAll(): Subscription[] {
    const out: Subscription[] = [];
    const newest = new Map<string, number>();
    let deleted = false;
    for (const row of this.selectAll.all()) {
      // Rows come oldest first; a key stored twice (never written so) keeps its newest row.
      const older = newest.get(row.id);
      if (older !== undefined) {
        this.deleteByRowid.run(older);
        deleted = true;
      }
      newest.set(row.id, row.rowid);
      out.push(toSubscription(row));
    }
    if (deleted) this.writes.write(['sub.reindex']);
    return out;
  }

  save(subscription: Subscription): void {
    this.writes.write(['sub.save', toValues(subscription)]);
  }

  saveProgress(subscriptions: readonly Subscription[]): void {
    if (subscriptions.length === 0) return;
    // Rows are taken now: the subscriptions keep changing before a queued write runs.
    this.writes.write(['sub.progress', subscriptions.map(progressValues)]);
  }

  saveAnswers(subscriptions: readonly Subscription[]): void {
    if (subscriptions.length === 0) return;
    this.writes.write(['sub.answers', subscriptions.map(answerValues)]);
  }

  remove(id: string): void {
    this.writes.write(['sub.remove', id]);
  }

  /** The boot sweep: deletes at once, on this connection, since the caller wants the count. */
  removeExpired(now: number): number {
    const gone = this.deleteExpired.run(now).changes;
    if (gone > 0) this.writes.write(['sub.reindex']);
    return gone;
  }
}

function progressValues(s: Subscription): ProgressValues {
  return [s.id, s.dialog.localCseq, s.version, s.notifyCount];
}

function answerValues(s: Subscription): AnswerValues {
  return [s.id, s.lastReply, lastBodyOf(s) ?? null, s.failures];
}

/**
 * The row's values in SUBSCRIPTION_COLUMNS order, straight from the subscription: every
 * SUBSCRIBE writes one, and a row object mapped to an array was two allocations more.
 * Written as it will be after the NOTIFYs reserved ahead (the one that follows a SUBSCRIBE).
 */
function toValues(s: Subscription): SubscriptionValues {
  const { dialog } = s;
  const { binding } = dialog;
  const ahead = notifiesReserved(s);
  return [
    /* id */ s.id,
    /* call_id */ dialog.callId,
    /* local_tag */ dialog.localTag,
    /* remote_tag */ dialog.remoteTag,
    /* local_uri */ dialog.localUri,
    /* remote_uri */ dialog.remoteUri,
    /* remote_target */ dialog.remoteTarget,
    /* route_set */ dialog.routeSet.length === 0 ? '[]' : JSON.stringify(dialog.routeSet),
    /* local_cseq */ dialog.localCseq + ahead,
    /* remote_cseq */ dialog.remoteCseq,
    /* transport */ binding.transport,
    /* source_address */ binding.source.address,
    /* source_port */ binding.source.port,
    /* local_address */ binding.local?.address ?? null,
    /* local_port */ binding.local?.port ?? null,
    /* connection_id */ binding.connectionId ?? null,
    /* send_to_source */ binding.sendToSource ? 1 : 0,
    /* event */ s.event,
    /* event_id */ s.eventId ?? null,
    /* presentity */ s.presentity,
    /* realm */ splitPresentity(s.presentity).realm,
    /* watcher */ s.watcher,
    /* expires */ s.expires,
    /* expires_at */ s.expiresAt,
    /* version */ s.version + ahead,
    /* user_agent */ s.userAgent ?? null,
    /* created_at */ s.createdAt,
    /* last_subscribe_at */ s.lastSubscribeAt,
    /* notify_count */ s.notifyCount + ahead,
    /* last_reply */ s.lastReply,
    /* last_body */ lastBodyOf(s) ?? null,
    /* failures */ s.failures,
  ];
}

/**
 * Strings many subscriptions hold alike: one copy each for the subscriptions read back at a
 * restart (src/string-pool.ts). Source addresses too, which the SIP front does not pool: at
 * a restart they are looked up once per row, not once per SUBSCRIBE.
 */
const pools = {
  localUri: new StringPool(),
  remoteUri: new StringPool(),
  remoteTarget: new StringPool(),
  address: new StringPool(),
  presentity: new StringPool(),
  watcher: new StringPool(),
  userAgent: new StringPool(),
};

function toSubscription(row: SubscriptionRow): Subscription {
  const subscription: Subscription = {
    id: row.id,
    dialog: {
      callId: row.call_id,
      localTag: row.local_tag,
      remoteTag: row.remote_tag,
      localUri: pools.localUri.intern(row.local_uri),
      remoteUri: pools.remoteUri.intern(row.remote_uri),
      remoteTarget: pools.remoteTarget.intern(row.remote_target),
      routeSet: parseRouteSet(row.route_set, row.id),
      localCseq: row.local_cseq,
      remoteCseq: row.remote_cseq,
      binding: {
        transport: row.transport,
        source: { address: pools.address.intern(row.source_address), port: row.source_port },
        sendToSource: row.send_to_source === 1,
      },
    },
    event: row.event,
    presentity: pools.presentity.intern(row.presentity),
    watcher: pools.watcher.intern(row.watcher),
    expires: row.expires,
    expiresAt: row.expires_at,
    version: row.version,
    createdAt: row.created_at,
    lastSubscribeAt: row.last_subscribe_at,
    notifyCount: row.notify_count,
    lastReply: row.last_reply,
    failures: row.failures,
  };
  // Absent optionals stay absent rather than present-and-undefined.
  const { binding } = subscription.dialog;
  if (row.local_address !== null && row.local_port !== null) binding.local = { address: row.local_address, port: row.local_port };
  if (row.connection_id !== null) binding.connectionId = row.connection_id;
  if (row.event_id !== null) subscription.eventId = row.event_id;
  if (row.user_agent !== null) subscription.userAgent = pools.userAgent.intern(row.user_agent);
  if (row.last_body !== null) subscription.lastBody = row.last_body;
  return subscription;
}

function parseRouteSet(text: string, id: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((r): r is string => typeof r === 'string')) {
    throw new Error(`subscription ${JSON.stringify(id)}: route_set is not a JSON array of strings`);
  }
  return parsed;
}
