import type { Database } from 'better-sqlite3';

/**
 * One numbered schema step. Each runs in its own transaction that also sets
 * `PRAGMA user_version` to its version, so a crash leaves the schema at a whole step.
 */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}
