import type { SipHeaders } from './headers.js';
import type { NameAddr } from './name-addr.js';
import type { Via } from './via.js';

/** A parsed or to-be-sent SIP request (RFC 3261 7.1). */
export interface SipRequest {
  readonly kind: 'request';
  method: string;
  /** The Request-URI as text; parse it with parseUri() when the parts are needed. */
  uri: string;
  headers: SipHeaders;
  body: Buffer;
  /**
   * The top Via as parsed on receipt (and stamped with received/rport), so the layers above
   * need not parse it again; absent on messages built here. Read it with topVia().
   */
  topVia?: Via;
  /** From and To as parsed on receipt (the parser validates them), for the layers above. */
  from?: NameAddr;
  to?: NameAddr;
}

/** A parsed or to-be-sent SIP response (RFC 3261 7.2). */
export interface SipResponse {
  readonly kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
  /** As on SipRequest. */
  topVia?: Via;
}

export type SipMessage = SipRequest | SipResponse;

export const EMPTY_BODY: Buffer = Buffer.alloc(0);
