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

  /** A database file in a directory of its own, removed after the test. */
  function tempDatabase(): { file: string; db: ReturnType<typeof openDatabase> } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-ckpt-'));
    dirs.push(dir);
    const file = path.join(dir, 'presence.db');
    return { file, db: openDatabase(file) };
  }

  it('copies committed WAL pages into the database file from a worker while the connection checkpoints nothing itself', async () => {
    const { file, db } = tempDatabase();
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
    const { file, db } = tempDatabase();
    const told: number[] = [];
    const checkpointer = new BackgroundCheckpointer(db, file, undefined, [{ setWalAutocheckpoint: (pages) => void told.push(pages) }]);
    expect(told).toEqual([0]);
    await checkpointer.stop();
    expect(told).toEqual([0, 1000]);
    closeDatabase(db);
  });

  it('with a measure of the write load, runs its worker only while writes are frequent', async () => {
    const { file, db } = tempDatabase();
    const told: number[] = [];
    let batches = 0;
    const checkpointer = new BackgroundCheckpointer(db, file, undefined, [{ setWalAutocheckpoint: (pages) => void told.push(pages) }], {
      activity: () => batches,
      sampleMs: 20,
      busyPerSecond: 100,
      idleStopMs: 200,
    });
    const waitUntil = async (what: string, ok: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(ok(), what).toBe(true);
    };
    try {
      // Idle: no worker, and the connections checkpoint on their own as SQLite does by default.
      await new Promise((r) => setTimeout(r, 100));
      expect(checkpointer.running).toBe(false);
      expect(told).toEqual([]);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      // Writes come often: the worker takes the checkpoints over.
      const load = setInterval(() => (batches += 5), 10);
      await waitUntil('worker started', () => checkpointer.running);
      expect(told).toEqual([0]);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      // It keeps running while they do.
      await new Promise((r) => setTimeout(r, 400));
      expect(checkpointer.running).toBe(true);
      clearInterval(load);
      // Quiet for longer than idleStopMs: the worker goes and the connections checkpoint again.
      await waitUntil('worker stopped', () => !checkpointer.running && told.length === 2);
      expect(told).toEqual([0, 1000]);
      expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      // And it comes back with the load.
      const again = setInterval(() => (batches += 5), 10);
      await waitUntil('worker started again', () => checkpointer.running);
      clearInterval(again);
      expect(told).toEqual([0, 1000, 0]);
    } finally {
      await checkpointer.stop();
      closeDatabase(db);
    }
    expect(told).toEqual([0, 1000, 0, 1000]);
  });
});
