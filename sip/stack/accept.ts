import { detachedString } from './detached-string.js';
import { isToken, parseParams, splitOutside } from './grammar.js';
import { SipParseError } from './sip-parse-error.js';

/** One media range of an Accept header (RFC 3261 20.1). */
export interface MediaRange {
  /** Lowercased "type/subtype", possibly with wildcards ("application/*", "*\/*"). */
  mediaType: string;
  type: string;
  subtype: string;
  /** The q parameter, 1 when absent. */
  q: number;
  params: Map<string, string | null>;
}

/**
 * Parses Accept values (pass headers.getAll('accept'), which splits comma-joined lines).
 * An empty list means the header was present but empty: nothing is acceptable (RFC 3261 20.1).
 */
export function parseAccept(values: string | readonly string[]): MediaRange[] {
  const out: MediaRange[] = [];
  scanAccept(typeof values === 'string' ? [values] : values, out);
  return out;
}

/**
 * Media types by Accept line, for lines that parsed. Phones of one model send the same line
 * with every SUBSCRIBE; bounded, as lines come from the network.
 */
const typesByLine = new Map<string, readonly string[]>();
const MAX_LINES = 64;

/**
 * The media types of Accept values, in order, with the checks and errors of parseAccept()
 * but without a record and params map per range: a SUBSCRIBE's Accept is only matched
 * against the event package's body type (RFC 6665 4.1.2).
 */
export function parseAcceptMediaTypes(values: readonly string[]): string[] {
  if (values.length !== 1) return scanAccept(values, undefined);
  const known = typesByLine.get(values[0]);
  if (known !== undefined) return known.slice();
  const types = scanAccept(values, undefined);
  // Both copied, so that the map keeps no message text alive.
  if (typesByLine.size < MAX_LINES) typesByLine.set(detachedString(values[0]), types.map(detachedString));
  return types;
}

/** Checks every media range and returns their media types; fills `ranges` when given. */
function scanAccept(lines: readonly string[], ranges: MediaRange[] | undefined): string[] {
  // Every line is split, and so checked for an open quote or '<', before any range is read.
  let list: string[] = [];
  for (let k = 0; k < lines.length; k++) {
    const parts = splitOutside(lines[k], 44);
    if (parts === null) throw new SipParseError('Malformed Accept header');
    if (k === 0) list = parts;
    else list.push(...parts);
  }
  const types: string[] = [];
  for (const raw of list) {
    const v = raw.trim();
    if (v === '') continue;
    const semi = v.indexOf(';');
    const mt = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
    const slash = mt.indexOf('/');
    const type = slash < 0 ? '' : mt.slice(0, slash).trim();
    const subtype = slash < 0 ? '' : mt.slice(slash + 1).trim();
    if (!isToken(type) || !isToken(subtype)) throw new SipParseError('Malformed Accept header');
    const params = semi >= 0 ? parseParams(v.slice(semi + 1), 'Accept') : undefined;
    const qText = params?.get('q');
    const q = typeof qText === 'string' ? Number(qText) : 1;
    if (!Number.isFinite(q) || q < 0 || q > 1) throw new SipParseError('Malformed Accept header: bad q value');
    // Without blanks around the '/', `mt` already is "type/subtype".
    const mediaType = type.length + subtype.length + 1 === mt.length ? mt : `${type}/${subtype}`;
    types.push(mediaType);
    ranges?.push({ mediaType, type, subtype, q, params: params ?? new Map<string, string | null>() });
  }
  return types;
}

/** True when a media type (e.g. "application/dialog-info+xml") matches one of the ranges with q > 0. */
export function acceptsMediaType(ranges: readonly MediaRange[], mediaType: string): boolean {
  const [type, subtype] = mediaType.toLowerCase().split('/');
  return ranges.some(
    (r) => r.q > 0 && (r.type === '*' || r.type === type) && (r.subtype === '*' || r.subtype === subtype),
  );
}
