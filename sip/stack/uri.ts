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
  if (host.length === 0) return false;
  if (host.charCodeAt(0) === 91 /* [ */) {
    if (host.charCodeAt(host.length - 1) !== 93) return false;
    for (let i = 1; i < host.length - 1; i++) {
      const c = host.charCodeAt(i);
      const ok = (c >= 48 && c <= 58) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 46;
      if (!ok) return false;
    }
    return host.length > 3;
  }
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    // '_' is not in the grammar but appears in real deployments' host names; tolerate it.
    const ok = (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 45 || c === 46 || c === 95;
    if (!ok) return false;
  }
  return true;
}

/** Parses "host[:port]" (with "[v6]:port"), shared by URIs and Via sent-by. */
export function parseHostPort(s: string, what: string): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (s.charCodeAt(0) === 91) {
    const close = s.indexOf(']');
    if (close < 0) throw new SipParseError(`Malformed host in ${what}`);
    host = s.slice(0, close + 1);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (rest.charCodeAt(0) !== 58) throw new SipParseError(`Malformed host in ${what}`);
      portText = rest.slice(1);
    }
  } else {
    const colon = s.indexOf(':');
    host = colon < 0 ? s : s.slice(0, colon);
    if (colon >= 0) portText = s.slice(colon + 1);
  }
  if (!isValidHost(host)) throw new SipParseError(`Malformed host in ${what}`);
  if (portText === undefined) return { host };
  return { host, port: parsePort(portText, what) };
}

function parsePort(s: string, what: string): number {
  if (s.length === 0 || s.length > 5) throw new SipParseError(`Malformed port in ${what}`);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
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
