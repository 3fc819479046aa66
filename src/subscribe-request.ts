import type { TransportBinding } from './transport-binding.js';

/** The parts of a SIP URI the domain looks at. */
export interface UriParts {
  user?: string;
  host: string;
}

/** A SUBSCRIBE as the domain sees it (RFC 6665 4.1.2), parsed by whichever SIP adapter received it. */
export interface SubscribeRequest {
  callId: string;
  /** The watcher's From tag; RFC 3261 8.1.1.3 makes it mandatory. */
  fromTag?: string;
  /** Present on an in-dialog (refresh or unsubscribe) SUBSCRIBE. */
  toTag?: string;
  /** From header value without its tag (name-addr), echoed as To of our NOTIFYs. */
  from: string;
  fromUri: UriParts;
  /** To header value without its tag, echoed as From of our NOTIFYs. */
  to: string;
  toUri: UriParts;
  requestUri: UriParts;
  /** The Event header (package and its `id` parameter); undefined when absent. */
  event?: { package: string; id?: string };
  /** Media types of the Accept header; undefined when there is none. */
  accept?: string[];
  /** The Expires header in seconds; undefined when absent. */
  expires?: number;
  /** The Contact URI; required to create a dialog. */
  contact?: string;
  /** Record-Route values, in order. */
  recordRoute: string[];
  cseq: number;
  binding: TransportBinding;
  userAgent?: string;
  /** The realm a digest-authenticated watcher belongs to; undefined when unauthenticated or trusted. */
  authenticatedRealm?: string;
}
