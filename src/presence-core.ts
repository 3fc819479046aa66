import { EventPackageRegistry } from './event-package-registry.js';
import { NotifyScheduler, type DropCause, type TerminationReason } from './notify-scheduler.js';
import { dialogPackage } from './packages/dialog-package.js';
import { messageSummaryPackage } from './packages/message-summary-package.js';
import { presencePackage } from './packages/presence-package.js';
import type { Clock } from './ports/clock.js';
import type { Logger } from './ports/logger.js';
import type { Notifier } from './ports/notifier.js';
import type { StateStore } from './ports/state-store.js';
import type { SubscriptionStore } from './ports/subscription-store.js';
import { PresenceService } from './presence-service.js';
import { PresentityStates } from './presentity-states.js';
import type { Subscription } from './subscription.js';
import { SubscriptionService } from './subscription-service.js';

export interface PresenceCoreOptions {
  subscriptionStore: SubscriptionStore;
  stateStore: StateStore;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  /** Consecutive NOTIFY timeouts tolerated before a subscription is dropped. */
  maxTimeouts: number;
  /** REST-set `early` / `confirmed` lifetimes, seconds. */
  ringingTtl: number;
  busyTtl: number;
  /** Also told when a subscription is over (tests record it). */
  onEnded?: (sub: Subscription, cause: TerminationReason | DropCause) => void;
}

/**
 * The presence domain wired together: the event packages, presentity state, the NOTIFY
 * scheduler and the services that use them. The server and the tests build it the same way.
 */
export function createPresenceCore(o: PresenceCoreOptions) {
  const registry = new EventPackageRegistry().register(dialogPackage).register(presencePackage).register(messageSummaryPackage);
  const states = new PresentityStates(o.stateStore, o.clock);
  // The scheduler tells the subscription service when a subscription is over, and the
  // service queues NOTIFYs on the scheduler: one of the two is built first.
  let subscriptions: SubscriptionService | undefined;
  const scheduler = new NotifyScheduler({
    notifier: o.notifier,
    store: o.subscriptionStore,
    registry,
    view: (p) => states.view(p),
    clock: o.clock,
    logger: o.logger.child({ component: 'notifier' }),
    maxTimeouts: o.maxTimeouts,
    onEnded: (sub, cause) => {
      o.onEnded?.(sub, cause);
      subscriptions?.ended(sub, cause);
    },
  });
  subscriptions = new SubscriptionService({
    registry,
    store: o.subscriptionStore,
    scheduler,
    clock: o.clock,
    logger: o.logger.child({ component: 'subscriptions' }),
  });
  const presence = new PresenceService({
    states,
    subscriptions,
    clock: o.clock,
    logger: o.logger.child({ component: 'presence' }),
    ringingTtl: o.ringingTtl,
    busyTtl: o.busyTtl,
  });
  return { registry, states, scheduler, subscriptions, presence };
}

export type PresenceCore = ReturnType<typeof createPresenceCore>;
