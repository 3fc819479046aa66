import type { Database, Statement } from 'better-sqlite3';
import type { SubscriptionStore } from '../src/ports/subscription-store.js';
import { splitPresentity } from '../src/presentity.js';
import { lastBodyOf, notifiesReserved, type Subscription } from '../src/subscription.js';
import type { SipTransport } from '../src/transport-binding.js';
import { writeRunner, type GroupCommit, type WriteRunner } from './group-commit.js';

/** One `subscriptions` row; keys are the column names, so it binds as named parameters too. */
interface SubscriptionRow {
  id: string;
  call_id: string;
  local_tag: string;
  remote_tag: string;
  local_uri: string;
  remote_uri: string;
  remote_target: string;
  route_set: string;
  local_cseq: number;
  remote_cseq: number;
  transport: SipTransport;
  source_address: string;
  source_port: number;
  local_address: string | null;
  local_port: number | null;
  connection_id: string | null;
  send_to_source: 0 | 1;
  event: string;
  event_id: string | null;
  presentity: string;
  realm: string;
  watcher: string;
  expires: number;
  expires_at: number;
  version: number;
  user_agent: string | null;
  created_at: number;
  last_subscribe_at: number;
  notify_count: number;
  last_reply: number;
  last_body: string | null;
  failures: number;
}

/** What must be durable before a NOTIFY leaves: its CSeq and version (and the count). */
type ProgressRow = Pick<SubscriptionRow, 'id' | 'local_cseq' | 'version' | 'notify_count'>;
/** The watcher's last answer, for the listing API: written in the background. */
type AnswerRow = Pick<SubscriptionRow, 'id' | 'last_reply' | 'last_body' | 'failures'>;

const COLUMNS: readonly (keyof SubscriptionRow)[] = [
  'id', 'call_id', 'local_tag', 'remote_tag', 'local_uri', 'remote_uri', 'remote_target', 'route_set',
  'local_cseq', 'remote_cseq', 'transport', 'source_address', 'source_port', 'local_address', 'local_port',
  'connection_id', 'send_to_source', 'event', 'event_id', 'presentity', 'realm', 'watcher', 'expires',
  'expires_at', 'version', 'user_agent', 'created_at', 'last_subscribe_at', 'notify_count', 'last_reply',
  'last_body', 'failures',
];

// Built from the constant column list above, never from input; every value is bound.
// Positional: binding 32 values by name costs a lookup each, on every SUBSCRIBE.
const INSERT_SQL = `INSERT INTO subscriptions (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`;
const UPDATE_SQL = `UPDATE subscriptions SET ${COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ')} WHERE rowid = @rowid`;

type Addressed<T> = T & { rowid: number };

/**
 * SubscriptionStore on SQLite: every write is committed when the call returns (or with the
 * group commit it is queued on). Rows are addressed by rowid, which this store keeps per
 * subscription key: the key is not indexed (migration 004), so an insert lands on the
 * table's last page instead of a random place in a second B-tree.
 */
export class SqliteSubscriptionStore implements SubscriptionStore {
  private readonly selectAll: Statement<[], Addressed<SubscriptionRow>>;
  private readonly insert: Statement<[unknown[]], void>;
  private readonly update: Statement<[Addressed<SubscriptionRow>], void>;
  private readonly updateProgress: Statement<[Addressed<ProgressRow>], void>;
  private readonly updateAnswer: Statement<[Addressed<AnswerRow>], void>;
  private readonly saveAnswersBatch: (rows: readonly AnswerRow[]) => void;
  private readonly deleteByRowid: Statement<[number], void>;
  private readonly deleteExpired: Statement<[number], { id: string }>;
  private readonly saveProgressBatch: (rows: readonly ProgressRow[]) => void;
  /**
   * Subscription key -> rowid of its row. Read and changed only inside queued writes, which
   * run in order, so an insert's rowid is known to the update or delete queued after it.
   */
  private readonly rowids = new Map<string, number>();

  private readonly write: WriteRunner;

  /** With a GroupCommit, writes are queued on it; without, each commits when the call returns. */
  constructor(db: Database, commit?: GroupCommit) {
    this.write = writeRunner(commit);
    this.selectAll = db.prepare<[], Addressed<SubscriptionRow>>(`SELECT rowid AS rowid, ${COLUMNS.join(', ')} FROM subscriptions ORDER BY rowid`);
    this.insert = db.prepare<[unknown[]], void>(INSERT_SQL);
    this.update = db.prepare<[Addressed<SubscriptionRow>], void>(UPDATE_SQL);
    this.updateProgress = db.prepare<[Addressed<ProgressRow>], void>(
      'UPDATE subscriptions SET local_cseq = @local_cseq, version = @version, notify_count = @notify_count WHERE rowid = @rowid',
    );
    this.updateAnswer = db.prepare<[Addressed<AnswerRow>], void>(
      'UPDATE subscriptions SET last_reply = @last_reply, last_body = @last_body, failures = @failures WHERE rowid = @rowid',
    );
    this.deleteByRowid = db.prepare<[number], void>('DELETE FROM subscriptions WHERE rowid = ?');
    this.deleteExpired = db.prepare<[number], { id: string }>('DELETE FROM subscriptions WHERE expires_at < ? RETURNING id');
    const batch = db.transaction((rows: readonly ProgressRow[]) => {
      for (const row of rows) {
        const rowid = this.rowids.get(row.id);
        if (rowid !== undefined) this.updateProgress.run({ ...row, rowid });
      }
    });
    // IMMEDIATE takes the write lock up front, so busy_timeout applies if the admin CLI is
    // writing; a DEFERRED transaction could fail with SQLITE_BUSY when upgrading its lock.
    this.saveProgressBatch = (rows) => (db.inTransaction ? batch(rows) : batch.immediate(rows));
    const answers = db.transaction((rows: readonly AnswerRow[]) => {
      for (const row of rows) {
        const rowid = this.rowids.get(row.id);
        if (rowid !== undefined) this.updateAnswer.run({ ...row, rowid });
      }
    });
    this.saveAnswersBatch = (rows) => (db.inTransaction ? answers(rows) : answers.immediate(rows));
  }

  loadAll(): Subscription[] {
    const out: Subscription[] = [];
    this.rowids.clear();
    for (const row of this.selectAll.all()) {
      // Rows come oldest first; a key stored twice (never written so) keeps its newest row.
      const older = this.rowids.get(row.id);
      if (older !== undefined) this.deleteByRowid.run(older);
      this.rowids.set(row.id, row.rowid);
      out.push(toSubscription(row));
    }
    return out;
  }

  save(subscription: Subscription): void {
    const row = toRow(subscription);
    this.write(() => {
      const rowid = this.rowids.get(row.id);
      if (rowid !== undefined) this.update.run({ ...row, rowid });
      else this.rowids.set(row.id, Number(this.insert.run(COLUMNS.map((c) => row[c])).lastInsertRowid));
    });
  }

  saveProgress(subscriptions: readonly Subscription[]): void {
    if (subscriptions.length === 0) return;
    // Rows are taken now: the subscriptions keep changing before a queued write runs.
    const rows = subscriptions.map(progressRow);
    this.write(() => this.saveProgressBatch(rows));
  }

  saveAnswers(subscriptions: readonly Subscription[]): void {
    if (subscriptions.length === 0) return;
    const rows = subscriptions.map(answerRow);
    this.write(() => this.saveAnswersBatch(rows));
  }

  remove(id: string): void {
    this.write(() => {
      const rowid = this.rowids.get(id);
      if (rowid === undefined) return;
      this.rowids.delete(id);
      this.deleteByRowid.run(rowid);
    });
  }

  removeExpired(now: number): number {
    const gone = this.deleteExpired.all(now);
    for (const { id } of gone) this.rowids.delete(id);
    return gone.length;
  }
}

function progressRow(s: Subscription): ProgressRow {
  return { id: s.id, local_cseq: s.dialog.localCseq, version: s.version, notify_count: s.notifyCount };
}

function answerRow(s: Subscription): AnswerRow {
  return { id: s.id, last_reply: s.lastReply, last_body: lastBodyOf(s) ?? null, failures: s.failures };
}

function toRow(s: Subscription): SubscriptionRow {
  const { dialog } = s;
  const { binding } = dialog;
  // Written as it will be after the NOTIFYs reserved ahead (the one that follows a SUBSCRIBE).
  const ahead = notifiesReserved(s);
  return {
    id: s.id,
    call_id: dialog.callId,
    local_tag: dialog.localTag,
    remote_tag: dialog.remoteTag,
    local_uri: dialog.localUri,
    remote_uri: dialog.remoteUri,
    remote_target: dialog.remoteTarget,
    route_set: JSON.stringify(dialog.routeSet),
    local_cseq: dialog.localCseq + ahead,
    remote_cseq: dialog.remoteCseq,
    transport: binding.transport,
    source_address: binding.source.address,
    source_port: binding.source.port,
    local_address: binding.local?.address ?? null,
    local_port: binding.local?.port ?? null,
    connection_id: binding.connectionId ?? null,
    send_to_source: binding.sendToSource ? 1 : 0,
    event: s.event,
    event_id: s.eventId ?? null,
    presentity: s.presentity,
    realm: splitPresentity(s.presentity).realm,
    watcher: s.watcher,
    expires: s.expires,
    expires_at: s.expiresAt,
    version: s.version + ahead,
    user_agent: s.userAgent ?? null,
    created_at: s.createdAt,
    last_subscribe_at: s.lastSubscribeAt,
    notify_count: s.notifyCount + ahead,
    last_reply: s.lastReply,
    last_body: lastBodyOf(s) ?? null,
    failures: s.failures,
  };
}

function toSubscription(row: SubscriptionRow): Subscription {
  const subscription: Subscription = {
    id: row.id,
    dialog: {
      callId: row.call_id,
      localTag: row.local_tag,
      remoteTag: row.remote_tag,
      localUri: row.local_uri,
      remoteUri: row.remote_uri,
      remoteTarget: row.remote_target,
      routeSet: parseRouteSet(row.route_set, row.id),
      localCseq: row.local_cseq,
      remoteCseq: row.remote_cseq,
      binding: {
        transport: row.transport,
        source: { address: row.source_address, port: row.source_port },
        sendToSource: row.send_to_source === 1,
      },
    },
    event: row.event,
    presentity: row.presentity,
    watcher: row.watcher,
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
  if (row.user_agent !== null) subscription.userAgent = row.user_agent;
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
