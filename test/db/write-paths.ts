import type { Database } from 'better-sqlite3';
import { GroupCommit } from '../../db/group-commit.js';
import { closeDatabase, openDatabase } from '../../db/open.js';
import type { WriteSink } from '../../db/write-op.js';

/** The ways a repository's writes reach SQLite. */
export const WRITE_PATHS = ['each write at once', 'group commit on the main thread', 'group commit on a writer thread'] as const;
export type WritePath = (typeof WRITE_PATHS)[number];

export interface LoggedError {
  obj: Record<string, unknown>;
  msg: string | undefined;
}

export interface OpenedDatabase {
  db: Database;
  /** What the repositories are given (undefined: their own executor, each write at once). */
  writes: WriteSink | undefined;
  commit: GroupCommit | undefined;
  /** Errors the group commit logged. */
  errors: LoggedError[];
  /** Resolves once every write queued so far is committed. */
  settle(): Promise<void>;
  /** Drains and stops the group commit, then closes the connection. */
  close(): Promise<void>;
}

export function openWithWritePath(file: string, path: WritePath): OpenedDatabase {
  const db = openDatabase(file);
  const errors: LoggedError[] = [];
  const log = { error: (obj: object, msg?: string) => void errors.push({ obj: obj as Record<string, unknown>, msg }) };
  const commit =
    path === 'each write at once' ? undefined : new GroupCommit(db, { log, ...(path === 'group commit on a writer thread' ? { file } : {}) });
  return {
    db,
    writes: commit,
    commit,
    errors,
    settle: () => new Promise<void>((resolve) => (commit ? commit.afterCommit(resolve) : resolve())),
    close: async () => {
      await commit?.close();
      closeDatabase(db);
    },
  };
}

/** Resolves once `check` holds, polling; fails after `ms`. */
export async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
