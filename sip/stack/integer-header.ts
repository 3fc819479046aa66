import { SipParseError } from './sip-parse-error.js';

/**
 * Parses a non-negative decimal header value (Expires, Max-Forwards, Content-Length,
 * Min-Expires). Leading zeros are fine ("0068", RFC 4475 3.1.1.1); signs, fractions and
 * values above `max` (default 2**32-1, RFC 3261 20.19) are not.
 */
export function parseIntegerHeader(value: string, name: string, max = 0xffffffff): number {
  const s = value.trim();
  if (s.length === 0) throw new SipParseError(`Malformed ${name} header`);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) throw new SipParseError(`Malformed ${name} header`);
    n = n * 10 + (c - 48);
    if (n > max) throw new SipParseError(`${name} header value out of range`);
  }
  return n;
}
