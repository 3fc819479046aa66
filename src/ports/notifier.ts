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
  /**
   * Sends a NOTIFY and hands its outcome to `done`, once; `done` may run before this returns.
   * A callback rather than a promise: a fan-out sends thousands at once, and every promise in
   * a NOTIFY's chain was an allocation and a microtask more.
   */
  notify(request: NotifyRequest, done: (outcome: NotifyOutcome) => void): void;
}
