import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isValidHost, parseHostPort, parseUri, parseUriUserHost } from '../../../sip/stack/uri.js';

/** What a call returns, or the message it throws, so that two parsers can be compared. */
function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

/** parseUri()'s user and host, in the shape parseUriUserHost() gives them. */
function userHostOf(text: string): unknown {
  return outcome(() => {
    const uri = parseUri(text, 'Request-URI');
    return uri.user !== undefined ? { user: uri.user, host: uri.host } : { host: uri.host };
  });
}

const URIS = [
  // RFC 4475 3.1.1 and 3.1.2 (see parser.test.ts), and their neighbours.
  'sip:vivekg@chair-dnrc.example.com;unknownparam',
  'sip:services.example.com;lr;unknownwith=value;unknown-no-value',
  'sip:sips%3Auser%40example.com@example.net',
  'sip:null-%00-null@example.com',
  'sip:user;par=u%40example.net@example.com',
  'sip:%61lice@atlanta.com;transport=TCP',
  'sip:+1-972-555-2222@gw1.example.net;user=phone',
  'sip:[2001:db8::1]',
  'sip:alice@[2001:db8::10]:5070;transport=udp',
  'sip:[2001:db8::10:5070]',
  'sip:user@[::ffff:192.0.2.10]',
  'sip:user@example.com?Route=%3Csip:example.com%3E',
  'sip:user@example.com;lr=ok',
  'sip:user@example.com:5060;maddr=[2001:db8::1]',
  'sips:alice:secret@example.com:5061;transport=tls;lr?subject=hi%20there&priority=urgent',
  'tel:+1-201-555-0123;phone-context=example.com',
  // The benchmark's SUBSCRIBE.
  'sip:1001@bench.example',
  'sip:watcher1@127.0.0.1:5070;transport=UDP',
  // Valid corners.
  'SIP:User@Example.COM',
  'TeL:%31;a=%41',
  ' sip:u@h ',
  'sip:host',
  'sip:host;',
  'sip:host;;a=b',
  'sip:host?',
  'sip:host?a=b&',
  'sip:host?a=b&&c=d',
  'sip:u@h;a?b=c',
  'sip:u@h?a=b;c',
  'sip:u@h?a=b;=c',
  'sip:u@h?;a=b',
  'sip:u:@h',
  'sip:u:p%41@h',
  'sip:%E2%82%AC@h',
  'sip:%FF@h',
  'sip:u@h_x',
  'sip:u@-h',
  'sip:u@h:0',
  'sip:u@h:65535',
  'sip:u@h;x=@y',
  'sip:u@h@h2',
  // Faults, one message each.
  '',
  'sip',
  ':u@h',
  'sip:',
  'sip:@h',
  'sip:u@',
  'sip:u@h:',
  'sip:u@h:65536',
  'sip:u@h:123456',
  'sip:u@h:1a',
  'sip:u@h:5060x',
  'sip:u@[::1',
  'sip:u@[::1]x',
  'sip:u@[]',
  'sip:u@[::g]',
  'sip:[::1]:',
  'sip:[::1]:99999',
  'sip:u@h%41',
  'sip:u@h;=x',
  'sip:u@h;a=%4',
  'sip:u@h;%4=1',
  'sip:u@h;transport=%',
  'sip:u@h?x',
  'sip:u@h?=x',
  'sip:u@h?a=%zz',
  'sip:u@h?a%zz=1',
  'sip:u%@h',
  'sip:u%4@h',
  'sip:u:p%zz@h',
  'sip:u%zz:p%zz@h;=x',
  'sip:user@exa mple.com',
  'sip:u@h\x7f',
  'sip:u@h\t;x',
  's ip:u@h',
  'http://example.com',
  'mailto:a@b',
  'sipx:u@h',
  'tel:',
  'tel:;a=b',
  'tel:1;=x',
  'tel:%zz',
  'tel:%zz;=x',
  'tel:1;a=%z',
];

describe('parseUriUserHost', () => {
  it('agrees with parseUri() on user, host and every error message', () => {
    for (const text of URIS) {
      expect(outcome(() => parseUriUserHost(text, 'Request-URI')), text).toStrictEqual(userHostOf(text));
    }
  });

  it('agrees with parseUri() on 20,000 random URIs', () => {
    let seed = 2024;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 12) % n;
    };
    const pick = (xs: readonly string[]): string => xs[rand(xs.length)];
    const atoms = ['sip:', 'tel:', 'u', 'H', '.', '@', ':', ';', '?', '=', '&', '%', '4', 'z', '[', ']', '::1', ' ', '\x7f', '_', '%41', '%zz', '5060', '99999', 'é'];
    const errors = new Set<string>();
    const disagreements: string[] = [];
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      // Mostly [user[:password]@]host[:port][;params][?headers] with one atom changed.
      let text =
        pick(['sip:', 'sips:', 'tel:', 'SiP:', 'x:', '']) +
        pick(['', 'alice@', 'Bob:pw@', 'u%41@', 'u;x=1@', 'u%zz@', ':p@', 'u:%4@', '@']) +
        pick(['h', 'Example.COM', '[::1]', '127.0.0.1', 'h_x', '', '[::1', 'h%41']) +
        pick(['', '', ':5060', ':65535', ':65536', ':', ':1a']) +
        pick(['', '', ';lr', ';transport=UDP', ';a=%41;b', ';;', ';=x', ';a=%4']) +
        pick(['', '', '?a=b', '?a=b&c=%20', '?', '?x', '?=x', '?a=%zz&']);
      if (rand(3) === 0) {
        const at = rand(text.length + 1);
        text = text.slice(0, at) + pick(atoms) + text.slice(at + rand(2));
      }
      const want = userHostOf(text);
      if (!isDeepStrictEqual(outcome(() => parseUriUserHost(text, 'Request-URI')), want)) disagreements.push(text);
      if ((want as { error?: string }).error !== undefined) errors.add((want as { error: string }).error.replace(/".*"/, '""'));
      else valid++;
    }
    expect(disagreements).toStrictEqual([]);
    // Every check of parseUri() was met along the way.
    expect(errors.size).toBe(9);
    expect(valid).toBeGreaterThan(1000);
  });

  it('gives the user decoded and the host as written', () => {
    expect(parseUriUserHost('sip:%61lice@Atlanta.COM:5060;transport=TCP')).toStrictEqual({ user: 'alice', host: 'Atlanta.COM' });
    expect(parseUriUserHost('sips:[2001:db8::1]:5061')).toStrictEqual({ host: '[2001:db8::1]' });
    expect(parseUriUserHost('tel:+1-201-555-0123;phone-context=example.com')).toStrictEqual({ user: '+1-201-555-0123', host: '' });
  });
});

describe('parseHostPort', () => {
  it('splits host and port and names the fault', () => {
    expect(parseHostPort('example.com', 'Via')).toStrictEqual({ host: 'example.com' });
    expect(parseHostPort('example.com:5060', 'Via')).toStrictEqual({ host: 'example.com', port: 5060 });
    expect(parseHostPort('[2001:db8::1]:0', 'Via')).toStrictEqual({ host: '[2001:db8::1]', port: 0 });
    expect(parseHostPort('[2001:db8::1]', 'Via')).toStrictEqual({ host: '[2001:db8::1]' });
    for (const bad of ['', ':5060', '[::1', '[::1]x', '[]', 'exa mple.com', 'h%41']) {
      expect(() => parseHostPort(bad, 'Via'), bad).toThrow('Malformed host in Via');
    }
    // The host is checked before the port.
    for (const bad of ['h:', 'h:65536', 'h:123456', 'h:1a', '[::1]:', 'h:5060:1']) {
      expect(() => parseHostPort(bad, 'Via'), bad).toThrow('Malformed port in Via');
    }
    expect(() => parseHostPort('h!:x', 'Via')).toThrow('Malformed host in Via');
  });

  it('isValidHost takes names, IPv4 and bracketed IPv6 only', () => {
    expect(['example.com', 'a_b-c.d', '192.0.2.1', '[::1]', '[2001:DB8::1]', '[::ffff:192.0.2.1]'].every(isValidHost)).toBe(true);
    expect(['', '[]', '[::1', '[::g]', 'a b', 'a:1', 'é.com', 'a%41'].some(isValidHost)).toBe(false);
  });
});
