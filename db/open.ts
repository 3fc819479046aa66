import fs from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';

export interface OpenDatabaseOptions {
  /** Open an existing file without writing to it (an admin CLI reading while the server runs). */
  readonly?: boolean;
}

/** Milliseconds a connection waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** False for SQLite's in-memory and temporary databases, which have no file and no WAL. */
export function isFileDatabase(file: string): boolean {
  return file !== ':memory:' && file !== '';
}

/**
 * Opens (creating it and its directory if needed) the server's SQLite file, sets the pragmas
 * the server relies on and migrates the schema to the newest version. `:memory:` is allowed.
 */
export function openDatabase(file: string, opts: OpenDatabaseOptions = {}): Database {
  const readonly = opts.readonly ?? false;
  const inMemory = !isFileDatabase(file);
  if (!inMemory && !readonly) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });

  const db = new Sqlite(file, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
  try {
    // Another process (the admin CLI) may write the same file while the server runs; wait for
    // its lock instead of failing at once. Write transactions are IMMEDIATE so the wait applies.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!readonly) {
      // WAL: readers never block the writer and a commit is one append to the -wal file.
      // Persistent in the file, so a read-only connection inherits it.
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL skips the fsync at each commit, but a commit still hands its pages
      // to the OS (write(2)) before returning. A process killed with -9 therefore loses
      // nothing committed: the next open replays the WAL. Only an OS crash or power loss can
      // roll back the last few commits (never corrupt the file); FULL would fsync every
      // SUBSCRIBE, which the hot path cannot afford.
      db.pragma('synchronous = NORMAL');
      // Keep the WAL from staying large after a burst has been checkpointed.
      db.pragma('journal_size_limit = 67108864');
    }
    db.pragma('foreign_keys = ON');
    // Negative = KiB. The server reads the tables once at boot and then only writes, so the
    // cache need hold little more than the pages a batch touches: 8 MiB (a larger cache showed
    // up as resident memory per held subscription, not as speed).
    db.pragma('cache_size = -8192');
    db.pragma('temp_store = MEMORY');
    migrate(db, migrations);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Closes the connection after `PRAGMA optimize`, which refreshes the planner statistics the
 * session showed a need for (the SQLite docs recommend it before closing a long-lived connection).
 */
export function closeDatabase(db: Database): void {
  if (!db.open) return;
  if (!db.readonly) db.pragma('optimize');
  db.close();
}
