import type { SubscribeRequest, UriParts } from '../src/subscribe-request.js';
import type { TransportBinding } from '../src/transport-binding.js';
import { parseAccept } from './stack/accept.js';
import { parseCSeq } from './stack/cseq.js';
import { detachedString } from './stack/detached-string.js';
import { parseEvent } from './stack/event.js';
import type { SipHeaders } from './stack/headers.js';
import { parseIntegerHeader } from './stack/integer-header.js';
import { formatNameAddr, parseNameAddr, type NameAddr } from './stack/name-addr.js';
import { SipParseError } from './stack/sip-parse-error.js';
import { parseUri } from './stack/uri.js';

/** The parts of a request every adapter hands to the domain. */
export interface IncomingRequest {
  method: string;
  uri: string;
  headers: SipHeaders;
  /** From and To when the parser already parsed them. */
  from?: NameAddr;
  to?: NameAddr;
}

/** A request the domain cannot take: the adapter answers 400 with this reason. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

/** Strings a subscription keeps must not keep the SUBSCRIBE's text alive with them. */
const own = detachedString;

function uriParts(text: string, what: string): UriParts {
  const uri = parseUri(text, what);
  const host = own(uri.host.toLowerCase());
  return uri.user !== undefined && uri.user !== '' ? { user: own(uri.user), host } : { host };
}

/** The name-addr without its tag: what the other side of the dialog echoes back. */
function withoutTag(addr: NameAddr): string {
  const params = new Map(addr.params);
  params.delete('tag');
  return formatNameAddr(addr.displayName === undefined ? { uri: addr.uri, params } : { uri: addr.uri, params, displayName: addr.displayName });
}

function required(headers: SipHeaders, name: string): string {
  const value = headers.get(name);
  if (value === undefined) throw new BadRequest(`Missing ${name} header`);
  return value;
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SipParseError) throw new BadRequest(e.message);
    throw e;
  }
}

/**
 * Reads a SUBSCRIBE into the domain's terms (RFC 6665 4.1.2, RFC 3261 12.1.1). Throws
 * BadRequest with a reason naming the header at fault.
 */
export function readSubscribe(req: IncomingRequest, binding: TransportBinding): SubscribeRequest {
  return guard(() => {
    const h = req.headers;
    const from = req.from ?? parseNameAddr(required(h, 'From'), 'From');
    const to = req.to ?? parseNameAddr(required(h, 'To'), 'To');
    const eventValue = h.get('Event');
    const acceptValues = h.getAll('Accept');
    const expiresValue = h.get('Expires');
    const contactValue = h.getAll('Contact')[0];
    const contact = contactValue !== undefined ? parseNameAddr(contactValue, 'Contact') : undefined;
    if (contact?.wildcard) throw new BadRequest('Contact must not be * in SUBSCRIBE');
    const out: SubscribeRequest = {
      callId: own(required(h, 'Call-ID')),
      from: own(withoutTag(from)),
      fromUri: uriParts(from.uri, 'From URI'),
      to: own(withoutTag(to)),
      toUri: uriParts(to.uri, 'To URI'),
      requestUri: uriParts(req.uri, 'Request-URI'),
      recordRoute: h.getAll('Record-Route').map(own),
      cseq: parseCSeq(required(h, 'CSeq')).seq,
      binding,
    };
    if (from.tag !== undefined) out.fromTag = own(from.tag);
    if (to.tag !== undefined) out.toTag = to.tag;
    if (eventValue !== undefined) {
      const event = parseEvent(eventValue);
      out.event = event.id !== undefined ? { package: own(event.package), id: own(event.id) } : { package: own(event.package) };
    }
    if (h.has('Accept')) out.accept = parseAccept(acceptValues).map((r) => r.mediaType);
    if (expiresValue !== undefined) out.expires = parseIntegerHeader(expiresValue, 'Expires');
    if (contact) out.contact = own(contact.uri);
    const userAgent = h.get('User-Agent');
    if (userAgent !== undefined) out.userAgent = own(userAgent);
    return out;
  });
}
