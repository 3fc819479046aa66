import type { Database, Statement } from 'better-sqlite3';
import type { StateRow } from './state-row.js';
import { SUBSCRIPTION_COLUMNS, type AnswerValues, type ProgressValues, type SubscriptionValues } from './subscription-row.js';
import type { WriteOp, WriteSink } from './write-op.js';

/** Something that wants to know when a write failed; pino fits. */
export interface WriteLogger {
  error(obj: { err: unknown; op: WriteOp[0] }, msg: string): void;
}

// Built from the constant column list, never from input; every value is bound.
const INSERT_SQL = `INSERT INTO subscriptions (${SUBSCRIPTION_COLUMNS.join(', ')}) VALUES (${SUBSCRIPTION_COLUMNS.map(() => '?').join(', ')})`;
const UPDATE_SQL = `UPDATE subscriptions SET ${SUBSCRIPTION_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE rowid = ? AND id = ?`;

/**
 * Runs WriteOps on one connection: the statements, prepared once, and the subscription key ->
 * rowid map. Rows are addressed by rowid because the key is not indexed (migration 004): an
 * insert lands on the table's last page instead of a random place in a second B-tree.
 *
 * The same code runs on the main thread (':memory:', tests, and after the writer thread has
 * died) and in the writer thread. The map belongs to whichever connection runs the ops, and is
 * read from the table at the first subscription write, so a writer thread started before the
 * boot sweep still sees what the sweep left.
 */
export class WriteExecutor implements WriteSink {
  private readonly selectKeys: Statement<[], { rowid: number; id: string }>;
  private readonly insert: Statement<[SubscriptionValues], void>;
  private readonly update: Statement<[SubscriptionValues, number, string], void>;
  private readonly updateProgress: Statement<[number, number, number, number, string], void>;
  private readonly updateAnswer: Statement<[number, string | null, number, number, string], void>;
  private readonly deleteByRowid: Statement<[number, string], void>;
  private readonly upsertState: Statement<[StateRow], void>;
  private readonly deleteState: Statement<[string, string], void>;
  private readonly deleteStateKinds: Statement<[string, string], void>;
  private readonly saveProgressRows: (rows: readonly ProgressValues[]) => void;
  private readonly saveAnswerRows: (rows: readonly AnswerValues[]) => void;
  private readonly commitBatches: (batches: ReadonlyArray<readonly WriteOp[]>) => void;
  /**
   * Subscription key -> rowid of its row, or undefined until read from the table. Changed
   * only by the ops, which run in order, so an insert's rowid is known to the update or
   * delete queued after it. Statements also match the key: a rowid freed by a delete outside
   * the queue can be given to another subscription's row, and must not be written through.
   */
  private rowids: Map<string, number> | undefined;

  constructor(
    db: Database,
    private readonly log?: WriteLogger,
  ) {
    this.selectKeys = db.prepare<[], { rowid: number; id: string }>('SELECT rowid AS rowid, id FROM subscriptions ORDER BY rowid');
    this.insert = db.prepare<[SubscriptionValues], void>(INSERT_SQL);
    this.update = db.prepare<[SubscriptionValues, number, string], void>(UPDATE_SQL);
    this.updateProgress = db.prepare<[number, number, number, number, string], void>(
      'UPDATE subscriptions SET local_cseq = ?, version = ?, notify_count = ? WHERE rowid = ? AND id = ?',
    );
    this.updateAnswer = db.prepare<[number, string | null, number, number, string], void>(
      'UPDATE subscriptions SET last_reply = ?, last_body = ?, failures = ? WHERE rowid = ? AND id = ?',
    );
    this.deleteByRowid = db.prepare<[number, string], void>('DELETE FROM subscriptions WHERE rowid = ? AND id = ?');
    this.upsertState = db.prepare<[StateRow], void>(
      'INSERT INTO presentity_state (presentity, source_id, kind, data, expires_at, updated_at) ' +
        'VALUES (@presentity, @source_id, @kind, @data, @expires_at, @updated_at) ' +
        'ON CONFLICT (presentity, source_id) DO UPDATE SET kind = excluded.kind, data = excluded.data, ' +
        'expires_at = excluded.expires_at, updated_at = excluded.updated_at',
    );
    this.deleteState = db.prepare<[string, string], void>('DELETE FROM presentity_state WHERE presentity = ? AND source_id = ?');
    this.deleteStateKinds = db.prepare<[string, string], void>(
      'DELETE FROM presentity_state WHERE presentity = ? AND kind IN (SELECT value FROM json_each(?))',
    );

    this.saveProgressRows = this.rowUpdates(db, this.updateProgress);
    this.saveAnswerRows = this.rowUpdates(db, this.updateAnswer);

    const batches = db.transaction((list: ReadonlyArray<readonly WriteOp[]>) => {
      for (const ops of list) {
        for (const op of ops) {
          // One bad row must not roll back the rest of the batch.
          try {
            this.run(op);
          } catch (err) {
            this.log?.error({ err, op: op[0] }, 'database write failed');
          }
        }
      }
    });
    this.commitBatches = (list) => batches.immediate(list);
  }

  /** Runs one op at once (committed when it returns); throws what SQLite throws. */
  write(op: WriteOp): void {
    this.run(op);
  }

  /**
   * Runs every op of the batches, in order, in one IMMEDIATE transaction. An op that throws is
   * logged and skipped; a failure to begin or commit throws, and nothing is written.
   */
  commit(list: ReadonlyArray<readonly WriteOp[]>): void {
    this.commitBatches(list);
  }

  private run(op: WriteOp): void {
    switch (op[0]) {
      case 'sub.save':
        this.save(op[1]);
        return;
      case 'sub.progress':
        this.saveProgressRows(op[1]);
        return;
      case 'sub.answers':
        this.saveAnswerRows(op[1]);
        return;
      case 'sub.remove': {
        const rowids = this.index();
        const rowid = rowids.get(op[1]);
        if (rowid === undefined) return;
        rowids.delete(op[1]);
        this.deleteByRowid.run(rowid, op[1]);
        return;
      }
      case 'sub.reindex':
        this.rowids = undefined;
        return;
      case 'state.put':
        this.upsertState.run(op[1]);
        return;
      case 'state.remove':
        this.deleteState.run(op[1], op[2]);
        return;
      case 'state.removeKinds':
        this.deleteStateKinds.run(op[1], op[2]);
        return;
      default: {
        const unknown: never = op;
        throw new Error(`unknown database write ${JSON.stringify((unknown as readonly unknown[])[0])}`);
      }
    }
  }

  private save(values: SubscriptionValues): void {
    const id = values[0] as string;
    const rowids = this.index();
    const rowid = rowids.get(id);
    // No row changed: the row was deleted behind the map's back (the boot sweep); insert it.
    if (rowid !== undefined && this.update.run(values, rowid, id).changes > 0) return;
    rowids.set(id, Number(this.insert.run(values).lastInsertRowid));
  }

  /**
   * Runs `update` for each row, [key, three values], that has a row in the table. A progress
   * or answer op is one transaction of its own (a savepoint inside a batch), so a bad row
   * leaves none of its rows written; alone, it is IMMEDIATE, which takes the write lock up
   * front so busy_timeout applies if the admin CLI is writing (a DEFERRED transaction could
   * fail with SQLITE_BUSY when upgrading its lock).
   */
  private rowUpdates<A, B, C>(db: Database, update: Statement<[A, B, C, number, string], void>): (rows: ReadonlyArray<readonly [string, A, B, C]>) => void {
    const run = db.transaction((rows: ReadonlyArray<readonly [string, A, B, C]>) => {
      const rowids = this.index();
      for (const [id, a, b, c] of rows) {
        const rowid = rowids.get(id);
        if (rowid !== undefined) update.run(a, b, c, rowid, id);
      }
    });
    return (rows) => (db.inTransaction ? run(rows) : run.immediate(rows));
  }

  private index(): Map<string, number> {
    if (this.rowids === undefined) {
      const rowids = new Map<string, number>();
      // Oldest first: a key stored twice (never written so) ends on its newest row, the one
      // the store's loadAll keeps.
      for (const { rowid, id } of this.selectKeys.iterate()) rowids.set(id, rowid);
      this.rowids = rowids;
    }
    return this.rowids;
  }
}
