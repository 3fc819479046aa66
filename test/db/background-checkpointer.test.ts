import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundCheckpointer } from '../../db/background-checkpointer.js';
import { closeDatabase, openDatabase } from '../../db/open.js';

describe('BackgroundCheckpointer', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('copies committed WAL pages into the database file from a worker while the connection checkpoints nothing itself', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-ckpt-'));
    dirs.push(dir);
    const file = path.join(dir, 'presence.db');
    const db = openDatabase(file);
    const checkpointer = new BackgroundCheckpointer(db, file);
    try {
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      const before = fs.statSync(file).size;
      db.exec('CREATE TABLE filler (x TEXT) STRICT');
      const insert = db.prepare('INSERT INTO filler (x) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run('x'.repeat(1000));
      })();
      expect(fs.statSync(file).size).toBe(before);
      const deadline = Date.now() + 5000;
      // A checkpoint copies page by page: wait for all of it, not for its first pages.
      while (fs.statSync(file).size <= before + 1_000_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(fs.statSync(file).size).toBeGreaterThan(before + 1_000_000);
    } finally {
      await checkpointer.stop();
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      closeDatabase(db);
    }
  });

  it('tells the other writing connections to leave checkpoints to it, and to take them up again when it stops', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-ckpt-'));
    dirs.push(dir);
    const file = path.join(dir, 'presence.db');
    const db = openDatabase(file);
    const told: number[] = [];
    const checkpointer = new BackgroundCheckpointer(db, file, undefined, [{ setWalAutocheckpoint: (pages) => void told.push(pages) }]);
    expect(told).toEqual([0]);
    await checkpointer.stop();
    expect(told).toEqual([0, 1000]);
    closeDatabase(db);
  });
});
