import type { EventPackageRegistry } from './event-package-registry.js';
import type { EventPackage, RenderedBody } from './event-package.js';
import { microtask } from './microtask.js';
import type { Clock, TimerHandle } from './ports/clock.js';
import type { Logger } from './ports/logger.js';
import type { Notifier, NotifyOutcome, NotifyRequest } from './ports/notifier.js';
import type { SubscriptionStore } from './ports/subscription-store.js';
import type { PresentityView } from './presentity-view.js';
import type { Subscription, SubscriptionDialog } from './subscription.js';
import { ChurnMap, ChurnSet } from './churn-map.js';

/** NOTIFYs prepared and sent per event-loop turn. */
const FLUSH_CHUNK = 250;

/** How often the watchers' answers are written in the background. */
const ANSWERS_FLUSH_MS = 2000;

/** Why a subscription ended, as RFC 6665 4.2.2 spells the Subscription-State reason. */
export type TerminationReason = 'timeout' | 'deactivated' | 'noresource' | 'rejected' | 'giveup';

/** Why the notifier dropped a subscription without a final NOTIFY. */
export type DropCause = 'rejected-by-watcher' | 'unreachable' | 'timeouts';

interface Slot {
  sub: Subscription;
  inFlight: boolean;
  queued: boolean;
  /** Another change arrived while a NOTIFY was in flight: send the newest state after it. */
  pending: boolean;
  /** Set once the subscription is to end: the next NOTIFY is the final one. */
  terminal?: TerminationReason;
  finalSent: boolean;
  /** Fetches (RFC 6665 4.4.3) live in memory only. */
  persistent: boolean;
}

export interface NotifySchedulerOptions {
  notifier: Notifier;
  store: SubscriptionStore;
  registry: EventPackageRegistry;
  view: (presentity: string) => PresentityView;
  clock: Clock;
  logger: Logger;
  /** Consecutive NOTIFY timeouts tolerated before the subscription is dropped. */
  maxTimeouts: number;
  /** Called once a subscription is over: after its final NOTIFY, or when dropped. */
  onEnded: (sub: Subscription, cause: TerminationReason | DropCause) => void;
}

/**
 * Sends NOTIFYs so that those of one subscription never overtake each other (one in flight
 * at a time) and a burst of changes collapses into one NOTIFY of the newest state
 * (sip-behaviour.md). Every NOTIFY's CSeq and version are committed to the store, in one
 * transaction per batch, before it is sent: after a crash the next one is always higher.
 */
export class NotifyScheduler {
  private readonly slots = new ChurnMap<string, Slot>();
  private ready: Slot[] = [];
  private flushScheduled = false;
  private readonly answered = new ChurnSet<Subscription>();
  private answeredTimer: TimerHandle | undefined;
  private closed = false;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  /** One rendering per (presentity, package, revision), shared by every watcher. */
  private readonly bodies = new Map<string, { revision: number; body: RenderedBody }>();

  constructor(private readonly o: NotifySchedulerOptions) {}

  /** Queues a full-state NOTIFY; with `terminal`, the final one carrying that reason. */
  enqueue(sub: Subscription, terminal?: TerminationReason, persistent = true): void {
    let slot = this.slots.get(sub.id);
    if (!slot) {
      slot = { sub, inFlight: false, queued: false, pending: false, finalSent: false, persistent };
      this.slots.set(sub.id, slot);
    }
    slot.sub = sub;
    if (!persistent) slot.persistent = false;
    if (slot.finalSent) return;
    if (terminal && !slot.terminal) slot.terminal = terminal;
    if (slot.inFlight) {
      slot.pending = true;
      return;
    }
    if (slot.queued) return;
    slot.queued = true;
    this.ready.push(slot);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      microtask(() => this.flush());
    }
  }

  /** Resolves when no NOTIFY is queued or waiting for its answer. */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pendingCount(): number {
    return this.inFlight + this.ready.length;
  }

  private flush(): void {
    this.flushScheduled = false;
    // A change watched by thousands goes out in chunks, one per event-loop turn: the first
    // phones hear it within milliseconds, their 200s (and the REST reply that caused it) are
    // read in between, and no burst overruns a socket buffer.
    const batch = this.ready.length <= FLUSH_CHUNK ? this.ready : this.ready.splice(0, FLUSH_CHUNK);
    if (batch === this.ready) this.ready = [];
    else {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    const now = this.o.clock.now();
    const requests: NotifyRequest[] = [];
    const toSave: Subscription[] = [];
    const sending: Slot[] = [];
    for (const slot of batch) {
      slot.queued = false;
      if (slot.finalSent) continue;
      const request = this.prepare(slot, now);
      if (!request) continue;
      requests.push(request);
      sending.push(slot);
      // A NOTIFY whose CSeq the SUBSCRIBE's own write already recorded needs no write.
      const sub = slot.sub;
      if (slot.persistent && sub.dialog.localCseq > (sub.durableCseq ?? 0)) toSave.push(sub);
    }
    if (toSave.length > 0) {
      this.o.store.saveProgress(toSave);
      for (const sub of toSave) sub.durableCseq = sub.dialog.localCseq;
    }
    // All in flight before the first goes: an outcome handed back at once must not find the
    // scheduler idle while the rest of the batch is still to be sent.
    for (const slot of sending) slot.inFlight = true;
    this.inFlight += sending.length;
    for (let i = 0; i < sending.length; i++) {
      const slot = sending[i]!;
      // One outcome per NOTIFY: a notifier that answers and then throws (or answers twice)
      // must not count the NOTIFY as done twice.
      let done = false;
      const finish = (outcome: NotifyOutcome): void => {
        if (done) return;
        done = true;
        // Nothing thrown here reaches the notifier: its callback may run from a timer or a
        // promise (the drachtio front's), where a throw would end the process.
        try {
          this.complete(slot, outcome);
        } catch (err) {
          this.o.logger.error({ err, subscription: slot.sub.id }, 'handling a NOTIFY answer failed');
          this.checkIdle();
        }
      };
      try {
        this.o.notifier.notify(requests[i]!, finish);
      } catch (err) {
        finish({ kind: 'transport-error', reason: String(err) });
      }
    }
    this.checkIdle();
  }

  private prepare(slot: Slot, now: number): NotifyRequest | undefined {
    const sub = slot.sub;
    const pkg = this.o.registry.get(sub.event);
    if (!pkg) return undefined;
    const body = this.render(sub.presentity, sub.event, pkg);
    sub.dialog.localCseq++;
    const version = sub.version++;
    const text = body.text(version);
    sub.notifyCount++;
    sub.lastRendering = body;
    let state: string;
    if (slot.terminal) {
      slot.finalSent = true;
      state = `terminated;reason=${slot.terminal}`;
    } else {
      // RFC 6665 4.2.2: the remaining time, never more than granted.
      state = `active;expires=${Math.max(0, Math.ceil((sub.expiresAt - now) / 1000))}`;
    }
    return {
      dialog: copyDialog(sub.dialog),
      event: sub.eventId !== undefined ? `${sub.event};id=${sub.eventId}` : sub.event,
      subscriptionState: state,
      contentType: body.contentType,
      body: text,
    };
  }

  private render(presentity: string, event: string, pkg: EventPackage): RenderedBody {
    const view = this.o.view(presentity);
    const key = `${event}\n${presentity}`;
    const cached = this.bodies.get(key);
    if (cached && cached.revision === view.revision) return cached.body;
    const body = pkg.render(view);
    this.bodies.set(key, { revision: view.revision, body });
    return body;
  }

  private complete(slot: Slot, outcome: NotifyOutcome): void {
    slot.inFlight = false;
    this.inFlight--;
    const sub = slot.sub;
    const drop = this.judge(sub, outcome);
    // A subscription that ends now needs no record of the answer.
    if (slot.persistent && !drop && !slot.finalSent) this.markAnswered(sub);
    if (drop) {
      this.slots.delete(sub.id);
      this.answered.delete(sub);
      this.o.logger.info(
        { subscription: sub.id, presentity: sub.presentity, watcher: sub.watcher, outcome, cause: drop },
        'subscription dropped after failed NOTIFY',
      );
      this.o.onEnded(sub, drop);
    } else if (slot.finalSent) {
      this.slots.delete(sub.id);
      // Its row is gone: an answer recorded earlier has nothing left to update.
      this.answered.delete(sub);
      this.o.onEnded(sub, slot.terminal ?? 'timeout');
    } else if (slot.pending) {
      slot.pending = false;
      this.enqueue(sub, slot.terminal, slot.persistent);
    } else {
      this.slots.delete(sub.id);
    }
    this.checkIdle();
  }

  /**
   * RFC 6665 4.2.2 and RFC 5057: 481 and its kin end the subscription at once; a timeout is
   * forgiven a few times on UDP (a phone rebooting, a lost packet); a dead connection ends it.
   */
  private judge(sub: Subscription, outcome: NotifyOutcome): DropCause | undefined {
    switch (outcome.kind) {
      case 'response': {
        sub.lastReply = outcome.status;
        if (outcome.status < 300) {
          sub.failures = 0;
          return undefined;
        }
        if (outcome.status === 408) return this.timedOut(sub);
        if ([404, 410, 481, 489, 501, 603, 604].includes(outcome.status)) return 'rejected-by-watcher';
        sub.failures++;
        return sub.failures >= this.o.maxTimeouts ? 'timeouts' : undefined;
      }
      case 'timeout':
        sub.lastReply = 408;
        return this.timedOut(sub);
      case 'transport-error':
        sub.lastReply = 503;
        if (sub.dialog.binding.transport !== 'udp') return 'unreachable';
        sub.failures++;
        return sub.failures >= this.o.maxTimeouts ? 'unreachable' : undefined;
    }
  }

  private timedOut(sub: Subscription): DropCause | undefined {
    sub.failures++;
    return sub.failures >= this.o.maxTimeouts ? 'timeouts' : undefined;
  }

  /**
   * The watcher's answer (reply code, failure count) is for the listing API, which reads
   * memory; nothing on the NOTIFY path depends on it after a crash. It is written in the
   * background every few seconds, and anyway with the subscription's next NOTIFY, so a fan-out
   * to thousands of phones does not pay a second database write per phone.
   */
  private markAnswered(sub: Subscription): void {
    if (this.closed) return;
    this.answered.add(sub);
    if (this.answeredTimer !== undefined) return;
    this.answeredTimer = this.o.clock.setTimer(() => this.flushAnswered(), ANSWERS_FLUSH_MS);
  }

  /** Writes the recorded answers and records no more: the store is about to close. */
  close(): void {
    this.flushAnswered();
    this.closed = true;
  }

  /** Writes the recorded answers now. */
  flushAnswered(): void {
    if (this.answeredTimer !== undefined) this.o.clock.clearTimer(this.answeredTimer);
    this.answeredTimer = undefined;
    if (this.answered.size === 0) return;
    const subs = [...this.answered];
    this.answered.clear();
    this.o.store.saveAnswers(subs);
  }

  private checkIdle(): void {
    if (this.inFlight !== 0 || this.ready.length !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * The dialog as it is for this NOTIFY (its CSeq moves on with the next). Field by field:
 * a spread of a non-literal takes V8's slow clone path, once per NOTIFY.
 */
function copyDialog(d: SubscriptionDialog): SubscriptionDialog {
  return {
    callId: d.callId,
    localTag: d.localTag,
    remoteTag: d.remoteTag,
    localUri: d.localUri,
    remoteUri: d.remoteUri,
    remoteTarget: d.remoteTarget,
    routeSet: d.routeSet,
    localCseq: d.localCseq,
    remoteCseq: d.remoteCseq,
    binding: d.binding,
  };
}
