import { SipParseError } from './sip-parse-error.js';

/** A parsed sip:, sips: or tel: URI (RFC 3261 19.1.1, RFC 3966 in its simplest form). */
export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  /** User part with %XX escapes decoded (RFC 3261 19.1.2); for tel: the number. */
  user?: string;
  password?: string;
  /** Host as written; an IPv6 reference keeps its brackets ("[::1]"). Empty for tel:. */
  host: string;
  port?: number;
  /** URI parameters, names lowercased, values decoded; a flag (";lr") maps to null. */
  params: Map<string, string | null>;
  /** URI headers ("?subject=x&priority=y"), values decoded. */
  headers: Map<string, string>;
}

const HEX = '0123456789abcdefABCDEF';

function unescape(s: string, what: string): string {
  if (!s.includes('%')) return s;
  let out = '';
  let bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) === 37 /* % */) {
      if (i + 2 >= s.length || !HEX.includes(s[i + 1]) || !HEX.includes(s[i + 2])) {
        throw new SipParseError(`Malformed escape in ${what}`);
      }
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      if (bytes.length > 0) {
        out += Buffer.from(bytes).toString('utf8');
        bytes = [];
      }
      out += s[i];
    }
  }
  if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
  return out;
}

/** Validates a hostname / IPv4 / bracketed IPv6 host (RFC 3261 25.1 `host`). */
export function isValidHost(host: string): boolean {
  return isValidHostAt(host, 0, host.length);
}

/** The characters isValidHost() accepts outside brackets, by char code. */
const HOST_CHAR = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.') HOST_CHAR[c.charCodeAt(0)] = 1;
// '_' is not in the grammar but appears in real deployments' host names; tolerate it.
HOST_CHAR[95] = 1;

/** isValidHost() of s[start, end), without cutting it out. */
function isValidHostAt(s: string, start: number, end: number): boolean {
  if (end <= start) return false;
  if (s.charCodeAt(start) === 91 /* [ */) {
    if (s.charCodeAt(end - 1) !== 93) return false;
    for (let i = start + 1; i < end - 1; i++) {
      const c = s.charCodeAt(i);
      const ok = (c >= 48 && c <= 58) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 46;
      if (!ok) return false;
    }
    return end - start > 3;
  }
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HOST_CHAR[c] === 0) return false;
  }
  return true;
}

/** Parses "host[:port]" (with "[v6]:port"), shared by URIs and Via sent-by. */
export function parseHostPort(s: string, what: string): { host: string; port?: number } {
  const hostEnd = checkHost(s, 0, s.length, what);
  const host = s.slice(0, hostEnd);
  if (hostEnd === s.length) return { host };
  return { host, port: parsePort(s, hostEnd + 1, s.length, what) };
}

/**
 * Checks the host of "host[:port]" in s[start, end) as parseHostPort() does, with its
 * errors, and returns where the host ends: at the ':' before the port, or at `end`.
 */
function checkHost(s: string, start: number, end: number, what: string): number {
  let hostEnd: number;
  if (start < end && s.charCodeAt(start) === 91) {
    const close = s.indexOf(']', start);
    if (close < 0 || close >= end) throw new SipParseError(`Malformed host in ${what}`);
    hostEnd = close + 1;
    if (hostEnd < end && s.charCodeAt(hostEnd) !== 58) throw new SipParseError(`Malformed host in ${what}`);
  } else {
    const colon = s.indexOf(':', start);
    hostEnd = colon < 0 || colon >= end ? end : colon;
  }
  if (!isValidHostAt(s, start, hostEnd)) throw new SipParseError(`Malformed host in ${what}`);
  return hostEnd;
}

/** The port in s[start, end). */
function parsePort(s: string, start: number, end: number, what: string): number {
  if (end === start || end - start > 5) throw new SipParseError(`Malformed port in ${what}`);
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) throw new SipParseError(`Malformed port in ${what}`);
    n = n * 10 + (c - 48);
  }
  if (n > 65535) throw new SipParseError(`Malformed port in ${what}`);
  return n;
}

function parseUriParams(s: string, into: Map<string, string | null>, what: string): void {
  for (const part of s.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq === 0) throw new SipParseError(`Malformed ${what} parameter`);
    if (eq < 0) into.set(unescape(part, what).toLowerCase(), null);
    else into.set(unescape(part.slice(0, eq), what).toLowerCase(), unescape(part.slice(eq + 1), what));
  }
}

/**
 * Parses a URI. Throws SipParseError for anything but sip:, sips: and tel: and for a
 * malformed host, port or escape. `what` names the place in error messages.
 */
export function parseUri(text: string, what = 'URI'): SipUri {
  const s = text.trim();
  const colon = s.indexOf(':');
  if (colon <= 0) throw new SipParseError(`Malformed ${what}`);
  const scheme = s.slice(0, colon).toLowerCase();
  const rest = s.slice(colon + 1);
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c <= 32 || c === 127) throw new SipParseError(`Malformed ${what}: contains whitespace or control characters`);
  }
  const params = new Map<string, string | null>();
  const headers = new Map<string, string>();
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (number === '') throw new SipParseError(`Malformed ${what}`);
    if (semi >= 0) parseUriParams(rest.slice(semi + 1), params, what);
    return { scheme: 'tel', user: unescape(number, what), host: '', params, headers };
  }
  if (scheme !== 'sip' && scheme !== 'sips') {
    throw new SipParseError(`Unsupported URI scheme "${scheme}" in ${what}`);
  }
  // RFC 3261 25.1: '@' is not allowed unescaped in params or headers, so the first one
  // ends the userinfo, which itself may contain ';' and '?' (RFC 4475 3.1.1.x).
  const at = rest.indexOf('@');
  let user: string | undefined;
  let password: string | undefined;
  let hostPart = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    user = unescape(pc < 0 ? userinfo : userinfo.slice(0, pc), what);
    if (pc >= 0) password = unescape(userinfo.slice(pc + 1), what);
    if (user === '') throw new SipParseError(`Malformed ${what}: empty user part`);
  }
  let end = hostPart.length;
  const semi = hostPart.indexOf(';');
  const q = hostPart.indexOf('?');
  if (semi >= 0) end = semi;
  if (q >= 0 && q < end) end = q;
  const { host, port } = parseHostPort(hostPart.slice(0, end), what);
  if (semi >= 0 && (q < 0 || semi < q)) parseUriParams(hostPart.slice(semi + 1, q < 0 ? undefined : q), params, what);
  if (q >= 0) {
    for (const pair of hostPart.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new SipParseError(`Malformed ${what} header`);
      headers.set(unescape(pair.slice(0, eq), what), unescape(pair.slice(eq + 1), what));
    }
  }
  const uri: SipUri = { scheme, host, params, headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}

/** True when s[start, end) has a malformed %XX escape, the check unescape() makes before decoding. */
function hasBadEscape(s: string, start: number, end: number): boolean {
  for (let i = s.indexOf('%', start); i >= 0 && i < end; i = s.indexOf('%', i + 3)) {
    if (i + 2 >= end || !HEX.includes(s[i + 1]) || !HEX.includes(s[i + 2])) return true;
  }
  return false;
}

/**
 * Checks the params and headers of a URI as parseUri() does, with its messages and in its
 * order, without collecting them. `semi` and `q` are the first ';' and '?' after the
 * userinfo, or -1: params run from `semi` to `q` when `semi` comes first, headers from `q`.
 * A tel: URI passes no `q`, as its params run to the end.
 */
function checkParamsAndHeaders(s: string, semi: number, q: number, what: string): void {
  if (semi >= 0 && (q < 0 || semi < q)) {
    const end = q < 0 ? s.length : q;
    for (let start = semi + 1; start <= end; ) {
      let stop = s.indexOf(';', start);
      if (stop < 0 || stop > end) stop = end;
      if (stop > start) {
        let eq = s.indexOf('=', start);
        if (eq >= stop) eq = -1;
        if (eq === start) throw new SipParseError(`Malformed ${what} parameter`);
        if (eq < 0 ? hasBadEscape(s, start, stop) : hasBadEscape(s, start, eq) || hasBadEscape(s, eq + 1, stop)) {
          throw new SipParseError(`Malformed escape in ${what}`);
        }
      }
      start = stop + 1;
    }
  }
  if (q >= 0) {
    for (let start = q + 1; start <= s.length; ) {
      let stop = s.indexOf('&', start);
      if (stop < 0) stop = s.length;
      if (stop > start) {
        const eq = s.indexOf('=', start);
        if (eq <= start || eq >= stop) throw new SipParseError(`Malformed ${what} header`);
        if (hasBadEscape(s, start, eq) || hasBadEscape(s, eq + 1, stop)) throw new SipParseError(`Malformed escape in ${what}`);
      }
      start = stop + 1;
    }
  }
}

/**
 * What parseUri() rejects after the scheme. A regex scans faster than a charCodeAt() loop;
 * the g flag lets lastIndex start it after the scheme.
 */
const SPACE_OR_CONTROL = /[\x00-\x20\x7f]/g;

/** The lowercase scheme of s[0, colon) when it is one parseUri() takes, else undefined. */
function knownScheme(s: string, colon: number): 'sip' | 'sips' | 'tel' | undefined {
  if (colon !== 3 && colon !== 4) return undefined;
  const c0 = s.charCodeAt(0) | 0x20;
  const c1 = s.charCodeAt(1) | 0x20;
  const c2 = s.charCodeAt(2) | 0x20;
  if (colon === 3 && c0 === 116 && c1 === 101 && c2 === 108) return 'tel';
  if (c0 !== 115 || c1 !== 105 || c2 !== 112) return undefined;
  if (colon === 3) return 'sip';
  return (s.charCodeAt(3) | 0x20) === 115 ? 'sips' : undefined;
}

/**
 * The user and host of a URI, with the same checks and error messages as parseUri() but
 * without building its parameter and header maps: every SUBSCRIBE has three URIs of which
 * only these parts are kept. The user is decoded as in parseUri(); the host is as written.
 */
export function parseUriUserHost(text: string, what = 'URI'): { user?: string; host: string } {
  const s = text.trim();
  const colon = s.indexOf(':');
  if (colon <= 0) throw new SipParseError(`Malformed ${what}`);
  SPACE_OR_CONTROL.lastIndex = colon + 1;
  if (SPACE_OR_CONTROL.test(s)) throw new SipParseError(`Malformed ${what}: contains whitespace or control characters`);
  const scheme = knownScheme(s, colon);
  if (scheme === 'tel') {
    const semi = s.indexOf(';', colon + 1);
    const numberEnd = semi < 0 ? s.length : semi;
    if (numberEnd === colon + 1) throw new SipParseError(`Malformed ${what}`);
    if (semi >= 0) checkParamsAndHeaders(s, semi, -1, what);
    return { user: unescape(s.slice(colon + 1, numberEnd), what), host: '' };
  }
  if (scheme === undefined) {
    throw new SipParseError(`Unsupported URI scheme "${s.slice(0, colon).toLowerCase()}" in ${what}`);
  }
  // As in parseUri(): the first '@' ends the userinfo (RFC 3261 25.1, RFC 4475 3.1.1.x).
  const at = s.indexOf('@', colon + 1);
  let user: string | undefined;
  let hostStart = colon + 1;
  if (at >= 0) {
    let pc = s.indexOf(':', colon + 1);
    if (pc > at) pc = -1;
    user = unescape(s.slice(colon + 1, pc < 0 ? at : pc), what);
    if (pc >= 0 && hasBadEscape(s, pc + 1, at)) throw new SipParseError(`Malformed escape in ${what}`);
    if (user === '') throw new SipParseError(`Malformed ${what}: empty user part`);
    hostStart = at + 1;
  }
  const semi = s.indexOf(';', hostStart);
  const q = s.indexOf('?', hostStart);
  let end = s.length;
  if (semi >= 0) end = semi;
  if (q >= 0 && q < end) end = q;
  const hostEnd = checkHost(s, hostStart, end, what);
  if (hostEnd < end) parsePort(s, hostEnd + 1, end, what);
  checkParamsAndHeaders(s, semi, q, what);
  const host = s.slice(hostStart, hostEnd);
  return user !== undefined ? { user, host } : { host };
}

/** Characters that must be escaped in the user part (RFC 3261 25.1 `user`). */
function escapeUser(s: string): string {
  return s.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) =>
    Array.from(Buffer.from(c, 'utf8'), (b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

/** Formats a SipUri back to text, escaping the user part. */
export function formatUri(uri: SipUri): string {
  let out = `${uri.scheme}:`;
  if (uri.scheme === 'tel') out += uri.user ?? '';
  else {
    if (uri.user !== undefined) {
      out += escapeUser(uri.user);
      if (uri.password !== undefined) out += ':' + escapeUser(uri.password);
      out += '@';
    }
    out += uri.host;
    if (uri.port !== undefined) out += `:${uri.port}`;
  }
  for (const [k, v] of uri.params) out += v === null ? `;${k}` : `;${k}=${v}`;
  let first = true;
  for (const [k, v] of uri.headers) {
    out += `${first ? '?' : '&'}${k}=${encodeURIComponent(v)}`;
    first = false;
  }
  return out;
}
