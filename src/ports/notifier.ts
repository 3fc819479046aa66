import type { SubscriptionDialog } from '../subscription.js';

/** An in-dialog NOTIFY as the domain decides it; the SIP adapter turns it into a request. */
export interface NotifyRequest {
  /** Dialog snapshot with `localCseq` already set to this NOTIFY's CSeq. */
  dialog: SubscriptionDialog;
  /** The Event header value, e.g. `dialog` or `dialog;id=7`. */
  event: string;
  /** The Subscription-State header value, e.g. `active;expires=3597`. */
  subscriptionState: string;
  contentType?: string;
  body?: string;
}

export type NotifyOutcome =
  | { kind: 'response'; status: number }
  | { kind: 'timeout' }
  /** The message could not be sent (connection closed, unreachable). */
  | { kind: 'transport-error'; reason: string };

/** The port through which the domain sends NOTIFYs. */
export interface Notifier {
  notify(request: NotifyRequest): Promise<NotifyOutcome>;
}
