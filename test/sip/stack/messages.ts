import type { SipRequest, SipResponse } from '../../../sip/stack/message.js';
import type { ParseResult } from '../../../sip/stack/parser.js';

/** Builds a wire message from lines, joined with CRLF, plus an optional body. */
export function wire(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

/** A plain, valid SUBSCRIBE used as the base for fuzzing and negative cases. */
export function subscribe(overrides: Record<string, string | null> = {}, startLine = 'SUBSCRIBE sip:100@example.com SIP/2.0'): Buffer {
  const headers: Record<string, string | null> = {
    Via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKabc123;rport',
    'Max-Forwards': '70',
    From: '"Alice" <sip:alice@example.com>;tag=a1',
    To: '<sip:100@example.com>',
    'Call-ID': 'c1@192.0.2.10',
    CSeq: '1 SUBSCRIBE',
    Event: 'dialog',
    Expires: '3600',
    Contact: '<sip:alice@192.0.2.10:5060>',
    Accept: 'application/dialog-info+xml',
    'Content-Length': '0',
    ...overrides,
  };
  const lines = [startLine];
  for (const [k, v] of Object.entries(headers)) if (v !== null) lines.push(`${k}: ${v}`);
  return wire(lines);
}

/** The parsed request, or a thrown error naming why the parse failed. */
export function req(r: ParseResult): SipRequest {
  if (!r.ok) throw new Error(`expected a valid message, got: ${r.error}`);
  if (r.message.kind !== 'request') throw new Error('expected a request');
  return r.message;
}

/** The parsed response, or a thrown error naming why the parse failed. */
export function res(r: ParseResult): SipResponse {
  if (!r.ok) throw new Error(`expected a valid message, got: ${r.error}`);
  if (r.message.kind !== 'response') throw new Error('expected a response');
  return r.message;
}
