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
  const lines = typeof values === 'string' ? [values] : values;
  const list: string[] = [];
  for (const line of lines) {
    const parts = splitOutside(line, 44);
    if (parts === null) throw new SipParseError('Malformed Accept header');
    list.push(...parts);
  }
  for (const raw of list) {
    const v = raw.trim();
    if (v === '') continue;
    const semi = v.indexOf(';');
    const mt = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
    const slash = mt.indexOf('/');
    const type = slash < 0 ? '' : mt.slice(0, slash).trim();
    const subtype = slash < 0 ? '' : mt.slice(slash + 1).trim();
    if (!isToken(type) || !isToken(subtype)) throw new SipParseError('Malformed Accept header');
    const params = semi < 0 ? new Map<string, string | null>() : parseParams(v.slice(semi + 1), 'Accept');
    const qText = params.get('q');
    const q = typeof qText === 'string' ? Number(qText) : 1;
    if (!Number.isFinite(q) || q < 0 || q > 1) throw new SipParseError('Malformed Accept header: bad q value');
    out.push({ mediaType: `${type}/${subtype}`, type, subtype, q, params });
  }
  return out;
}

/** True when a media type (e.g. "application/dialog-info+xml") matches one of the ranges with q > 0. */
export function acceptsMediaType(ranges: readonly MediaRange[], mediaType: string): boolean {
  const [type, subtype] = mediaType.toLowerCase().split('/');
  return ranges.some(
    (r) => r.q > 0 && (r.type === '*' || r.type === type) && (r.subtype === '*' || r.subtype === subtype),
  );
}
