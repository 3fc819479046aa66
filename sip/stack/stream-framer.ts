/** What a framer found in the bytes pushed so far. */
export type FramerEvent =
  | { kind: 'message'; data: Buffer }
  /** A CRLFCRLF ping; RFC 5626 3.5.1 says answer with a single CRLF pong. */
  | { kind: 'keepalive' }
  /**
   * The stream cannot be framed any further and the connection must be closed. `head`
   * holds the header bytes when they were complete, so the caller can still parse them
   * and answer 400 before closing.
   */
  | { kind: 'error'; error: string; head?: Buffer };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = Buffer.from('content-length');

export interface StreamFramerOptions {
  /** Largest message accepted, headers plus body. */
  maxMessageSize?: number;
}

/**
 * Cuts a TCP/TLS byte stream into SIP messages using Content-Length, which is mandatory on
 * streams (RFC 3261 18.3, 20.14). Only the header bytes are scanned, once; bodies are never
 * copied unless a message straddles chunks.
 */
export class StreamFramer {
  private pending: Buffer = Buffer.alloc(0);
  /** Where to resume looking for the end of the headers, so a slow sender costs O(n). */
  private scanFrom = 0;
  /** Total size of the message being assembled, once its headers are complete. */
  private expected = -1;
  private headLength = 0;
  private failed = false;
  private readonly maxSize: number;

  constructor(opts: StreamFramerOptions = {}) {
    this.maxSize = opts.maxMessageSize ?? 65536;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): FramerEvent[] {
    if (this.failed) return [];
    const events: FramerEvent[] = [];
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.expected < 0) {
        // Between messages: CRLFCRLF is a ping, a lone CRLF a pong or padding (RFC 5626 3.5.1).
        let i = 0;
        while (i < buf.length) {
          if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) {
            events.push({ kind: 'keepalive' });
            i += 4;
          } else if (buf[i] === 13 && buf[i + 1] === 10 && i + 2 < buf.length && (buf[i + 2] !== 13 || i + 3 < buf.length)) {
            // A lone CRLF followed by something that cannot complete a ping.
            i += 2;
          } else if (buf[i] === 10) {
            i += 1;
          } else break;
        }
        // Keep a trailing lone CR/CRLF: it may be the first half of a ping.
        if (i > 0) {
          buf = buf.subarray(i);
          this.scanFrom = 0;
        }
        if (buf.length === 0 || (buf.length <= 3 && buf[0] === 13)) break;
        const end = buf.indexOf(CRLFCRLF, this.scanFrom);
        if (end < 0) {
          if (buf.length > this.maxSize) return this.fail(events, 'Message too large');
          this.scanFrom = Math.max(0, buf.length - 3);
          break;
        }
        this.headLength = end + 4;
        const cl = findContentLength(buf, end);
        if (cl === undefined) {
          return this.fail(events, 'Missing Content-Length header on a stream transport', buf.subarray(0, this.headLength));
        }
        if (cl < 0) return this.fail(events, 'Malformed Content-Length header', buf.subarray(0, this.headLength));
        this.expected = this.headLength + cl;
        if (this.expected > this.maxSize) return this.fail(events, 'Message too large', buf.subarray(0, this.headLength));
      }
      if (buf.length < this.expected) break;
      events.push({ kind: 'message', data: buf.subarray(0, this.expected) });
      buf = buf.subarray(this.expected);
      this.expected = -1;
      this.scanFrom = 0;
    }
    // Copy a small leftover so the big chunk it points into can be garbage-collected.
    this.pending = buf.length === 0 ? Buffer.alloc(0) : buf.length < 4096 && buf.buffer.byteLength > 65536 ? Buffer.from(buf) : buf;
    return events;
  }

  private fail(events: FramerEvent[], error: string, head?: Buffer): FramerEvent[] {
    this.failed = true;
    this.pending = Buffer.alloc(0);
    events.push(head === undefined ? { kind: 'error', error } : { kind: 'error', error, head: Buffer.from(head) });
    return events;
  }
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/**
 * Finds Content-Length (or compact "l") among the header lines in buf[0, end) without
 * decoding them. Returns undefined when absent, -1 when malformed or negative.
 */
function findContentLength(buf: Buffer, end: number): number | undefined {
  let lineStart = buf.indexOf(10) + 1; // skip the start line
  if (lineStart <= 0) return undefined;
  while (lineStart > 0 && lineStart < end) {
    const c0 = lower(buf[lineStart]);
    let nameEnd = -1;
    if (c0 === 108 /* l */) {
      let j = lineStart + 1;
      while (buf[j] === 32 || buf[j] === 9) j++;
      if (buf[j] === 58) nameEnd = j;
    }
    if (nameEnd < 0 && c0 === 99 /* c */ && end - lineStart > 14) {
      let k = 1;
      while (k < 14 && lower(buf[lineStart + k]) === CONTENT_LENGTH[k]) k++;
      if (k === 14) {
        let j = lineStart + 14;
        while (buf[j] === 32 || buf[j] === 9) j++;
        if (buf[j] === 58) nameEnd = j;
      }
    }
    if (nameEnd >= 0) {
      let j = nameEnd + 1;
      while (buf[j] === 32 || buf[j] === 9 || ((buf[j] === 13 || buf[j] === 10) && j < end)) j++;
      let n = 0;
      let digits = 0;
      while (j < end + 2 && buf[j] >= 48 && buf[j] <= 57) {
        n = n * 10 + (buf[j] - 48);
        digits++;
        j++;
      }
      if (digits === 0 || digits > 10) return -1;
      while (buf[j] === 32 || buf[j] === 9) j++;
      if (buf[j] !== 13 && buf[j] !== 10) return -1;
      return n;
    }
    lineStart = buf.indexOf(10, lineStart) + 1;
  }
  return undefined;
}
