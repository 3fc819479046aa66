import { formatParams, parseParams, splitOutside } from './grammar.js';
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
  const via: Via = { protocol: 'SIP/2.0', transport, host: hostPort.host, params };
  if (hostPort.port !== undefined) via.port = hostPort.port;
  const branch = params.get('branch');
  if (branch !== undefined) {
    if (branch === null || branch === '') throw new SipParseError('Malformed Via header: empty branch');
    via.branch = branch;
  }
  const rport = params.get('rport');
  if (rport === null || rport === '') via.rport = true;
  else if (rport !== undefined) {
    const n = Number(rport);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new SipParseError('Malformed Via header: bad rport');
    via.rport = n;
  }
  const received = params.get('received');
  if (typeof received === 'string') via.received = received;
  const maddr = params.get('maddr');
  if (typeof maddr === 'string') via.maddr = maddr;
  const ttl = params.get('ttl');
  if (typeof ttl === 'string') {
    const n = Number(ttl);
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
