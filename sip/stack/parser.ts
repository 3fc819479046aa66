import { TOKEN, knownMethodAt } from './grammar.js';
import { SipHeaders, firstValueOf, knownHeaderSlot } from './headers.js';
import { parseCSeq } from './cseq.js';
import { parseIntegerHeader } from './integer-header.js';
import { EMPTY_BODY, type SipMessage } from './message.js';
import { parseNameAddr } from './name-addr.js';
import { SipParseError } from './sip-parse-error.js';
import { parseVia, parseViaAt } from './via.js';

/** What was understood of a request that failed to parse, enough to answer it (RFC 3261 8.2.6). */
export interface PartialRequest {
  method: string;
  uri: string;
  headers: SipHeaders;
}

export type ParseResult =
  | { ok: true; message: SipMessage }
  | {
      ok: false;
      /** Human-readable, single line; used as the 400 reason phrase suffix. */
      error: string;
      /** Status a server should answer with: 505 for an unknown SIP version, else 400. */
      status: 400 | 505;
      /** Present when the start line was a request line. */
      request?: PartialRequest;
    };

export interface ParseOptions {
  /**
   * The buffer came from a stream framer and is exactly one message. Without it, datagram
   * rules apply: octets beyond Content-Length are discarded (RFC 3261 18.3).
   */
  stream?: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');

class MessageError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 505 = 400,
  ) {
    super(message);
  }
}

function errorText(e: unknown): string {
  if (e instanceof SipParseError || e instanceof MessageError) return e.message;
  return 'Malformed message';
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** text[start, end) is a non-empty RFC 3261 25.1 token. */
function isTokenAt(text: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** HTAB, LF, VT, FF, CR, SP: the ASCII characters that String.prototype.trim() removes. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Where trimmedSlice() cut its result from, or -1 when trim() made it. */
let trimmedStart = -1;
let trimmedEnd = -1;

/**
 * text.slice(start, end).trim() without the untrimmed string in between. trim() removes
 * Unicode spaces as well (U+00A0, U+3000, ...), so a non-ASCII character left at either end
 * is handed to trim() itself.
 */
function trimmedSlice(text: string, start: number, end: number): string {
  while (start < end && isAsciiSpace(text.charCodeAt(start))) start++;
  while (end > start && isAsciiSpace(text.charCodeAt(end - 1))) end--;
  if (start < end && (text.charCodeAt(start) >= 128 || text.charCodeAt(end - 1) >= 128)) {
    trimmedStart = -1;
    return text.slice(start, end).trim();
  }
  trimmedStart = start;
  trimmedEnd = end;
  return text.slice(start, end);
}

/** Never in a Request-URI: controls, SP, DEL, '"', '<' and '>' (RFC 3261 25.1; RFC 4475 3.1.2.7). */
const URI_EXCLUDED = new Uint8Array(128);
for (let c = 0; c < 128; c++) URI_EXCLUDED[c] = c <= 32 || c === 127 || c === 60 || c === 62 || c === 34 ? 1 : 0;

function checkRequestUri(uri: string): void {
  // RFC 3261 25.1: Request-URI = SIP-URI / SIPS-URI / absoluteURI; no <> (RFC 4475 3.1.2.7).
  const colon = uri.indexOf(':');
  if (colon <= 0) throw new MessageError('Malformed Request-URI');
  for (let i = 0; i < colon; i++) {
    const c = uri.charCodeAt(i);
    const lc = c | 0x20;
    const ok = (lc >= 97 && lc <= 122) || (i > 0 && ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46));
    if (!ok) throw new MessageError('Malformed Request-URI');
  }
  for (let i = colon; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c < 128 && URI_EXCLUDED[c] === 1) throw new MessageError('Malformed Request-URI');
  }
  // The scheme is letters, digits, '+', '-' and '.' by now, for which `| 0x20` lowercases.
  const sipScheme =
    (colon === 3 || (colon === 4 && (uri.charCodeAt(3) | 0x20) === 115)) &&
    (uri.charCodeAt(0) | 0x20) === 115 &&
    (uri.charCodeAt(1) | 0x20) === 105 &&
    (uri.charCodeAt(2) | 0x20) === 112;
  if (sipScheme) {
    // Headers are not allowed in a Request-URI (RFC 3261 19.1.1 table; RFC 4475 3.1.2.11).
    // The user part may legally contain '?', so only look after the '@'.
    const at = uri.indexOf('@');
    if (uri.indexOf('?', at < 0 ? colon : at) >= 0) throw new MessageError('Request-URI must not contain headers');
  }
}

/**
 * Parses one SIP message. Never throws: every failure comes back as {ok:false} with a
 * reason, and with the partially parsed request when there is one to answer.
 */
export function parseMessage(buf: Buffer, opts?: ParseOptions): ParseResult {
  // Most messages here have no body (SUBSCRIBE, the answers to NOTIFY), so their head ends
  // at the CRLFCRLF that ends the buffer. Parsing on that guess saves searching the buffer;
  // when the head turns out to end earlier, the message is parsed again from a search.
  return parseHead(buf, opts, true) ?? (parseHead(buf, opts, false) as ParseResult);
}

/**
 * parseMessage(), with the head taken to end at the first CRLFCRLF (or LFLF), or with
 * `guessEnd` at the four octets that end the buffer; then undefined means it ends earlier.
 * UTF-8 decoding keeps every CR and LF octet as that character in its place (an invalid
 * sequence becomes U+FFFD but never takes an ASCII octet with it), so an earlier CRLFCRLF
 * shows in the decoded head as a lone CR line after a CRLF.
 *
 * Every received message comes through here, so the head is read by index: names, values
 * and start-line fields are cut from `head` once, already trimmed, and the headers checked
 * below are noted as they are added instead of searched for afterwards.
 */
function parseHead(buf: Buffer, opts: ParseOptions | undefined, guessEnd: boolean): ParseResult | undefined {
  let start = 0;
  // Leading CRLFs are keepalives or inter-message padding (RFC 3261 7.5, RFC 5626 3.5.1).
  while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
  if (start >= buf.length) return { ok: false, error: 'Empty message', status: 400 };

  const n = buf.length;
  let headEnd: number;
  let bodyStart: number;
  if (guessEnd) {
    if (n - start < 4 || buf[n - 4] !== 13 || buf[n - 3] !== 10 || buf[n - 2] !== 13 || buf[n - 1] !== 10) return undefined;
    headEnd = n - 4;
    bodyStart = n;
  } else {
    headEnd = buf.indexOf(CRLFCRLF, start);
    if (headEnd >= 0) bodyStart = headEnd + 4;
    else {
      // Bare-LF line ends are not RFC 3261, but cost nothing to accept.
      headEnd = buf.indexOf(LFLF, start);
      bodyStart = headEnd >= 0 ? headEnd + 2 : buf.length;
      if (headEnd < 0) headEnd = buf.length;
    }
  }
  const head = buf.toString('utf8', start, headEnd);
  const missingBlankLine = bodyStart === buf.length && headEnd === buf.length;

  // The start line is head[0, lineEnd), less one trailing CR.
  let nl = head.indexOf('\n');
  let lineEnd = nl < 0 ? head.length : nl;
  if (lineEnd > 0 && head.charCodeAt(lineEnd - 1) === 13) lineEnd--;

  // Set once the Request-Line is read far enough to answer the request (RFC 3261 8.2.6).
  let method: string | undefined;
  let uri = '';
  let status = 0;
  let reason = '';
  const headers = new SipHeaders();
  let startLineError: MessageError | undefined;
  try {
    let sp1 = head.indexOf(' ');
    if (sp1 >= lineEnd) sp1 = -1;
    if (head.startsWith('SIP/') || head.startsWith('sip/')) {
      // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 7.2)
      const versionEnd = sp1 < 0 ? lineEnd : sp1;
      if (versionEnd !== 7 || !head.startsWith('2.0', 4)) {
        const version = head.slice(0, versionEnd);
        if (version.toUpperCase() !== 'SIP/2.0') throw new MessageError(`Unsupported SIP version ${version.slice(0, 20)}`, 505);
      }
      let sp2 = head.indexOf(' ', sp1 + 1);
      if (sp2 >= lineEnd) sp2 = -1;
      const codeEnd = sp2 < 0 ? lineEnd : sp2;
      const c0 = head.charCodeAt(sp1 + 1);
      if (codeEnd - sp1 !== 4 || c0 < 49 || c0 > 54 || !isDigit(head.charCodeAt(sp1 + 2)) || !isDigit(head.charCodeAt(sp1 + 3))) {
        throw new MessageError('Malformed status code');
      }
      status = (c0 - 48) * 100 + (head.charCodeAt(sp1 + 2) - 48) * 10 + (head.charCodeAt(sp1 + 3) - 48);
      if (sp2 >= 0) reason = lineEnd - sp2 === 3 && head.startsWith('OK', sp2 + 1) ? 'OK' : head.slice(sp2 + 1, lineEnd);
    } else {
      // Request-Line = Method SP Request-URI SP SIP-Version, single SPs (RFC 3261 7.1,
      // RFC 4475 3.1.2.8-10: extra or trailing whitespace is invalid).
      let sp2 = sp1 < 0 ? -1 : head.indexOf(' ', sp1 + 1);
      if (sp2 >= lineEnd) sp2 = -1;
      let m = sp1 > 0 ? knownMethodAt(head, 0, sp1) : undefined;
      if (m === undefined) {
        if (sp1 <= 0 || !isTokenAt(head, 0, sp1)) throw new MessageError('Malformed start line');
        m = head.slice(0, sp1);
      }
      if (sp2 < 0) throw new MessageError('Malformed Request-Line');
      method = m;
      uri = head.slice(sp1 + 1, sp2);
      // The rest of the request line is checked now but reported after the headers are
      // parsed: the error response needs the Via, From, To, Call-ID and CSeq.
      try {
        const versionStart = sp2 + 1;
        const sp3 = head.indexOf(' ', versionStart);
        if ((sp3 >= 0 && sp3 < lineEnd) || uri === '' || versionStart >= lineEnd) {
          throw new MessageError('Malformed Request-Line: Request-URI contains whitespace or extra spaces');
        }
        if (lineEnd - versionStart !== 7 || !head.startsWith('SIP/2.0', versionStart)) {
          const version = head.slice(versionStart, lineEnd);
          if (version.toUpperCase() !== 'SIP/2.0') {
            const known = /^SIP\/\d{1,3}\.\d{1,3}$/i.test(version);
            throw new MessageError(known ? `Unsupported SIP version ${version}` : 'Malformed SIP version', known ? 505 : 400);
          }
        }
        checkRequestUri(uri);
      } catch (e) {
        startLineError = e instanceof MessageError ? e : new MessageError('Malformed Request-Line');
      }
    }

    // Header lines; a line starting with SP/HTAB continues the previous one (RFC 3261 7.3.1).
    // A header is added once its continuation lines are in, i.e. when the next header line
    // or the end of the head is reached; the last pass of the loop (pos at the end) only adds.
    // The pending header: its slot from knownHeaderSlot(), else its name.
    let slot = -1;
    let name: string | undefined;
    let value = '';
    // head[valueStart, valueEnd) is `value`, unless valueStart is -1.
    let valueStart = -1;
    let valueEnd = -1;
    let viaText: string | undefined;
    let viaStart = -1;
    let viaEnd = -1;
    let fromText: string | undefined;
    let toText: string | undefined;
    let callId: string | undefined;
    let cseqText: string | undefined;
    let maxForwards: string | undefined;
    let contentLength: string | undefined;
    let conflictingContentLength = false;
    let pos = nl < 0 ? head.length : nl + 1;
    for (;;) {
      const more = pos < head.length;
      let lineStop = 0;
      if (more) {
        nl = head.indexOf('\n', pos);
        lineEnd = nl < 0 ? head.length : nl;
        lineStop = lineEnd > pos && head.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
        const first = head.charCodeAt(pos);
        if (first === 32 || first === 9) {
          if (slot < 0 && name === undefined) throw new MessageError('Malformed header line: continuation without a header');
          const cont = trimmedSlice(head, pos, lineStop);
          if (cont !== '') {
            value = value === '' ? cont : `${value} ${cont}`;
            valueStart = -1;
          }
          pos = lineEnd + 1;
          continue;
        }
      }
      if (slot >= 0) {
        // What headers.get() would return for each, i.e. the first line's value. Every
        // spelling of these names is a known one, so other names need no such check.
        switch (headers.addParsedKnown(slot, value)) {
          case 'via':
            if (viaText === undefined) {
              viaText = value;
              viaStart = valueStart;
              viaEnd = valueEnd;
            }
            break;
          case 'from':
            fromText ??= value;
            break;
          case 'to':
            toText ??= value;
            break;
          case 'call-id':
            callId ??= value;
            break;
          case 'cseq':
            cseqText ??= value;
            break;
          case 'max-forwards':
            maxForwards ??= value;
            break;
          case 'content-length':
            if (contentLength === undefined) contentLength = value;
            else if (value !== contentLength) conflictingContentLength = true;
            break;
        }
      } else if (name !== undefined) headers.addParsed(name, value);
      if (!more) {
        // A head ending in CRLF met the guessed CRLFCRLF two octets early.
        if (guessEnd && head.charCodeAt(head.length - 1) === 10 && head.charCodeAt(head.length - 2) === 13) return undefined;
        break;
      }
      // A line that is a lone CR after a CRLF is an earlier CRLFCRLF, where the head ends.
      if (guessEnd && lineEnd === pos + 1 && nl >= 0 && head.charCodeAt(pos) === 13 && head.charCodeAt(pos - 2) === 13) return undefined;
      const colon = head.indexOf(':', pos);
      if (colon <= pos || colon >= lineStop) throw new MessageError('Malformed header line: missing colon');
      // The name ends at the colon less trailing whitespace, which trimEnd() takes to
      // include Unicode spaces.
      let end = colon;
      while (end > pos && isAsciiSpace(head.charCodeAt(end - 1))) end--;
      if (end > pos && head.charCodeAt(end - 1) >= 128) end = pos + head.slice(pos, end).trimEnd().length;
      slot = end > pos ? knownHeaderSlot(head, pos, end) : -1;
      if (slot >= 0) name = undefined;
      else if (isTokenAt(head, pos, end)) name = head.slice(pos, end);
      else throw new MessageError('Malformed header name');
      value = trimmedSlice(head, colon + 1, lineStop);
      valueStart = trimmedStart;
      valueEnd = trimmedEnd;
      pos = lineEnd + 1;
    }
    if (startLineError !== undefined) throw startLineError;
    if (missingBlankLine) throw new MessageError('Missing empty line after headers');

    // Mandatory headers (RFC 3261 8.1.1); a response needs them too for transaction matching.
    if (viaText === undefined) throw new MessageError('Missing Via header');
    // Read from the head when the first Via line is one value as received.
    const topVia = viaStart >= 0 && !viaText.includes(',') ? parseViaAt(head, viaStart, viaEnd) : parseVia(firstValueOf('via', viaText));
    if (fromText === undefined) throw new MessageError('Missing From header');
    if (toText === undefined) throw new MessageError('Missing To header');
    // A request's From and To are validated here and handed up parsed. A response's are
    // only checked for presence: it is matched by Via branch and CSeq (RFC 3261 17.1.3) and
    // nothing here reads them, so parsing them for every NOTIFY's answer would be waste.
    const from = method !== undefined ? parseNameAddr(fromText, 'From') : undefined;
    const to = method !== undefined ? parseNameAddr(toText, 'To') : undefined;
    if (callId === undefined || callId === '') throw new MessageError('Missing Call-ID header');
    for (let i = 0; i < callId.length; i++) {
      const c = callId.charCodeAt(i);
      if (c <= 32 || c === 127) throw new MessageError('Malformed Call-ID header');
    }
    if (cseqText === undefined) throw new MessageError('Missing CSeq header');
    const cseq = parseCSeq(cseqText);
    if (method !== undefined && cseq.method !== method) {
      throw new MessageError('CSeq method does not match the request method');
    }
    if (method !== undefined && maxForwards !== undefined) parseIntegerHeader(maxForwards, 'Max-Forwards', 255);

    let bodyEnd = buf.length;
    if (contentLength !== undefined) {
      if (conflictingContentLength) throw new MessageError('Conflicting Content-Length headers');
      if (contentLength.trimStart().charCodeAt(0) === 45) throw new MessageError('Negative Content-Length');
      const cl = parseIntegerHeader(contentLength, 'Content-Length');
      if (cl > bodyEnd - bodyStart) throw new MessageError('Content-Length larger than message body');
      // RFC 3261 18.3: octets beyond Content-Length in a datagram are discarded.
      bodyEnd = bodyStart + cl;
    } else if (opts?.stream === true) {
      throw new MessageError('Missing Content-Length header on a stream transport');
    }
    // Most messages here (SUBSCRIBE, the answers to NOTIFY) have no body; an empty one need
    // not be a view that keeps the received datagram alive.
    const body = bodyEnd === bodyStart ? EMPTY_BODY : buf.subarray(bodyStart, bodyEnd);

    if (method !== undefined) {
      return { ok: true, message: { kind: 'request', method, uri, headers, body, topVia, from: from!, to: to! } };
    }
    return { ok: true, message: { kind: 'response', status, reason, headers, body, topVia } };
  } catch (e) {
    const st = e instanceof MessageError ? e.status : 400;
    if (method !== undefined) return { ok: false, error: errorText(e), status: st, request: { method, uri, headers } };
    return { ok: false, error: errorText(e), status: st };
  }
}
