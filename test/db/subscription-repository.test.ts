import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteSubscriptionStore } from '../../db/subscription-repository.js';
import type { Subscription } from '../../src/subscription.js';
import { openWithWritePath, WRITE_PATHS, type OpenedDatabase } from './write-paths.js';

function fullSubscription(id: string, overrides: Partial<Subscription> = {}): Subscription {
  return {
    id,
    dialog: {
      callId: `call-${id}@10.0.0.7`,
      localTag: 'srv-tag-1',
      remoteTag: 'phone-tag-9',
      localUri: '<sip:1001@acme.example.com>',
      remoteUri: '"Desk" <sip:1002@acme.example.com>',
      remoteTarget: 'sip:1002@192.0.2.10:5062;transport=tcp',
      routeSet: ['<sip:edge2.example.com;lr>', '<sip:edge1.example.com;lr>', '<sip:core.example.com;lr>'],
      localCseq: 17,
      remoteCseq: 4,
      binding: {
        transport: 'tcp',
        source: { address: '192.0.2.10', port: 40312 },
        local: { address: '198.51.100.1', port: 5060 },
        connectionId: 'tcp-42',
        sendToSource: true,
      },
    },
    event: 'dialog',
    eventId: 'blf-7',
    presentity: '1001@acme.example.com',
    watcher: '1002@acme.example.com',
    expires: 3600,
    expiresAt: 1_700_003_600_000,
    version: 5,
    userAgent: 'Yealink SIP-T46U 108.86.0.20',
    createdAt: 1_700_000_000_000,
    lastSubscribeAt: 1_700_000_000_500,
    notifyCount: 5,
    lastReply: 200,
    lastBody: '<?xml version="1.0"?>\n<dialog-info version="4" state="full" entity="sip:1001@acme.example.com"/>',
    failures: 1,
    ...overrides,
  };
}

/** A UDP subscription with every optional field left out. */
function minimalSubscription(id: string): Subscription {
  return {
    id,
    dialog: {
      callId: `min-${id}`,
      localTag: 'a',
      remoteTag: 'b',
      localUri: '<sip:2000@beta.example.org>',
      remoteUri: '<sip:2001@beta.example.org>',
      remoteTarget: 'sip:2001@203.0.113.5',
      routeSet: [],
      localCseq: 1,
      remoteCseq: 1,
      binding: { transport: 'udp', source: { address: '203.0.113.5', port: 5060 }, sendToSource: false },
    },
    event: 'message-summary',
    presentity: '2000@beta.example.org',
    watcher: '2001@beta.example.org',
    expires: 600,
    expiresAt: 2_000,
    version: 0,
    createdAt: 1_000,
    lastSubscribeAt: 1_000,
    notifyCount: 0,
    lastReply: 0,
    failures: 0,
  };
}

describe.each(WRITE_PATHS)('SqliteSubscriptionStore, %s', (writePath) => {
  let dir: string;
  let file: string;
  let opened: OpenedDatabase;
  let db: Database;
  let store: SqliteSubscriptionStore;

  function open(): SqliteSubscriptionStore {
    opened = openWithWritePath(file, writePath);
    db = opened.db;
    store = new SqliteSubscriptionStore(db, opened.writes);
    return store;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-subs-'));
    file = path.join(dir, 'presence.db');
    open();
  });

  afterEach(async () => {
    await opened.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function reopen(): Promise<SqliteSubscriptionStore> {
    await opened.close();
    return open();
  }

  /** Every write so far committed, then the table as the server would load it. */
  async function loadAll(): Promise<Subscription[]> {
    await opened.settle();
    return store.loadAll();
  }

  it('gives back every field of a subscription after the file is reopened', async () => {
    const sub = fullSubscription('s1');
    store.save(sub);
    const [loaded] = (await reopen()).loadAll();
    expect(loaded).toStrictEqual(sub);
    expect(loaded.dialog.routeSet).toEqual(['<sip:edge2.example.com;lr>', '<sip:edge1.example.com;lr>', '<sip:core.example.com;lr>']);
    expect(loaded.dialog.binding.sendToSource).toBe(true);
  });

  it('leaves absent optional fields absent and keeps false booleans false', async () => {
    const sub = minimalSubscription('m1');
    store.save(sub);
    const [loaded] = (await reopen()).loadAll();
    expect(loaded).toStrictEqual(sub);
    for (const key of ['eventId', 'userAgent', 'lastBody'] as const) expect(key in loaded).toBe(false);
    expect('local' in loaded.dialog.binding).toBe(false);
    expect('connectionId' in loaded.dialog.binding).toBe(false);
    expect(loaded.dialog.binding.sendToSource).toBe(false);
    expect(loaded.dialog.routeSet).toEqual([]);
  });

  it('replaces the whole row when a subscription is saved again', async () => {
    store.save(fullSubscription('s1'));
    const refreshed = minimalSubscription('s1');
    store.save(refreshed);
    expect(await loadAll()).toStrictEqual([refreshed]);
  });

  it('writes a subscription as it will be after the NOTIFY reserved ahead, so that NOTIFY needs no write', async () => {
    const s = fullSubscription('r1');
    s.durableCseq = s.dialog.localCseq + 1;
    store.save(s);
    const [loaded] = (await reopen()).loadAll();
    expect(loaded!.dialog.localCseq).toBe(18);
    expect(loaded!.version).toBe(6);
    expect(loaded!.notifyCount).toBe(6);
  });

  it('stores the realm of the presentity so an account can list its subscriptions', async () => {
    store.save(fullSubscription('s1'));
    store.save(fullSubscription('s2', { presentity: '*97@acme.example.com' }));
    store.save(minimalSubscription('m1'));
    await opened.settle();
    const ids = db
      .prepare<[string], { id: string }>('SELECT id FROM subscriptions WHERE realm = ? ORDER BY id')
      .all('acme.example.com')
      .map((r) => r.id);
    expect(ids).toEqual(['s1', 's2']);
  });

  it('records the NOTIFY progress of many subscriptions in one batch', async () => {
    const subs = Array.from({ length: 50 }, (_, i) => fullSubscription(`s${i}`));
    for (const s of subs) store.save(s);
    const progressed = subs.map((s, i) => ({
      ...s,
      dialog: { ...s.dialog, localCseq: s.dialog.localCseq + 1, remoteCseq: 999 },
      version: s.version + 1,
      notifyCount: s.notifyCount + 1,
      lastReply: i % 2 === 0 ? 200 : 408,
      lastBody: i % 3 === 0 ? undefined : `<body ${i}/>`,
      failures: i % 2 === 0 ? 0 : s.failures + 1,
      expiresAt: 1,
    }));
    store.saveProgress(progressed);
    store.saveAnswers(progressed);

    const byId = new Map((await reopen()).loadAll().map((s) => [s.id, s]));
    progressed.forEach((p, i) => {
      const loaded = byId.get(p.id);
      expect(loaded).toBeDefined();
      // Only the progress and answer columns change; the rest keeps what save() wrote.
      const expected: Subscription = {
        ...subs[i],
        dialog: { ...subs[i].dialog, localCseq: p.dialog.localCseq },
        version: p.version,
        notifyCount: p.notifyCount,
        lastReply: p.lastReply,
        lastBody: p.lastBody,
        failures: p.failures,
      };
      if (p.lastBody === undefined) delete expected.lastBody;
      expect(loaded).toStrictEqual(expected);
    });
  });

  it('commits a progress batch as a whole or not at all', async () => {
    store.save(fullSubscription('s1'));
    const good = { ...fullSubscription('s1'), version: 99 };
    // A NaN CSeq cannot go into a STRICT INTEGER column: the batch fails after the first row.
    const bad = fullSubscription('s2', { dialog: { ...fullSubscription('s2').dialog, localCseq: Number.NaN } });
    store.save(fullSubscription('s2'));
    if (opened.commit === undefined) {
      expect(() => store.saveProgress([good, bad])).toThrow();
    } else {
      // Queued, the failure is logged and the writes around it are committed.
      store.saveProgress([good, bad]);
      store.save(fullSubscription('s3'));
      await opened.settle();
      expect(opened.errors).toMatchObject([{ obj: { op: 'sub.progress' }, msg: 'database write failed' }]);
    }
    const loaded = await loadAll();
    expect(loaded.find((s) => s.id === 's1')?.version).toBe(5);
    expect(loaded.map((s) => s.id)).toEqual(opened.commit === undefined ? ['s1', 's2'] : ['s1', 's2', 's3']);
  });

  it('writes CSeq and version without touching the answer columns, and answers without the CSeq', async () => {
    const s1 = fullSubscription('s1');
    store.save(s1);
    store.saveProgress([{ ...s1, version: 42, lastReply: 999, failures: 7 }]);
    expect((await reopen()).loadAll()[0]).toMatchObject({ version: 42, lastReply: s1.lastReply, failures: s1.failures });
    store.saveAnswers([{ ...s1, version: 1, lastReply: 481, failures: 2 }]);
    expect((await reopen()).loadAll()[0]).toMatchObject({ version: 42, lastReply: 481, failures: 2 });
  });

  it('accepts an empty progress batch', () => {
    expect(() => store.saveProgress([])).not.toThrow();
  });

  it('removes one subscription by id', async () => {
    store.save(fullSubscription('s1'));
    store.save(fullSubscription('s2'));
    store.remove('s1');
    store.remove('no-such-id');
    expect((await loadAll()).map((s) => s.id)).toEqual(['s2']);
  });

  it('removes only the subscriptions that expired before now and says how many', async () => {
    store.save(fullSubscription('old', { expiresAt: 1_000 }));
    store.save(fullSubscription('edge', { expiresAt: 2_000 }));
    store.save(fullSubscription('live', { expiresAt: 3_000 }));
    await opened.settle();
    expect(store.removeExpired(2_000)).toBe(1);
    expect((await loadAll()).map((s) => s.id).sort()).toEqual(['edge', 'live']);
    expect(store.removeExpired(2_000)).toBe(0);
  });

  it('addresses the right rows after the boot sweep deleted some behind the writes', async () => {
    store.save(fullSubscription('live', { expiresAt: 3_000 }));
    store.save(fullSubscription('old', { expiresAt: 1_000 }));
    await opened.settle();
    // The swept row had the highest rowid, so the next insert may be given it again.
    expect(store.removeExpired(2_000)).toBe(1);
    store.save(fullSubscription('new', { expiresAt: 3_000 }));
    store.save(fullSubscription('old', { expiresAt: 4_000, version: 9 }));
    store.saveProgress([fullSubscription('live', { version: 7 })]);
    store.remove('new');
    const byId = new Map((await loadAll()).map((s) => [s.id, s]));
    expect([...byId.keys()].sort()).toEqual(['live', 'old']);
    expect(byId.get('live')?.version).toBe(7);
    expect(byId.get('old')?.version).toBe(9);
  });
});
