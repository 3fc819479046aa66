import { SipParseError } from './sip-parse-error.js';

/**
 * Character classes of the RFC 3261 25.1 grammar, as lookup tables so the parsers can
 * classify a char code with one array read instead of a regex.
 */
function table(chars: string, ranges: Array<[string, string]> = []): Uint8Array {
  const t = new Uint8Array(128);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  for (const [a, b] of ranges) for (let i = a.charCodeAt(0); i <= b.charCodeAt(0); i++) t[i] = 1;
  return t;
}

const ALNUM: Array<[string, string]> = [['a', 'z'], ['A', 'Z'], ['0', '9']];

/** RFC 3261 25.1 `token`: method names, header names, parameter names. */
export const TOKEN = table('-.!%*_+`\'~', ALNUM);

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

export function isWhitespace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/** Index of the first char of `s` after `from` that is not SP/HTAB/CR/LF. */
export function skipWs(s: string, from: number): number {
  let i = from;
  while (i < s.length && isWhitespace(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Splits `s` at `sep` outside quoted strings and outside <...>, the rule for comma-joined
 * list headers (RFC 3261 7.3.1) and for header parameters. Returns null when a quoted
 * string or an angle bracket is left open, which callers report as a parse error.
 */
export function splitOutside(s: string, sep: number): string[] | null {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inQuote) {
      if (c === 92 /* \ */) i++;
      else if (c === 34) inQuote = false;
    } else if (c === 34) inQuote = true;
    else if (inAngle) {
      if (c === 62) inAngle = false;
    } else if (c === 60) inAngle = true;
    else if (c === sep) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (inQuote || inAngle) return null;
  out.push(s.slice(start));
  return out;
}

/**
 * Parses `;name=value;flag` generic-params (RFC 3261 25.1) into an ordered map. Names are
 * case-insensitive in SIP, so they are lowercased; values keep their case (a tag or branch
 * is compared case-sensitively). A flag parameter maps to null. Quoted values keep quotes
 * removed. `what` names the header in the error message.
 */
export function parseParams(s: string, what: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  if (s.trim() === '') return params;
  const parts = splitOutside(s, 59 /* ; */);
  if (parts === null) throw new SipParseError(`Malformed ${what} parameters`);
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k];
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name === '') {
      // A trailing ';' is sloppy but harmless; anything else without a name is not a param.
      if (k === parts.length - 1 && part.trim() === '') continue;
      throw new SipParseError(`Malformed ${what} parameters`);
    }
    if (!isToken(name)) throw new SipParseError(`Malformed ${what} parameter "${name}"`);
    if (eq < 0) {
      params.set(name.toLowerCase(), null);
      continue;
    }
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) {
      value = unquote(value.slice(1, -1));
    } else if (value.includes('"')) {
      throw new SipParseError(`Malformed ${what} parameter "${name}"`);
    }
    params.set(name.toLowerCase(), value);
  }
  return params;
}

/** Removes quoted-pair escapes (RFC 3261 25.1 `quoted-pair`) from a quoted string's content. */
export function unquote(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1];
      i++;
    } else out += c;
  }
  return out;
}

/** Serializes params back to `;name=value` form, quoting values that are not tokens. */
export function formatParams(params: ReadonlyMap<string, string | null>): string {
  let out = '';
  for (const [name, value] of params) {
    if (value === null) out += `;${name}`;
    else if (value === '' || isTokenOrHost(value)) out += `;${name}=${value}`;
    else out += `;${name}="${value.replace(/(["\\])/g, '\\$1')}"`;
  }
  return out;
}

function isTokenOrHost(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // ':' '[' ']' appear in IPv6 received= values, which are sent unquoted (RFC 3261 25.1 `via-received`).
    if (c >= 128 || (TOKEN[c] === 0 && c !== 58 && c !== 91 && c !== 93)) return false;
  }
  return true;
}
