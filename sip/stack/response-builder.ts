import { SipHeaders, canonicalHeaderName, type HeaderInit } from './headers.js';
import { EMPTY_BODY, type SipRequest, type SipResponse } from './message.js';

const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 200: 'OK', 202: 'Accepted', 204: 'No Notification',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required',
  408: 'Request Timeout', 410: 'Gone', 412: 'Conditional Request Failed', 413: 'Request Entity Too Large',
  415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 420: 'Bad Extension',
  423: 'Interval Too Brief', 480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected', 483: 'Too Many Hops', 489: 'Bad Event', 500: 'Server Internal Error',
  501: 'Not Implemented', 503: 'Service Unavailable', 505: 'Version Not Supported',
  513: 'Message Too Large', 603: 'Decline',
};

/** The RFC 3261 21 reason phrase for a status code. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 200 ? 'Provisional' : status < 300 ? 'OK' : 'Error');
}

/** Methods whose 2xx creates a dialog, so the route set must be echoed (RFC 3261 12.1.1). */
const DIALOG_CREATING = new Set(['SUBSCRIBE', 'REFER', 'INVITE']);

export interface BuildResponseOptions {
  /** Added to To when it has no tag yet (RFC 3261 8.2.6.2); ignored for 100. */
  toTag?: string;
  /** Value of a Server header, unless extra headers already have one. */
  server?: string;
}

/**
 * Builds a response to `req` per RFC 3261 8.2.6: Via lines, From, To, Call-ID and CSeq are
 * copied (Via exactly, including the received/rport stamps of 18.2.1), then the extra
 * headers. Content-Length is computed at serialization.
 */
export function buildResponse(
  req: Pick<SipRequest, 'method' | 'headers'>,
  status: number,
  reason?: string,
  extraHeaders?: HeaderInit,
  body?: Buffer | string,
  opts: BuildResponseOptions = {},
): SipResponse {
  const h = new SipHeaders();
  for (const v of req.headers.getLines('via')) h.append('Via', v);
  const from = req.headers.get('from');
  if (from !== undefined) h.append('From', from);
  const to = req.headers.get('to');
  if (to !== undefined) {
    const needsTag = status > 100 && opts.toTag !== undefined && !hasTag(to);
    h.append('To', needsTag ? `${to};tag=${opts.toTag}` : to);
  }
  const callId = req.headers.get('call-id');
  if (callId !== undefined) h.append('Call-ID', callId);
  const cseq = req.headers.get('cseq');
  if (cseq !== undefined) h.append('CSeq', cseq);
  if (status >= 200 && status < 300 && DIALOG_CREATING.has(req.method)) {
    for (const rr of req.headers.getLines('record-route')) h.append('Record-Route', rr);
  }
  if (extraHeaders !== undefined) h.appendAll(extraHeaders);
  if (opts.server !== undefined && !h.has('server')) h.append('Server', opts.server);
  // Reason-Phrase is free text but cannot hold CR or LF (RFC 3261 25.1).
  const phrase = (reason ?? reasonPhrase(status)).replace(/[\r\n]+/g, ' ');
  return {
    kind: 'response',
    status,
    reason: phrase,
    headers: h,
    body: body === undefined ? EMPTY_BODY : typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  };
}

/**
 * The wire text of a response's start line and headers, up to and including the blank line,
 * exactly as `serialize(buildResponse(...))` would write them for a body of `bodyLength`
 * bytes. Server transactions answer every request with it: a response is sent once and kept
 * as text for retransmissions, so building a SipHeaders list only to flatten it again would
 * be waste on the busiest path.
 */
export function responseHead(
  req: Pick<SipRequest, 'method' | 'headers'>,
  status: number,
  reason: string | undefined,
  extraHeaders: HeaderInit | undefined,
  bodyLength: number,
  opts: BuildResponseOptions = {},
): string {
  const h = req.headers;
  let phrase = reason ?? reasonPhrase(status);
  // Reason-Phrase is free text but cannot hold CR or LF (RFC 3261 25.1).
  if (phrase.includes('\r') || phrase.includes('\n')) phrase = phrase.replace(/[\r\n]+/g, ' ');
  let out = `SIP/2.0 ${status} ${phrase}\r\n`;
  for (const v of h.getLines('via')) out += `Via: ${v}\r\n`;
  const from = h.get('from');
  if (from !== undefined) out += `From: ${from}\r\n`;
  const to = h.get('to');
  if (to !== undefined) {
    const needsTag = status > 100 && opts.toTag !== undefined && !hasTag(to);
    out += needsTag ? `To: ${to};tag=${opts.toTag}\r\n` : `To: ${to}\r\n`;
  }
  const callId = h.get('call-id');
  if (callId !== undefined) out += `Call-ID: ${callId}\r\n`;
  const cseq = h.get('cseq');
  if (cseq !== undefined) out += `CSeq: ${cseq}\r\n`;
  if (status >= 200 && status < 300 && DIALOG_CREATING.has(req.method)) {
    for (const rr of h.getLines('record-route')) out += `Record-Route: ${rr}\r\n`;
  }
  let hasServer = false;
  const line = (n: string, v: string | number): void => {
    const name = canonicalHeaderName(n);
    if (name === 'Server') hasServer = true;
    // serialize() writes the one Content-Length, from the body.
    if (name !== 'Content-Length') out += `${name}: ${v}\r\n`;
  };
  if (Array.isArray(extraHeaders)) {
    for (const [n, v] of extraHeaders as ReadonlyArray<readonly [string, string]>) line(n, v);
  } else if (extraHeaders !== undefined) {
    for (const [n, v] of Object.entries(extraHeaders as Readonly<Record<string, string | number | ReadonlyArray<string>>>)) {
      if (typeof v === 'object') for (const x of v) line(n, x);
      else line(n, v);
    }
  }
  if (opts.server !== undefined && !hasServer) out += `Server: ${opts.server}\r\n`;
  return `${out}Content-Length: ${bodyLength}\r\n\r\n`;
}

/** True when a To/From value already carries a tag parameter outside the <...>. */
function hasTag(value: string): boolean {
  const gt = value.lastIndexOf('>');
  const params = gt >= 0 ? value.slice(gt + 1) : value.slice(Math.max(0, value.indexOf(';')));
  return /;\s*tag\s*=/i.test(params);
}
