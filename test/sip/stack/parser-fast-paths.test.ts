import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../sip/stack/parser.js';
import { parseVia } from '../../../sip/stack/via.js';
import { parseParams } from '../../../sip/stack/grammar.js';
import { parseCSeq } from '../../../sip/stack/cseq.js';
import { SipHeaders } from '../../../sip/stack/headers.js';
import { req, res, subscribe, wire } from './messages.js';

// parseMessage() reads the head by index and parseVia()/parseParams() have fast paths for
// the usual shapes; these pin down that the fast paths give what the general code gives.

const OK_LINES = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa1b2;rport=5060',
  'From: <sip:1001@bench.example>;tag=8c1f',
  'To: <sip:watcher1@bench.example>;tag=1234b1',
  'Call-ID: 1-1234@127.0.0.1',
  'CSeq: 2 NOTIFY',
  'Content-Length: 0',
];

describe('parseMessage header lines', () => {
  it('trims values as String.prototype.trim() does, Unicode spaces included', () => {
    const m = req(parseMessage(subscribe({ Event: '\u00a0dialog\u3000', Expires: '\ufeff600\u2028', 'X-A': '\u000b x \u000c', 'X-B': 'a\u00a0b' })));
    expect(m.headers.get('event')).toBe('dialog');
    expect(m.headers.get('expires')).toBe('600');
    expect(m.headers.get('x-a')).toBe('x');
    expect(m.headers.get('x-b')).toBe('a\u00a0b');
    // U+0085 and U+180E are not white space to trim().
    expect(req(parseMessage(subscribe({ Event: '\u0085dialog\u180e' }))).headers.get('event')).toBe('\u0085dialog\u180e');
  });

  it('drops Unicode spaces between a header name and its colon, as trimEnd() does', () => {
    const buf = Buffer.from(subscribe().toString().replace('Event: dialog', 'Event\u00a0 \u3000: dialog'));
    expect([...req(parseMessage(buf)).headers].find(([n]) => n === 'Event')).toEqual(['Event', 'dialog']);
    const bad = Buffer.from(subscribe().toString().replace('Event: dialog', 'Ev\u00e9nt: dialog'));
    expect(!parseMessage(bad).ok && parseMessage(bad)).toMatchObject({ error: 'Malformed header name' });
  });

  it('gives known names in any case and compact form their canonical spelling, and keeps unknown ones', () => {
    const m = req(
      parseMessage(
        wire([
          'SUBSCRIBE sip:a@example.com SIP/2.0',
          'vIA: SIP/2.0/UDP h;branch=z9hG4bK1',
          'F: <sip:b@example.com>;tag=1',
          't: <sip:a@example.com>',
          'CALL-ID: x1',
          'cseq: 1 SUBSCRIBE',
          'MAX-forwards: 70',
          'x-CUSTOM: 1',
          'Allow-Events: dialog',
          'L: 0',
        ]),
      ),
    );
    expect([...m.headers].map(([n]) => n)).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'x-CUSTOM', 'Allow-Events', 'Content-Length']);
    expect(m.headers.get('X-Custom')).toBe('1');
  });

  it('does not take names that only look like known ones for them', () => {
    // A CR where "Call-ID" has its '-': lowercasing by `| 0x20` alone would turn CR into '-'.
    const buf = Buffer.from(subscribe().toString().replace('Call-ID: c1@192.0.2.10', 'Call\rID: c1@192.0.2.10'));
    expect(parseMessage(buf)).toMatchObject({ ok: false, error: 'Malformed header name' });
    const m = req(parseMessage(subscribe({ 'Vias': 'x', 'Froms': 'y', 'T0': 'z' })));
    expect(m.headers.getLines('vias')).toEqual(['x']);
    expect(m.headers.getAll('via')).toHaveLength(1);
  });

  it('reads the first of repeated From, To, Call-ID, CSeq and Max-Forwards lines, as headers.get() does', () => {
    const m = req(parseMessage(wire([...subscribe().toString().split('\r\n\r\n')[0].split('\r\n'), 'From: <sip:other@example.com>;tag=zz', 'i: other', 'Max-Forwards: 999'])));
    expect(m.from?.tag).toBe('a1');
    expect(m.headers.getAll('call-id')).toEqual(['c1@192.0.2.10', 'other']);
    const bad = parseMessage(wire(['SUBSCRIBE sip:a@example.com SIP/2.0', 'Max-Forwards: 999', 'Max-Forwards: 70', ...subscribe({ 'Max-Forwards': null }).toString().split('\r\n\r\n')[0].split('\r\n').slice(1)]));
    expect(bad).toMatchObject({ ok: false, error: 'Max-Forwards header value out of range' });
  });

  it('takes the top Via from the first element of a comma-joined first Via line', () => {
    const m = req(parseMessage(subscribe({ Via: 'SIP/2.0/TCP a.example.com;branch=z9hG4bKa, SIP/2.0/UDP b.example.com;branch=z9hG4bKb' })));
    expect([m.topVia?.transport, m.topVia?.host, m.topVia?.branch]).toEqual(['TCP', 'a.example.com', 'z9hG4bKa']);
  });

  it('accepts repeated equal Content-Length lines and rejects differing ones, in either form', () => {
    expect(req(parseMessage(subscribe({ 'Content-Length': '0', l: '0' }))).body.length).toBe(0);
    expect(parseMessage(subscribe({ 'Content-Length': '0', l: '00' }))).toMatchObject({ ok: false, error: 'Conflicting Content-Length headers' });
  });

  it('reports a bad header line before a bad Request-Line, with the headers read so far', () => {
    const buf = Buffer.from(subscribe({}, 'SUBSCRIBE sip:a@b SIP/7.0').toString().replace('Expires: 3600', 'Expires 3600'));
    const r = parseMessage(buf);
    expect(r).toMatchObject({ ok: false, error: 'Malformed header line: missing colon', status: 400 });
    if (r.ok) return;
    expect(r.request?.method).toBe('SUBSCRIBE');
    expect(r.request?.headers.getLines('event')).toEqual(['dialog']);
    expect(r.request?.headers.has('expires')).toBe(false);
  });

  it('keeps Request-Line checks (version case, scheme case, headers in a sips URI)', () => {
    expect(req(parseMessage(subscribe({}, 'SUBSCRIBE sip:100@example.com sip/2.0'))).uri).toBe('sip:100@example.com');
    expect(parseMessage(subscribe({}, 'SUBSCRIBE SiPs:100@example.com?x=y SIP/2.0'))).toMatchObject({ ok: false, error: 'Request-URI must not contain headers' });
    expect(req(parseMessage(subscribe({}, 'SUBSCRIBE tel:+1?x SIP/2.0'))).uri).toBe('tel:+1?x');
  });
});

describe('parseMessage responses and bodies', () => {
  it('reads the status line by index', () => {
    const r = res(parseMessage(wire(OK_LINES)));
    expect([r.status, r.reason, r.topVia?.rport, r.topVia?.port]).toEqual([200, 'OK', 5060, 5060]);
    expect(res(parseMessage(wire(['sip/2.0 486 Busy Here', ...OK_LINES.slice(1)]))).reason).toBe('Busy Here');
    expect(parseMessage(wire(['SIP/2.0 099 x', ...OK_LINES.slice(1)]))).toMatchObject({ ok: false, error: 'Malformed status code' });
    expect(parseMessage(wire(['SIP/2.0 2000 x', ...OK_LINES.slice(1)]))).toMatchObject({ ok: false, error: 'Malformed status code' });
    expect(parseMessage(wire(['SIP/2.1 200 OK', ...OK_LINES.slice(1)]))).toMatchObject({ ok: false, error: 'Unsupported SIP version SIP/2.1', status: 505 });
    expect(parseMessage(wire(['SIP/2.0', ...OK_LINES.slice(1)]))).toMatchObject({ ok: false, error: 'Malformed status code' });
  });

  it('gives an empty body as a zero-length Buffer and cuts a datagram body at Content-Length', () => {
    const empty = res(parseMessage(wire(OK_LINES)));
    expect(Buffer.isBuffer(empty.body) && empty.body.length).toBe(0);
    const lines = OK_LINES.map((l) => (l.startsWith('Content-Length') ? 'Content-Length: 3' : l));
    expect(res(parseMessage(wire(lines, 'abcdef'))).body.toString()).toBe('abc');
    expect(res(parseMessage(wire(lines.filter((l) => !l.startsWith('Content-Length')), 'abcdef'))).body.toString()).toBe('abcdef');
  });
});

describe('parseMessage head end', () => {
  // The head is first taken to end at the CRLFCRLF that ends the buffer; these end earlier.
  const sub = subscribe().toString();

  it('keeps a body that itself ends in CRLFCRLF', () => {
    const buf = Buffer.from(sub.replace('Content-Length: 0', 'Content-Length: 6') + 'ab\r\n\r\n');
    expect(req(parseMessage(buf)).body.toString()).toBe('ab\r\n\r\n');
    const cut = Buffer.from(sub.replace('Content-Length: 0', 'Content-Length: 2') + 'ab\r\n\r\n');
    expect(req(parseMessage(cut)).body.toString()).toBe('ab');
  });

  it('ends the head at the first empty line, also when CRLFs follow it', () => {
    expect(req(parseMessage(Buffer.from(sub + '\r\n'))).body.length).toBe(0);
    expect(req(parseMessage(Buffer.from(sub.replace('Content-Length: 0', 'Content-Length: 2') + '\r\n'))).body.toString()).toBe('\r\n');
    expect(parseMessage(Buffer.from(sub.replace('Content-Length: 0', 'Content-Length: 3') + '\r\n'))).toMatchObject({ ok: false, error: 'Content-Length larger than message body' });
    expect(parseMessage(Buffer.from(sub.replace('\r\nTo:', '\r\n\r\nTo:')))).toMatchObject({ ok: false, error: 'Missing To header' });
    expect(parseMessage(Buffer.from('SIP/2.0 200 OK\r\n\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n'))).toMatchObject({ ok: false, error: 'Missing Via header' });
  });

  it('does not take a lone LF or CR line for the end of the head', () => {
    expect(parseMessage(Buffer.from(sub.replace('\r\nTo:', '\n\r\nTo:')))).toMatchObject({ ok: false, error: 'Malformed header line: missing colon' });
    expect(parseMessage(Buffer.from(sub.replace('\r\nTo:', '\r\n\rTo:')))).toMatchObject({ ok: false, error: 'Malformed header name' });
  });

  it('decodes an invalid UTF-8 sequence just before the end of the head as U+FFFD', () => {
    const buf = Buffer.concat([Buffer.from(sub.slice(0, -4)), Buffer.from([0xe2, 0x82]), Buffer.from('\r\n\r\n')]);
    const r = parseMessage(buf);
    expect(r).toMatchObject({ ok: false, error: 'Malformed Content-Length header' });
    expect(!r.ok && r.request?.headers.get('content-length')).toBe('0\ufffd');
  });
});

describe('parseMessage top Via', () => {
  it('reads a folded, a comma-joined and a Unicode-padded first Via line as headers.get() gives it', () => {
    const folded = req(parseMessage(subscribe({ Via: 'SIP/2.0/UDP 192.0.2.10:5060\r\n ;branch=z9hG4bKf;rport' })));
    expect(folded.topVia).toMatchObject({ host: '192.0.2.10', port: 5060, branch: 'z9hG4bKf', rport: true });
    const joined = req(parseMessage(subscribe({ Via: 'SIP/2.0/UDP a.example.com;branch=z9hG4bKa,SIP/2.0/UDP b.example.com' })));
    expect(joined.topVia).toMatchObject({ host: 'a.example.com', branch: 'z9hG4bKa' });
    const padded = req(parseMessage(subscribe({ Via: '\u00a0SIP/2.0/UDP c.example.com;branch=z9hG4bKc\u3000' })));
    expect(padded.topVia).toMatchObject({ host: 'c.example.com', branch: 'z9hG4bKc' });
    expect(parseVia(folded.headers.get('via') ?? '')).toEqual(folded.topVia);
  });
});

describe('parseVia and parseParams fast paths', () => {
  // Whitespace around the separators sends a Via or parameter list down the general path;
  // the plain form takes the fast one. Both must give the same result.
  const spaced = (v: string): string =>
    v
      .split(';')
      .map((part, i) => (i === 0 && part.includes('/') ? part.replace(/\//g, ' / ').replace(/:(?=\d)/, ' : ') : part.replace('=', ' = ')))
      .join(' ; ');

  const plainVias = [
    'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1234-1-0;rport',
    'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa1b2c3;rport=5060',
    'SIP/2.0/TCP host.example.com;branch=z9hG4bK1;received=192.0.2.1;maddr=224.0.0.1;ttl=16',
    'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK!%*_+`\'~.-;x-Y=Z=1;flag',
    'SIP/2.0/UDP h_1:0',
    'SIP/2.0/UDP h;',
    'SIP/2.0/UDP h;BRANCH=Ab;Branch=cd;RPORT=00007',
    'SIP/2.0/SCTP h:65535;ttl=0;rport=65535',
  ];
  for (const v of plainVias) {
    it(`parses ${v} as the general path does`, () => {
      const fast = parseVia(v);
      expect(parseVia(spaced(v))).toEqual(fast);
      expect([...parseVia(spaced(v)).params]).toEqual([...fast.params]);
      expect(Object.keys(parseVia(spaced(v)))).toEqual(Object.keys(fast));
    });
  }

  it('keeps the general path errors and odd-but-valid forms', () => {
    expect(() => parseVia('SIP/2.0/UDP h;branch=')).toThrow('Malformed Via header: empty branch');
    expect(() => parseVia('SIP/2.0/UDP h;branch')).toThrow('Malformed Via header: empty branch');
    expect(() => parseVia('SIP/2.0/UDP h:65536')).toThrow('Malformed Via header');
    expect(() => parseVia('SIP/2.0/UDP h:123456')).toThrow('Malformed Via header');
    expect(() => parseVia('SIP/2.0/UDP h;rport=65536')).toThrow('Malformed Via header: bad rport');
    expect(() => parseVia('SIP/2.0/UDP h;ttl=256')).toThrow('Malformed Via header: bad ttl');
    expect(() => parseVia('SIP/2.0/UDP h;;branch=1')).toThrow('Malformed Via header');
    // Number() semantics for rport and ttl are kept for the forms that are not plain digits.
    expect(parseVia('SIP/2.0/UDP h;rport=1e3').rport).toBe(1000);
    expect(parseVia('SIP/2.0/UDP h;rport=0x10;ttl=1.0')).toMatchObject({ rport: 16, ttl: 1 });
    expect(parseVia('SIP/2.0/udp h;branch="a b"')).toMatchObject({ transport: 'UDP', branch: 'a b' });
    expect(parseVia('SIP/2.0/UDP [2001:db8::1]:5060;branch=1')).toMatchObject({ host: '[2001:db8::1]', port: 5060 });
  });

  it('parses plain parameter lists as the general path does', () => {
    for (const p of ['tag=1234b1', 'tag=a;TAG=b;x', 'a=b=c;d=', 'lr;transport=UDP;', 'q=0.5;expires=60;method=NOTIFY']) {
      expect([...parseParams(p, 'To')]).toEqual([...parseParams(spaced(p), 'To')]);
    }
    expect([...parseParams('a="b;c";d', 'To')]).toEqual([['a', 'b;c'], ['d', null]]);
    expect([...parseParams('a=<b;c>;d', 'To')]).toEqual([['a', '<b;c>'], ['d', null]]);
    expect(() => parseParams('a;;b', 'To')).toThrow('Malformed To parameters');
    expect(() => parseParams('a=b"c', 'To')).toThrow('Malformed To parameters');
    expect(() => parseParams('a=b"c"d', 'To')).toThrow('Malformed To parameter "a"');
  });

  it('parses CSeq methods, known or not', () => {
    expect(parseCSeq('1 SUBSCRIBE')).toEqual({ seq: 1, method: 'SUBSCRIBE' });
    expect(parseCSeq('7 FOO-BAR')).toEqual({ seq: 7, method: 'FOO-BAR' });
    expect(() => parseCSeq('1 SUBSCRIB\u00c9')).toThrow('Malformed CSeq header');
  });

  it('leaves headers.get() of a list header returning the first element', () => {
    const h = new SipHeaders([['Via', 'SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b;branch=2'], ['Route', '<sip:x;lr>']]);
    expect(h.get('v')).toBe('SIP/2.0/UDP a;branch=1');
    expect(h.get('route')).toBe('<sip:x;lr>');
  });
});
