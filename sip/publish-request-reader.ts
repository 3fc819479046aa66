import type { PublishRequest } from '../src/publish-request.js';
import type { UriParts } from '../src/subscribe-request.js';
import { BadRequest, type IncomingRequest } from './sip-request-reader.js';
import { parseEvent } from './stack/event.js';
import { isToken } from './stack/grammar.js';
import { parseIntegerHeader } from './stack/integer-header.js';
import { parseNameAddr } from './stack/name-addr.js';
import { SipParseError } from './stack/sip-parse-error.js';
import { parseUri } from './stack/uri.js';

/** A request with its body, as both SIP fronts hold it. */
export interface IncomingRequestWithBody extends IncomingRequest {
  body: Buffer | string;
}

function uriParts(text: string, what: string): UriParts {
  const uri = parseUri(text, what);
  const host = uri.host.toLowerCase();
  return uri.user !== undefined && uri.user !== '' ? { user: uri.user, host } : { host };
}

function required(req: IncomingRequest, name: string): string {
  const value = req.headers.get(name);
  if (value === undefined) throw new BadRequest(`Missing ${name} header`);
  return value;
}

/** `type/subtype` of a Content-Type value, lower-cased (RFC 3261 20.15); parameters dropped. */
function mediaType(value: string): string {
  const type = value.split(';')[0]!.trim().toLowerCase();
  const [major, minor, extra] = type.split('/');
  if (!major || !minor || extra !== undefined || !isToken(major) || !isToken(minor)) throw new BadRequest('Malformed Content-Type header');
  return type;
}

/**
 * Reads a PUBLISH into the domain's terms (RFC 3903 4, 11). Throws BadRequest with a reason
 * naming the header at fault.
 */
export function readPublish(req: IncomingRequestWithBody): PublishRequest {
  try {
    const h = req.headers;
    const from = parseNameAddr(required(req, 'From'), 'From');
    const to = parseNameAddr(required(req, 'To'), 'To');
    const out: PublishRequest = {
      callId: required(req, 'Call-ID'),
      requestUri: uriParts(req.uri, 'Request-URI'),
      toUri: uriParts(to.uri, 'To URI'),
      fromUri: uriParts(from.uri, 'From URI'),
      body: typeof req.body === 'string' ? req.body : req.body.toString('utf8'),
    };
    const event = h.get('Event');
    if (event !== undefined) out.event = parseEvent(event).package;
    const expires = h.get('Expires');
    if (expires !== undefined) out.expires = parseIntegerHeader(expires, 'Expires');
    const ifMatch = h.getLines('SIP-If-Match');
    if (ifMatch.length > 1) throw new BadRequest('More than one SIP-If-Match header');
    if (ifMatch.length === 1) {
      // RFC 3903 11.3.2: SIP-If-Match = entity-tag, a token.
      const etag = ifMatch[0]!.trim();
      if (!isToken(etag)) throw new BadRequest('Malformed SIP-If-Match header');
      out.ifMatch = etag;
    }
    const contentType = h.get('Content-Type');
    if (contentType !== undefined) out.contentType = mediaType(contentType);
    return out;
  } catch (e) {
    if (e instanceof SipParseError) throw new BadRequest(e.message);
    throw e;
  }
}
