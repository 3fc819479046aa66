import { formatParams, parseParams, parseSimpleParams, splitOutside } from './grammar.js';
import { SipParseError } from './sip-parse-error.js';
import { parseHostPort } from './uri.js';

/** One Via value (RFC 3261 20.42) with the parameters the stack acts on pulled out. */
export interface Via {
  /** "SIP/2.0" */
  protocol: string;
  /** Uppercase: UDP, TCP, TLS, WS, WSS, or an unknown one (RFC 4475 3.1.1.10). */
  transport: string;
  /** sent-by host; IPv6 keeps its brackets. */
  host: string;
  port?: number;
  /** All params in order, names lowercased; edit this map, then formatVia(). */
  params: Map<string, string | null>;
  branch?: string;
  /** RFC 3581: true when present without a value (a request for it). */
  rport?: number | true;
  received?: string;
  maddr?: string;
  ttl?: number;
}

function malformed(): SipParseError {
  return new SipParseError('Malformed Via header');
}

function stripWs(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) out += s[i];
  }
  return out;
}

/** Parses a single Via value (use headers.getAll('via') to get the split list). */
export function parseVia(value: string): Via {
  return parsePlainVia(value, 0, value.length) ?? parseAnyVia(value);
}

/**
 * parseVia(text.slice(start, end)), reading the plain shape straight from `text`: the
 * parser hands over the top Via where it stands in the message head, which is quicker to
 * read than a substring of it.
 */
export function parseViaAt(text: string, start: number, end: number): Via {
  return parsePlainVia(text, start, end) ?? parseAnyVia(text.slice(start, end));
}

/** The characters isValidHost() accepts in a hostname or IPv4 address. */
const HOST_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  HOST_CHAR[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 ? 1 : 0;
}

/** Number(s) for a port or TTL; plain digits, by far the usual form, need no conversion call. */
function toNumber(s: string): number {
  if (s.length === 0 || s.length > 5) return Number(s);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return Number(s);
    n = n * 10 + (c - 48);
  }
  return n;
}

/** Transports returned as constants (RFC 3261 20.42, RFC 7118 5.1) rather than new strings. */
const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WS', 'WSS', 'SCTP'];

/**
 * The shape every UA here sends, `SIP/2.0/UDP host[:port][;params]`: uppercase transport,
 * one SP, a hostname or IPv4 address, a port of at most five digits, and parameters simple
 * enough for parseSimpleParams(). Anything else (LWS around the '/' or ':', IPv6, odd
 * parameters, errors) is left to parseAnyVia(), which also produces every error; on this
 * shape both give the same result.
 */
function parsePlainVia(text: string, start: number, end: number): Via | undefined {
  if (!text.startsWith('SIP/2.0/', start) || end - start < 8) return undefined;
  const transportStart = start + 8;
  let i = transportStart;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c < 65 || c > 90) break;
    i++;
  }
  if (i === transportStart || i === end || text.charCodeAt(i) !== 32) return undefined;
  let transport: string | undefined;
  for (let k = 0; k < TRANSPORTS.length; k++) {
    const t = TRANSPORTS[k];
    if (t.length === i - transportStart && text.startsWith(t, transportStart)) {
      transport = t;
      break;
    }
  }
  transport ??= text.slice(transportStart, i);
  const hostStart = ++i;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c >= 128 || HOST_CHAR[c] === 0) break;
    i++;
  }
  if (i === hostStart) return undefined;
  const hostEnd = i;
  let port = -1;
  if (i < end && text.charCodeAt(i) === 58) {
    const portStart = ++i;
    port = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      port = port * 10 + (c - 48);
      i++;
    }
    if (i === portStart || i - portStart > 5 || port > 65535) return undefined;
  }
  let params: Map<string, string | null> | undefined;
  if (i === end) params = new Map();
  else if (text.charCodeAt(i) === 59) params = parseSimpleParams(text, i + 1, end);
  if (params === undefined) return undefined;
  return finishVia(transport, text.slice(hostStart, hostEnd), port < 0 ? undefined : port, params);
}

function parseAnyVia(value: string): Via {
  const semi = value.indexOf(';');
  const head = semi < 0 ? value : value.slice(0, semi);
  const s1 = head.indexOf('/');
  const s2 = s1 < 0 ? -1 : head.indexOf('/', s1 + 1);
  if (s2 < 0) throw malformed();
  const name = head.slice(0, s1).trim();
  const version = head.slice(s1 + 1, s2).trim();
  // LWS is allowed around '/' and before the sent-by (RFC 3261 25.1 SLASH and LWS).
  const tail = head.slice(s2 + 1).trimStart();
  let t = 0;
  while (t < tail.length && tail.charCodeAt(t) !== 32 && tail.charCodeAt(t) !== 9 && tail.charCodeAt(t) !== 13 && tail.charCodeAt(t) !== 10) t++;
  const transport = tail.slice(0, t).toUpperCase();
  const sentBy = stripWs(tail.slice(t));
  if (name === '' || version === '' || transport === '' || sentBy === '') throw malformed();
  if (name.toUpperCase() !== 'SIP' || version !== '2.0') throw new SipParseError('Malformed Via header: unsupported protocol');
  let hostPort: { host: string; port?: number };
  try {
    hostPort = parseHostPort(sentBy, 'Via');
  } catch {
    throw malformed();
  }
  let params: Map<string, string | null>;
  try {
    params = semi < 0 ? new Map() : parseParams(value.slice(semi + 1), 'Via');
  } catch {
    throw malformed();
  }
  return finishVia(transport, hostPort.host, hostPort.port, params);
}

/** Builds the Via and checks the parameters the stack acts on (RFC 3261 18.2.2, RFC 3581). */
function finishVia(transport: string, host: string, port: number | undefined, params: Map<string, string | null>): Via {
  const via: Via = { protocol: 'SIP/2.0', transport, host, params };
  if (port !== undefined) via.port = port;
  const branch = params.get('branch');
  if (branch !== undefined) {
    if (branch === null || branch === '') throw new SipParseError('Malformed Via header: empty branch');
    via.branch = branch;
  }
  const rport = params.get('rport');
  if (rport === null || rport === '') via.rport = true;
  else if (rport !== undefined) {
    const n = toNumber(rport);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new SipParseError('Malformed Via header: bad rport');
    via.rport = n;
  }
  const received = params.get('received');
  if (typeof received === 'string') via.received = received;
  const maddr = params.get('maddr');
  if (typeof maddr === 'string') via.maddr = maddr;
  const ttl = params.get('ttl');
  if (typeof ttl === 'string') {
    const n = toNumber(ttl);
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new SipParseError('Malformed Via header: bad ttl');
    via.ttl = n;
  }
  return via;
}

/** Parses a header line that may hold several comma-joined Via values. */
export function parseViaList(value: string): Via[] {
  const parts = splitOutside(value, 44);
  if (parts === null) throw malformed();
  return parts.map((p) => parseVia(p));
}

/** Formats a Via from its protocol, transport, sent-by and params map (typed fields are ignored). */
export function formatVia(via: Pick<Via, 'transport' | 'host' | 'port' | 'params'>): string {
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `SIP/2.0/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}

/** The message's top Via: the one parsed on receipt, or parsed now. Throws SipParseError. */
export function topVia(msg: { headers: { get(name: string): string | undefined }; topVia?: Via }): Via {
  if (msg.topVia !== undefined) return msg.topVia;
  const top = msg.headers.get('via');
  if (top === undefined) throw new SipParseError('Missing Via header');
  return parseVia(top);
}
