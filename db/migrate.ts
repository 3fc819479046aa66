import type { Database } from 'better-sqlite3';
import type { Migration } from './migration.js';

/**
 * Brings the schema up to the newest migration. Each pending step runs in its own IMMEDIATE
 * transaction that also sets `PRAGMA user_version`, so a crash leaves the file at a whole step
 * and a second process migrating at the same moment waits (busy_timeout) and then skips the
 * steps the first one already applied. Returns the schema version afterwards.
 *
 * Refuses a file whose user_version is newer than the code knows: an older build would
 * silently misread a schema it has never seen.
 */
export function migrate(db: Database, migrations: readonly Migration[]): number {
  const ordered = checkedInOrder(migrations);
  const latest = ordered.length === 0 ? 0 : ordered[ordered.length - 1].version;
  const found = userVersion(db);
  if (found > latest) {
    throw new Error(
      `database ${db.name} has schema version ${found}, but this build only knows up to ${latest}; ` +
        'run a newer build (or restore a backup taken before the upgrade)',
    );
  }
  const pending = ordered.filter((m) => m.version > found);
  if (pending.length === 0) return found;
  if (db.readonly) {
    throw new Error(
      `database ${db.name} has schema version ${found}, this build needs ${latest}; ` +
        'open it read-write once (start the server) to migrate it',
    );
  }
  for (const migration of pending) {
    db.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      if (userVersion(db) >= migration.version) return;
      migration.up(db);
      // PRAGMA takes no bound parameters; the version is a checked integer from code, not input.
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return userVersion(db);
}

function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Migrations must be numbered 1, 2, 3 ... without gaps, so user_version names exactly one schema. */
function checkedInOrder(migrations: readonly Migration[]): Migration[] {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  ordered.forEach((m, i) => {
    if (!Number.isSafeInteger(m.version) || m.version !== i + 1) {
      throw new Error(`migrations must be numbered 1..${ordered.length} without gaps; found ${m.version} (${m.name}) at position ${i + 1}`);
    }
  });
  return ordered;
}
