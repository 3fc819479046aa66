import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseAccept, parseAcceptMediaTypes } from '../../../sip/stack/accept.js';

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const LISTS: string[][] = [
  ['application/dialog-info+xml'],
  ['application/pidf+xml;q=0.5', '*/*'],
  ['application/pidf+xml;q=0.5, */*', 'text/plain'],
  ['Application/PIDF+XML'],
  ['application / pidf+xml'],
  ['application/xml\u212a'],
  [''],
  [', ,'],
  [],
  ['a/b;q=1;level=2', 'c/d;q=0'],
  ['application'],
  ['a/b;q=2'],
  ['a/b;q=x'],
  ['"a/b'],
  ['a/b;x="1'],
  ['a/b;x="1,2"'],
  ['a/b;=1'],
  ['a/b', '"c/d'],
  ['a/b;q=2', 'c/d;x="1'],
  ['é/b'],
];

describe('parseAcceptMediaTypes', () => {
  it('gives the media types parseAccept() gives, and the same errors', () => {
    for (const values of LISTS) {
      const full = outcome(() => parseAccept(values));
      const want = 'ok' in (full as object) ? { ok: (full as { ok: Array<{ mediaType: string }> }).ok.map((r) => r.mediaType) } : full;
      expect(outcome(() => parseAcceptMediaTypes(values)), JSON.stringify(values)).toStrictEqual(want);
      // Again, now that a line that parsed is remembered.
      expect(outcome(() => parseAcceptMediaTypes(values)), JSON.stringify(values)).toStrictEqual(want);
    }
  });

  it('agrees with parseAccept() on 5,000 random lists', () => {
    let seed = 31;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 12) % n;
    };
    const atoms = ['application', '/', 'dialog-info+xml', 'XML', '*', ';', 'q=', '0.5', '2', ' ', ',', '"', '<', '>', 'a=b', '\u212a', 'é'];
    const disagreements: string[][] = [];
    for (let i = 0; i < 5_000; i++) {
      const values = Array.from({ length: 1 + rand(2) }, () => {
        let s = '';
        for (let n = rand(7); n > 0; n--) s += atoms[rand(atoms.length)];
        return s;
      });
      const full = outcome(() => parseAccept(values));
      const want = 'ok' in (full as object) ? { ok: (full as { ok: Array<{ mediaType: string }> }).ok.map((r) => r.mediaType) } : full;
      if (!isDeepStrictEqual(outcome(() => parseAcceptMediaTypes(values)), want)) disagreements.push(values);
    }
    expect(disagreements).toStrictEqual([]);
  });

  it('returns a fresh array for a remembered line', () => {
    const first = parseAcceptMediaTypes(['application/dialog-info+xml, application/xpidf+xml']);
    const second = parseAcceptMediaTypes(['application/dialog-info+xml, application/xpidf+xml']);
    expect(second).toStrictEqual(['application/dialog-info+xml', 'application/xpidf+xml']);
    expect(second).not.toBe(first);
    second.push('x/y');
    expect(parseAcceptMediaTypes(['application/dialog-info+xml, application/xpidf+xml'])).toHaveLength(2);
  });
});
