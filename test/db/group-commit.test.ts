import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GroupCommit } from '../../db/group-commit.js';
import { closeDatabase, openDatabase } from '../../db/open.js';
import { SqliteStateStore } from '../../db/state-repository.js';
import { SqliteSubscriptionStore } from '../../db/subscription-repository.js';
import { WriteExecutor } from '../../db/write-executor.js';
import type { WriteOp } from '../../db/write-op.js';
import { WriterThread } from '../../db/writer-thread.js';
import type { StateSource } from '../../src/state-source.js';
import type { Subscription } from '../../src/subscription.js';
import { threadNiceValues } from '../support/thread-priorities.js';
import { eventually, openWithWritePath, type OpenedDatabase } from './write-paths.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function subscription(id: string, overrides: Partial<Subscription> = {}): Subscription {
  return {
    id,
    dialog: {
      callId: `call-${id}`,
      localTag: 'srv',
      remoteTag: 'phone',
      localUri: '<sip:1001@acme.example.com>',
      remoteUri: '<sip:1002@acme.example.com>',
      remoteTarget: 'sip:1002@192.0.2.10',
      routeSet: [],
      localCseq: 1,
      remoteCseq: 1,
      binding: { transport: 'udp', source: { address: '192.0.2.10', port: 5060 }, sendToSource: false },
    },
    event: 'dialog',
    presentity: '1001@acme.example.com',
    watcher: '1002@acme.example.com',
    expires: 3600,
    expiresAt: 4_000_000_000_000,
    version: 0,
    createdAt: 1,
    lastSubscribeAt: 1,
    notifyCount: 0,
    lastReply: 0,
    failures: 0,
    ...overrides,
  };
}

const mailbox: StateSource = {
  presentity: '1001@acme.example.com',
  id: 'mwi',
  kind: 'mwi',
  mwi: { newMessages: 1, oldMessages: 0, urgentNew: 0, urgentOld: 0 },
  updatedAt: 1,
};

/** SQLite binds NaN as NULL, and the CSeq column is NOT NULL. */
const unstorable = (id: string): Subscription => subscription(id, { dialog: { ...subscription(id).dialog, localCseq: Number.NaN } });

describe('GroupCommit on a writer thread', () => {
  let dir: string;
  let file: string;
  let opened: OpenedDatabase;
  let commit: GroupCommit;
  let subs: SqliteSubscriptionStore;
  let states: SqliteStateStore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-commit-'));
    file = path.join(dir, 'presence.db');
    opened = openWithWritePath(file, 'group commit on a writer thread');
    commit = opened.commit!;
    subs = new SqliteSubscriptionStore(opened.db, commit);
    states = new SqliteStateStore(opened.db, commit);
  });

  afterEach(async () => {
    await opened.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const storedIds = (): string[] => subs.loadAll().map((s) => s.id);

  it('commits on its own connection, and the server connection sees the rows when afterCommit runs', async () => {
    subs.save(subscription('a'));
    subs.save(subscription('b'));
    states.put(mailbox);
    let seen: string[] | undefined;
    await new Promise<void>((resolve) =>
      commit.afterCommit(() => {
        seen = storedIds();
        resolve();
      }),
    );
    expect(commit.onWriterThread).toBe(true);
    expect(seen).toEqual(['a', 'b']);
    expect(states.loadAll()).toStrictEqual([mailbox]);
    expect(opened.errors).toEqual([]);
  });

  it('runs the writes in the order they were queued, within a batch and across batches', async () => {
    subs.save(subscription('a'));
    subs.save(subscription('b'));
    subs.remove('a');
    commit.flush();
    subs.save(subscription('a', { version: 2 }));
    subs.saveProgress([subscription('a', { version: 3 })]);
    states.put(mailbox);
    commit.flush();
    subs.remove('b');
    states.removeKinds(mailbox.presentity, ['mwi']);
    subs.save(subscription('b', { version: 5 }));
    await opened.settle();
    expect(subs.loadAll().map((s) => [s.id, s.version])).toEqual([
      ['a', 3],
      ['b', 5],
    ]);
    expect(states.loadAll()).toEqual([]);
  });

  it('releases a waiter only after the writer thread acknowledged its batch, and waiters in the order they came', async () => {
    const order: string[] = [];
    subs.save(subscription('a'));
    commit.afterCommit(() => order.push(`first sees ${storedIds().join(',')}`));
    commit.flush();
    // Nothing new queued: the batch in flight still covers everything before this one.
    commit.afterCommit(() => order.push('second'));
    subs.save(subscription('b'));
    commit.afterCommit(() => order.push(`third sees ${storedIds().join(',')}`));
    expect(order).toEqual([]);
    await eventually(() => order.length === 3);
    // The thread may have taken both batches into one transaction, so the first may see b too.
    expect(order).toEqual([expect.stringMatching(/^first sees a(,b)?$/), 'second', 'third sees a,b']);
    // Nothing pending: at once.
    commit.afterCommit(() => order.push('at once'));
    expect(order).toHaveLength(4);
  });

  it('hands the thread one batch at a time: what is queued while it commits goes as one batch once it is acknowledged', async () => {
    const posted: string[][] = [];
    const post = WriterThread.prototype.post;
    vi.spyOn(WriterThread.prototype, 'post').mockImplementation(function (this: WriterThread, seq, ops) {
      posted.push(ops.map((op) => String(op[1] && (op[1] as unknown[])[0])));
      post.call(this, seq, ops);
    });
    // Acknowledgements are held back here, to be let through one by one.
    const held: Array<() => void> = [];
    type Acknowledging = { acknowledged(seq: number): void };
    const acknowledged = (GroupCommit.prototype as unknown as Acknowledging).acknowledged;
    vi.spyOn(GroupCommit.prototype as unknown as Acknowledging, 'acknowledged').mockImplementation(function (this: Acknowledging, seq) {
      held.push(() => acknowledged.call(this, seq));
    });
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    try {
      const released: string[] = [];
      subs.save(subscription('a'));
      commit.afterCommit(() => released.push('a'));
      // An idle commit goes at once, in the same turn's check phase.
      await turn();
      expect(posted).toEqual([['a']]);
      await eventually(() => held.length === 1);
      subs.save(subscription('b'));
      commit.afterCommit(() => released.push('b'));
      await turn();
      subs.save(subscription('c'));
      commit.afterCommit(() => released.push('c'));
      await turn();
      expect(posted).toEqual([['a']]);
      held.shift()!();
      expect(released).toEqual(['a']);
      await turn();
      expect(posted).toEqual([['a'], ['b', 'c']]);
      await eventually(() => held.length === 1);
      expect(released).toEqual(['a']);
      held.shift()!();
      expect(released).toEqual(['a', 'b', 'c']);
      expect(storedIds()).toEqual(['a', 'b', 'c']);
    } finally {
      vi.restoreAllMocks();
      for (const ack of held) ack();
    }
  });

  it('logs a write that fails and commits the others of its batch', async () => {
    subs.save(subscription('a'));
    subs.save(unstorable('bad'));
    subs.save(subscription('c'));
    await opened.settle();
    expect(storedIds()).toEqual(['a', 'c']);
    expect(opened.errors).toHaveLength(1);
    expect(opened.errors[0]).toMatchObject({ obj: { op: 'sub.save', err: { code: 'SQLITE_CONSTRAINT_NOTNULL' } }, msg: 'database write failed' });
    expect(commit.onWriterThread).toBe(true);
  });

  it('when the writer thread dies, commits what it had not acknowledged on the main thread and releases the waiters', async () => {
    subs.save(subscription('before'));
    await opened.settle();
    // Posted to a thread already being terminated: no acknowledgement will come for these.
    const dying = commit.terminateWriterThread();
    for (let i = 0; i < 100; i++) subs.save(subscription(`s${i}`));
    subs.remove('before');
    let released = false;
    commit.afterCommit(() => (released = true));
    commit.flush();
    expect(released).toBe(false);
    await dying;
    await eventually(() => released);
    expect(commit.onWriterThread).toBe(false);
    expect(storedIds()).toEqual(Array.from({ length: 100 }, (_, i) => `s${i}`));
    expect(opened.errors.map((e) => e.msg)).toEqual(['database writer thread stopped; writing on the main thread']);
    // From now on the main thread writes, with a rowid map read from the table.
    subs.remove('s0');
    subs.save(subscription('s1', { version: 9 }));
    await opened.settle();
    expect(subs.loadAll()).toHaveLength(99);
    expect(subs.loadAll()[0]).toMatchObject({ id: 's1', version: 9 });
  });

  it('close waits until everything queued is committed, stops the thread, and ignores later writes', async () => {
    for (let i = 0; i < 50; i++) subs.save(subscription(`s${i}`));
    const closing = commit.close();
    subs.save(subscription('late'));
    await closing;
    expect(commit.onWriterThread).toBe(false);
    expect(storedIds()).toHaveLength(50);
    expect(storedIds()).not.toContain('late');
    let ran = false;
    commit.afterCommit(() => (ran = true));
    expect(ran).toBe(true);
  });

  it('has committed everything a released waiter covered when the process is killed with SIGKILL', () => {
    const script = path.join(dir, 'answer-then-die.ts');
    const mod = (p: string): string => JSON.stringify(pathToFileURL(path.join(repoRoot, p)).href);
    const killed = path.join(dir, 'killed.db');
    fs.writeFileSync(
      script,
      `
import { GroupCommit } from ${mod('db/group-commit.ts')};
import { openDatabase } from ${mod('db/open.ts')};
import { SqliteSubscriptionStore } from ${mod('db/subscription-repository.ts')};

const file = ${JSON.stringify(killed)};
const db = openDatabase(file);
const commit = new GroupCommit(db, { file });
const subs = new SqliteSubscriptionStore(db, commit);
const template = ${JSON.stringify(subscription('x'))};
for (let i = 0; i < 200; i++) subs.save({ ...template, id: 'sub-' + i });
commit.afterCommit(() => {
  // What the gate would now send (a 200, a NOTIFY); then the process dies at once.
  process.stdout.write(commit.onWriterThread ? 'answered from the writer thread\\n' : 'answered from the main thread\\n');
  process.kill(process.pid, 'SIGKILL');
});
`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('answered from the writer thread\n');
    expect(child.signal).toBe('SIGKILL');
    const db = openDatabase(killed);
    try {
      expect(new SqliteSubscriptionStore(db).loadAll()).toHaveLength(200);
    } finally {
      closeDatabase(db);
    }
  });

  it('reads its rowid map at its first subscription write, so it sees the rows the boot sweep left', async () => {
    // A file from a previous run, opened the way the server boots: the writer thread is up
    // (and has committed a batch) before the subscriptions are restored.
    await opened.close();
    const previous = openDatabase(file);
    const old = new SqliteSubscriptionStore(previous);
    old.save(subscription('live'));
    old.save(subscription('expired', { expiresAt: 1 }));
    old.save(subscription('gone-at-restore', { expiresAt: 2 }));
    closeDatabase(previous);
    opened = openWithWritePath(file, 'group commit on a writer thread');
    commit = opened.commit!;
    subs = new SqliteSubscriptionStore(opened.db, commit);
    states = new SqliteStateStore(opened.db, commit);
    states.put(mailbox);
    await opened.settle();

    expect(subs.removeExpired(2)).toBe(1);
    expect(subs.loadAll().map((s) => s.id)).toEqual(['live', 'gone-at-restore']);
    subs.remove('gone-at-restore');
    subs.save(subscription('new'));
    subs.save(subscription('live', { version: 4 }));
    await opened.settle();
    expect(subs.loadAll().map((s) => [s.id, s.version])).toEqual([
      ['live', 4],
      ['new', 0],
    ]);
  });
});

describe('GroupCommit with a writer thread nice steps below the event loop', () => {
  it.runIf(process.platform === 'linux')('runs that thread at the lower priority, keeps the event loop at its own, and commits', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-commit-'));
    const file = path.join(dir, 'presence.db');
    const db = openDatabase(file);
    const own = threadNiceValues()[0]!;
    const niced = Math.min(19, own + 6);
    expect(threadNiceValues().filter((n) => n === niced)).toEqual([]);
    const commit = new GroupCommit(db, { file, threadNice: 6 });
    try {
      const subs = new SqliteSubscriptionStore(db, commit);
      subs.save(subscription('a'));
      await new Promise<void>((resolve) => commit.afterCommit(resolve));
      expect(commit.onWriterThread).toBe(true);
      expect(threadNiceValues()).toContain(niced);
      expect(threadNiceValues()[0]).toBe(own);
      expect(subs.loadAll().map((s) => s.id)).toEqual(['a']);
    } finally {
      await commit.close();
      closeDatabase(db);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GroupCommit whose writer thread cannot start', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-commit-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes on the main thread and says why', async () => {
    const db = openDatabase(path.join(dir, 'presence.db'));
    const errors: string[] = [];
    // A path through a regular file: the thread's connection cannot open it.
    fs.writeFileSync(path.join(dir, 'not-a-directory'), '');
    const commit = new GroupCommit(db, { file: path.join(dir, 'not-a-directory', 'presence.db'), log: { error: (_obj, msg) => void errors.push(msg ?? '') } });
    const subs = new SqliteSubscriptionStore(db, commit);
    try {
      subs.save(subscription('a'));
      let released = false;
      commit.afterCommit(() => (released = true));
      await eventually(() => released);
      expect(commit.onWriterThread).toBe(false);
      expect(subs.loadAll().map((s) => s.id)).toEqual(['a']);
      expect(errors).toEqual(['database writer thread stopped; writing on the main thread']);
    } finally {
      await commit.close();
      closeDatabase(db);
    }
  });
});

describe('GroupCommit on the main thread', () => {
  it('commits a turn of writes before its waiters run, and runs a waiter at once when nothing is pending', async () => {
    const db = openDatabase(':memory:');
    const commit = new GroupCommit(db);
    const subs = new SqliteSubscriptionStore(db, commit);
    try {
      let ran = false;
      commit.afterCommit(() => (ran = true));
      expect(ran).toBe(true);
      subs.save(subscription('a'));
      let seen: number | undefined;
      commit.afterCommit(() => (seen = subs.loadAll().length));
      expect(seen).toBeUndefined();
      await new Promise((r) => setImmediate(r));
      expect(seen).toBe(1);
    } finally {
      await commit.close();
      closeDatabase(db);
    }
  });
});

describe('WriteExecutor', () => {
  it('leaves the same rows when batches already committed are run again by a fresh executor', () => {
    const db = openDatabase(':memory:');
    try {
      const ops: WriteOp[] = [];
      const recorder = { write: (op: WriteOp) => void ops.push(op) };
      const subs = new SqliteSubscriptionStore(db, recorder);
      const states = new SqliteStateStore(db, recorder);
      subs.save(subscription('a'));
      subs.save(subscription('b'));
      subs.remove('a');
      subs.save(subscription('a', { version: 2 }));
      subs.saveProgress([subscription('b', { version: 7 })]);
      states.put(mailbox);
      states.removeKinds(mailbox.presentity, ['mwi']);
      const table = () => db.prepare('SELECT id, version FROM subscriptions ORDER BY id').all();

      new WriteExecutor(db).commit([ops]);
      const once = table();
      // The writer thread committed, then died before its acknowledgement reached the main thread.
      new WriteExecutor(db).commit([ops]);
      expect(table()).toEqual(once);
      expect(once).toEqual([
        { id: 'a', version: 2 },
        { id: 'b', version: 7 },
      ]);
      expect(states.loadAll()).toEqual([]);
    } finally {
      closeDatabase(db);
    }
  });
});
