import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatNameAddr, formatNameAddrWithoutTag, parseNameAddr, parseNameAddrUri, type NameAddr } from '../../../sip/stack/name-addr.js';

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

/** The name-addr formatted after a copy of its params without 'tag': how the reader used to do it. */
function withoutTagByCopy(addr: NameAddr): string {
  const params = new Map(addr.params);
  params.delete('tag');
  return formatNameAddr(addr.displayName === undefined ? { uri: addr.uri, params } : { uri: addr.uri, params, displayName: addr.displayName });
}

const VALUES = [
  '<sip:watcher1@bench.example>;tag=1234b1',
  '<sip:1001@bench.example>',
  '<sip:1001@bench.example>;tag=srv-abcdef0123',
  '"Alice" <sip:alice@example.com>;tag=a1',
  '"Bob \\"B\\"" <sips:bob@EXAMPLE.com;lr>;TAG=abc;foo;bar="x y"',
  'Alice <sip:alice@example.com>;Tag=QQQ;p=1',
  'caller<sip:caller@example.com>;tag=323',
  'sip:carol@[2001:db8::1]:5060;tag=t1',
  'sip:user@example.com;tag=11141343',
  'tel:+15551234',
  '<sip:a@b>;p=1;tag=x;q',
  '<sip:a@b>;tag',
  '<sip:a@b>;tag=',
  '<sip:a@b>;tag="quoted value";x=""',
  '<sip:a@b> ; tag = 7 ; x = y ;',
  '"" <sip:a@b>;tag=1',
  '"a\\\\b" <sip:a@b>',
  '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>;tag=98asjd8',
  '<sip:watcher1@127.0.0.1:5070;transport=UDP>',
  '*',
];

describe('formatNameAddrWithoutTag', () => {
  it('formats exactly as formatNameAddr() of the params without tag', () => {
    for (const value of VALUES) {
      const addr = parseNameAddr(value, 'From');
      expect(formatNameAddrWithoutTag(addr), value).toBe(withoutTagByCopy(addr));
    }
    expect(formatNameAddrWithoutTag(parseNameAddr('"Bob \\"B\\"" <sips:bob@EXAMPLE.com;lr>;TAG=abc;foo;bar="x y"'))).toBe(
      '"Bob \\"B\\"" <sips:bob@EXAMPLE.com;lr>;foo;bar="x y"',
    );
    expect(formatNameAddrWithoutTag(parseNameAddr('<sip:watcher1@bench.example>;tag=1234b1'))).toBe('<sip:watcher1@bench.example>');
  });

  it('leaves the name-addr as it was', () => {
    const addr = parseNameAddr('"A" <sip:a@b>;p=1;tag=x;q', 'To');
    formatNameAddrWithoutTag(addr);
    expect([...addr.params]).toStrictEqual([['p', '1'], ['tag', 'x'], ['q', null]]);
    expect(addr.tag).toBe('x');
  });
});

describe('parseNameAddrUri', () => {
  const random = (): string[] => {
    let seed = 77;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 12) % n;
    };
    const atoms = ['"', '\\', '<', '>', 'sip:u@h', 'sip:a@b;x', 'tel:1', ';', 'tag=', '=', 'x', ' ', '\t', ',', '?', '*', 'Bob', '"q"', 'é', ';tag=1', ';p="a b"'];
    return Array.from({ length: 10_000 }, () => {
      let s = '';
      for (let n = rand(8); n > 0; n--) s += atoms[rand(atoms.length)];
      return s;
    });
  };

  it('gives the URI parseNameAddr() gives, and the same errors', () => {
    const disagreements: string[] = [];
    let valid = 0;
    for (const value of [...VALUES, '<sip:a@b', '<sip:a b>', '<sip:a@b>;=x', '<sip:a@b>;x="', '<x>', 'a,b <sip:a@b>', '<sip:a@b> junk', ...random()]) {
      const full = outcome(() => parseNameAddr(value, 'Contact'));
      const want = 'ok' in (full as object) ? { ok: (full as { ok: NameAddr }).ok.uri } : full;
      if (!isDeepStrictEqual(outcome(() => parseNameAddrUri(value, 'Contact')), want)) disagreements.push(value);
      if ('ok' in (full as object)) valid++;
    }
    expect(disagreements).toStrictEqual([]);
    expect(valid).toBeGreaterThan(500);
    expect(parseNameAddrUri('*', 'Contact')).toBe('*');
    expect(() => parseNameAddrUri('<sip:a@b>;=x', 'Contact')).toThrow('Malformed Contact parameters');
  });
});
