import type { UriParts } from './subscribe-request.js';

/** A PUBLISH as the domain sees it (RFC 3903 4), parsed by whichever SIP adapter received it. */
export interface PublishRequest {
  callId: string;
  requestUri: UriParts;
  toUri: UriParts;
  fromUri: UriParts;
  /** The Event package; undefined when the header is missing. */
  event?: string;
  /** The Expires header in seconds; undefined when absent. */
  expires?: number;
  /** RFC 3903 11.3.2: the entity-tag of the publication being refreshed, modified or removed. */
  ifMatch?: string;
  /** The media type of the body, lower-cased, without parameters; undefined when absent. */
  contentType?: string;
  /** The body as UTF-8 text; empty for a refresh. */
  body: string;
  /** The realm of a digest-authenticated publisher's account; undefined when unauthenticated or trusted. */
  authenticatedRealm?: string;
}
