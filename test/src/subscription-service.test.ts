import { describe, expect, it } from 'vitest';
import type { SipReply } from '../../src/sip-reply.js';
import type { SubscribeRequest } from '../../src/subscribe-request.js';
import { presentityForRequest } from '../../src/subscription-service.js';
import { createDomain, settle, subscribeRequest, type Domain } from './domain-harness.js';
import { FakeClock } from './fake-clock.js';
import { MemorySubscriptionStore } from './memory-stores.js';

const PRESENTITY = '1001@acme.example.com';

function header(r: SipReply, name: string): string | undefined {
  return r.headers?.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

/** Sends a SUBSCRIBE and, as a SIP adapter does once the answer is on the wire, runs afterSent. */
function send(d: Domain, req: SubscribeRequest): SipReply {
  const r = d.subscriptions.subscribe(req);
  r.afterSent?.();
  return r;
}

/** A new subscription, its first NOTIFY answered; returns the request and our To tag. */
async function subscribed(d: Domain, overrides: Partial<SubscribeRequest> = {}) {
  const req = subscribeRequest(overrides);
  const r = send(d, req);
  expect(r.status).toBe(200);
  await settle();
  return { req, toTag: r.toTag! };
}

/** The in-dialog SUBSCRIBE following `req` (To tag set, next CSeq). */
function inDialog(req: SubscribeRequest, toTag: string, overrides: Partial<SubscribeRequest> = {}): SubscribeRequest {
  return { ...req, toTag, cseq: req.cseq + 1, ...overrides };
}

describe('SubscriptionService: a new SUBSCRIBE', () => {
  it('is written once before its first NOTIFY: that write already holds the NOTIFY\'s CSeq and version', async () => {
    const store = new MemorySubscriptionStore();
    const d = createDomain({ subscriptionStore: store });
    send(d, subscribeRequest());
    await settle();
    const [sub] = d.subscriptions.watchers(PRESENTITY);
    expect(d.notifier.requests).toHaveLength(1);
    expect(store.journal.filter((j) => j.startsWith('save'))).toEqual([`save ${sub!.id}`]);
    const row = store.rows.get(sub!.id)!;
    expect(row.dialog.localCseq).toBe(d.notifier.last!.dialog.localCseq);
    expect(row.version).toBe(1);

    // The next NOTIFY was not reserved: its CSeq is written before it leaves.
    d.presence.set(PRESENTITY, 'confirmed');
    await settle();
    expect(store.journal.at(-1)).toBe(`saveProgress ${sub!.id}@cseq=2`);
    expect(store.rows.get(sub!.id)!.dialog.localCseq).toBe(2);
  });

  it('is answered 200 with the granted Expires and a To tag, and the NOTIFY waits until the answer is sent', async () => {
    const d = createDomain();
    const r = d.subscriptions.subscribe(subscribeRequest({ expires: 600 }));
    expect(r.status).toBe(200);
    expect(header(r, 'Expires')).toBe('600');
    expect(r.toTag).toMatch(/^[0-9a-f]{16}$/);
    await settle();
    expect(d.notifier.requests).toHaveLength(0);

    r.afterSent!();
    await settle();
    expect(d.notifier.requests).toHaveLength(1);
    expect(d.notifier.last!.subscriptionState).toBe('active;expires=600');
  });

  it('is followed by one full-state NOTIFY in the new dialog, with our tag, their tag, CSeq 1 and the idle body', async () => {
    const d = createDomain();
    const req = subscribeRequest({ recordRoute: ['<sip:edge.example.com;lr>'] });
    const r = send(d, req);
    await settle();
    expect(d.notifier.requests).toHaveLength(1);
    const notify = d.notifier.last!;
    expect(notify.event).toBe('dialog');
    expect(notify.contentType).toBe('application/dialog-info+xml');
    expect(notify.dialog).toMatchObject({
      callId: req.callId,
      localTag: r.toTag,
      remoteTag: req.fromTag,
      localUri: req.to,
      remoteUri: req.from,
      remoteTarget: req.contact,
      routeSet: ['<sip:edge.example.com;lr>'],
      localCseq: 1,
    });
    expect(notify.body).toContain('version="0"');
    expect(notify.body).toContain('<state>terminated</state>');
  });

  it('is stored and listed among the watchers of the presentity it names', async () => {
    const d = createDomain();
    const { req } = await subscribed(d);
    const [sub] = d.subscriptions.watchers(PRESENTITY);
    expect(sub).toBeDefined();
    expect(sub!.watcher).toBe('1002@acme.example.com');
    expect(sub!.expiresAt).toBe(d.clock.now() + 600_000);
    expect(d.subscriptionStore.rows.get(sub!.id)?.dialog.callId).toBe(req.callId);
  });

  it('repeats the Event id parameter in every NOTIFY', async () => {
    const d = createDomain();
    await subscribed(d, { event: { package: 'dialog', id: '7' } });
    expect(d.notifier.last!.event).toBe('dialog;id=7');
  });

  it('without Expires is granted the package default', () => {
    const d = createDomain();
    const r = d.subscriptions.subscribe(subscribeRequest({ expires: undefined }));
    expect(r.status).toBe(200);
    expect(header(r, 'Expires')).toBe('3600');
  });

  it('asking for less than the minimum gets 423 Interval Too Brief with Min-Expires, and nothing is kept', async () => {
    const d = createDomain();
    const r = send(d, subscribeRequest({ expires: 59 }));
    expect(r.status).toBe(423);
    expect(header(r, 'Min-Expires')).toBe('60');
    expect(r.afterSent).toBeUndefined();
    await settle();
    expect(d.subscriptions.size).toBe(0);
    expect(d.subscriptionStore.rows.size).toBe(0);
    expect(d.notifier.requests).toHaveLength(0);
  });

  it('asking for exactly the minimum is granted', () => {
    const d = createDomain();
    expect(header(d.subscriptions.subscribe(subscribeRequest({ expires: 60 })), 'Expires')).toBe('60');
  });

  it('asking for more than the maximum is granted the maximum', async () => {
    const d = createDomain();
    const r = send(d, subscribeRequest({ expires: 86_400 }));
    expect(r.status).toBe(200);
    expect(header(r, 'Expires')).toBe('7200');
    await settle();
    expect(d.notifier.last!.subscriptionState).toBe('active;expires=7200');
  });

  it('for an unknown event package gets 489 Bad Event listing the packages we serve', () => {
    const d = createDomain();
    const r = d.subscriptions.subscribe(subscribeRequest({ event: { package: 'conference' } }));
    expect(r.status).toBe(489);
    expect(header(r, 'Allow-Events')).toBe('dialog, presence, message-summary');
  });

  it('without an Event header gets 489 Bad Event listing the packages we serve', () => {
    const d = createDomain();
    const r = d.subscriptions.subscribe(subscribeRequest({ event: undefined }));
    expect(r.status).toBe(489);
    expect(header(r, 'Allow-Events')).toBe('dialog, presence, message-summary');
  });

  it('whose Accept does not include the package body type gets 406 naming the type we send', () => {
    const d = createDomain();
    const r = d.subscriptions.subscribe(subscribeRequest({ accept: ['application/pidf+xml'] }));
    expect(r.status).toBe(406);
    expect(header(r, 'Accept')).toBe('application/dialog-info+xml');
  });

  it.each([['*/*'], ['application/*'], ['application/dialog-info+xml;q=0.5'], ['Application/Dialog-Info+XML']])(
    'with Accept: %s is accepted',
    (accept) => {
      const d = createDomain();
      expect(d.subscriptions.subscribe(subscribeRequest({ accept: ['application/pidf+xml', accept] })).status).toBe(200);
    },
  );

  it('with an empty Accept list is accepted', () => {
    const d = createDomain();
    expect(d.subscriptions.subscribe(subscribeRequest({ accept: [] })).status).toBe(200);
  });

  it('without a From tag gets 400', () => {
    const d = createDomain();
    const r = d.subscriptions.subscribe(subscribeRequest({ fromTag: undefined }));
    expect(r.status).toBe(400);
    expect(r.reason).toMatch(/From tag/);
  });

  it('without a Contact gets 400 and creates nothing', () => {
    const d = createDomain();
    const r = d.subscriptions.subscribe(subscribeRequest({ contact: undefined }));
    expect(r.status).toBe(400);
    expect(r.reason).toMatch(/Contact/);
    expect(d.subscriptions.size).toBe(0);
  });

  it('from a device authenticated in another realm is refused with 403', () => {
    const d = createDomain();
    const r = d.subscriptions.subscribe(subscribeRequest({ authenticatedRealm: 'other.example.com' }));
    expect(r.status).toBe(403);
    expect(d.subscriptions.size).toBe(0);
  });

  it('from a device authenticated in the presentity realm is accepted, whatever the case of the realm', () => {
    const d = createDomain();
    expect(d.subscriptions.subscribe(subscribeRequest({ authenticatedRealm: 'ACME.example.com' })).status).toBe(200);
  });

  it('sent to the server IP address watches the presentity in the To domain', async () => {
    const d = createDomain();
    await subscribed(d, { requestUri: { user: '1001', host: '198.51.100.1' } });
    expect(d.subscriptions.watchers(PRESENTITY)).toHaveLength(1);
  });
});

describe('presentityForRequest', () => {
  it('is the Request-URI user at the Request-URI domain', () => {
    expect(presentityForRequest({ user: '1001', host: 'ACME.example.com' }, { user: '1001', host: 'other.example.com' })).toBe(
      '1001@acme.example.com',
    );
  });

  it('takes the To domain when the Request-URI names an IPv4 address', () => {
    expect(presentityForRequest({ user: '*3101', host: '10.0.0.5' }, { user: '*3101', host: 'acme.example.com' })).toBe(
      '*3101@acme.example.com',
    );
  });

  it('takes the To domain when the Request-URI names an IPv6 address', () => {
    expect(presentityForRequest({ user: '1001', host: '[2001:db8::1]' }, { user: '1001', host: 'acme.example.com' })).toBe(
      '1001@acme.example.com',
    );
  });

  it('keeps the Request-URI address when To names an address too', () => {
    expect(presentityForRequest({ user: '1001', host: '10.0.0.5' }, { user: '1001', host: '10.0.0.6' })).toBe('1001@10.0.0.5');
  });

  it('takes the To user when the Request-URI has none, and is undefined when neither has one', () => {
    expect(presentityForRequest({ host: 'acme.example.com' }, { user: '1001', host: 'acme.example.com' })).toBe('1001@acme.example.com');
    expect(presentityForRequest({ host: 'acme.example.com' }, { host: 'acme.example.com' })).toBeUndefined();
  });
});

describe('SubscriptionService: a SUBSCRIBE inside the dialog', () => {
  it('refreshes: 200 with the new expiry, the new Contact as target, and one full-state NOTIFY', async () => {
    const d = createDomain();
    const { req, toTag } = await subscribed(d, { expires: 600 });
    d.clock.advance(100_000);

    const r = send(d, inDialog(req, toTag, { expires: 1800, contact: 'sip:1002@192.0.2.99:5070' }));
    expect(r.status).toBe(200);
    expect(header(r, 'Expires')).toBe('1800');
    await settle();

    expect(d.notifier.requests).toHaveLength(2);
    const notify = d.notifier.last!;
    expect(notify.subscriptionState).toBe('active;expires=1800');
    expect(notify.dialog.remoteTarget).toBe('sip:1002@192.0.2.99:5070');
    expect(notify.dialog.localCseq).toBe(2);
    expect(notify.body).toContain('version="1"');
    const [sub] = d.subscriptions.watchers(PRESENTITY);
    expect(sub!.expiresAt).toBe(d.clock.now() + 1_800_000);
    expect(d.subscriptionStore.rows.get(sub!.id)!.dialog.remoteTarget).toBe('sip:1002@192.0.2.99:5070');
  });

  it('keeps the subscription past its first expiry once refreshed', async () => {
    const d = createDomain();
    const { req, toTag } = await subscribed(d, { expires: 600 });
    d.clock.advance(500_000);
    send(d, inDialog(req, toTag, { expires: 600 }));
    await settle();
    d.clock.advance(200_000);
    await settle();
    expect(d.subscriptions.watchers(PRESENTITY)).toHaveLength(1);
    expect(d.notifier.requests.map((n) => n.subscriptionState)).toEqual(['active;expires=600', 'active;expires=600']);
  });

  it('for a dialog we do not know gets 481', () => {
    const d = createDomain();
    const r = d.subscriptions.subscribe(subscribeRequest({ toTag: 'never-issued', cseq: 2 }));
    expect(r.status).toBe(481);
  });

  it('with a To tag of another dialog gets 481', async () => {
    const d = createDomain();
    const { req } = await subscribed(d);
    expect(d.subscriptions.subscribe(inDialog(req, 'deadbeefdeadbeef')).status).toBe(481);
  });

  it.each([
    ['equal', 0],
    ['lower', -1],
  ])('with an %s CSeq gets 500 and changes nothing', async (_label, delta) => {
    const d = createDomain();
    const { req, toTag } = await subscribed(d, { cseq: 5 });
    const r = send(d, { ...req, toTag, cseq: 5 + delta, expires: 1800 });
    expect(r.status).toBe(500);
    await settle();
    expect(d.notifier.requests).toHaveLength(1);
    expect(d.subscriptions.watchers(PRESENTITY)[0]!.expires).toBe(600);
  });

  it('with Expires: 0 is answered 200, then gets a final terminated NOTIFY, then is forgotten', async () => {
    const d = createDomain();
    const { req, toTag } = await subscribed(d);
    d.notifier.willAnswer('hold');

    const r = send(d, inDialog(req, toTag, { expires: 0 }));
    expect(r.status).toBe(200);
    expect(header(r, 'Expires')).toBe('0');
    await settle();
    expect(d.notifier.requests).toHaveLength(2);
    expect(d.notifier.last!.subscriptionState).toBe('terminated;reason=timeout');
    expect(d.notifier.last!.body).toContain('<dialog-info');

    d.notifier.answer();
    await settle();
    expect(d.subscriptions.watchers(PRESENTITY)).toEqual([]);
    expect(d.subscriptions.size).toBe(0);
    expect(d.subscriptionStore.rows.size).toBe(0);
    expect(d.ended.map((e) => e.cause)).toEqual(['timeout']);
  });

  it('after an unsubscribe the answers recorded for the background write are dropped with it', async () => {
    const d = createDomain();
    const { req, toTag } = await subscribed(d);
    send(d, inDialog(req, toTag, { expires: 0 }));
    await settle();
    d.scheduler.flushAnswered();
    expect(d.journal.filter((j) => j.startsWith('saveAnswers'))).toEqual([]);
  });

  it('after an unsubscribe no expiry NOTIFY follows', async () => {
    const d = createDomain();
    const { req, toTag } = await subscribed(d, { expires: 600 });
    send(d, inDialog(req, toTag, { expires: 0 }));
    await settle();
    d.clock.advance(3_600_000);
    await settle();
    expect(d.notifier.requests).toHaveLength(2);
  });
});

describe('SubscriptionService: a fetch (Expires: 0 outside a dialog)', () => {
  it('gets 200 and one NOTIFY with the state that also terminates it, and nothing is stored', async () => {
    const d = createDomain();
    d.presence.set(PRESENTITY, 'confirmed');
    const r = send(d, subscribeRequest({ expires: 0 }));
    expect(r.status).toBe(200);
    expect(header(r, 'Expires')).toBe('0');
    expect(r.toTag).toBeDefined();
    await settle();

    expect(d.notifier.requests).toHaveLength(1);
    expect(d.notifier.last!.subscriptionState).toBe('terminated;reason=timeout');
    expect(d.notifier.last!.body).toContain('<state>confirmed</state>');
    expect(d.subscriptions.watchers(PRESENTITY)).toEqual([]);
    expect(d.subscriptionStore.rows.size).toBe(0);
    expect(d.journal.filter((j) => j.startsWith('save'))).toEqual([]);
  });
});

describe('SubscriptionService: expiry', () => {
  it('without a refresh ends with a terminated;reason=timeout NOTIFY at expiresAt, then the subscription is removed', async () => {
    const d = createDomain();
    await subscribed(d, { expires: 600 });
    const sub = d.subscriptions.watchers(PRESENTITY)[0]!;

    d.clock.advanceTo(sub.expiresAt - 1);
    await settle();
    expect(d.notifier.requests).toHaveLength(1);

    d.clock.advance(1);
    await settle();
    expect(d.notifier.requests).toHaveLength(2);
    expect(d.notifier.last!.subscriptionState).toBe('terminated;reason=timeout');
    expect(d.subscriptions.watchers(PRESENTITY)).toEqual([]);
    expect(d.subscriptionStore.rows.has(sub.id)).toBe(false);
  });

  it('restore() rebuilds the expiry timers of stored subscriptions and sweeps the expired ones, sending nothing', async () => {
    const clock = new FakeClock();
    const store = new MemorySubscriptionStore();
    const before = createDomain({ clock, subscriptionStore: store });
    await subscribed(before, { expires: 60 });
    await subscribed(before, { expires: 600, requestUri: { user: '1003', host: 'acme.example.com' }, toUri: { user: '1003', host: 'acme.example.com' } });
    before.subscriptions.stopTimers();
    clock.advance(120_000);
    expect(store.rows.size).toBe(2);

    const after = createDomain({ clock, subscriptionStore: store });
    expect(after.subscriptions.restore()).toBe(1);
    expect(store.rows.size).toBe(1);
    expect(after.subscriptions.watchers(PRESENTITY)).toEqual([]);
    const [live] = after.subscriptions.watchers('1003@acme.example.com');
    expect(live).toBeDefined();
    await settle();
    expect(after.notifier.requests).toHaveLength(0);

    clock.advanceTo(live!.expiresAt);
    await settle();
    expect(after.notifier.requests.map((n) => n.subscriptionState)).toEqual(['terminated;reason=timeout']);
    expect(after.notifier.last!.dialog.localCseq).toBe(2);
    expect(store.rows.size).toBe(0);
  });

  it('restore() keeps a restored subscription refreshable in its dialog', async () => {
    const clock = new FakeClock();
    const store = new MemorySubscriptionStore();
    const before = createDomain({ clock, subscriptionStore: store });
    const { req, toTag } = await subscribed(before);
    before.subscriptions.stopTimers();

    const after = createDomain({ clock, subscriptionStore: store });
    after.subscriptions.restore();
    const r = send(after, inDialog(req, toTag));
    expect(r.status).toBe(200);
    await settle();
    expect(after.notifier.last!.body).toContain('version="1"');
  });
});

describe('SubscriptionService while the server stops', () => {
  it('turns new SUBSCRIBEs away with 503 and Retry-After, creating nothing', () => {
    const d = createDomain();
    d.subscriptions.close();
    const r = d.subscriptions.subscribe(subscribeRequest());
    expect(r.status).toBe(503);
    expect(r.headers).toContainEqual(['Retry-After', '5']);
    expect(r.afterSent).toBeUndefined();
    expect(d.subscriptions.size).toBe(0);
  });
});
