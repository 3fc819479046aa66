import { getHeapSnapshot, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { detachedString } from '../../../sip/stack/detached-string.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;

/** Holds the strings under test, so that they can be found in a heap snapshot by its name. */
class KeptStrings {
  constructor(readonly strings: string[]) {}
}

/** The kind and size of each string the one KeptStrings holds, read from a V8 heap snapshot. */
async function keptStringKinds(): Promise<Map<string, { count: number; largest: number }>> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const { snapshot, nodes, edges, strings } = JSON.parse(Buffer.concat(chunks).toString()) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const { node_fields: nodeFields, node_types: [nodeTypes], edge_fields: edgeFields, edge_types: [edgeTypes] } = snapshot.meta;
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nodeFields.indexOf(f));
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((f) => edgeFields.indexOf(f));
  const firstEdge = new Map<number, number>();
  for (let node = 0, edge = 0; node < nodes.length; node += nodeFields.length) {
    firstEdge.set(node, edge);
    edge += nodes[node + edgeCountAt] * edgeFields.length;
  }
  /** The nodes a node's edges lead to, with each edge's type and name (or index). */
  const edgesOf = (node: number) => {
    const from = firstEdge.get(node) ?? 0;
    return Array.from({ length: nodes[node + edgeCountAt] }, (_, i) => {
      const edge = from + i * edgeFields.length;
      const type = edgeTypes[edges[edge + edgeTypeAt]];
      const name = type === 'element' || type === 'hidden' ? edges[edge + edgeNameAt] : strings[edges[edge + edgeNameAt]];
      return { type, name, to: edges[edge + edgeToAt] };
    });
  };
  const nameOf = (node: number) => strings[nodes[node + nameAt]];
  const nodeTypeOf = (node: number) => nodeTypes[nodes[node + typeAt]];
  const holders = [...firstEdge.keys()].filter((n) => nodeTypeOf(n) === 'object' && nameOf(n) === 'KeptStrings');
  expect(holders).toHaveLength(1);
  const array = edgesOf(holders[0]).find((e) => e.name === 'strings')?.to ?? -1;
  const found = new Map<string, { count: number; largest: number }>();
  for (const { type, to } of edgesOf(array)) {
    if (type !== 'element') continue;
    const kind = nodeTypeOf(to);
    const entry = found.get(kind) ?? { count: 0, largest: 0 };
    entry.count++;
    entry.largest = Math.max(entry.largest, nodes[to + sizeAt]);
    found.set(kind, entry);
  }
  return found;
}

describe('detachedString', () => {
  it('keeps the text and lets the string it was cut from go', () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept: string[] = [];
    for (let i = 0; i < 100; i++) {
      const parent = 'x'.repeat(1_000_000) + String(i);
      kept.push(detachedString(parent.slice(500_000, 500_040) + String(i)));
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // Slices would keep the 100 parents alive: 100 MB.
    expect(grown).toBeLessThan(10_000_000);
    expect(kept[7]).toBe('x'.repeat(40) + '7');
  });

  it('keeps a bare copy, not a slice of one: a 37-character string costs what a flat one does', async () => {
    const messages = Array.from({ length: 100 }, (_, i) => `SUBSCRIBE sip:x SIP/2.0\r\nCall-ID: abcdef-${i}-0123456789012345678@host.example\r\n`);
    const kept = new KeptStrings(Array.from({ length: 2_000 }, (_, i) => detachedString(messages[i % 100].slice(34, 70) + (i % 7))));
    // Kept strings live through scavenges before any full collection; the first one puts
    // the flat copy in the concatenation's place.
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    // Read from the heap itself. The old way kept a 'sliced string' of 32 bytes over a flat
    // copy of 56; a concatenation not flattened would show as a 'concatenated string'.
    // A flat one-byte string of 37 characters: a 12-byte header and the text, in 8-byte steps.
    expect(await keptStringKinds()).toEqual(new Map([['string', { count: 2_000, largest: 56 }]]));
    expect(kept.strings[3]).toBe('abcdef-3-0123456789012345678@host.ex3');
  });

  it('returns short strings as they are', () => {
    expect(detachedString('abc')).toBe('abc');
    expect(detachedString('')).toBe('');
  });
});
