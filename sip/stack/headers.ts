import { splitOutside } from './grammar.js';

/** RFC 3261 7.3.3 and the IANA registry: compact forms, expanded on the way in. */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  m: 'contact',
  v: 'via',
  l: 'content-length',
  c: 'content-type',
  o: 'event',
  k: 'supported',
  u: 'allow-events',
  s: 'subject',
  e: 'content-encoding',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
  y: 'identity',
};

/** Spellings that plain title-casing gets wrong. Everything else is title-cased per dash. */
const CANONICAL_EXCEPTIONS: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'p-asserted-identity': 'P-Asserted-Identity',
};

/**
 * Headers whose values may be comma-joined into one line (RFC 3261 7.3.1: only those whose
 * grammar is a comma-separated list). Date and the authentication headers contain commas
 * inside a single value and are deliberately absent.
 */
const LIST_HEADERS = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'allow-events', 'supported', 'require',
  'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language',
  'content-encoding', 'content-language', 'in-reply-to', 'path', 'service-route',
  'alert-info', 'call-info', 'error-info', 'warning', 'p-asserted-identity', 'reason',
]);

const canonicalCache = new Map<string, string>();
const keyCache = new Map<string, string>();

/** Well-known headers get their canonical spelling on parse; unknown ones keep the sender's. */
const WELL_KNOWN = [
  'via', 'from', 'to', 'call-id', 'cseq', 'contact', 'max-forwards', 'expires', 'min-expires',
  'content-length', 'content-type', 'content-encoding', 'content-disposition', 'event',
  'allow-events', 'subscription-state', 'accept', 'allow', 'supported', 'require', 'route',
  'record-route', 'user-agent', 'server', 'date', 'authorization', 'www-authenticate',
  'proxy-authenticate', 'proxy-authorization', 'sip-etag', 'sip-if-match', 'subject',
  'refer-to', 'referred-by', 'session-expires', 'identity', 'timestamp', 'warning', 'unsupported',
  'proxy-require', 'organization', 'priority', 'retry-after', 'path', 'p-asserted-identity',
];

/** Lowercase long-form key used for lookups: "v" and "VIA" both become "via". */
export function headerKey(name: string): string {
  // Header names repeat endlessly on the wire; a bounded cache beats lowercasing each time.
  let key = keyCache.get(name);
  if (key === undefined) {
    const lower = name.toLowerCase();
    key = Object.hasOwn(COMPACT, lower) ? COMPACT[lower] : lower;
    if (keyCache.size < 4096) keyCache.set(name, key);
  }
  return key;
}

/** The conventional spelling used on output, e.g. "call-id" -> "Call-ID". */
export function canonicalHeaderName(name: string): string {
  const key = headerKey(name);
  let canonical = canonicalCache.get(key);
  if (canonical === undefined) {
    canonical =
      CANONICAL_EXCEPTIONS[key] ??
      key.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
    if (canonicalCache.size < 1000) canonicalCache.set(key, canonical);
  }
  return canonical;
}

for (const name of WELL_KNOWN) canonicalHeaderName(name);

/**
 * The names the parser meets on nearly every message, looked up straight from the message
 * text so that no name string is cut out and no keyCache lookup is needed. Holds every
 * well-known name and every compact form (all of which expand to well-known names), so a
 * name found here gets the key headerKey() and the spelling addParsed() would give it: a
 * well-known key is put in canonicalCache above and never leaves it. Open addressing on a
 * hash of the length and the first and last characters, lowercased.
 */
const NAME_SLOTS = 256;
const slotSpelling: string[] = new Array<string>(NAME_SLOTS).fill('');
const slotKey: string[] = new Array<string>(NAME_SLOTS).fill('');
const slotCanonical: string[] = new Array<string>(NAME_SLOTS).fill('');

function nameHash(text: string, start: number, end: number): number {
  return ((end - start) * 37 + (text.charCodeAt(start) | 0x20) * 11 + (text.charCodeAt(end - 1) | 0x20)) & (NAME_SLOTS - 1);
}

for (const spelling of [...WELL_KNOWN, ...Object.keys(COMPACT)]) {
  let slot = nameHash(spelling, 0, spelling.length);
  while (slotSpelling[slot] !== '') slot = (slot + 1) & (NAME_SLOTS - 1);
  slotSpelling[slot] = spelling;
  slotKey[slot] = headerKey(spelling);
  slotCanonical[slot] = canonicalHeaderName(spelling);
}

/**
 * The slot of the known header name text[start, end) (end > start), compared
 * case-insensitively (RFC 3261 7.3.1), or -1. A match is a valid token, as every known
 * spelling is one.
 */
export function knownHeaderSlot(text: string, start: number, end: number): number {
  const len = end - start;
  let slot = nameHash(text, start, end);
  for (;;) {
    const spelling = slotSpelling[slot];
    if (spelling === '') return -1;
    if (spelling.length === len) {
      let i = 0;
      for (; i < len; i++) {
        const c = text.charCodeAt(start + i);
        const k = spelling.charCodeAt(i);
        // Spellings are lowercase letters and '-', so only a letter may match in upper case.
        if (c !== k && (k < 97 || k > 122 || c !== k - 32)) break;
      }
      if (i === len) return slot;
    }
    slot = (slot + 1) & (NAME_SLOTS - 1);
  }
}

/**
 * What get() returns for a line's value: the first element of a comma-joined list header
 * (RFC 3261 7.3.1), else the whole value.
 */
export function firstValueOf(key: string, value: string): string {
  if (LIST_HEADERS.has(key) && value.includes(',')) {
    const parts = splitOutside(value, 44);
    return parts === null ? value : parts[0].trim();
  }
  return value;
}

export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(headerKey(name));
}

interface HeaderEntry {
  key: string;
  name: string;
  value: string;
}

/** Input accepted by the builders: ordered pairs or a record (a value array repeats the header). */
export type HeaderInit =
  | ReadonlyArray<readonly [string, string]>
  | Readonly<Record<string, string | number | ReadonlyArray<string>>>;

/**
 * An ordered, case-insensitive SIP header list. Lines are kept as received (one entry per
 * header line) so serialization reproduces the original order (RFC 3261 7.3.1 says the
 * relative order of same-name headers is significant); comma-joined list values are only
 * split when asked for through getAll().
 */
export class SipHeaders implements Iterable<[string, string]> {
  private entries: HeaderEntry[] = [];

  constructor(init?: HeaderInit) {
    if (init !== undefined) this.appendAll(init);
  }

  /** First value of the header (for list headers, the first element of the first line). */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const e of this.entries) if (e.key === key) return firstValueOf(key, e.value);
    return undefined;
  }

  /** All values in order; list headers have comma-joined lines split into elements. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = LIST_HEADERS.has(key);
    const out: string[] = [];
    for (const e of this.entries) {
      if (e.key !== key) continue;
      if (list && e.value.includes(',')) {
        const parts = splitOutside(e.value, 44);
        if (parts === null) out.push(e.value);
        else for (const p of parts) {
          const t = p.trim();
          if (t !== '') out.push(t);
        }
      } else out.push(e.value);
    }
    return out;
  }

  /** The header lines as received, without splitting comma-joined values. */
  getLines(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const e of this.entries) if (e.key === key) out.push(e.value);
    return out;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    for (const e of this.entries) if (e.key === key) return true;
    return false;
  }

  /** Replaces every line of the header with the given value(s), at the first one's position. */
  set(name: string, value: string | number | ReadonlyArray<string>): this {
    const key = headerKey(name);
    const values = typeof value === 'object' ? value : [String(value)];
    const canonical = canonicalHeaderName(name);
    const idx = this.entries.findIndex((e) => e.key === key);
    this.entries = this.entries.filter((e) => e.key !== key);
    const fresh = values.map((v) => ({ key, name: canonical, value: v }));
    if (idx < 0) this.entries.push(...fresh);
    else this.entries.splice(Math.min(idx, this.entries.length), 0, ...fresh);
    return this;
  }

  append(name: string, value: string | number): this {
    this.entries.push({ key: headerKey(name), name: canonicalHeaderName(name), value: String(value) });
    return this;
  }

  /** Adds a line before all others, as a proxy or UAC does with its own Via (RFC 3261 8.1.1.7). */
  prepend(name: string, value: string | number): this {
    this.entries.unshift({ key: headerKey(name), name: canonicalHeaderName(name), value: String(value) });
    return this;
  }

  /**
   * Replaces the first element of a (possibly comma-joined) header, keeping the rest: how
   * `received`/`rport` are added to the top Via (RFC 3581 4) without disturbing lower ones.
   */
  replaceFirst(name: string, value: string): this {
    const key = headerKey(name);
    const idx = this.entries.findIndex((e) => e.key === key);
    if (idx < 0) return this.append(name, value);
    const entry = this.entries[idx];
    const parts = LIST_HEADERS.has(key) && entry.value.includes(',') ? splitOutside(entry.value, 44) : null;
    const rest = parts === null ? [] : parts.slice(1).map((p) => p.trim()).filter((p) => p !== '');
    this.entries[idx] = { key, name: entry.name, value: rest.length === 0 ? value : [value, ...rest].join(', ') };
    return this;
  }

  delete(name: string): this {
    const key = headerKey(name);
    this.entries = this.entries.filter((e) => e.key !== key);
    return this;
  }

  appendAll(init: HeaderInit): this {
    if (Array.isArray(init)) {
      for (const [n, v] of init as ReadonlyArray<readonly [string, string]>) this.append(n, v);
    } else {
      for (const [n, v] of Object.entries(init as Readonly<Record<string, string | number | ReadonlyArray<string>>>)) {
        if (typeof v === 'object') for (const x of v) this.append(n, x);
        else this.append(n, v);
      }
    }
    return this;
  }

  /** Number of header lines. */
  get size(): number {
    return this.entries.length;
  }

  clone(): SipHeaders {
    const copy = new SipHeaders();
    copy.entries = this.entries.map((e) => ({ ...e }));
    return copy;
  }

  /**
   * The header lines as wire text, "Name: value\r\n" each in order, leaving out `skip`
   * (serialization writes its own Content-Length). No iterator or pair per line: this runs
   * for every message sent.
   */
  wireText(skip: string): string {
    let out = '';
    for (const e of this.entries) if (e.name !== skip) out += `${e.name}: ${e.value}\r\n`;
    return out;
  }

  /** Yields [canonical name, value] per header line, in order, for serialization. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const e of this.entries) yield [e.name, e.value];
  }

  /**
   * Fast path for the parser: the name is already trimmed and the line already unfolded.
   * Unknown header names keep the sender's spelling; known ones get the canonical one.
   */
  addParsed(rawName: string, value: string): void {
    const key = headerKey(rawName);
    const name = canonicalCache.get(key) ?? rawName;
    this.entries.push({ key, name, value });
  }

  /**
   * addParsed() for a name found by knownHeaderSlot(), with no name string needed. Returns
   * the lookup key, so the parser can note the headers it checks itself.
   */
  addParsedKnown(slot: number, value: string): string {
    const key = slotKey[slot];
    this.entries.push({ key, name: slotCanonical[slot], value });
    return key;
  }
}
