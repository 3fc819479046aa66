import type { RenderedBody } from './event-package.js';
import type { Presentity } from './presentity.js';
import type { TransportBinding } from './transport-binding.js';

/**
 * The notifier side of a subscription dialog (RFC 3261 12, RFC 6665 4.1.2): everything
 * needed to send an in-dialog NOTIFY later, also after a restart.
 */
export interface SubscriptionDialog {
  callId: string;
  /** Our tag: the To tag of our 2xx, the From tag of our NOTIFYs. */
  localTag: string;
  /** The watcher's From tag. */
  remoteTag: string;
  /** The SUBSCRIBE's To header value without tag: our From in NOTIFYs. */
  localUri: string;
  /** The SUBSCRIBE's From header value without tag: the To of our NOTIFYs. */
  remoteUri: string;
  /** The watcher's Contact URI: the Request-URI of our NOTIFYs (RFC 3261 12.1.1). */
  remoteTarget: string;
  /** Record-Route values of the SUBSCRIBE, in the order received (RFC 3261 12.1.1). */
  routeSet: string[];
  /** The last CSeq we used in this dialog; the next NOTIFY uses one more. */
  localCseq: number;
  /** The highest CSeq the watcher used (an older one in-dialog is out of order). */
  remoteCseq: number;
  binding: TransportBinding;
}

/** One watcher's subscription to one presentity and event package. */
export interface Subscription {
  /** Stable key: Call-ID, both tags, event and event id (RFC 6665 4.1.2: a dialog may hold several). */
  id: string;
  dialog: SubscriptionDialog;
  /** The event package name. */
  event: string;
  /** The `id` parameter of the Event header, repeated in every NOTIFY (RFC 6665 8.2.1). */
  eventId?: string;
  presentity: Presentity;
  /** The watcher as `user@realm` (From URI). */
  watcher: string;
  /** Granted expiry in seconds at the last (re)SUBSCRIBE. */
  expires: number;
  /** Epoch ms when the subscription ends unless refreshed. */
  expiresAt: number;
  /** The version the next body will carry (RFC 4235 4.1: 0 first, then +1 per NOTIFY). */
  version: number;
  /**
   * The highest local CSeq the store holds, or will once its queued writes commit. Writing
   * the whole subscription at a SUBSCRIBE, which a NOTIFY always follows, records that
   * NOTIFY's CSeq and version ahead (see reserveNextNotify), so the NOTIFY needs no write of
   * its own. Absent: nothing reserved.
   */
  durableCseq?: number;
  userAgent?: string;
  createdAt: number;
  lastSubscribeAt: number;
  /** NOTIFYs sent so far. */
  notifyCount: number;
  /** Status code of the watcher's answer to the last NOTIFY (0 before any, 408 on timeout). */
  lastReply: number;
  /**
   * The last body sent, as the rendering every watcher of that state shares: spelled out
   * with this subscription's version only when asked for (lastBodyOf), so a held
   * subscription does not carry a copy of its last NOTIFY's XML.
   */
  lastRendering?: RenderedBody;
  /** The last body sent, as read back from the store after a restart. */
  lastBody?: string;
  /** Consecutive NOTIFY timeouts; the subscription is dropped past the configured limit. */
  failures: number;
}

/**
 * Marks the next NOTIFY's CSeq as durable with the write about to be queued: the store
 * writes the subscription that many NOTIFYs ahead (its CSeq, version and count move
 * together). After a crash the next NOTIFY is still higher than any sent.
 */
export function reserveNextNotify(sub: Subscription): void {
  sub.durableCseq = sub.dialog.localCseq + 1;
}

/** How many NOTIFYs ahead of memory the stored row is written (see reserveNextNotify). */
export function notifiesReserved(sub: Subscription): number {
  return Math.max(0, (sub.durableCseq ?? 0) - sub.dialog.localCseq);
}

/** The body of the last NOTIFY sent, if any. */
export function lastBodyOf(sub: Subscription): string | undefined {
  // The version goes up by one with each NOTIFY, so the last one carried version - 1.
  return sub.lastRendering !== undefined ? sub.lastRendering.text(sub.version - 1) : sub.lastBody;
}

export function subscriptionKey(callId: string, remoteTag: string, localTag: string, event: string, eventId?: string): string {
  return `${callId}\n${remoteTag}\n${localTag}\n${event}\n${eventId ?? ''}`;
}
