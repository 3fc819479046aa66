import type { SrfRequestOptions } from 'drachtio-srf';
import type { NotifyRequest } from '../../src/ports/notifier.js';
import type { SubscriptionDialog } from '../../src/subscription.js';
import { formatHostPort } from './drachtio-endpoints.js';

/** A NOTIFY as handed to `srf.request(uri, opts)`. */
export interface DrachtioNotify {
  uri: string;
  opts: SrfRequestOptions;
}

/** Headers every NOTIFY carries, in or out of the drachtio server's dialog (RFC 6665 8.2.1, 7.2). */
function packageHeaders(n: NotifyRequest, contact: string | undefined, product: string): Record<string, string> {
  const headers: Record<string, string> = {
    Event: n.event,
    'Subscription-State': n.subscriptionState,
    'User-Agent': product,
  };
  // RFC 6665 4.1.2.4 / RFC 3261 12.1.1: a NOTIFY carries our Contact; drachtio adds none to it.
  if (contact !== undefined) headers.Contact = contact;
  if (n.contentType !== undefined) headers['Content-Type'] = n.contentType;
  return headers;
}

function withBody(opts: SrfRequestOptions, body: string | undefined): SrfRequestOptions {
  return body !== undefined ? { ...opts, body } : opts;
}

/**
 * Inside a dialog the drachtio server created on this connection: it supplies From, To,
 * Call-ID, the Request-URI, the route set and the connection, and numbers CSeq itself
 * (the SUBSCRIBE's CSeq + 1, + 1 per request; a CSeq header from the application is ignored).
 */
export function inDialogNotify(n: NotifyRequest, stackDialogId: string, contact: string | undefined, product: string): DrachtioNotify {
  return { uri: n.dialog.remoteTarget, opts: withBody({ method: 'NOTIFY', stackDialogId, headers: packageHeaders(n, contact, product) }, n.body) };
}

/**
 * The CSeq of a NOTIFY sent outside the server's dialog. While the dialog lived on an earlier
 * connection the server numbered its NOTIFYs from the first SUBSCRIBE's CSeq, one per NOTIFY
 * the domain sent, so it never went past `remoteCseq + localCseq - 1`; this stays above that
 * and goes up by one with every NOTIFY after (RFC 3261 12.2.1.1: CSeq strictly increases).
 */
export function outOfDialogCseq(d: SubscriptionDialog): number {
  return d.remoteCseq + d.localCseq;
}

/**
 * A NOTIFY for a dialog this connection does not hold (the application or the connection
 * restarted): a new request carrying the stored dialog's Call-ID, both tags, route set and a
 * higher CSeq, which drachtio sends as given (measured against drachtio-server). UDP behind
 * NAT and TCP/TLS go to the SUBSCRIBE's source, where the phone's connection still ends at the
 * drachtio server; WebSocket phones are found by drachtio's own per-Contact connection cache.
 */
export function outOfDialogNotify(n: NotifyRequest, contact: string | undefined, product: string): DrachtioNotify {
  const d = n.dialog;
  const headers: Record<string, string> = {
    'Call-ID': d.callId,
    From: `${d.localUri};tag=${d.localTag}`,
    To: `${d.remoteUri};tag=${d.remoteTag}`,
    CSeq: `${outOfDialogCseq(d)} NOTIFY`,
    ...packageHeaders(n, contact, product),
  };
  // RFC 3261 12.2.1.1: the route set, in order (loose routing).
  if (d.routeSet.length > 0) headers.Route = d.routeSet.join(', ');
  const b = d.binding;
  const opts: SrfRequestOptions = { method: 'NOTIFY', headers };
  if ((b.transport === 'udp' && b.sendToSource) || b.transport === 'tcp' || b.transport === 'tls') {
    opts.proxy = `sip:${formatHostPort(b.source)};transport=${b.transport}`;
  }
  return { uri: d.remoteTarget, opts: withBody(opts, n.body) };
}
