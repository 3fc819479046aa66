/**
 * Micro-benchmark of the hot-path SQLite writes: one save per SUBSCRIBE, one progress batch
 * per NOTIFY fan-out, one remove per unSUBSCRIBE. Real file in a temp dir, same pragmas as
 * the server. Run: node --import tsx bench/db-micro.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeDatabase, openDatabase } from '../db/open.js';
import { SqliteSubscriptionStore } from '../db/subscription-repository.js';
import type { Subscription } from '../src/subscription.js';

const N = 20_000;
const BATCH = 1_000;
const BATCH_ROUNDS = 50;

function subscription(i: number): Subscription {
  const now = Date.now();
  return {
    id: `call-${i}@10.0.0.7\nphone-${i}\nsrv-${i}\ndialog\n`,
    dialog: {
      callId: `call-${i}@10.0.0.7`,
      localTag: `srv-${i}`,
      remoteTag: `phone-${i}`,
      localUri: `<sip:${1000 + (i % 500)}@acme.example.com>`,
      remoteUri: `<sip:${2000 + i}@acme.example.com>`,
      remoteTarget: `sip:${2000 + i}@192.0.2.${i % 250}:5060;transport=tcp`,
      routeSet: ['<sip:edge.example.com;lr>'],
      localCseq: 1,
      remoteCseq: 1,
      binding: { transport: 'tcp', source: { address: `192.0.2.${i % 250}`, port: 40000 + (i % 20000) }, connectionId: `tcp-${i}`, sendToSource: true },
    },
    event: 'dialog',
    presentity: `${1000 + (i % 500)}@acme.example.com`,
    watcher: `${2000 + i}@acme.example.com`,
    expires: 3600,
    expiresAt: now + 3_600_000,
    version: 0,
    userAgent: 'Yealink SIP-T46U 108.86.0.20',
    createdAt: now,
    lastSubscribeAt: now,
    notifyCount: 0,
    lastReply: 0,
    failures: 0,
  };
}

function measure(label: string, ops: number, run: () => void): void {
  const start = process.hrtime.bigint();
  run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label.padEnd(44)} ${Math.round(ops / seconds).toLocaleString('en-US').padStart(12)} ops/s  (${(seconds * 1000).toFixed(1)} ms for ${ops.toLocaleString('en-US')})`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-bench-'));
const db = openDatabase(path.join(dir, 'presence.db'));
const store = new SqliteSubscriptionStore(db);
const subs = Array.from({ length: N }, (_, i) => subscription(i));
const body = `<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:1000@acme.example.com">${'<dialog id="x" direction="recipient"><state>confirmed</state></dialog>'.repeat(2)}</dialog-info>`;

try {
  measure('save (insert, one commit each)', N, () => {
    for (const s of subs) store.save(s);
  });
  measure('save (refresh existing row, one commit each)', N, () => {
    for (const s of subs) store.save({ ...s, lastSubscribeAt: s.lastSubscribeAt + 1 });
  });
  const batch = subs.slice(0, BATCH);
  let rows = 0;
  const start = process.hrtime.bigint();
  for (let round = 0; round < BATCH_ROUNDS; round++) {
    for (const s of batch) {
      s.dialog.localCseq += 1;
      s.version += 1;
      s.notifyCount += 1;
      s.lastReply = 200;
      s.lastBody = body;
    }
    store.saveProgress(batch);
    rows += batch.length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `${`saveProgress (batches of ${BATCH})`.padEnd(44)} ${Math.round(rows / seconds).toLocaleString('en-US').padStart(12)} rows/s (${((seconds * 1000) / BATCH_ROUNDS).toFixed(2)} ms per batch of ${BATCH})`,
  );
  measure('loadAll', N, () => {
    if (store.loadAll().length !== N) throw new Error('lost rows');
  });
  measure('remove (one commit each)', N, () => {
    for (const s of subs) store.remove(s.id);
  });
} finally {
  closeDatabase(db);
  fs.rmSync(dir, { recursive: true, force: true });
}
