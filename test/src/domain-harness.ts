import type { DropCause, TerminationReason } from '../../src/notify-scheduler.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { SubscribeRequest } from '../../src/subscribe-request.js';
import type { Subscription } from '../../src/subscription.js';
import { FakeClock } from './fake-clock.js';
import { MemoryStateStore, MemorySubscriptionStore } from './memory-stores.js';
import { RecordingNotifier } from './recording-notifier.js';
import { createPresenceCore } from '../../src/presence-core.js';

export interface DomainHarnessOptions {
  maxTimeouts?: number;
  ringingTtl?: number;
  busyTtl?: number;
  clock?: FakeClock;
  subscriptionStore?: MemorySubscriptionStore;
  stateStore?: MemoryStateStore;
}

/**
 * The domain wired as src/main.ts wires it, with fakes for every port: a fake clock,
 * in-memory stores and a recording notifier. `journal` interleaves store writes and NOTIFYs.
 */
export function createDomain(opts: DomainHarnessOptions = {}) {
  const journal: string[] = [];
  const clock = opts.clock ?? new FakeClock();
  const subscriptionStore = opts.subscriptionStore ?? new MemorySubscriptionStore(journal);
  const stateStore = opts.stateStore ?? new MemoryStateStore();
  const notifier = new RecordingNotifier(journal);
  const ended: Array<{ sub: Subscription; cause: TerminationReason | DropCause }> = [];
  const { registry, states, scheduler, subscriptions, presence } = createPresenceCore({
    subscriptionStore,
    stateStore,
    notifier,
    clock,
    logger: silentLogger,
    maxTimeouts: opts.maxTimeouts ?? 3,
    ringingTtl: opts.ringingTtl ?? 300,
    busyTtl: opts.busyTtl ?? 14_400,
    onEnded: (sub, cause) => ended.push({ sub, cause }),
  });
  return { journal, clock, subscriptionStore, stateStore, notifier, registry, states, scheduler, subscriptions, presence, ended };
}

export type Domain = ReturnType<typeof createDomain>;

let callCounter = 0;

/** A new (out-of-dialog) SUBSCRIBE from 1002 watching 1001 at acme.example.com over UDP. */
export function subscribeRequest(overrides: Partial<SubscribeRequest> = {}): SubscribeRequest {
  callCounter++;
  return {
    callId: `call-${callCounter}@192.0.2.10`,
    fromTag: `phone-${callCounter}`,
    from: '"Desk 1002" <sip:1002@acme.example.com>',
    fromUri: { user: '1002', host: 'acme.example.com' },
    to: '<sip:1001@acme.example.com>',
    toUri: { user: '1001', host: 'acme.example.com' },
    requestUri: { user: '1001', host: 'acme.example.com' },
    event: { package: 'dialog' },
    expires: 600,
    contact: 'sip:1002@192.0.2.10:5062',
    recordRoute: [],
    cseq: 1,
    binding: { transport: 'udp', source: { address: '192.0.2.10', port: 5062 }, sendToSource: false },
    ...overrides,
  };
}

/** Lets every queued NOTIFY go out and every answered one be judged (all microtasks, then one macrotask turn). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
