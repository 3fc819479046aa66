// @ts-check
/**
 * Where a held subscription's memory goes: holds `count` subscriptions on our server (the
 * harness), takes a V8 heap snapshot, and sums self sizes by object kind (constructor name,
 * or string / array / closure ...). Diagnostic, not part of `npm run bench`:
 *   node bench/lib/heap-summary.js [COUNT]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMAIN } from './scenarios.js';
import { startOurs } from './targets.js';
import { WatcherPool } from './watchers.js';

/**
 * Sums self_size per (node type, name) over a .heapsnapshot.
 * @param {string} file
 */
export function summarizeSnapshot(file) {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  /** @type {Map<string, { count: number, bytes: number }>} */
  const byKind = new Map();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    let name = type === 'object' || type === 'closure' || type === 'native' ? snap.strings[nodes[i + iName]] : type;
    if (type === 'closure') name = `closure ${name || '(anonymous)'}`;
    if (type === 'hidden' || type === 'code' || type === 'array') name = `(${type}) ${snap.strings[nodes[i + iName]]}`.slice(0, 60);
    const e = byKind.get(name) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += nodes[i + iSize];
    byKind.set(name, e);
  }
  return [...byKind.entries()].sort((a, b) => b[1].bytes - a[1].bytes);
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  const count = Number(process.argv[2] ?? 10_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-heap-'));
  const target = await startOurs({ dir, harness: true, nodeFlags: ['--expose-gc'] });
  const pool = new WatcherPool({ target: target.sip, transport: 'udp', endpoints: 20, domain: DOMAIN });
  try {
    await pool.open();
    const snapAt = async (/** @type {string} */ label) => {
      await target.ipc?.({ type: 'memory' });
      const { file } = await target.ipc?.({ type: 'heap-snapshot', file: path.join(dir, `${label}.heapsnapshot`) });
      return new Map(summarizeSnapshot(file));
    };
    const before = await snapAt('before');
    const sub = await pool.subscribeAll(Array.from({ length: count }, (_, i) => `${4000 + (i % 1000)}`), { window: 300 });
    // RFC 3261 Timer J: UDP server transactions (and their buffers) live 32 s after the answer.
    await new Promise((resolve) => setTimeout(resolve, 35_000));
    const after = await snapAt('after');
    const rows = [...after.entries()]
      .map(([k, v]) => ({ kind: k, count: v.count - (before.get(k)?.count ?? 0), bytes: v.bytes - (before.get(k)?.bytes ?? 0) }))
      .filter((r) => r.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes);
    const total = rows.reduce((s, r) => s + r.bytes, 0);
    process.stdout.write(`${sub.ok} subscriptions held: +${(total / sub.ok).toFixed(0)} B of live heap each\n`);
    for (const r of rows.slice(0, 25)) {
      process.stdout.write(`${(r.bytes / sub.ok).toFixed(0).padStart(6)} B/sub  ${(r.count / sub.ok).toFixed(2).padStart(6)} objects/sub  ${r.kind}\n`);
    }
  } finally {
    pool.close();
    await target.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
