import { TOKEN, formatParams, parseParams, unquote } from './grammar.js';
import { SipParseError } from './sip-parse-error.js';

/** A From/To/Contact/Route/Record-Route value (RFC 3261 20.10, 20.20, 20.39). */
export interface NameAddr {
  /** Display name with quotes and quoted-pair escapes removed. */
  displayName?: string;
  /** The URI text without angle brackets ("*" for a wildcard Contact); see parseUri(). */
  uri: string;
  /** Header parameters (outside the <...>), names lowercased. */
  params: Map<string, string | null>;
  /** Shortcut for params.get('tag'), the dialog identifier part (RFC 3261 19.3). */
  tag?: string;
  /** True for `Contact: *` (RFC 3261 10.2.2). */
  wildcard: boolean;
}

/** Scans a quoted-string starting at `start` (on the '"'); returns the index after the closing quote. */
function endOfQuoted(s: string, start: number, what: string): number {
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i + 1;
  }
  throw new SipParseError(`Unterminated quoted string in ${what} header`);
}

function hasScheme(uri: string): boolean {
  const colon = uri.indexOf(':');
  if (colon <= 0) return false;
  const c0 = uri.charCodeAt(0) | 0x20;
  if (c0 < 97 || c0 > 122) return false;
  for (let i = 1; i < colon; i++) {
    const c = uri.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 43 || c === 45 || c === 46;
    if (!ok) return false;
  }
  return true;
}

/** SP, HTAB, CR or LF; a regex scans faster than a charCodeAt() loop. */
const WHITESPACE = /[ \t\r\n]/;

/**
 * What scan() found besides the URI. Module state rather than a returned record: scan()
 * runs for From, To and Contact of every request and calls out to nothing that re-enters it.
 * Its callers take the values and clear them, lest they keep the message's text alive.
 */
let scannedDisplayName: string | undefined;
let scannedParams = '';

function clearScanned(): void {
  scannedDisplayName = undefined;
  scannedParams = '';
}

/**
 * Checks a trimmed name-addr or addr-spec other than "*" and returns its URI text, leaving
 * the display name and the header-param text (without the leading ';') in scannedDisplayName
 * and scannedParams.
 */
function scan(s: string, what: string): string {
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  let i = 0;
  if (s.charCodeAt(0) === 34) {
    const end = endOfQuoted(s, 0, what);
    displayName = unquote(s.slice(1, end - 1));
    i = end;
    while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
    if (s.charCodeAt(i) !== 60) throw new SipParseError(`Malformed ${what} header: expected <URI> after display name`);
  } else {
    i = s.indexOf('<');
    if (i > 0) {
      // RFC 3261 25.1: an unquoted display-name is *(token LWS); anything else must be quoted
      // (RFC 4475 3.1.2.15).
      const dn = s.slice(0, i).trim();
      for (let k = 0; k < dn.length; k++) {
        const c = dn.charCodeAt(k);
        if (c !== 32 && c !== 9 && (c >= 128 || TOKEN[c] === 0)) {
          throw new SipParseError(`Malformed ${what} header: display name must be quoted`);
        }
      }
      if (dn !== '') displayName = dn;
    }
  }
  if (i >= 0 && s.charCodeAt(i) === 60) {
    const close = s.indexOf('>', i + 1);
    if (close < 0) throw new SipParseError(`Malformed ${what} header: missing '>'`);
    uri = s.slice(i + 1, close).trim();
    rest = s.slice(close + 1);
    const r = rest.trimStart();
    if (r !== '' && r.charCodeAt(0) !== 59) throw new SipParseError(`Malformed ${what} header: junk after '>'`);
  } else {
    // addr-spec form: header params follow the URI, so the URI cannot carry ';' params or
    // '?' headers of its own (RFC 3261 20.10; RFC 4475 3.1.2.13).
    const semi = s.indexOf(';');
    uri = (semi < 0 ? s : s.slice(0, semi)).trim();
    rest = semi < 0 ? '' : s.slice(semi);
    if (uri.includes('?') || uri.includes(',')) {
      throw new SipParseError(`Malformed ${what} header: URI with '?' or ',' must be enclosed in <>`);
    }
  }
  if (!hasScheme(uri)) throw new SipParseError(`Malformed ${what} header: invalid URI`);
  if (WHITESPACE.test(uri)) throw new SipParseError(`Malformed ${what} header: whitespace inside URI`);
  const trimmed = rest.trim();
  scannedDisplayName = displayName;
  scannedParams = trimmed.charCodeAt(0) === 59 ? trimmed.slice(1) : trimmed;
  return uri;
}

/**
 * Parses one name-addr or addr-spec with header params. `what` names the header for the
 * error message ("Unterminated quoted string in From header").
 */
export function parseNameAddr(value: string, what = 'From'): NameAddr {
  const s = value.trim();
  if (s === '*') return { uri: '*', params: new Map(), wildcard: true };
  const uri = scan(s, what);
  const displayName = scannedDisplayName;
  const paramsText = scannedParams;
  clearScanned();
  const params = parseParams(paramsText, what);
  const result: NameAddr = { uri, params, wildcard: false };
  if (displayName !== undefined) result.displayName = displayName;
  const tag = params.get('tag');
  if (typeof tag === 'string' && tag !== '') result.tag = tag;
  return result;
}

/**
 * The URI text of a name-addr ("*" for a wildcard Contact), with the same checks and errors
 * as parseNameAddr() but no params map unless there are params to check: a SUBSCRIBE's
 * Contact is read only for its URI, the dialog's remote target (RFC 3261 12.1.1).
 */
export function parseNameAddrUri(value: string, what = 'From'): string {
  const s = value.trim();
  if (s === '*') return '*';
  const uri = scan(s, what);
  const paramsText = scannedParams;
  clearScanned();
  if (paramsText !== '') parseParams(paramsText, what);
  return uri;
}

/** Formats a NameAddr as `"Display" <uri>;params` (always the name-addr form, which is never ambiguous). */
export function formatNameAddr(addr: Pick<NameAddr, 'uri'> & { params: ReadonlyMap<string, string | null>; displayName?: string }): string {
  if (addr.uri === '*') return '*';
  const dn =
    addr.displayName === undefined ? '' : `"${addr.displayName.replace(/(["\\])/g, '\\$1')}" `;
  return `${dn}<${addr.uri}>${formatParams(addr.params)}`;
}

const NO_PARAMS: ReadonlyMap<string, string | null> = new Map();

/**
 * formatNameAddr() of the name-addr without its tag param: the From or To the other side of
 * a dialog echoes with its own tag (RFC 3261 12.1.1). A tag alone, or no tag, needs no copy
 * of the params, and those are the usual From and To.
 */
export function formatNameAddrWithoutTag(addr: Pick<NameAddr, 'uri' | 'params' | 'displayName'>): string {
  const params = addr.params;
  if (!params.has('tag')) return formatNameAddr(addr);
  if (params.size === 1) return formatNameAddr({ uri: addr.uri, params: NO_PARAMS, displayName: addr.displayName });
  const rest = new Map(params);
  rest.delete('tag');
  return formatNameAddr({ uri: addr.uri, params: rest, displayName: addr.displayName });
}
