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

/**
 * Characters of a parameter value that parseSimpleParams() takes as they are: visible ASCII
 * but '"' (a quoted-string needs unquoting), ';' (the separator) and ',', '<', '>' (left to
 * parseParams(), which splits around <...>).
 */
const PLAIN_VALUE = table('', [['!', '~']]);
for (const c of '";,<>') PLAIN_VALUE[c.charCodeAt(0)] = 0;

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/**
 * Method names (RFC 3261 7.1, RFC 6665, RFC 3903, RFC 3428, RFC 3515, RFC 3262, RFC 3311,
 * RFC 6086) returned as constants, so that reading one from a message allocates nothing.
 */
const KNOWN_METHODS = ['SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'OPTIONS', 'REGISTER', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'MESSAGE', 'INFO', 'PRACK', 'UPDATE', 'REFER'];

/** The known method text[start, end) as a constant (methods are case-sensitive), or undefined. */
export function knownMethodAt(text: string, start: number, end: number): string | undefined {
  const len = end - start;
  for (let k = 0; k < KNOWN_METHODS.length; k++) {
    const m = KNOWN_METHODS[k];
    if (m.length === len && text.startsWith(m, start)) return m;
  }
  return undefined;
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
  return parseSimpleParams(s, 0, s.length) ?? parseParamsGeneral(s, what);
}

/** Parameter names common enough to be worth returning as constants instead of new strings. */
const KNOWN_PARAMS = ['tag', 'branch', 'rport', 'received', 'maddr', 'ttl', 'transport', 'lr', 'expires', 'id', 'q', 'user', 'method'];

/**
 * The lowercased parameter name text[start, end), which must be a token (so `| 0x20`
 * lowercases exactly; parameter names are case-insensitive, RFC 3261 7.3.1).
 */
function paramNameAt(text: string, start: number, end: number, hasUpper: boolean): string {
  const len = end - start;
  const first = text.charCodeAt(start) | 0x20;
  for (let k = 0; k < KNOWN_PARAMS.length; k++) {
    const known = KNOWN_PARAMS[k];
    if (known.length !== len || known.charCodeAt(0) !== first) continue;
    let i = 1;
    while (i < len && (text.charCodeAt(start + i) | 0x20) === known.charCodeAt(i)) i++;
    if (i === len) return known;
  }
  const name = text.slice(start, end);
  return hasUpper ? name.toLowerCase() : name;
}

/**
 * parseParams() of text[start, end) when it has the plain shape `name[=value]` joined by
 * single ';' with an optional trailing ';': token names, and values of visible ASCII other
 * than '"', ';', ',', '<' and '>'. Then no part needs trimming, unquoting or splitting
 * around quotes or <>, and the result is the one parseParams() gives. Returns undefined for
 * anything else (whitespace, quotes, empty names, non-ASCII), which parseParams() handles.
 */
export function parseSimpleParams(text: string, start: number, end: number): Map<string, string | null> | undefined {
  const params = new Map<string, string | null>();
  let i = start;
  while (i < end) {
    const nameStart = i;
    let hasUpper = false;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c >= 128 || TOKEN[c] === 0) break;
      if (c >= 65 && c <= 90) hasUpper = true;
      i++;
    }
    if (i === nameStart) return undefined;
    const name = paramNameAt(text, nameStart, i, hasUpper);
    if (i === end || text.charCodeAt(i) === 59) {
      params.set(name, null);
    } else if (text.charCodeAt(i) === 61) {
      const valueStart = ++i;
      while (i < end) {
        const c = text.charCodeAt(i);
        if (c >= 128 || PLAIN_VALUE[c] === 0) break;
        i++;
      }
      if (i < end && text.charCodeAt(i) !== 59) return undefined;
      params.set(name, text.slice(valueStart, i));
    } else return undefined;
    // Past the ';' (a trailing one ends the loop, as parseParams() skips it).
    i++;
  }
  return params;
}

function parseParamsGeneral(s: string, what: string): Map<string, string | null> {
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
