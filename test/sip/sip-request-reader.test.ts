import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BadRequest, readSubscribe, type IncomingRequest } from '../../sip/sip-request-reader.js';
import { parseAccept } from '../../sip/stack/accept.js';
import { parseCSeq } from '../../sip/stack/cseq.js';
import { parseEvent } from '../../sip/stack/event.js';
import { SipHeaders } from '../../sip/stack/headers.js';
import { parseIntegerHeader } from '../../sip/stack/integer-header.js';
import { formatNameAddr, parseNameAddr, type NameAddr } from '../../sip/stack/name-addr.js';
import { parseMessage } from '../../sip/stack/parser.js';
import { SipParseError } from '../../sip/stack/sip-parse-error.js';
import { parseUri } from '../../sip/stack/uri.js';
import type { SubscribeRequest, UriParts } from '../../src/subscribe-request.js';
import type { TransportBinding } from '../../src/transport-binding.js';
import { wire } from './stack/messages.js';

const binding: TransportBinding = { transport: 'udp', source: { address: '127.0.0.1', port: 5070 }, local: { address: '127.0.0.1', port: 5060 }, sendToSource: true };

/**
 * The reader as it was before it stopped building URI, params and Accept maps: the
 * reference the current one must match, result for result and error for error.
 */
function referenceReadSubscribe(req: IncomingRequest, b: TransportBinding): SubscribeRequest {
  const uriParts = (text: string, what: string): UriParts => {
    const uri = parseUri(text, what);
    const host = uri.host.toLowerCase();
    return uri.user !== undefined && uri.user !== '' ? { user: uri.user, host } : { host };
  };
  const withoutTag = (addr: NameAddr): string => {
    const params = new Map(addr.params);
    params.delete('tag');
    return formatNameAddr(addr.displayName === undefined ? { uri: addr.uri, params } : { uri: addr.uri, params, displayName: addr.displayName });
  };
  const required = (name: string): string => {
    const value = req.headers.get(name);
    if (value === undefined) throw new BadRequest(`Missing ${name} header`);
    return value;
  };
  try {
    const h = req.headers;
    const from = req.from ?? parseNameAddr(required('From'), 'From');
    const to = req.to ?? parseNameAddr(required('To'), 'To');
    const eventValue = h.get('Event');
    const acceptValues = h.getAll('Accept');
    const expiresValue = h.get('Expires');
    const contactValue = h.getAll('Contact')[0];
    const contact = contactValue !== undefined ? parseNameAddr(contactValue, 'Contact') : undefined;
    if (contact?.wildcard) throw new BadRequest('Contact must not be * in SUBSCRIBE');
    const out: SubscribeRequest = {
      callId: required('Call-ID'),
      from: withoutTag(from),
      fromUri: uriParts(from.uri, 'From URI'),
      to: withoutTag(to),
      toUri: uriParts(to.uri, 'To URI'),
      requestUri: uriParts(req.uri, 'Request-URI'),
      recordRoute: h.getAll('Record-Route'),
      cseq: parseCSeq(required('CSeq')).seq,
      binding: b,
    };
    if (from.tag !== undefined) out.fromTag = from.tag;
    if (to.tag !== undefined) out.toTag = to.tag;
    if (eventValue !== undefined) {
      const event = parseEvent(eventValue);
      out.event = event.id !== undefined ? { package: event.package, id: event.id } : { package: event.package };
    }
    if (h.has('Accept')) out.accept = parseAccept(acceptValues).map((r) => r.mediaType);
    if (expiresValue !== undefined) out.expires = parseIntegerHeader(expiresValue, 'Expires');
    if (contact) out.contact = contact.uri;
    const userAgent = h.get('User-Agent');
    if (userAgent !== undefined) out.userAgent = userAgent;
    return out;
  } catch (e) {
    if (e instanceof SipParseError) throw new BadRequest(e.message);
    throw e;
  }
}

function outcome(read: (req: IncomingRequest, b: TransportBinding) => SubscribeRequest, req: IncomingRequest): unknown {
  try {
    return { ok: read(req, binding) };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

function parsed(lines: string[]): IncomingRequest {
  const r = parseMessage(wire(lines));
  if (!r.ok || r.message.kind !== 'request') throw new Error(`not a request: ${r.ok ? 'response' : r.error}`);
  const m = r.message;
  return { method: m.method, uri: m.uri, headers: m.headers, from: m.from, to: m.to };
}

/** A request handed in without the parser in front, as the drachtio front does. */
function unparsed(uri: string, headers: Record<string, string | null>): IncomingRequest {
  const h = new SipHeaders();
  for (const [name, value] of Object.entries(headers)) if (value !== null) h.append(name, value);
  return { method: 'SUBSCRIBE', uri, headers: h };
}

const SIPP_SUBSCRIBE = [
  'SUBSCRIBE sip:1001@bench.example SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1234-1-0;rport',
  'From: <sip:watcher1@bench.example>;tag=1234b1',
  'To: <sip:1001@bench.example>',
  'Call-ID: 1-1234@127.0.0.1',
  'CSeq: 1 SUBSCRIBE',
  'Contact: <sip:watcher1@127.0.0.1:5070;transport=UDP>',
  'Max-Forwards: 70',
  'Event: dialog',
  'Accept: application/dialog-info+xml',
  'Expires: 600',
  'User-Agent: SIPp bench',
  'Content-Length: 0',
];

const SIPP_UNSUBSCRIBE = [
  'SUBSCRIBE sip:1001@bench.example SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1234-1-2;rport',
  'From: <sip:watcher1@bench.example>;tag=1234b1',
  'To: <sip:1001@bench.example>;tag=srv-abcdef0123',
  'Call-ID: 1-1234@127.0.0.1',
  'CSeq: 3 SUBSCRIBE',
  'Contact: <sip:watcher1@127.0.0.1:5070;transport=UDP>',
  'Max-Forwards: 70',
  'Event: dialog',
  'Expires: 0',
  'User-Agent: SIPp bench',
  'Content-Length: 0',
];

const BASE: Record<string, string> = { From: '<sip:w@h>;tag=1', To: '<sip:u@h>', 'Call-ID': 'c', CSeq: '1 SUBSCRIBE', Event: 'dialog' };

/** One fault (or corner) at a time over a minimal request, and a few with several faults. */
const UNPARSED: Array<[string, Record<string, string | null>]> = [
  ['sip:u@h', {}],
  ['http://x', {}],
  ['sip:@h', {}],
  ['sip:u@h:99999', {}],
  ['sip:u%zz@h', {}],
  ['sip:u@h;=x', {}],
  ['sip:u@h?x', {}],
  ['sip:u@bad host', {}],
  [':u@h', {}],
  ['tel:', {}],
  ['SIP:U%41@H.Example', {}],
  ['sip:u@h', { To: '<sip:u@h>;tag=x' }],
  ['sip:U@H', { From: '<sip:W@H>;tag=1', To: '<sip:U@H>' }],
  ['sip:u@other', { From: '<sip:W@Bench.Example>;tag=1', To: '<sip:u@bench.example>' }],
  ['sip:u@h', { From: null }],
  ['sip:u@h', { To: null }],
  ['sip:u@h', { 'Call-ID': null }],
  ['sip:u@h', { CSeq: null }],
  ['sip:u@h', { CSeq: 'x SUBSCRIBE' }],
  ['sip:u@h', { From: '<sip:w@h' }],
  ['sip:u@h', { From: '<http://w@h>;tag=1' }],
  ['sip:u@h', { From: '<sip:@h>;tag=1' }],
  ['sip:u@h', { To: '<sip:u@h_;x>' }],
  ['sip:u@h', { To: '<sip:u@[::1>' }],
  ['sip:u@h', { Event: 'dia log' }],
  ['sip:u@h', { Event: 'dialog;id="x' }],
  ['sip:u@h', { Event: 'presence;ID=abcdefghijklmnop' }],
  ['sip:u@h', { Accept: 'application' }],
  ['sip:u@h', { Accept: 'a/b;q=2' }],
  ['sip:u@h', { Accept: '"a/b' }],
  ['sip:u@h', { Accept: '' }],
  ['sip:u@h', { Accept: 'Application/PIDF+XML, */*' }],
  ['sip:u@h', { Expires: '-1' }],
  ['sip:u@h', { Expires: '99999999999' }],
  ['sip:u@h', { Contact: '*' }],
  ['sip:u@h', { Contact: '<sip:x' }],
  ['sip:u@h', { Contact: 'sip:x@y;expires=1, <sip:z>' }],
  ['sip:u@h', { Contact: ', <sip:z@y>' }],
  ['sip:u@h', { Contact: '<sip:a@b>;=x' }],
  ['sip:u@h', { 'Record-Route': '<sip:p1.example.com;lr>, <sip:p2.example.com;lr>' }],
  ['sip:u@h', { 'User-Agent': 'A'.repeat(40) }],
  ['sip:u@h', { Event: null, Accept: '' }],
  // Several faults: the first in the reader's order names the 400.
  ['http://x', { From: '<sip:@h>;tag=1', CSeq: 'x', Event: 'a b' }],
  ['sip:u@h', { Contact: '*', 'Call-ID': null }],
  ['sip:u@h', { To: '<sip:u@[::1>', CSeq: null }],
  ['sip:@h', { CSeq: 'x', Accept: '"', Expires: 'y' }],
];

describe('readSubscribe', () => {
  it('reads the SIPp SUBSCRIBE', () => {
    expect(readSubscribe(parsed(SIPP_SUBSCRIBE), binding)).toStrictEqual({
      callId: '1-1234@127.0.0.1',
      from: '<sip:watcher1@bench.example>',
      fromUri: { user: 'watcher1', host: 'bench.example' },
      to: '<sip:1001@bench.example>',
      toUri: { user: '1001', host: 'bench.example' },
      requestUri: { user: '1001', host: 'bench.example' },
      recordRoute: [],
      cseq: 1,
      binding,
      fromTag: '1234b1',
      event: { package: 'dialog' },
      accept: ['application/dialog-info+xml'],
      expires: 600,
      contact: 'sip:watcher1@127.0.0.1:5070;transport=UDP',
      userAgent: 'SIPp bench',
    });
  });

  it('hands out a Request-URI of its own when it is the To URI', () => {
    const out = readSubscribe(parsed(SIPP_SUBSCRIBE), binding);
    expect(out.requestUri).not.toBe(out.toUri);
  });

  it('matches the reference reader on the SIPp requests, parsed or not', () => {
    for (const lines of [SIPP_SUBSCRIBE, SIPP_UNSUBSCRIBE]) {
      const req = parsed(lines);
      expect(outcome(readSubscribe, req)).toStrictEqual(outcome(referenceReadSubscribe, req));
      const bare = { method: req.method, uri: req.uri, headers: req.headers };
      expect(outcome(readSubscribe, bare)).toStrictEqual(outcome(referenceReadSubscribe, bare));
    }
  });

  it('matches the reference reader on faults and corners, with the same 400 reasons', () => {
    for (const [uri, overrides] of UNPARSED) {
      const req = unparsed(uri, { ...BASE, ...overrides });
      expect(outcome(readSubscribe, req), `${uri} ${JSON.stringify(overrides)}`).toStrictEqual(outcome(referenceReadSubscribe, req));
    }
    expect(() => readSubscribe(unparsed('sip:u@h', { ...BASE, Contact: '*' }), binding)).toThrow(BadRequest);
    expect(() => readSubscribe(unparsed('http://x', BASE), binding)).toThrow('Unsupported URI scheme "http" in Request-URI');
  });

  it('matches the reference reader on 3,000 random requests', () => {
    let seed = 5;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 12) % n;
    };
    // The first four values of a pool are mostly fine; the others are mostly faults.
    const pools: Record<string, Array<string | null>> = {
      From: ['<sip:w@h>;tag=1', '"W" <sip:W@H.example>;tag=abc;x', 'sip:w@h;tag=z', '<tel:+1;x=2>;tag=t', '<sip:@h>;tag=1', '<http://x>', '<sip:w@h', null],
      To: ['<sip:u@h>', '<sip:u@h>;tag=srv-abcdef0123', '<sip:U@Bench.Example>', '"A \\"b\\"" <sip:u@h>;tag=x;y=1', '<sip:u@h_;x>', '<sip:u@[::1>', null],
      'Call-ID': ['c', '1-1234@127.0.0.1', 'abcdefghijklmnopq@x', 'x', null],
      CSeq: ['1 SUBSCRIBE', '2 SUBSCRIBE', '3 SUBSCRIBE', '4 SUBSCRIBE', 'x SUBSCRIBE', null, '4294967296 SUBSCRIBE'],
      Contact: [null, '<sip:w@10.0.0.1:5060;transport=UDP>', 'sip:x@y;expires=1, <sip:z>', '"A" <sip:a@b>;q=0.5', '*', '<sip:x', ', <sip:z@y>', '', '<sip:a b>'],
      Event: [null, 'dialog', 'presence;id=123456789012345', 'dialog;ID=7', 'dia log', 'dialog;id="x', ''],
      Accept: [null, 'application/dialog-info+xml', 'application/pidf+xml;q=0.5, */*', '', 'a/b;q=2', '"a/b', 'application', 'A/B'],
      Expires: [null, '600', '0', '3600', '-1', '99999999999', ''],
      'Record-Route': [null, '<sip:p1.example.com;lr>, <sip:p2.example.com;lr>', '<sip:rr.example.com;lr>'],
      'User-Agent': [null, 'SIPp bench', 'A'.repeat(40)],
    };
    const uris = ['sip:u@h', 'sip:U@Bench.Example', 'http://x', 'sip:@h', 'sip:u@h:99999', 'tel:+1-201;x=1', 'sip:u@h;=x', 'sips:u%41@h;transport=tls'];
    const disagreements: unknown[] = [];
    let read = 0;
    for (let i = 0; i < 3_000; i++) {
      const headers = new SipHeaders();
      for (const [name, pool] of Object.entries(pools)) {
        for (let line = rand(10) === 0 ? 2 : 1; line > 0; line--) {
          const value = rand(8) === 0 ? pool[rand(pool.length)] : pool[rand(Math.min(4, pool.length))];
          if (value !== null) headers.append(name, value);
        }
      }
      let uri = rand(6) === 0 ? uris[rand(uris.length)] : uris[rand(2)];
      const req: IncomingRequest = { method: 'SUBSCRIBE', uri, headers };
      try {
        const from = headers.get('From');
        const to = headers.get('To');
        if (rand(3) === 0 && to !== undefined) uri = req.uri = parseNameAddr(to, 'To').uri;
        if (rand(2) === 0 && from !== undefined && to !== undefined) {
          req.from = parseNameAddr(from, 'From');
          req.to = parseNameAddr(to, 'To');
        }
      } catch {
        // A From or To the parser would refuse is left to the reader.
      }
      const want = outcome(referenceReadSubscribe, req);
      if (!isDeepStrictEqual(outcome(readSubscribe, req), want)) disagreements.push([uri, [...headers]]);
      if ('ok' in (want as object)) read++;
    }
    expect(disagreements).toStrictEqual([]);
    expect(read).toBeGreaterThan(1000);
  });
});
