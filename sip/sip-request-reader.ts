import { StringPool } from '../src/string-pool.js';
import type { SubscribeRequest, UriParts } from '../src/subscribe-request.js';
import type { TransportBinding } from '../src/transport-binding.js';
import { parseAcceptMediaTypes } from './stack/accept.js';
import { parseCSeq } from './stack/cseq.js';
import { detachedString } from './stack/detached-string.js';
import { parseEventPackageId } from './stack/event.js';
import type { SipHeaders } from './stack/headers.js';
import { parseIntegerHeader } from './stack/integer-header.js';
import { formatNameAddrWithoutTag, parseNameAddr, parseNameAddrUri, type NameAddr } from './stack/name-addr.js';
import { SipParseError } from './stack/sip-parse-error.js';
import { parseUriUserHost } from './stack/uri.js';

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

/**
 * Strings many subscriptions hold alike (a phone's From, Contact and User-Agent on each of its
 * BLF keys; an extension's To on each phone watching it) come from a pool per header: one
 * shared copy each (src/string-pool.ts). Only a SUBSCRIBE that starts a subscription looks
 * there: one inside a dialog keeps its From and To nowhere, and a lookup that finds the
 * dialog's own strings again would keep a pool of strings that never repeat looking.
 */
const pools = { from: new StringPool(), to: new StringPool(), contact: new StringPool(), userAgent: new StringPool() };
const pooled = (pool: StringPool, s: string, initial: boolean): string => (initial ? pool.intern(s, own) : own(s));

/**
 * The user and lowercased host of a URI. A SUBSCRIBE's From, To and Request-URI usually
 * name the same host: `prior`, the parts of another of them, lends its copy when they do.
 */
function uriParts(text: string, what: string, prior?: UriParts): UriParts {
  const parts = parseUriUserHost(text, what);
  let host = parts.host;
  if (prior !== undefined && prior.host === host) host = prior.host;
  else {
    // parseUriUserHost() admits only ASCII hosts (RFC 3261 25.1): A-Z is all there is to lower.
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (c >= 65 && c <= 90) {
        host = host.toLowerCase();
        break;
      }
    }
    host = own(host);
  }
  return parts.user !== undefined && parts.user !== '' ? { user: own(parts.user), host } : { host };
}

/** Each field gets parts of its own, as when each URI was read apart. */
function copyParts(parts: UriParts): UriParts {
  return parts.user !== undefined ? { user: parts.user, host: parts.host } : { host: parts.host };
}

function required(headers: SipHeaders, name: string): string {
  const value = headers.get(name);
  if (value === undefined) throw new BadRequest(`Missing ${name} header`);
  return value;
}

/**
 * Reads a SUBSCRIBE into the domain's terms (RFC 6665 4.1.2, RFC 3261 12.1.1). Throws
 * BadRequest with a reason naming the header at fault.
 */
export function readSubscribe(req: IncomingRequest, binding: TransportBinding): SubscribeRequest {
  try {
    return read(req, binding);
  } catch (e) {
    if (e instanceof SipParseError) throw new BadRequest(e.message);
    throw e;
  }
}

// The order of the checks decides which fault of several names the 400; it is the order
// the reader has always had.
function read(req: IncomingRequest, binding: TransportBinding): SubscribeRequest {
  const h = req.headers;
  const from = req.from ?? parseNameAddr(required(h, 'From'), 'From');
  const to = req.to ?? parseNameAddr(required(h, 'To'), 'To');
  const contactValue = h.getAll('Contact')[0];
  const contact = contactValue !== undefined ? parseNameAddrUri(contactValue, 'Contact') : undefined;
  if (contact === '*') throw new BadRequest('Contact must not be * in SUBSCRIBE');
  const callId = own(required(h, 'Call-ID'));
  const initial = to.tag === undefined;
  const fromText = pooled(pools.from, formatNameAddrWithoutTag(from), initial);
  const fromUri = uriParts(from.uri, 'From URI');
  const toText = pooled(pools.to, formatNameAddrWithoutTag(to), initial);
  const toUri = uriParts(to.uri, 'To URI', fromUri);
  // The Request-URI of a SUBSCRIBE that starts a dialog is mostly the To URI, read once then
  // (RFC 3261 8.1.1.1).
  const requestUri = req.uri === to.uri ? copyParts(toUri) : uriParts(req.uri, 'Request-URI', toUri);
  const recordRoute = h.getAll('Record-Route');
  for (let i = 0; i < recordRoute.length; i++) recordRoute[i] = own(recordRoute[i]);
  const out: SubscribeRequest = {
    callId,
    from: fromText,
    fromUri,
    to: toText,
    toUri,
    requestUri,
    recordRoute,
    cseq: parseCSeq(required(h, 'CSeq')).seq,
    binding,
  };
  if (from.tag !== undefined) out.fromTag = own(from.tag);
  if (to.tag !== undefined) out.toTag = to.tag;
  const eventValue = h.get('Event');
  if (eventValue !== undefined) {
    const event = parseEventPackageId(eventValue);
    event.package = own(event.package);
    if (event.id !== undefined) event.id = own(event.id);
    out.event = event;
  }
  if (h.has('Accept')) out.accept = parseAcceptMediaTypes(h.getAll('Accept'));
  const expiresValue = h.get('Expires');
  if (expiresValue !== undefined) out.expires = parseIntegerHeader(expiresValue, 'Expires');
  if (contact !== undefined) out.contact = pooled(pools.contact, contact, initial);
  const userAgent = h.get('User-Agent');
  if (userAgent !== undefined) out.userAgent = pooled(pools.userAgent, userAgent, initial);
  return out;
}
