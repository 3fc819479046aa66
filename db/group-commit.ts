import type { Database } from 'better-sqlite3';

/** The shortest gap between two commits. */
const MIN_COMMIT_INTERVAL_MS = 1;

/** Something that wants to know when a batch failed; pino fits. */
export interface CommitLogger {
  error(obj: object, msg?: string): void;
}

/**
 * Group commit: the writes of one event-loop turn go to SQLite in one transaction (a commit
 * costs ~100-200 µs here, so one per SUBSCRIBE would cap the server at a few thousand a
 * second). Whatever must not leave the process before its writes are durable — a 200 to a
 * SUBSCRIBE, a NOTIFY whose CSeq was just recorded — waits in `afterCommit`, so a kill -9
 * can never leave a phone holding an answer the database does not have.
 */
export class GroupCommit {
  private ops: Array<() => void> = [];
  private waiters: Array<() => void> = [];
  private scheduled = false;
  private closed = false;
  private lastCommit = 0;
  private readonly runBatch: (ops: ReadonlyArray<() => void>) => void;

  constructor(
    db: Database,
    private readonly log?: CommitLogger,
  ) {
    const tx = db.transaction((ops: ReadonlyArray<() => void>) => {
      for (const op of ops) {
        // One bad row must not roll back the rest of the batch.
        try {
          op();
        } catch (err) {
          this.log?.error({ err }, 'database write failed');
        }
      }
    });
    // IMMEDIATE: take the write lock up front so busy_timeout covers an admin CLI writing.
    this.runBatch = (ops) => tx.immediate(ops);
  }

  /** Queues a write for the current batch. */
  write(op: () => void): void {
    // After close (shutdown), late answers to NOTIFYs have nowhere to go; they are dropped.
    if (this.closed) return;
    this.ops.push(op);
    this.schedule();
  }

  /** Runs `fn` once everything queued so far is committed (at once if nothing is pending). */
  afterCommit(fn: () => void): void {
    if (this.ops.length === 0 && this.waiters.length === 0) {
      fn();
      return;
    }
    this.waiters.push(fn);
    this.schedule();
  }

  /** Commits now and releases the waiters (also called before the database closes). */
  flush(): void {
    this.scheduled = false;
    const ops = this.ops;
    this.ops = [];
    if (ops.length > 0) {
      this.runBatch(ops);
      this.lastCommit = performance.now();
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const fn of waiters) fn();
  }

  /** Commits what is queued; later writes are ignored. Call before closing the database. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      if (this.scheduled) this.flush();
    };
    // setImmediate runs after the poll phase, so every datagram read in one turn shares the
    // batch. Under load turns are short and batches small, so commits are also spaced at
    // least MIN_COMMIT_INTERVAL_MS apart: an idle server answers at once, a busy one trades
    // up to a millisecond of latency for a fraction of the commits.
    const wait = this.lastCommit + MIN_COMMIT_INTERVAL_MS - performance.now();
    if (wait <= 0) setImmediate(run);
    else setTimeout(run, wait);
  }
}

/** How a repository performs a write: at once, or queued on a group commit. */
export type WriteRunner = (op: () => void) => void;

export function writeRunner(commit: GroupCommit | undefined): WriteRunner {
  return commit ? (op) => commit.write(op) : (op) => op();
}
