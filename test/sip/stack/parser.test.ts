import { describe, expect, it } from 'vitest';
import { parseMessage, type ParseResult } from '../../../sip/stack/parser.js';
import { parseVia } from '../../../sip/stack/via.js';
import { parseNameAddr } from '../../../sip/stack/name-addr.js';
import { parseUri } from '../../../sip/stack/uri.js';
import { parseCSeq } from '../../../sip/stack/cseq.js';
import { parseEvent } from '../../../sip/stack/event.js';
import { parseAccept, acceptsMediaType } from '../../../sip/stack/accept.js';
import { parseIntegerHeader } from '../../../sip/stack/integer-header.js';
import { serialize } from '../../../sip/stack/serialize.js';
import { req, res, subscribe, wire } from './messages.js';

function failure(r: ParseResult): string {
  if (r.ok) throw new Error('expected a parse failure');
  return r.error;
}

const SDP = 'v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.3\r\ns=-\r\nc=IN IP4 192.0.2.3\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\n';

describe('parseMessage accepts the valid torture messages (RFC 4475 3.1.1 style)', () => {
  it('parses the short tortuous INVITE with folding, odd spacing and compact forms (wsinv)', () => {
    const body = SDP;
    const msg = wire(
      [
        'INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0',
        'TO :',
        ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
        'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
        '  ;',
        '  tag = 98asjd8',
        'MaX-fOrWaRdS: 0068',
        'Call-ID: wsinv.ndaksdj@192.0.2.1',
        `Content-Length   : ${Buffer.byteLength(body)}`,
        'cseq: 0009',
        '  INVITE',
        'Via  : SIP  /   2.0',
        ' /UDP',
        '    192.0.2.2;branch=390skdjuw',
        's :',
        'NewFangledHeader:   newfangled value',
        ' continued newfangled value',
        'UnknownHeaderWithUnusualValue: ;;,,;;,;',
        'Content-Type: application/sdp',
        'Route:',
        ' <sip:services.example.com;lr;unknownwith=value;unknown-no-value>',
        'v:  SIP  / 2.0  / TCP     spindle.example.com   ;',
        '  branch  =   z9hG4bK9ikj8  ,',
        ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
        ' z9hG4bK30239',
        'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
        '      newvalue ;',
        '  secondparam ; q = 0.33',
      ],
      body,
    );
    const m = req(parseMessage(msg));
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam');
    const to = parseNameAddr(m.headers.get('to') ?? '', 'To');
    expect(to.uri).toBe('sip:vivekg@chair-dnrc.example.com');
    expect(to.tag).toBe('1918181833n');
    const from = parseNameAddr(m.headers.get('From') ?? '');
    expect(from.displayName).toBe('J Rosenberg \\"');
    expect(from.tag).toBe('98asjd8');
    expect(parseIntegerHeader(m.headers.get('max-forwards') ?? '', 'Max-Forwards')).toBe(68);
    expect(parseCSeq(m.headers.get('CSeq') ?? '')).toEqual({ seq: 9, method: 'INVITE' });
    const vias = m.headers.getAll('via').map(parseVia);
    expect(vias.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(m.headers.get('subject')).toBe('');
    expect(m.headers.get('newfangledheader')).toBe('newfangled value continued newfangled value');
    expect(m.headers.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    const contact = parseNameAddr(m.headers.get('contact') ?? '', 'Contact');
    expect(contact.displayName).toBe('Quoted string ""');
    expect(contact.params.get('newparam')).toBe('newvalue');
    expect(contact.params.get('secondparam')).toBeNull();
    expect(contact.params.get('q')).toBe('0.33');
    expect(m.body.toString()).toBe(body);
  });

  it('parses a SUBSCRIBE written entirely in compact header forms', () => {
    const m = req(
      parseMessage(
        wire([
          'SUBSCRIBE sip:200@pbx.example.com SIP/2.0',
          'v: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKcompact',
          'f: <sip:100@pbx.example.com>;tag=x1',
          't: <sip:200@pbx.example.com>',
          'i: compact-1@10.0.0.5',
          'CSeq: 7 SUBSCRIBE',
          'm: <sip:100@10.0.0.5:5060;transport=tcp>',
          'o: dialog;id=5',
          'u: dialog, presence',
          'k: eventlist',
          'l: 0',
        ]),
      ),
    );
    expect(m.headers.get('Call-ID')).toBe('compact-1@10.0.0.5');
    expect(parseEvent(m.headers.get('event') ?? '')).toMatchObject({ package: 'dialog', id: '5' });
    expect(m.headers.getAll('allow-events')).toEqual(['dialog', 'presence']);
    expect(m.headers.get('supported')).toBe('eventlist');
    expect(parseUri(parseNameAddr(m.headers.get('contact') ?? '').uri).params.get('transport')).toBe('tcp');
    // Serialization uses the long, canonical names.
    const text = serialize(m).toString();
    expect(text).toContain('\r\nCall-ID: compact-1@10.0.0.5\r\n');
    expect(text).toContain('\r\nEvent: dialog;id=5\r\n');
    expect(text).toContain('\r\nContent-Length: 0\r\n\r\n');
  });

  it('decodes valid % escapes in the Request-URI user part (esc01)', () => {
    const m = req(parseMessage(subscribe({}, 'SUBSCRIBE sip:sips%3Auser%40example.com@example.net SIP/2.0')));
    const uri = parseUri(m.uri);
    expect(uri.user).toBe('sips:user@example.com');
    expect(uri.host).toBe('example.net');
  });

  it('keeps escaped nulls in a URI as data (escnull)', () => {
    const m = req(parseMessage(subscribe({}, 'SUBSCRIBE sip:null-%00-null@example.com SIP/2.0')));
    expect(parseUri(m.uri).user).toBe('null-\u0000-null');
  });

  it('accepts % in a method token and in a display name where it is not an escape (esc02)', () => {
    const m = req(
      parseMessage(
        subscribe({ CSeq: '3882340 RE%47IST%45R', To: '"%Z%45" <sip:resource@example.com>' }, 'RE%47IST%45R sip:registrar.example.com SIP/2.0'),
      ),
    );
    expect(m.method).toBe('RE%47IST%45R');
    expect(parseNameAddr(m.headers.get('to') ?? '').displayName).toBe('%Z%45');
  });

  it('accepts no whitespace between display name and < (lwsdisp)', () => {
    const m = req(parseMessage(subscribe({ From: 'caller<sip:caller@example.com>;tag=323' })));
    const from = parseNameAddr(m.headers.get('from') ?? '');
    expect(from.displayName).toBe('caller');
    expect(from.tag).toBe('323');
  });

  it('handles very long header values and many parameters (longreq)', () => {
    const longTag = 't'.repeat(4000);
    const longUser = 'u'.repeat(2000);
    const manyVias = Array.from({ length: 30 }, (_, i) => `SIP/2.0/UDP host${i}.example.com;branch=z9hG4bK${i}`).join(', ');
    const m = req(
      parseMessage(
        subscribe({
          Via: `SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKlong, ${manyVias}`,
          From: `<sip:${longUser}@example.com>;tag=${longTag}`,
          'X-Huge': 'v'.repeat(20000),
        }),
      ),
    );
    expect(m.headers.getAll('via')).toHaveLength(31);
    expect(parseNameAddr(m.headers.get('from') ?? '').tag).toBe(longTag);
    expect(m.headers.get('x-huge')).toHaveLength(20000);
  });

  it('discards octets beyond Content-Length in a datagram (dblreq, RFC 3261 18.3)', () => {
    const buf = Buffer.concat([subscribe(), Buffer.from('EXTRA GARBAGE AFTER THE MESSAGE')]);
    expect(req(parseMessage(buf)).body.length).toBe(0);
  });

  it('accepts semicolons and escaped @ in the URI user part (semiuri)', () => {
    const m = req(parseMessage(subscribe({ CSeq: '1 OPTIONS' }, 'OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0')));
    const uri = parseUri(m.uri);
    expect(uri.user).toBe('user;par=u@example.net');
    expect(uri.host).toBe('example.com');
  });

  it('accepts unknown transports and IPv6 sent-by in Via (transports)', () => {
    const m = req(
      parseMessage(
        subscribe({
          Via: 'SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf, SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj, SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en, SIP/2.0/TCP [2001:db8::9:1]:5070;branch=z9hG4bK6;received=[2001:db8::9:255]',
        }),
      ),
    );
    const vias = m.headers.getAll('via').map(parseVia);
    expect(vias.map((v) => v.transport)).toEqual(['SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    expect(vias[3].host).toBe('[2001:db8::9:1]');
    expect(vias[3].port).toBe(5070);
    expect(vias[3].received).toBe('[2001:db8::9:255]');
  });

  it('parses IPv6 hosts in the Request-URI and Contact', () => {
    const m = req(parseMessage(subscribe({ Contact: '<sip:alice@[2001:db8::10]:5070;transport=udp>' }, 'SUBSCRIBE sip:[2001:db8::1] SIP/2.0')));
    expect(parseUri(m.uri).host).toBe('[2001:db8::1]');
    const c = parseUri(parseNameAddr(m.headers.get('contact') ?? '').uri);
    expect([c.host, c.port, c.user]).toEqual(['[2001:db8::10]', 5070, 'alice']);
  });

  it('parses an unusual reason phrase and an empty one (unreason, noreason)', () => {
    const base = ['Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923', 'Call-ID: unreason.1234ksdfak3j2erwedfsASdf', 'CSeq: 35 INVITE', 'From: sip:user@example.com;tag=11141343', 'To: sip:user@example.edu;tag=2229', 'Content-Length: 0'];
    const r1 = res(parseMessage(wire(['SIP/2.0 200 = 2**3 * 5**2 \u043d\u043e \u0441\u0442\u043e', ...base])));
    expect(r1.status).toBe(200);
    expect(r1.reason).toBe('= 2**3 * 5**2 \u043d\u043e \u0441\u0442\u043e');
    const r2 = res(parseMessage(wire(['SIP/2.0 100 ', ...base])));
    expect([r2.status, r2.reason]).toEqual([100, '']);
  });

  it('ignores leading CRLFs (keepalives) and accepts a multipart body with a correct byte count', () => {
    const body = '--b\r\nContent-Type: text/plain\r\n\r\nh\u00e9llo\r\n--b--\r\n';
    const m = req(parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), wire(['MESSAGE sip:a@example.com SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bKm', 'From: <sip:b@example.com>;tag=1', 'To: <sip:a@example.com>', 'Call-ID: mp', 'CSeq: 1 MESSAGE', 'Content-Type: multipart/mixed;boundary=b', `Content-Length: ${Buffer.byteLength(body)}`], body)])));
    expect(m.body.toString('utf8')).toBe(body);
  });

  it('keeps the order of repeated headers and splits list headers but not Date or auth headers', () => {
    const m = req(
      parseMessage(
        subscribe({
          Route: '<sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
          'Record-Route': '<sip:rr1.example.com;lr>,<sip:rr2.example.com;lr;x="a,b">',
          Date: 'Sat, 13 Nov 2010 23:29:00 GMT',
          Authorization: 'Digest username="a", realm="b", nonce="c,d", uri="sip:x", response="e"',
          Contact: '"Doe, John" <sip:j@h>;q=0.5, <sip:k@h>',
        }),
      ),
    );
    expect(m.headers.getAll('route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(m.headers.getAll('record-route')).toEqual(['<sip:rr1.example.com;lr>', '<sip:rr2.example.com;lr;x="a,b">']);
    expect(m.headers.getAll('date')).toEqual(['Sat, 13 Nov 2010 23:29:00 GMT']);
    expect(m.headers.getAll('authorization')).toHaveLength(1);
    expect(m.headers.getAll('contact').map((c) => parseNameAddr(c, 'Contact').displayName)).toEqual(['Doe, John', undefined]);
  });

  it('accepts bare-URI From/To and a wildcard Contact', () => {
    const m = req(parseMessage(subscribe({ From: 'sip:alice@example.com;tag=abc', To: 'sip:100@example.com', Contact: '*' })));
    expect(parseNameAddr(m.headers.get('from') ?? '').tag).toBe('abc');
    expect(parseNameAddr(m.headers.get('contact') ?? '', 'Contact').wildcard).toBe(true);
  });

  it('reads rport as a flag or a number, and received/maddr/ttl from Via', () => {
    expect(parseVia('SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK1;rport').rport).toBe(true);
    const v = parseVia('SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1;rport=5070;received=5.6.7.8;maddr=224.0.0.1;ttl=16');
    expect([v.rport, v.received, v.maddr, v.ttl, v.port]).toEqual([5070, '5.6.7.8', '224.0.0.1', 16, undefined]);
  });

  it('parses Accept lists and matches media types', () => {
    const ranges = parseAccept(['application/dialog-info+xml;q=0.9, application/*;q=0', 'text/plain']);
    expect(ranges.map((r) => r.mediaType)).toEqual(['application/dialog-info+xml', 'application/*', 'text/plain']);
    expect(acceptsMediaType(ranges, 'application/dialog-info+xml')).toBe(true);
    expect(acceptsMediaType(ranges, 'application/pidf+xml')).toBe(false);
  });

  it('round-trips: serialize(parse(x)) parses to the same values', () => {
    const m = req(parseMessage(wire(['NOTIFY sip:a@192.0.2.1 SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bKn', 'From: <sip:b@x>;tag=1', 'To: <sip:a@x>;tag=2', 'Call-ID: rt', 'CSeq: 2 NOTIFY', 'Content-Length: 4'], 'h\u00e9l')));
    const again = req(parseMessage(serialize(m)));
    expect(again.body.toString()).toBe('h\u00e9l');
    expect([...again.headers]).toEqual([...m.headers]);
  });
});

describe('parseMessage rejects the invalid torture messages with a reason (RFC 4475 3.1.2 style)', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['Content-Length larger than the body (clerr)', subscribe({ 'Content-Length': '9999' }), /Content-Length larger/],
    ['negative Content-Length (ncl)', subscribe({ 'Content-Length': '-999' }), /Negative Content-Length/],
    ['non-numeric Content-Length', subscribe({ 'Content-Length': 'ten' }), /Content-Length/],
    ['missing Call-ID', subscribe({ 'Call-ID': null }), /Missing Call-ID/],
    ['missing CSeq', subscribe({ CSeq: null }), /Missing CSeq/],
    ['missing From', subscribe({ From: null }), /Missing From/],
    ['missing To', subscribe({ To: null }), /Missing To/],
    ['missing Via', subscribe({ Via: null }), /Missing Via/],
    ['CSeq method differing from the request method (mismatch01)', subscribe({ CSeq: '1 PUBLISH' }), /CSeq method/],
    ['unknown method with a mismatched CSeq (mismatch02)', subscribe({ CSeq: '1 FOO' }, 'NEWMETHOD sip:user@example.com SIP/2.0'), /CSeq method/],
    ['non-numeric CSeq', subscribe({ CSeq: 'abc SUBSCRIBE' }), /Malformed CSeq/],
    ['CSeq beyond 2**32-1 (scalar02)', subscribe({ CSeq: '36893488147419103232 SUBSCRIBE' }), /Malformed CSeq/],
    ['Max-Forwards above 255 (scalar02)', subscribe({ 'Max-Forwards': '300' }), /Max-Forwards/],
    ['an unterminated quoted display name (quotbal)', subscribe({ From: '"Bell, Alexander <sip:a.g.bell@example.com>;tag=43' }), /Unterminated quoted string in From/],
    ['an unquoted display name with non-token characters (baddn)', subscribe({ From: 'Bell, Alexander <sip:a.g.bell@example.com>;tag=43' }), /display name must be quoted/],
    ['an unknown SIP version (badvers)', subscribe({}, 'SUBSCRIBE sip:t.watson@example.org SIP/7.0'), /Unsupported SIP version SIP\/7.0/],
    ['a Request-URI enclosed in <> (ltgtruri)', subscribe({}, 'SUBSCRIBE <sip:user@example.com> SIP/2.0'), /Request-URI/],
    ['a Request-URI containing spaces (lwsruri)', subscribe({}, 'SUBSCRIBE sip:user@example.com;lr=ok ; foo SIP/2.0'), /whitespace/],
    ['multiple spaces in the Request-Line (lwsstart)', subscribe({}, 'SUBSCRIBE  sip:user@example.com  SIP/2.0'), /Request-Line/],
    ['trailing spaces on the Request-Line (trws)', subscribe({}, 'SUBSCRIBE sip:user@example.com SIP/2.0 '), /Request-Line/],
    ['escaped headers in the Request-URI (escruri)', subscribe({}, 'SUBSCRIBE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0'), /headers/],
    ['a bare URI with escaped headers in To (regbadct)', subscribe({ To: 'sip:user@example.com?Route=%3Csip:sip.example.com%3E' }), /enclosed in <>/],
    ['extraneous separators in Via (badinv01)', subscribe({ Via: 'SIP/2.0/UDP 192.0.2.15;;,;,,' }), /Malformed Via/],
    ['an overlarge response code (bigcode)', wire(['SIP/2.0 4294967301 better not break the receiver', 'Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe', 'Call-ID: bigcode', 'CSeq: 353494 INVITE', 'From: <sip:a@b>;tag=39ansfi3', 'To: <sip:c@d>;tag=902jndnke3', 'Content-Length: 0']), /status code/],
    ['a header line without a colon', Buffer.from(subscribe().toString().replace('Expires: 3600', 'Expires 3600')), /missing colon/],
    ['an empty buffer', Buffer.alloc(0), /Empty/],
    ['only CRLFs', Buffer.from('\r\n\r\n\r\n'), /Empty/],
    ['binary garbage', Buffer.from([0xff, 0x00, 0x13, 0x37, 0x80, 0x20, 0x0d, 0x0a, 0x0d, 0x0a]), /Malformed/],
    ['headers without the terminating empty line', Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n'), /empty line/],
  ];
  for (const [name, buf, reason] of cases) {
    it(`rejects ${name}`, () => {
      expect(failure(parseMessage(buf))).toMatch(reason);
    });
  }

  it('returns the partial request, headers included, so a 400 can still be built', () => {
    const r = parseMessage(subscribe({ CSeq: '1 PUBLISH' }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe(400);
    expect(r.request?.method).toBe('SUBSCRIBE');
    expect(r.request?.headers.get('call-id')).toBe('c1@192.0.2.10');
  });

  it('asks for 505 on an unknown SIP version', () => {
    const r = parseMessage(subscribe({}, 'SUBSCRIBE sip:a@b SIP/7.0'));
    expect(!r.ok && r.status).toBe(505);
  });

  it('never returns a partial request for a broken response', () => {
    const r = parseMessage(wire(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'Content-Length: 0']));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.request).toBeUndefined();
  });
});

describe('typed header parsers', () => {
  it('throws SipParseError with a readable message', () => {
    expect(() => parseVia('SIP/2.0 192.0.2.1')).toThrow('Malformed Via header');
    expect(() => parseCSeq('x')).toThrow('Malformed CSeq header');
    expect(() => parseIntegerHeader('-5', 'Expires')).toThrow('Malformed Expires header');
    expect(() => parseUri('sip:user@exa mple.com')).toThrow(/whitespace/);
    expect(() => parseUri('sip:user@host:99999')).toThrow(/port/);
    expect(() => parseUri('http://example.com')).toThrow(/Unsupported URI scheme/);
    expect(() => parseNameAddr('<sip:a@b', 'To')).toThrow(/missing '>'/);
  });

  it('parses sip, sips and tel URIs with password, params and headers', () => {
    const u = parseUri('sips:alice:secret@example.com:5061;transport=tls;lr?subject=hi%20there&priority=urgent');
    expect(u).toMatchObject({ scheme: 'sips', user: 'alice', password: 'secret', host: 'example.com', port: 5061 });
    expect(u.params.get('lr')).toBeNull();
    expect(u.params.get('transport')).toBe('tls');
    expect(u.headers.get('subject')).toBe('hi there');
    expect(parseUri('tel:+1-201-555-0123;phone-context=example.com')).toMatchObject({ scheme: 'tel', user: '+1-201-555-0123', host: '' });
  });
});

describe('parseMessage under random mutation', () => {
  it('never throws on 5,000 mutated messages', () => {
    const base = subscribe({ Route: '<sip:p.example.com;lr>', Contact: '"A \\"b\\"" <sip:a@[::1]:5060;transport=udp>;expires=60' });
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const interesting = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0x40, 0x25, 0x00, 0xff, 0x2d, 0x30, 0x39];
    let valid = 0;
    for (let i = 0; i < 5000; i++) {
      const buf = Buffer.from(base);
      const mutations = 1 + rand(6);
      let out = buf;
      for (let k = 0; k < mutations; k++) {
        const pos = rand(out.length);
        switch (rand(4)) {
          case 0:
            out[pos] = interesting[rand(interesting.length)];
            break;
          case 1:
            out[pos] = rand(256);
            break;
          case 2:
            out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1 + rand(20))]);
            break;
          default:
            out = Buffer.concat([out.subarray(0, pos), out.subarray(pos, pos + rand(40)), out.subarray(pos)]);
        }
      }
      const r = parseMessage(out);
      if (r.ok) valid++;
      else expect(typeof r.error).toBe('string');
    }
    // Some mutations are harmless (inside values), most are not; both paths were exercised.
    expect(valid).toBeGreaterThan(0);
    expect(valid).toBeLessThan(5000);
  });
});
