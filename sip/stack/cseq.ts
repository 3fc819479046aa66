import { isToken, knownMethodAt } from './grammar.js';
import { SipParseError } from './sip-parse-error.js';

export interface CSeq {
  seq: number;
  method: string;
}

/** Parses `CSeq: 4711 SUBSCRIBE` (RFC 3261 20.16: 32-bit unsigned number, then a method token). */
export function parseCSeq(value: string): CSeq {
  const s = value.trim();
  let i = 0;
  let seq = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
    i++;
  }
  // RFC 4475 3.1.2.4: a sequence number beyond 2**32-1 makes the request invalid.
  if (i === 0 || i > 10 || seq > 0xffffffff) throw new SipParseError('Malformed CSeq header');
  const sep = i;
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9 || s.charCodeAt(i) === 13 || s.charCodeAt(i) === 10)) i++;
  if (i === sep) throw new SipParseError('Malformed CSeq header');
  const known = knownMethodAt(s, i, s.length);
  const method = known ?? s.slice(i);
  if (known === undefined && !isToken(method)) throw new SipParseError('Malformed CSeq header');
  return { seq, method };
}
