import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../db/migrate.js';
import type { Migration } from '../../db/migration.js';
import { migrations } from '../../db/migrations/index.js';
import { closeDatabase, openDatabase } from '../../db/open.js';
import { SqliteStateStore } from '../../db/state-repository.js';
import { SqliteSubscriptionStore } from '../../db/subscription-repository.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const latest = migrations.length;

describe('openDatabase', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-open-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the missing directory and the file with WAL, NORMAL sync, foreign keys and a busy timeout', () => {
    const file = path.join(dir, 'nested', 'deeper', 'presence.db');
    const db = openDatabase(file);
    try {
      expect(fs.existsSync(file)).toBe(true);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('user_version', { simple: true })).toBe(latest);
    } finally {
      closeDatabase(db);
    }
  });

  it('opens an in-memory database with the full schema', () => {
    const db = openDatabase(':memory:');
    try {
      const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'").all().map((t) => t.name);
      expect(tables).toEqual(expect.arrayContaining(['subscriptions', 'presentity_state']));
    } finally {
      closeDatabase(db);
    }
  });

  it('keeps data and schema version when the file is opened again', () => {
    const file = path.join(dir, 'presence.db');
    const first = openDatabase(file);
    new SqliteStateStore(first).put({ presentity: '1001@acme.example.com', id: 'api', kind: 'dialog', dialogs: [], updatedAt: 1 });
    closeDatabase(first);

    const second = openDatabase(file);
    try {
      expect(second.pragma('user_version', { simple: true })).toBe(latest);
      expect(new SqliteStateStore(second).loadAll()).toHaveLength(1);
    } finally {
      closeDatabase(second);
    }
  });

  it('refuses a file written by a newer build', () => {
    const file = path.join(dir, 'presence.db');
    const raw = new Sqlite(file);
    raw.pragma(`user_version = ${latest + 1}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(new RegExp(`schema version ${latest + 1}.*only knows up to ${latest}`));
  });

  it('opens read-only without writing, and refuses a read-only file that still needs migrating', () => {
    const file = path.join(dir, 'presence.db');
    closeDatabase(openDatabase(file));
    const reader = openDatabase(file, { readonly: true });
    try {
      expect(reader.readonly).toBe(true);
      expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(new SqliteSubscriptionStore(reader).loadAll()).toEqual([]);
    } finally {
      closeDatabase(reader);
    }

    const stale = path.join(dir, 'stale.db');
    new Sqlite(stale).close();
    expect(() => openDatabase(stale, { readonly: true })).toThrow(/open it read-write once/);
  });

  it('lets a second connection write while the first holds the file open', () => {
    const file = path.join(dir, 'presence.db');
    const server = openDatabase(file);
    const admin = openDatabase(file);
    try {
      new SqliteStateStore(admin).put({ presentity: '1001@acme.example.com', id: 'api', kind: 'dialog', dialogs: [], updatedAt: 1 });
      expect(new SqliteStateStore(server).loadAll()).toHaveLength(1);
    } finally {
      closeDatabase(admin);
      closeDatabase(server);
    }
  });
});

describe('migrate', () => {
  const table = (version: number, name: string): Migration => ({
    version,
    name,
    up(db) {
      db.exec(`CREATE TABLE ${name} (x INTEGER) STRICT`);
    },
  });

  it('applies only pending migrations and is a no-op when run again', () => {
    const db = new Sqlite(':memory:');
    try {
      expect(migrate(db, [table(1, 'a')])).toBe(1);
      expect(migrate(db, [table(1, 'a'), table(2, 'b')])).toBe(2);
      expect(migrate(db, [table(1, 'a'), table(2, 'b')])).toBe(2);
    } finally {
      db.close();
    }
  });

  it('carries the subscriptions of a version 3 file over to rowid addressing (migration 004)', () => {
    const db = new Sqlite(':memory:');
    try {
      migrate(db, migrations.filter((m) => m.version <= 3));
      const v3 = new SqliteSubscriptionStore(db);
      const sub = {
        id: 'call-1\nft\ntt\ndialog\n',
        dialog: {
          callId: 'call-1', localTag: 'tt', remoteTag: 'ft', localUri: '<sip:1001@a.example>', remoteUri: '<sip:1002@a.example>',
          remoteTarget: 'sip:1002@192.0.2.1', routeSet: [], localCseq: 3, remoteCseq: 2,
          binding: { transport: 'udp' as const, source: { address: '192.0.2.1', port: 5060 }, sendToSource: false },
        },
        event: 'dialog', presentity: '1001@a.example', watcher: '1002@a.example', expires: 3600, expiresAt: 4_000_000_000_000,
        version: 3, createdAt: 1, lastSubscribeAt: 1, notifyCount: 3, lastReply: 200, failures: 0,
      };
      v3.save(sub);
      migrate(db, migrations);
      const store = new SqliteSubscriptionStore(db);
      expect(store.loadAll()).toStrictEqual([sub]);
      store.saveProgress([{ ...sub, dialog: { ...sub.dialog, localCseq: 4 }, version: 4, notifyCount: 4 }]);
      expect(store.loadAll()[0]!.dialog.localCseq).toBe(4);
      store.remove(sub.id);
      expect(store.loadAll()).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('rolls back a failing migration together with its version bump', () => {
    const db = new Sqlite(':memory:');
    const broken: Migration = {
      version: 2,
      name: 'broken',
      up(d) {
        d.exec('CREATE TABLE half (x INTEGER) STRICT');
        d.exec('THIS IS NOT SQL');
      },
    };
    try {
      expect(() => migrate(db, [table(1, 'a'), broken])).toThrow();
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      expect(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'half'").get()).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('rejects a list of migrations with a gap in the numbering', () => {
    const db = new Sqlite(':memory:');
    try {
      expect(() => migrate(db, [table(1, 'a'), table(3, 'c')])).toThrow(/without gaps/);
    } finally {
      db.close();
    }
  });
});

describe('durability', () => {
  it('keeps every committed write when the process is killed with SIGKILL', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-kill-'));
    try {
      const file = path.join(dir, 'presence.db');
      const script = path.join(dir, 'write-then-die.ts');
      const mod = (p: string): string => JSON.stringify(pathToFileURL(path.join(repoRoot, p)).href);
      fs.writeFileSync(
        script,
        `
import { openDatabase } from ${mod('db/open.ts')};
import { SqliteSubscriptionStore } from ${mod('db/subscription-repository.ts')};
import { SqliteStateStore } from ${mod('db/state-repository.ts')};

const db = openDatabase(${JSON.stringify(file)});
const subs = new SqliteSubscriptionStore(db);
const state = new SqliteStateStore(db);
const all = [];
for (let i = 0; i < 200; i++) {
  const s = {
    id: 'sub-' + i,
    dialog: {
      callId: 'c' + i, localTag: 'l', remoteTag: 'r', localUri: '<sip:1001@a.example>', remoteUri: '<sip:1002@a.example>',
      remoteTarget: 'sip:1002@192.0.2.1', routeSet: ['<sip:p.example;lr>'], localCseq: 1, remoteCseq: 1,
      binding: { transport: 'udp', source: { address: '192.0.2.1', port: 5060 }, sendToSource: true },
    },
    event: 'dialog', presentity: '1001@a.example', watcher: '1002@a.example', expires: 3600, expiresAt: 9e12,
    version: 0, createdAt: 1, lastSubscribeAt: 1, notifyCount: 0, lastReply: 0, failures: 0,
  };
  subs.save(s);
  all.push(s);
}
for (const s of all) { s.dialog.localCseq = 2; s.version = 1; s.notifyCount = 1; s.lastReply = 200; s.lastBody = 'body'; }
subs.saveProgress(all);
subs.saveAnswers(all);
state.put({ presentity: '1001@a.example', id: 'api', kind: 'dialog', dialogs: [{ id: 'd', state: 'confirmed' }], updatedAt: 1 });
process.stdout.write('written\\n');
// No close, no checkpoint: the rows live only in the WAL when the process dies.
process.kill(process.pid, 'SIGKILL');
`,
      );
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
      expect(child.stderr).toBe('');
      expect(child.stdout).toBe('written\n');
      expect(child.signal).toBe('SIGKILL');
      expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);

      const db = openDatabase(file);
      try {
        const loaded = new SqliteSubscriptionStore(db).loadAll();
        expect(loaded).toHaveLength(200);
        expect(loaded.every((s) => s.version === 1 && s.dialog.localCseq === 2 && s.lastBody === 'body')).toBe(true);
        expect(new SqliteStateStore(db).loadAll()).toHaveLength(1);
      } finally {
        closeDatabase(db);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
