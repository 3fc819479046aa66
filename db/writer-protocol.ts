import type { WriteOp } from './write-op.js';

/** What the main thread posts to the writer thread, in order. */
export type ToWriter =
  | { kind: 'batch'; seq: number; ops: readonly WriteOp[] }
  | { kind: 'wal-autocheckpoint'; pages: number }
  | { kind: 'stop' };

/** An Error as plain data: a cloned Error keeps only its message, not SQLite's `code`. */
export interface WriteError {
  name: string;
  message: string;
  code?: string;
}

/** What the writer thread posts back. `committed` covers every batch up to `seq`. */
export type FromWriter = { kind: 'committed'; seq: number } | { kind: 'write-failed'; op: WriteOp[0]; error: WriteError };

export interface WriterData {
  /** Path of the writer thread's module: the .ts source (vitest, tsx) or the .js in dist/. */
  entry: string;
  /** Path of tsx's CommonJS API, when the entry is TypeScript. */
  tsLoader?: string;
  file: string;
  walAutocheckpoint: number;
  /** Nice steps below the event loop (Linux; 0: the same). */
  nice: number;
}
