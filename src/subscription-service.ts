import type { EventPackageRegistry } from './event-package-registry.js';
import type { EventPackage, StateKind } from './event-package.js';
import type { DropCause, NotifyScheduler, TerminationReason } from './notify-scheduler.js';
import { ExpiryWheel } from './expiry-wheel.js';
import type { Clock } from './ports/clock.js';
import type { Logger } from './ports/logger.js';
import type { SubscriptionStore } from './ports/subscription-store.js';
import { presentityOf, splitPresentity, type Presentity } from './presentity.js';
import { randomHex } from './random-hex.js';
import { reply, type SipReply } from './sip-reply.js';
import type { SubscribeRequest, UriParts } from './subscribe-request.js';
import { StringPool } from './string-pool.js';
import { reserveNextNotify, subscriptionKey, type Subscription } from './subscription.js';
import { ChurnMap, ChurnSet } from './churn-map.js';

export interface SubscriptionFilter {
  realm?: string;
  presentity?: Presentity;
  event?: string;
}

export interface SubscriptionServiceOptions {
  registry: EventPackageRegistry;
  store: SubscriptionStore;
  scheduler: NotifyScheduler;
  clock: Clock;
  logger: Logger;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || IPV4.test(host) || host.includes(':');
}

/**
 * The presentity a SUBSCRIBE is for: the Request-URI's user at its host. Phones that send
 * the Request-URI to the server's IP address still name the domain in To, so an IP host
 * gives way to a To host that is a domain.
 */
export function presentityForRequest(requestUri: UriParts, toUri: UriParts): Presentity | undefined {
  const user = requestUri.user ?? toUri.user;
  if (!user) return undefined;
  const realm = isIpLiteral(requestUri.host) && !isIpLiteral(toUri.host) ? toUri.host : requestUri.host;
  return presentityOf(user, realm);
}

function watcherOf(uri: UriParts): string {
  return uri.user ? `${uri.user}@${uri.host.toLowerCase()}` : uri.host.toLowerCase();
}

function acceptsType(accept: readonly string[], contentType: string): boolean {
  const [major] = contentType.split('/');
  return accept.some((a) => {
    const t = a.split(';')[0]!.trim().toLowerCase();
    return t === contentType || t === '*/*' || t === `${major}/*`;
  });
}

/**
 * RFC 6665 notifier: answers SUBSCRIBEs, keeps every subscription in memory (indexed by
 * presentity) and in the store, and ends them on expiry with a final NOTIFY.
 */
export class SubscriptionService {
  private readonly subs = new ChurnMap<string, Subscription>();
  private readonly byPresentity = new ChurnMap<Presentity, ChurnSet<Subscription>>();
  /** One copy of each presentity and watcher for all their subscriptions (src/string-pool.ts). */
  private readonly presentities = new StringPool();
  private readonly watcherNames = new StringPool();
  private readonly expiries: ExpiryWheel<Subscription>;
  /** Unsubscribed: already deleted from the store, waiting for the final NOTIFY. */
  private readonly unstored = new ChurnSet<string>();
  private readonly log: Logger;

  constructor(private readonly o: SubscriptionServiceOptions) {
    this.log = o.logger;
    this.expiries = new ExpiryWheel(o.clock, (sub) => sub.expiresAt, (sub) => this.expire(sub));
  }

  /** Loads stored subscriptions and rebuilds their expiry timers; sweeps the expired. Sends nothing. */
  restore(): number {
    const now = this.o.clock.now();
    const swept = this.o.store.removeExpired(now);
    let restored = 0;
    for (const sub of this.o.store.loadAll()) {
      if (sub.expiresAt <= now) {
        this.o.store.remove(sub.id);
        continue;
      }
      this.index(sub);
      this.arm(sub);
      restored++;
    }
    this.log.info({ restored, swept }, 'subscriptions restored');
    return restored;
  }

  /** Set while the server stops: new work is turned away so the stop is not held up. */
  private closing = false;

  /** From now on SUBSCRIBEs get 503 with Retry-After (RFC 3261 21.5.4): the server is stopping. */
  close(): void {
    this.closing = true;
  }

  /** RFC 6665 4.2.1: handles a SUBSCRIBE, new or in-dialog. */
  subscribe(req: SubscribeRequest): SipReply {
    if (this.closing) return reply(503, 'Service Unavailable - shutting down', [['Retry-After', '5']]);
    const pkg = req.event ? this.o.registry.get(req.event.package) : undefined;
    if (!pkg) {
      // RFC 6665 4.2.1.2 / 8.2.2: unknown or missing package.
      return reply(489, 'Bad Event', [['Allow-Events', this.o.registry.names().join(', ')]]);
    }
    if (req.accept && req.accept.length > 0 && !acceptsType(req.accept, pkg.contentType)) {
      return reply(406, 'Not Acceptable', [['Accept', pkg.contentType]]);
    }
    if (!req.fromTag) return reply(400, 'Missing From tag');
    if (req.toTag) return this.refresh(req, pkg);
    return this.create(req, pkg);
  }

  get(id: string): Subscription | undefined {
    return this.subs.get(id);
  }

  watchers(presentity: Presentity): Subscription[] {
    return [...(this.byPresentity.get(presentity) ?? [])];
  }

  list(filter: SubscriptionFilter = {}): Subscription[] {
    const source = filter.presentity ? (this.byPresentity.get(filter.presentity) ?? []) : this.subs.values();
    const out: Subscription[] = [];
    for (const sub of source) {
      if (filter.event && sub.event !== filter.event) continue;
      if (filter.realm && splitPresentity(sub.presentity).realm !== filter.realm.toLowerCase()) continue;
      out.push(sub);
    }
    return out;
  }

  get size(): number {
    return this.subs.size;
  }

  /** Queues a full-state NOTIFY to every watcher of the presentity whose package renders one of `kinds`. */
  notifyWatchers(presentity: Presentity, kinds: ReadonlySet<StateKind>): void {
    const watchers = this.byPresentity.get(presentity);
    if (!watchers) return;
    for (const sub of watchers) {
      const pkg = this.o.registry.get(sub.event);
      if (pkg && pkg.stateKinds.some((k) => kinds.has(k))) this.o.scheduler.enqueue(sub);
    }
  }

  /**
   * Ends every subscription with a final NOTIFY (`deactivated` lets phones subscribe
   * elsewhere, RFC 6665 4.2.2) and waits until they are answered.
   */
  async terminateAll(reason: TerminationReason): Promise<void> {
    for (const sub of this.subs.values()) this.o.scheduler.enqueue(sub, reason);
    await this.o.scheduler.idle();
  }

  /** Stops all expiry timers (shutdown); subscriptions stay stored. */
  stopTimers(): void {
    this.expiries.clear();
  }

  /** Called by the scheduler when a subscription is over. */
  ended(sub: Subscription, cause: TerminationReason | DropCause): void {
    if (this.subs.get(sub.id) !== sub) return;
    this.unindex(sub);
    if (!this.unstored.delete(sub.id)) this.o.store.remove(sub.id);
    this.log.debug({ subscription: sub.id, presentity: sub.presentity, cause }, 'subscription ended');
  }

  private create(req: SubscribeRequest, pkg: EventPackage): SipReply {
    const presentity = presentityForRequest(req.requestUri, req.toUri);
    if (!presentity) return reply(400, 'Missing user part in Request-URI');
    if (req.authenticatedRealm !== undefined && splitPresentity(presentity).realm !== req.authenticatedRealm.toLowerCase()) {
      return reply(403, 'Forbidden - presentity outside your account');
    }
    if (!req.contact) return reply(400, 'Missing Contact header');
    const expires = this.grant(req.expires, pkg);
    if (typeof expires !== 'number') return expires;
    const now = this.o.clock.now();
    // RFC 3261 19.3: at least 32 random bits; 64 here.
    const localTag = randomHex(8);
    const sub: Subscription = {
      id: subscriptionKey(req.callId, req.fromTag!, localTag, pkg.name, req.event?.id),
      dialog: {
        callId: req.callId,
        localTag,
        remoteTag: req.fromTag!,
        localUri: req.to,
        remoteUri: req.from,
        remoteTarget: req.contact,
        routeSet: req.recordRoute,
        localCseq: 0,
        remoteCseq: req.cseq,
        binding: req.binding,
      },
      event: pkg.name,
      // Shared with the presentity's other watchers, and the watcher's other subscriptions.
      presentity: this.presentities.intern(presentity),
      watcher: this.watcherNames.intern(watcherOf(req.fromUri)),
      expires,
      expiresAt: now + expires * 1000,
      version: 0,
      createdAt: now,
      lastSubscribeAt: now,
      notifyCount: 0,
      lastReply: 0,
      failures: 0,
    };
    if (req.event?.id !== undefined) sub.eventId = req.event.id;
    if (req.userAgent !== undefined) sub.userAgent = req.userAgent;

    if (expires === 0) {
      // RFC 6665 4.4.3: a fetch gets one NOTIFY with the state, which also ends it.
      return { status: 200, reason: 'OK', headers: [['Expires', '0']], toTag: localTag, afterSent: () => this.o.scheduler.enqueue(sub, 'timeout', false) };
    }
    reserveNextNotify(sub);
    this.o.store.save(sub);
    this.index(sub);
    this.arm(sub);
    this.log.debug({ subscription: sub.id, presentity, watcher: sub.watcher, event: sub.event, expires }, 'subscription created');
    // Spelled out: spreading reply() into a literal takes V8's slow object-clone path.
    return { status: 200, reason: 'OK', headers: [['Expires', String(expires)]], toTag: localTag, afterSent: () => this.o.scheduler.enqueue(sub) };
  }

  private refresh(req: SubscribeRequest, pkg: EventPackage): SipReply {
    const id = subscriptionKey(req.callId, req.fromTag!, req.toTag!, pkg.name, req.event?.id);
    const sub = this.subs.get(id);
    // RFC 6665 4.2.1.1 / RFC 3261 12.2.2: a request in a dialog we do not know.
    if (!sub) return reply(481, 'Subscription Does Not Exist');
    // RFC 3261 12.2.2: a lower CSeq is out of order.
    if (req.cseq <= sub.dialog.remoteCseq) return reply(500, 'CSeq Out of Order');
    sub.dialog.remoteCseq = req.cseq;
    const now = this.o.clock.now();
    sub.lastSubscribeAt = now;
    if (req.expires === 0) {
      // RFC 6665 4.2.1.4: unsubscribe; the final NOTIFY says so.
      // Gone from the store at once: if the server dies before the final NOTIFY is answered,
      // it must not come back with a subscription the phone has ended.
      this.disarm(sub);
      sub.expiresAt = now;
      this.o.store.remove(sub.id);
      this.unstored.add(sub.id);
      return { status: 200, reason: 'OK', headers: [['Expires', '0']], afterSent: () => this.o.scheduler.enqueue(sub, 'timeout', false) };
    }
    const expires = this.grant(req.expires, pkg);
    if (typeof expires !== 'number') return expires;
    // RFC 6665 4.1.2.1 / RFC 3261 12.2.2: SUBSCRIBE is a target refresh request.
    if (req.contact) sub.dialog.remoteTarget = req.contact;
    sub.dialog.binding = req.binding;
    sub.expires = expires;
    this.disarm(sub);
    sub.expiresAt = now + expires * 1000;
    if (req.userAgent !== undefined) sub.userAgent = req.userAgent;
    reserveNextNotify(sub);
    this.o.store.save(sub);
    this.arm(sub);
    return { status: 200, reason: 'OK', headers: [['Expires', String(expires)]], afterSent: () => this.o.scheduler.enqueue(sub) };
  }

  /** RFC 6665 4.2.1.1: missing -> default, too short -> 423, too long -> the maximum. */
  private grant(requested: number | undefined, pkg: EventPackage): number | SipReply {
    if (requested === undefined) return pkg.expires.default;
    if (requested === 0) return 0;
    if (requested < pkg.expires.min) return reply(423, 'Interval Too Brief', [['Min-Expires', String(pkg.expires.min)]]);
    return Math.min(requested, pkg.expires.max);
  }

  private index(sub: Subscription): void {
    this.subs.set(sub.id, sub);
    let set = this.byPresentity.get(sub.presentity);
    if (!set) {
      set = new ChurnSet();
      this.byPresentity.set(sub.presentity, set);
    }
    set.add(sub);
  }

  private unindex(sub: Subscription): void {
    this.subs.delete(sub.id);
    this.disarm(sub);
    const set = this.byPresentity.get(sub.presentity);
    if (set) {
      set.delete(sub);
      if (set.size === 0) this.byPresentity.delete(sub.presentity);
    }
  }

  /** Call before changing `expiresAt`, and arm again after. */
  private arm(sub: Subscription): void {
    this.expiries.add(sub, sub.expiresAt);
  }

  private disarm(sub: Subscription): void {
    this.expiries.remove(sub, sub.expiresAt);
  }

  private expire(sub: Subscription): void {
    if (this.subs.get(sub.id) !== sub) return;
    if (sub.expiresAt > this.o.clock.now()) return this.arm(sub);
    // RFC 6665 4.2.2: expiry without refresh ends with terminated;reason=timeout.
    try {
      this.o.scheduler.enqueue(sub, 'timeout');
    } catch (err) {
      this.log.error({ err, subscription: sub.id }, 'expiry of a subscription failed');
    }
  }
}
