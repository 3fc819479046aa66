import { describe, expect, it } from 'vitest';
import type { HeaderInit } from '../../../sip/stack/headers.js';
import type { SipRequest } from '../../../sip/stack/message.js';
import { parseMessage } from '../../../sip/stack/parser.js';
import { buildResponse, responseHead } from '../../../sip/stack/response-builder.js';
import { serialize, wireBytes } from '../../../sip/stack/serialize.js';
import { subscribe, wire } from './messages.js';

function request(buf: Buffer): SipRequest {
  const r = parseMessage(buf);
  if (!r.ok || r.message.kind !== 'request') throw new Error('expected a request');
  return r.message;
}

const requests: Array<[string, SipRequest]> = [
  ['a plain SUBSCRIBE', request(subscribe())],
  ['an in-dialog SUBSCRIBE (To has a tag)', request(subscribe({ To: '<sip:100@example.com>;TAG=srv1' }))],
  [
    'several Vias, comma-joined too, and Record-Route',
    request(
      subscribe({
        Via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKabc123, SIP/2.0/TCP 198.51.100.1;branch=z9hG4bKp1',
        'Record-Route': '<sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
      }),
    ),
  ],
  [
    'compact header names and a non-ASCII display name',
    request(
      wire([
        'SUBSCRIBE sip:100@example.com SIP/2.0',
        'v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKc1',
        'f: "Zoë" <sip:zoe@example.com>;tag=z1',
        't: sip:100@example.com',
        'i: c2@192.0.2.10',
        'CSeq: 7 SUBSCRIBE',
        'o: presence',
        'l: 0',
      ]),
    ),
  ],
  ['an OPTIONS', request(wire(['OPTIONS sip:s@example.com SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bKo', 'From: <sip:a@b>;tag=1', 'To: <sip:s@example.com>', 'Call-ID: o1', 'CSeq: 1 OPTIONS', 'Record-Route: <sip:p;lr>']))],
];

const answers: Array<[string, number, string | undefined, HeaderInit | undefined, string | undefined, { toTag?: string; server?: string }]> = [
  ['200 with a tag and Contact', 200, 'OK', [['Contact', '<sip:presence@127.0.0.1:5060;transport=udp>'], ['Expires', '600']], undefined, { toTag: 't9', server: 'presence/1' }],
  ['100 Trying never takes a tag', 100, undefined, undefined, undefined, { toTag: 't9', server: 'presence/1' }],
  ['489 with a record of headers', 489, 'Bad Event', { 'allow-events': 'dialog, presence', 'x-many': ['a', 'b'] }, undefined, { toTag: 't9' }],
  ['a reason with CR/LF, its own Server, a Content-Length and a body', 400, 'Bad\r\nRequest\nhere', [['server', 'mine'], ['l', '99'], ['Content-Type', 'text/plain']], 'é body', { server: 'presence/1' }],
  ['a numeric value and no options', 423, undefined, { 'Min-Expires': 60 } as HeaderInit, undefined, {}],
];

describe('responseHead', () => {
  for (const [what, req] of requests) {
    for (const [answer, status, reason, extra, body, opts] of answers) {
      it(`writes what serialize(buildResponse()) writes: ${what}, ${answer}`, () => {
        const expected = serialize(buildResponse(req, status, reason, extra, body, opts));
        const bodyBytes = body === undefined ? undefined : Buffer.from(body, 'utf8');
        const head = responseHead(req, status, reason, extra, bodyBytes?.length ?? 0, opts);
        expect(wireBytes(head, bodyBytes).toString('utf8')).toBe(expected.toString('utf8'));
      });
    }
  }
});
