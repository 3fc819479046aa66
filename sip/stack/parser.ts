import { TOKEN } from './grammar.js';
import { SipHeaders } from './headers.js';
import { parseCSeq } from './cseq.js';
import { parseIntegerHeader } from './integer-header.js';
import type { SipMessage } from './message.js';
import { parseNameAddr } from './name-addr.js';
import { SipParseError } from './sip-parse-error.js';
import { parseVia } from './via.js';

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

function isDigit3(s: string): boolean {
  if (s.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function checkToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

function checkRequestUri(uri: string): void {
  // RFC 3261 25.1: Request-URI = SIP-URI / SIPS-URI / absoluteURI; no <> (RFC 4475 3.1.2.7).
  const colon = uri.indexOf(':');
  if (colon <= 0) throw new MessageError('Malformed Request-URI');
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 60 || c === 62 || c === 34) throw new MessageError('Malformed Request-URI');
    if (i < colon) {
      const lc = c | 0x20;
      const ok = (lc >= 97 && lc <= 122) || (i > 0 && ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46));
      if (!ok) throw new MessageError('Malformed Request-URI');
    }
  }
  const scheme = uri.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') {
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
  let start = 0;
  // Leading CRLFs are keepalives or inter-message padding (RFC 3261 7.5, RFC 5626 3.5.1).
  while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
  if (start >= buf.length) return { ok: false, error: 'Empty message', status: 400 };

  let headEnd = buf.indexOf(CRLFCRLF, start);
  let bodyStart: number;
  if (headEnd >= 0) bodyStart = headEnd + 4;
  else {
    // Bare-LF line ends are not RFC 3261, but cost nothing to accept.
    headEnd = buf.indexOf(LFLF, start);
    bodyStart = headEnd >= 0 ? headEnd + 2 : buf.length;
    if (headEnd < 0) headEnd = buf.length;
  }
  const head = buf.toString('utf8', start, headEnd);
  const missingBlankLine = bodyStart === buf.length && headEnd === buf.length;

  let nl = head.indexOf('\n');
  let startLine = nl < 0 ? head : head.slice(0, nl);
  if (startLine.charCodeAt(startLine.length - 1) === 13) startLine = startLine.slice(0, -1);

  let request: PartialRequest | undefined;
  let status = 0;
  let reason = '';
  const headers = new SipHeaders();
  let startLineError: MessageError | undefined;
  try {
    if (startLine.startsWith('SIP/') || startLine.startsWith('sip/')) {
      // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 7.2)
      const sp1 = startLine.indexOf(' ');
      const version = sp1 < 0 ? startLine : startLine.slice(0, sp1);
      if (version.toUpperCase() !== 'SIP/2.0') throw new MessageError(`Unsupported SIP version ${version.slice(0, 20)}`, 505);
      const sp2 = startLine.indexOf(' ', sp1 + 1);
      const code = sp2 < 0 ? startLine.slice(sp1 + 1) : startLine.slice(sp1 + 1, sp2);
      if (!isDigit3(code) || code.charCodeAt(0) < 49 || code.charCodeAt(0) > 54) {
        throw new MessageError('Malformed status code');
      }
      status = Number(code);
      reason = sp2 < 0 ? '' : startLine.slice(sp2 + 1);
    } else {
      // Request-Line = Method SP Request-URI SP SIP-Version, single SPs (RFC 3261 7.1,
      // RFC 4475 3.1.2.8-10: extra or trailing whitespace is invalid).
      const sp1 = startLine.indexOf(' ');
      const sp2 = sp1 < 0 ? -1 : startLine.indexOf(' ', sp1 + 1);
      if (sp1 <= 0 || !checkToken(startLine.slice(0, sp1))) throw new MessageError('Malformed start line');
      const method = startLine.slice(0, sp1);
      if (sp2 < 0) throw new MessageError('Malformed Request-Line');
      const uri = startLine.slice(sp1 + 1, sp2);
      const version = startLine.slice(sp2 + 1);
      request = { method, uri, headers };
      // The rest of the request line is checked now but reported after the headers are
      // parsed: the error response needs the Via, From, To, Call-ID and CSeq.
      try {
        if (startLine.indexOf(' ', sp2 + 1) >= 0 || uri === '' || version === '') {
          throw new MessageError('Malformed Request-Line: Request-URI contains whitespace or extra spaces');
        }
        if (version.toUpperCase() !== 'SIP/2.0') {
          const known = /^SIP\/\d{1,3}\.\d{1,3}$/i.test(version);
          throw new MessageError(known ? `Unsupported SIP version ${version}` : 'Malformed SIP version', known ? 505 : 400);
        }
        checkRequestUri(uri);
      } catch (e) {
        startLineError = e instanceof MessageError ? e : new MessageError('Malformed Request-Line');
      }
    }

    // Header lines; a line starting with SP/HTAB continues the previous one (RFC 3261 7.3.1).
    let name: string | undefined;
    let value = '';
    let pos = nl < 0 ? head.length : nl + 1;
    while (pos < head.length) {
      nl = head.indexOf('\n', pos);
      const lineEnd = nl < 0 ? head.length : nl;
      const cr = lineEnd > pos && head.charCodeAt(lineEnd - 1) === 13 ? 1 : 0;
      const first = head.charCodeAt(pos);
      if (first === 32 || first === 9) {
        if (name === undefined) throw new MessageError('Malformed header line: continuation without a header');
        const cont = head.slice(pos, lineEnd - cr).trim();
        if (cont !== '') value = value === '' ? cont : `${value} ${cont}`;
      } else {
        if (name !== undefined) headers.addParsed(name, value);
        const line = head.slice(pos, lineEnd - cr);
        const colon = line.indexOf(':');
        if (colon <= 0) throw new MessageError('Malformed header line: missing colon');
        name = line.slice(0, colon).trimEnd();
        if (!checkToken(name)) throw new MessageError('Malformed header name');
        value = line.slice(colon + 1).trim();
      }
      pos = lineEnd + 1;
    }
    if (name !== undefined) headers.addParsed(name, value);
    if (startLineError !== undefined) throw startLineError;
    if (missingBlankLine) throw new MessageError('Missing empty line after headers');

    // Mandatory headers (RFC 3261 8.1.1); a response needs them too for transaction matching.
    const via = headers.get('via');
    if (via === undefined) throw new MessageError('Missing Via header');
    const topVia = parseVia(via);
    const fromText = headers.get('from');
    if (fromText === undefined) throw new MessageError('Missing From header');
    const toText = headers.get('to');
    if (toText === undefined) throw new MessageError('Missing To header');
    // A request's From and To are validated here and handed up parsed. A response's are
    // only checked for presence: it is matched by Via branch and CSeq (RFC 3261 17.1.3) and
    // nothing here reads them, so parsing them for every NOTIFY's answer would be waste.
    const from = request !== undefined ? parseNameAddr(fromText, 'From') : undefined;
    const to = request !== undefined ? parseNameAddr(toText, 'To') : undefined;
    const callId = headers.get('call-id');
    if (callId === undefined || callId === '') throw new MessageError('Missing Call-ID header');
    for (let i = 0; i < callId.length; i++) {
      const c = callId.charCodeAt(i);
      if (c <= 32 || c === 127) throw new MessageError('Malformed Call-ID header');
    }
    const cseqText = headers.get('cseq');
    if (cseqText === undefined) throw new MessageError('Missing CSeq header');
    const cseq = parseCSeq(cseqText);
    if (request !== undefined && cseq.method !== request.method) {
      throw new MessageError('CSeq method does not match the request method');
    }
    if (request !== undefined) {
      const mf = headers.get('max-forwards');
      if (mf !== undefined) parseIntegerHeader(mf, 'Max-Forwards', 255);
    }

    let body = buf.subarray(bodyStart);
    const clLines = headers.getLines('content-length');
    if (clLines.length > 0) {
      for (const l of clLines) if (l !== clLines[0]) throw new MessageError('Conflicting Content-Length headers');
      const clText = clLines[0];
      if (clText.trimStart().charCodeAt(0) === 45) throw new MessageError('Negative Content-Length');
      const cl = parseIntegerHeader(clText, 'Content-Length');
      if (cl > body.length) throw new MessageError('Content-Length larger than message body');
      // RFC 3261 18.3: octets beyond Content-Length in a datagram are discarded.
      if (cl < body.length) body = body.subarray(0, cl);
    } else if (opts?.stream === true) {
      throw new MessageError('Missing Content-Length header on a stream transport');
    }

    if (request !== undefined) {
      return { ok: true, message: { kind: 'request', method: request.method, uri: request.uri, headers, body, topVia, from: from!, to: to! } };
    }
    return { ok: true, message: { kind: 'response', status, reason, headers, body, topVia } };
  } catch (e) {
    const st = e instanceof MessageError ? e.status : 400;
    if (request !== undefined) return { ok: false, error: errorText(e), status: st, request };
    return { ok: false, error: errorText(e), status: st };
  }
}
