import type { Database, Statement } from 'better-sqlite3';
import type { DialogInfo } from '../src/dialog-info.js';
import type { StateKind } from '../src/event-package.js';
import type { MessageSummary } from '../src/message-summary.js';
import type { StateStore } from '../src/ports/state-store.js';
import type { Presentity } from '../src/presentity.js';
import type { StateSource } from '../src/state-source.js';
import type { StateRow } from './state-row.js';
import { WriteExecutor } from './write-executor.js';
import type { WriteSink } from './write-op.js';

/** The `data` column: the kind-specific part of a source. */
interface StateData {
  dialogs?: DialogInfo[];
  mwi?: MessageSummary;
  pidf?: string;
}

/**
 * StateStore on SQLite, keyed by presentity and source id. Reads run on the caller's
 * connection; writes go as WriteOps to a sink: a group commit, or (without one) an executor
 * that commits each when the call returns.
 */
export class SqliteStateStore implements StateStore {
  private readonly selectAll: Statement<[], StateRow>;

  constructor(
    db: Database,
    private readonly writes: WriteSink = new WriteExecutor(db),
  ) {
    this.selectAll = db.prepare<[], StateRow>(
      'SELECT presentity, source_id, kind, data, expires_at, updated_at FROM presentity_state',
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
    this.writes.write(['state.put', row]);
  }

  remove(presentity: Presentity, sourceId: string): void {
    this.writes.write(['state.remove', presentity, sourceId]);
  }

  removeKinds(presentity: Presentity, kinds: readonly StateKind[]): void {
    if (kinds.length === 0) return;
    this.writes.write(['state.removeKinds', presentity, JSON.stringify(kinds)]);
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
