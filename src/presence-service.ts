import type { DialogInfo } from './dialog-info.js';
import type { PresenceLampState } from './dialog-state.js';
import type { MessageSummary } from './message-summary.js';
import type { Clock } from './ports/clock.js';
import type { Logger } from './ports/logger.js';
import { splitPresentity, type Presentity } from './presentity.js';
import type { PresentityStates } from './presentity-states.js';
import type { PresentityView } from './presentity-view.js';
import type { Subscription } from './subscription.js';
import type { SubscriptionFilter, SubscriptionService } from './subscription-service.js';

/** The state source REST `set` writes to. */
export const API_SOURCE = 'api';
/** The state source of a mailbox's counts. */
export const MWI_SOURCE = 'mwi';

export interface PresenceServiceOptions {
  states: PresentityStates;
  subscriptions: SubscriptionService;
  clock: Clock;
  logger: Logger;
  /** How long a REST-set `early` (ringing) lasts without news, in seconds. */
  ringingTtl: number;
  /** How long a REST-set `confirmed` (busy) lasts without news, in seconds. */
  busyTtl: number;
}

/** Optional call details for `set`, so phones can offer directed pickup (RFC 4235 4.1.2). */
export type CallDetails = Partial<Omit<DialogInfo, 'state' | 'updatedAt'>>;

/**
 * What the REST API and PUBLISH drive: set or flush a presentity's state and tell its
 * watchers. A presentity is `user@realm`.
 */
export class PresenceService {
  constructor(private readonly o: PresenceServiceOptions) {
    o.states.onChange((presentity, kinds) => o.subscriptions.notifyWatchers(presentity, kinds));
  }

  /**
   * Sets the lamp of a presentity. `terminated` clears what the API set before; `early` and
   * `confirmed` are kept (so a phone subscribing later sees them at once) until changed or
   * until their time-to-live runs out: a lost hang-up must not keep a lamp lit for ever.
   */
  set(presentity: Presentity, state: PresenceLampState, details: CallDetails = {}): void {
    const now = this.o.clock.now();
    this.o.logger.info({ presentity, state }, 'presence set');
    if (state === 'terminated') {
      // Calls the API named end for good (RFC 4235: terminated is final), so a late PUBLISH
      // of the same Call-ID cannot light the lamp again.
      const calls = this.o.states.source(presentity, API_SOURCE)?.dialogs?.filter((d) => d.callId !== undefined) ?? [];
      if (calls.length > 0) this.o.states.put({ presentity, id: API_SOURCE, kind: 'dialog', dialogs: calls.map((d) => ({ ...d, state: 'terminated' })), updatedAt: now });
      if (!this.o.states.remove(presentity, API_SOURCE)) this.o.states.touch(presentity, ['dialog']);
      return;
    }
    const { user } = splitPresentity(presentity);
    const dialog: DialogInfo = {
      id: details.id ?? details.callId ?? user,
      direction: 'recipient',
      ...details,
      state,
      updatedAt: now,
    };
    const ttl = state === 'early' ? this.o.ringingTtl : this.o.busyTtl;
    this.o.states.put({
      presentity,
      id: API_SOURCE,
      kind: 'dialog',
      dialogs: [dialog],
      updatedAt: now,
      expiresAt: now + ttl * 1000,
    });
  }

  /**
   * Kazoo's `reset`, a flush: forgets all call state of the presentity (whoever set it) and
   * sends every watcher the idle body so stuck lamps go dark. Mailbox counts are kept: a
   * phone's message lamp must not go out until the mailbox is read.
   */
  reset(presentity: Presentity): void {
    this.o.logger.info({ presentity }, 'presence reset');
    this.o.states.flush(presentity, ['dialog', 'pidf']);
  }

  /** Sets (or with undefined, clears) a mailbox's counts for message-summary watchers. */
  setMessageSummary(presentity: Presentity, summary: MessageSummary | undefined): void {
    if (!summary) {
      this.o.states.remove(presentity, MWI_SOURCE);
      return;
    }
    this.o.states.put({ presentity, id: MWI_SOURCE, kind: 'mwi', mwi: summary, updatedAt: this.o.clock.now() });
  }

  view(presentity: Presentity): PresentityView {
    return this.o.states.view(presentity);
  }

  watchers(presentity: Presentity): Subscription[] {
    return this.o.subscriptions.watchers(presentity);
  }

  subscriptions(filter: SubscriptionFilter = {}): Subscription[] {
    return this.o.subscriptions.list(filter);
  }
}
