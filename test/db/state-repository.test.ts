import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStateStore } from '../../db/state-repository.js';
import type { StateSource } from '../../src/state-source.js';
import { openWithWritePath, WRITE_PATHS, type OpenedDatabase } from './write-paths.js';

const dialogSource: StateSource = {
  presentity: '1001@acme.example.com',
  id: 'api',
  kind: 'dialog',
  dialogs: [
    {
      id: 'd1',
      state: 'confirmed',
      callId: 'abc@10.0.0.1',
      localTag: 'l1',
      remoteTag: 'r1',
      direction: 'initiator',
      local: { identity: 'sip:1001@acme.example.com', display: 'Alice', target: 'sip:1001@10.0.0.1' },
      remote: { identity: 'sip:1002@acme.example.com' },
      updatedAt: 1_700_000_000_000,
    },
    { id: 'd2', state: 'early', direction: 'recipient' },
  ],
  updatedAt: 1_700_000_000_001,
};

const mwiSource: StateSource = {
  presentity: '1001@acme.example.com',
  id: 'mwi',
  kind: 'mwi',
  mwi: { account: 'sip:1001@acme.example.com', newMessages: 2, oldMessages: 5, urgentNew: 1, urgentOld: 0 },
  expiresAt: 1_700_000_600_000,
  updatedAt: 1_700_000_000_002,
};

const pidfSource: StateSource = {
  presentity: '1001@acme.example.com',
  id: 'publish:etag-77',
  kind: 'pidf',
  pidf: '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@acme.example.com"/>',
  expiresAt: 1_700_000_003_600,
  updatedAt: 1_700_000_000_003,
};

const otherPresentity: StateSource = { ...dialogSource, presentity: '1002@acme.example.com' };

describe.each(WRITE_PATHS)('SqliteStateStore, %s', (writePath) => {
  let dir: string;
  let file: string;
  let opened: OpenedDatabase;
  let store: SqliteStateStore;

  function open(): SqliteStateStore {
    opened = openWithWritePath(file, writePath);
    store = new SqliteStateStore(opened.db, opened.writes);
    return store;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-state-'));
    file = path.join(dir, 'presence.db');
    open();
  });

  afterEach(async () => {
    await opened.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function reopen(): Promise<SqliteStateStore> {
    await opened.close();
    return open();
  }

  async function loadAll(): Promise<StateSource[]> {
    await opened.settle();
    return store.loadAll();
  }

  const byKey = (sources: StateSource[]): StateSource[] =>
    [...sources].sort((a, b) => `${a.presentity} ${a.id}`.localeCompare(`${b.presentity} ${b.id}`));

  it('gives back dialog, mailbox and PIDF sources unchanged after a reopen', async () => {
    for (const s of [dialogSource, mwiSource, pidfSource]) store.put(s);
    expect(byKey((await reopen()).loadAll())).toStrictEqual(byKey([dialogSource, mwiSource, pidfSource]));
  });

  it('leaves absent optional fields absent', async () => {
    store.put(dialogSource);
    const [loaded] = (await reopen()).loadAll();
    for (const key of ['mwi', 'pidf', 'expiresAt'] as const) expect(key in loaded).toBe(false);
    expect('callId' in (loaded.dialogs?.[1] ?? {})).toBe(false);
  });

  it('replaces a source with the same presentity and id', async () => {
    store.put(mwiSource);
    const updated: StateSource = { ...mwiSource, mwi: { newMessages: 0, oldMessages: 7, urgentNew: 0, urgentOld: 0 }, expiresAt: undefined, updatedAt: 9 };
    store.put(updated);
    const loaded = await loadAll();
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toEqual(updated);
    expect('expiresAt' in loaded[0]).toBe(false);
  });

  it('keeps the same source id apart for different presentities', async () => {
    store.put(dialogSource);
    store.put(otherPresentity);
    expect(await loadAll()).toHaveLength(2);
  });

  it('removes one source of a presentity', async () => {
    for (const s of [dialogSource, mwiSource, otherPresentity]) store.put(s);
    store.remove('1001@acme.example.com', 'api');
    expect(byKey(await loadAll())).toStrictEqual(byKey([mwiSource, otherPresentity]));
  });

  it('removes every source of the listed kinds for one presentity only', async () => {
    for (const s of [dialogSource, mwiSource, pidfSource, otherPresentity]) store.put(s);
    store.removeKinds('1001@acme.example.com', ['dialog', 'pidf']);
    expect(byKey(await loadAll())).toStrictEqual(byKey([mwiSource, otherPresentity]));
    store.removeKinds('1001@acme.example.com', []);
    expect(await loadAll()).toHaveLength(2);
  });
});
