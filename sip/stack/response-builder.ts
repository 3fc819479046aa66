import { SipHeaders, canonicalHeaderName, headerKey, type HeaderInit } from './headers.js';
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
 * The headers of a response to `req` per RFC 3261 8.2.6, in order, each handed to `emit`:
 * Via lines, From, To, Call-ID and CSeq copied (Via exactly, including the received/rport
 * stamps of 18.2.1), Record-Route on a dialog-creating 2xx, then the extra headers and a
 * Server header unless the extras have one. One list for both builders below.
 */
function eachResponseHeader(
  req: Pick<SipRequest, 'method' | 'headers'>,
  status: number,
  extraHeaders: HeaderInit | undefined,
  opts: BuildResponseOptions,
  emit: (name: string, value: string | number) => void,
): void {
  const h = req.headers;
  for (const v of h.getLines('via')) emit('Via', v);
  const from = h.get('from');
  if (from !== undefined) emit('From', from);
  const to = h.get('to');
  if (to !== undefined) {
    const needsTag = status > 100 && opts.toTag !== undefined && !hasTag(to);
    emit('To', needsTag ? `${to};tag=${opts.toTag}` : to);
  }
  const callId = h.get('call-id');
  if (callId !== undefined) emit('Call-ID', callId);
  const cseq = h.get('cseq');
  if (cseq !== undefined) emit('CSeq', cseq);
  if (status >= 200 && status < 300 && DIALOG_CREATING.has(req.method)) {
    for (const rr of h.getLines('record-route')) emit('Record-Route', rr);
  }
  let hasServer = false;
  const extra = (n: string, v: string | number): void => {
    if (headerKey(n) === 'server') hasServer = true;
    emit(n, v);
  };
  if (Array.isArray(extraHeaders)) {
    for (const [n, v] of extraHeaders as ReadonlyArray<readonly [string, string]>) extra(n, v);
  } else if (extraHeaders !== undefined) {
    for (const [n, v] of Object.entries(extraHeaders as Readonly<Record<string, string | number | ReadonlyArray<string>>>)) {
      if (typeof v === 'object') for (const x of v) extra(n, x);
      else extra(n, v);
    }
  }
  if (opts.server !== undefined && !hasServer) emit('Server', opts.server);
}

/** The reason phrase: free text, but it cannot hold CR or LF (RFC 3261 25.1). */
function phraseOf(status: number, reason: string | undefined): string {
  const phrase = reason ?? reasonPhrase(status);
  return phrase.includes('\r') || phrase.includes('\n') ? phrase.replace(/[\r\n]+/g, ' ') : phrase;
}

/** Builds a response to `req` as a message (see eachResponseHeader); Content-Length is computed at serialization. */
export function buildResponse(
  req: Pick<SipRequest, 'method' | 'headers'>,
  status: number,
  reason?: string,
  extraHeaders?: HeaderInit,
  body?: Buffer | string,
  opts: BuildResponseOptions = {},
): SipResponse {
  const h = new SipHeaders();
  eachResponseHeader(req, status, extraHeaders, opts, (n, v) => h.append(n, v));
  return {
    kind: 'response',
    status,
    reason: phraseOf(status, reason),
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
  let out = `SIP/2.0 ${status} ${phraseOf(status, reason)}\r\n`;
  eachResponseHeader(req, status, extraHeaders, opts, (n, v) => {
    const name = canonicalHeaderName(n);
    // The one Content-Length is written from the body, as serialize() does.
    if (name !== 'Content-Length') out += `${name}: ${v}\r\n`;
  });
  return `${out}Content-Length: ${bodyLength}\r\n\r\n`;
}

/** True when a To/From value already carries a tag parameter outside the <...>. */
function hasTag(value: string): boolean {
  const gt = value.lastIndexOf('>');
  const params = gt >= 0 ? value.slice(gt + 1) : value.slice(Math.max(0, value.indexOf(';')));
  return /;\s*tag\s*=/i.test(params);
}
