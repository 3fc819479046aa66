import type { Database, Statement } from 'better-sqlite3';
import type { DialogInfo } from '../src/dialog-info.js';
import type { StateKind } from '../src/event-package.js';
import type { MessageSummary } from '../src/message-summary.js';
import type { StateStore } from '../src/ports/state-store.js';
import type { Presentity } from '../src/presentity.js';
import type { StateSource } from '../src/state-source.js';
import { writeRunner, type GroupCommit, type WriteRunner } from './group-commit.js';

interface StateRow {
  presentity: string;
  source_id: string;
  kind: StateKind;
  data: string;
  expires_at: number | null;
  updated_at: number;
}

/** The `data` column: the kind-specific part of a source. */
interface StateData {
  dialogs?: DialogInfo[];
  mwi?: MessageSummary;
  pidf?: string;
}

/** StateStore on SQLite, keyed by presentity and source id. */
export class SqliteStateStore implements StateStore {
  private readonly selectAll: Statement<[], StateRow>;
  private readonly upsert: Statement<[StateRow], void>;
  private readonly deleteOne: Statement<[string, string], void>;
  private readonly deleteKinds: Statement<[string, string], void>;

  private readonly write: WriteRunner;

  /** With a GroupCommit, writes are queued on it; without, each commits when the call returns. */
  constructor(db: Database, commit?: GroupCommit) {
    this.write = writeRunner(commit);
    this.selectAll = db.prepare<[], StateRow>(
      'SELECT presentity, source_id, kind, data, expires_at, updated_at FROM presentity_state',
    );
    this.upsert = db.prepare<[StateRow], void>(
      'INSERT INTO presentity_state (presentity, source_id, kind, data, expires_at, updated_at) ' +
        'VALUES (@presentity, @source_id, @kind, @data, @expires_at, @updated_at) ' +
        'ON CONFLICT (presentity, source_id) DO UPDATE SET kind = excluded.kind, data = excluded.data, ' +
        'expires_at = excluded.expires_at, updated_at = excluded.updated_at',
    );
    this.deleteOne = db.prepare<[string, string], void>('DELETE FROM presentity_state WHERE presentity = ? AND source_id = ?');
    // The kinds arrive as one bound JSON array, so a single prepared statement serves any list.
    this.deleteKinds = db.prepare<[string, string], void>(
      'DELETE FROM presentity_state WHERE presentity = ? AND kind IN (SELECT value FROM json_each(?))',
    );
  }

  loadAll(): StateSource[] {
    return this.selectAll.all().map(toSource);
  }

  put(source: StateSource): void {
    const data: StateData = {};
    if (source.dialogs !== undefined) data.dialogs = source.dialogs;
    if (source.mwi !== undefined) data.mwi = source.mwi;
    if (source.pidf !== undefined) data.pidf = source.pidf;
    const row: StateRow = {
      presentity: source.presentity,
      source_id: source.id,
      kind: source.kind,
      data: JSON.stringify(data),
      expires_at: source.expiresAt ?? null,
      updated_at: source.updatedAt,
    };
    this.write(() => this.upsert.run(row));
  }

  remove(presentity: Presentity, sourceId: string): void {
    this.write(() => this.deleteOne.run(presentity, sourceId));
  }

  removeKinds(presentity: Presentity, kinds: readonly StateKind[]): void {
    if (kinds.length === 0) return;
    const list = JSON.stringify(kinds);
    this.write(() => this.deleteKinds.run(presentity, list));
  }
}

function toSource(row: StateRow): StateSource {
  const data = parseData(row.data, row);
  const source: StateSource = { presentity: row.presentity, id: row.source_id, kind: row.kind, updatedAt: row.updated_at };
  if (data.dialogs !== undefined) source.dialogs = data.dialogs;
  if (data.mwi !== undefined) source.mwi = data.mwi;
  if (data.pidf !== undefined) source.pidf = data.pidf;
  if (row.expires_at !== null) source.expiresAt = row.expires_at;
  return source;
}

/** The column was written by put() from typed values; check only its outer shape. */
function parseData(text: string, row: StateRow): StateData {
  const parsed: unknown = JSON.parse(text);
  const fail = (what: string): never => {
    throw new Error(`presentity_state ${row.presentity} / ${row.source_id}: ${what}`);
  };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('data is not a JSON object');
  const data = parsed as Record<string, unknown>;
  if (data.dialogs !== undefined && !Array.isArray(data.dialogs)) fail('dialogs is not an array');
  if (data.mwi !== undefined && (typeof data.mwi !== 'object' || data.mwi === null)) fail('mwi is not an object');
  if (data.pidf !== undefined && typeof data.pidf !== 'string') fail('pidf is not a string');
  return data as StateData;
}
