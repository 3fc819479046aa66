import { describe, expect, it, vi } from 'vitest';
import type { DialogInfo } from '../../src/dialog-info.js';
import { EventPackageRegistry } from '../../src/event-package-registry.js';
import type { EventPackage } from '../../src/event-package.js';
import { NotifyScheduler, type DropCause, type TerminationReason } from '../../src/notify-scheduler.js';
import { dialogPackage } from '../../src/packages/dialog-package.js';
import { silentLogger, type Logger } from '../../src/ports/logger.js';
import type { NotifyOutcome } from '../../src/ports/notifier.js';
import { PresentityStates } from '../../src/presentity-states.js';
import type { SipTransport } from '../../src/transport-binding.js';
import type { Subscription } from '../../src/subscription.js';
import { settle } from './domain-harness.js';
import { FakeClock } from './fake-clock.js';
import { MemoryStateStore, MemorySubscriptionStore } from './memory-stores.js';
import { connectionClosed, noAnswer, ok, RecordingNotifier, status } from './recording-notifier.js';

const PRESENTITY = '1001@acme.example.com';

function setup(opts: { maxTimeouts?: number; logger?: Logger; onEnded?: (sub: Subscription, cause: TerminationReason | DropCause) => void } = {}) {
  const journal: string[] = [];
  const clock = new FakeClock();
  const store = new MemorySubscriptionStore(journal);
  const notifier = new RecordingNotifier(journal);
  const pkg: EventPackage = { ...dialogPackage, render: vi.fn((view) => dialogPackage.render(view)) };
  const registry = new EventPackageRegistry().register(pkg);
  const states = new PresentityStates(new MemoryStateStore(), clock);
  const ended: Array<{ id: string; cause: TerminationReason | DropCause }> = [];
  const scheduler = new NotifyScheduler({
    notifier,
    store,
    registry,
    view: (p) => states.view(p),
    clock,
    logger: opts.logger ?? silentLogger,
    maxTimeouts: opts.maxTimeouts ?? 3,
    onEnded: opts.onEnded ?? ((sub, cause) => ended.push({ id: sub.id, cause })),
  });
  let n = 0;
  /** A stored subscription to PRESENTITY. */
  const subscription = (overrides: Partial<Subscription> & { transport?: SipTransport } = {}): Subscription => {
    n++;
    const { transport = 'udp', ...rest } = overrides;
    const sub: Subscription = {
      id: `sub-${n}`,
      dialog: {
        callId: `watch-${n}@192.0.2.10`,
        localTag: `srv-${n}`,
        remoteTag: `phone-${n}`,
        localUri: `<sip:${PRESENTITY}>`,
        remoteUri: '<sip:1002@acme.example.com>',
        remoteTarget: 'sip:1002@192.0.2.10:5062',
        routeSet: [],
        localCseq: 0,
        remoteCseq: 1,
        binding: { transport, source: { address: '192.0.2.10', port: 5062 }, sendToSource: transport !== 'udp', connectionId: transport === 'udp' ? undefined : `c-${n}` },
      },
      event: 'dialog',
      presentity: PRESENTITY,
      watcher: '1002@acme.example.com',
      expires: 600,
      expiresAt: clock.now() + 600_000,
      version: 0,
      createdAt: clock.now(),
      lastSubscribeAt: clock.now(),
      notifyCount: 0,
      lastReply: 0,
      failures: 0,
      ...rest,
    };
    store.save(sub);
    return sub;
  };
  /** A change of the presentity's call state (one REST-style source). */
  const callState = (dialog: Omit<DialogInfo, 'updatedAt'>) =>
    states.put({ presentity: PRESENTITY, id: 'api', kind: 'dialog', dialogs: [{ ...dialog, updatedAt: clock.now() }], updatedAt: clock.now() });
  return { journal, clock, store, notifier, pkg, states, scheduler, ended, subscription, callState };
}

/** Sends `outcomes.length` NOTIFYs one after another, each answered as listed. */
async function notifyAnsweredWith(t: ReturnType<typeof setup>, sub: Subscription, outcomes: NotifyOutcome[]): Promise<void> {
  for (const outcome of outcomes) {
    t.notifier.willAnswer(outcome);
    t.scheduler.enqueue(sub);
    await settle();
  }
}

describe('NotifyScheduler: ordering', () => {
  it('keeps one NOTIFY in flight per subscription: a second change waits for the answer to the first', async () => {
    const t = setup();
    const sub = t.subscription();
    t.notifier.willAnswer('hold');
    t.scheduler.enqueue(sub);
    await settle();
    t.callState({ id: 'a', callId: 'a', state: 'early' });
    t.scheduler.enqueue(sub);
    await settle();
    expect(t.notifier.requests).toHaveLength(1);

    t.notifier.answer(ok);
    await settle();
    expect(t.notifier.requests).toHaveLength(2);
    expect(t.notifier.last!.body).toContain('<state>early</state>');
  });

  it('coalesces a burst of five changes during a NOTIFY in flight into one more NOTIFY with the newest state', async () => {
    const t = setup();
    const sub = t.subscription();
    t.notifier.willAnswer('hold');
    t.scheduler.enqueue(sub);
    await settle();
    for (let i = 1; i <= 5; i++) {
      t.callState({ id: `call-${i}`, callId: `call-${i}`, state: i === 5 ? 'confirmed' : 'early' });
      t.scheduler.enqueue(sub);
    }
    await settle();
    expect(t.notifier.requests).toHaveLength(1);

    t.notifier.answer(ok);
    await settle();
    expect(t.notifier.requests).toHaveLength(2);
    expect(t.notifier.last!.body).toContain('call-id="call-5"');
    expect(t.notifier.last!.body).toContain('<state>confirmed</state>');
    expect(t.notifier.last!.body).not.toContain('call-4');
    expect(t.scheduler.pendingCount).toBe(0);
  });

  it('coalesces changes queued in the same tick into one NOTIFY', async () => {
    const t = setup();
    const sub = t.subscription();
    for (let i = 0; i < 5; i++) t.scheduler.enqueue(sub);
    await settle();
    expect(t.notifier.requests).toHaveLength(1);
  });

  it('raises CSeq and version by exactly one with every NOTIFY', async () => {
    const t = setup();
    const sub = t.subscription({ version: 5 });
    sub.dialog.localCseq = 17;
    await notifyAnsweredWith(t, sub, [ok, ok, ok]);
    expect(t.notifier.requests.map((r) => r.dialog.localCseq)).toEqual([18, 19, 20]);
    expect(t.notifier.requests.map((r) => /version="(\d+)"/.exec(r.body!)?.[1])).toEqual(['5', '6', '7']);
    expect(sub).toMatchObject({ version: 8, notifyCount: 3, lastReply: 200 });
  });

  it('commits the new CSeq and version to the store before the NOTIFY is handed to the notifier', async () => {
    const t = setup();
    const sub = t.subscription();
    t.journal.length = 0;
    t.scheduler.enqueue(sub);
    await settle();
    expect(t.journal.slice(0, 2)).toEqual([`saveProgress ${sub.id}@cseq=1`, 'notify cseq=1']);
    expect(t.store.rows.get(sub.id)).toMatchObject({ version: 1, notifyCount: 1 });
  });

  it('commits the progress of a batch of subscriptions in one store write', async () => {
    const t = setup();
    const subs = [t.subscription(), t.subscription(), t.subscription()];
    t.journal.length = 0;
    for (const sub of subs) t.scheduler.enqueue(sub);
    await settle();
    expect(t.journal.slice(0, 4)).toEqual([
      `saveProgress ${subs.map((s) => `${s.id}@cseq=1`).join(',')}`,
      'notify cseq=1',
      'notify cseq=1',
      'notify cseq=1',
    ]);
  });

  it('tells the remaining time in Subscription-State, rounded up to whole seconds', async () => {
    const t = setup();
    const sub = t.subscription({ expiresAt: t.clock.now() + 599_200 });
    t.scheduler.enqueue(sub);
    await settle();
    expect(t.notifier.last!.subscriptionState).toBe('active;expires=600');
  });

  it('sends the final NOTIFY after the one in flight and then reports the subscription ended', async () => {
    const t = setup();
    const sub = t.subscription();
    t.notifier.willAnswer('hold');
    t.scheduler.enqueue(sub);
    await settle();
    t.scheduler.enqueue(sub, 'deactivated');
    t.scheduler.enqueue(sub);
    await settle();
    expect(t.ended).toEqual([]);
    t.notifier.answer(ok);
    await settle();
    expect(t.notifier.requests.map((r) => r.subscriptionState)).toEqual(['active;expires=600', 'terminated;reason=deactivated']);
    expect(t.ended).toEqual([{ id: sub.id, cause: 'deactivated' }]);
  });

  it('idle() resolves once every NOTIFY has been answered', async () => {
    const t = setup();
    t.notifier.willAnswer('hold');
    t.scheduler.enqueue(t.subscription());
    let idle = false;
    void t.scheduler.idle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    t.notifier.answer(ok);
    await settle();
    expect(idle).toBe(true);
  });

  it('keeps a fetch out of the store', async () => {
    const t = setup();
    const sub = t.subscription();
    t.store.rows.clear();
    t.journal.length = 0;
    t.scheduler.enqueue(sub, 'timeout', false);
    await settle();
    expect(t.notifier.requests).toHaveLength(1);
    expect(t.journal.filter((j) => j.startsWith('save'))).toEqual([]);
    expect(t.ended).toEqual([{ id: sub.id, cause: 'timeout' }]);
  });
});

describe('NotifyScheduler: failed NOTIFYs', () => {
  it.each([481, 404, 410])('drops the subscription at once when the watcher answers %i', async (code) => {
    const t = setup();
    const sub = t.subscription();
    await notifyAnsweredWith(t, sub, [status(code)]);
    expect(t.ended).toEqual([{ id: sub.id, cause: 'rejected-by-watcher' }]);
    expect(sub.lastReply).toBe(code);
  });

  it('tolerates maxTimeouts - 1 unanswered NOTIFYs in a row and drops the subscription at the next', async () => {
    const t = setup({ maxTimeouts: 3 });
    const sub = t.subscription();
    await notifyAnsweredWith(t, sub, [noAnswer, noAnswer]);
    expect(t.ended).toEqual([]);
    expect(sub).toMatchObject({ failures: 2, lastReply: 408 });
    await notifyAnsweredWith(t, sub, [noAnswer]);
    expect(t.ended).toEqual([{ id: sub.id, cause: 'timeouts' }]);
  });

  it('counts a 408 answer like a timeout', async () => {
    const t = setup({ maxTimeouts: 2 });
    const sub = t.subscription();
    await notifyAnsweredWith(t, sub, [status(408), noAnswer]);
    expect(t.ended).toEqual([{ id: sub.id, cause: 'timeouts' }]);
  });

  it('forgets earlier timeouts once the watcher answers 2xx', async () => {
    const t = setup({ maxTimeouts: 3 });
    const sub = t.subscription();
    await notifyAnsweredWith(t, sub, [noAnswer, noAnswer, status(202)]);
    expect(sub.failures).toBe(0);
    await notifyAnsweredWith(t, sub, [noAnswer, noAnswer]);
    expect(t.ended).toEqual([]);
    expect(sub.failures).toBe(2);
  });

  it.each<SipTransport>(['tcp', 'tls', 'ws', 'wss'])('drops a %s subscription at once when its connection is gone', async (transport) => {
    const t = setup({ maxTimeouts: 3 });
    const sub = t.subscription({ transport });
    await notifyAnsweredWith(t, sub, [connectionClosed]);
    expect(t.ended).toEqual([{ id: sub.id, cause: 'unreachable' }]);
  });

  it('counts a send failure over UDP like a timeout before dropping the subscription', async () => {
    const t = setup({ maxTimeouts: 3 });
    const sub = t.subscription({ transport: 'udp' });
    await notifyAnsweredWith(t, sub, [connectionClosed, connectionClosed]);
    expect(t.ended).toEqual([]);
    await notifyAnsweredWith(t, sub, [connectionClosed]);
    expect(t.ended).toEqual([{ id: sub.id, cause: 'unreachable' }]);
  });

  it('treats a notifier that throws as a send failure', async () => {
    const t = setup();
    const sub = t.subscription({ transport: 'tcp' });
    vi.spyOn(t.notifier, 'notify').mockImplementationOnce(() => {
      throw new Error('socket hang up');
    });
    t.scheduler.enqueue(sub);
    await settle();
    expect(t.ended).toEqual([{ id: sub.id, cause: 'unreachable' }]);
  });

  it('counts one outcome per NOTIFY when a notifier answers and then throws, or answers twice', async () => {
    const t = setup();
    const [first, second] = [t.subscription(), t.subscription()];
    vi.spyOn(t.notifier, 'notify')
      .mockImplementationOnce((request, done) => {
        t.notifier.requests.push(request);
        done(ok);
        throw new Error('thrown after the answer');
      })
      .mockImplementationOnce((request, done) => {
        t.notifier.requests.push(request);
        done(ok);
        done(noAnswer);
      });
    t.scheduler.enqueue(first);
    t.scheduler.enqueue(second);
    await settle();
    expect(t.scheduler.pendingCount).toBe(0);
    expect(t.ended).toEqual([]);
    expect(first.lastReply).toBe(200);
    expect(second.lastReply).toBe(200);
    expect(second.failures).toBe(0);
    // Both go on as before: the next change reaches them, and the scheduler goes idle after it.
    t.scheduler.enqueue(first);
    t.scheduler.enqueue(second);
    await settle();
    expect(t.notifier.requests).toHaveLength(4);
    await expect(t.scheduler.idle()).resolves.toBeUndefined();
    expect(t.scheduler.pendingCount).toBe(0);
  });

  it('logs a failure while it handles an answer, and never throws it into the notifier', async () => {
    const errors: object[] = [];
    const t = setup({
      logger: { ...silentLogger, error: (obj) => void errors.push(obj) },
      onEnded: () => {
        throw new Error('ended handler failed');
      },
    });
    const sub = t.subscription();
    let thrown: unknown;
    vi.spyOn(t.notifier, 'notify').mockImplementation((request, done) => {
      t.notifier.requests.push(request);
      // As a front answers from a timer or a promise: a throw here would be uncaught.
      setImmediate(() => {
        try {
          done(status(481));
        } catch (err) {
          thrown = err;
        }
      });
    });
    t.scheduler.enqueue(sub);
    await settle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(thrown).toBeUndefined();
    expect(errors).toEqual([expect.objectContaining({ subscription: sub.id })]);
    await expect(t.scheduler.idle()).resolves.toBeUndefined();
    expect(t.scheduler.pendingCount).toBe(0);
  });

  it('takes an outcome handed back inside notify() and stays busy until the rest of the batch is answered', async () => {
    const t = setup();
    const [first, second] = [t.subscription(), t.subscription()];
    const notify = t.notifier.notify.bind(t.notifier);
    // The first answer comes at once, before notify() returns; the second is held.
    vi.spyOn(t.notifier, 'notify')
      .mockImplementationOnce((request, done) => {
        t.notifier.requests.push(request);
        done(ok);
      })
      .mockImplementationOnce((request, done) => {
        t.notifier.willAnswer('hold');
        notify(request, done);
      });
    t.scheduler.enqueue(first);
    t.scheduler.enqueue(second);
    let idle = false;
    void t.scheduler.idle().then(() => (idle = true));
    await settle();
    expect(t.notifier.requests.map((r) => r.dialog.callId)).toEqual([first.dialog.callId, second.dialog.callId]);
    expect(first.lastReply).toBe(200);
    expect(idle).toBe(false);
    t.notifier.answer(ok);
    await settle();
    expect(idle).toBe(true);
    expect(second.lastReply).toBe(200);
  });

  it('records the answers in the store for the listing API in the background, not per NOTIFY', async () => {
    const t = setup();
    const sub = t.subscription();
    await notifyAnsweredWith(t, sub, [noAnswer]);
    expect(sub).toMatchObject({ lastReply: 408, failures: 1 });
    expect(t.store.rows.get(sub.id)).not.toMatchObject({ lastReply: 408 });
    t.clock.advance(2000);
    expect(t.store.rows.get(sub.id)).toMatchObject({ lastReply: 408, failures: 1 });
  });

  it('writes pending answers at once when asked (shutdown)', async () => {
    const t = setup();
    const sub = t.subscription();
    await notifyAnsweredWith(t, sub, [noAnswer]);
    t.scheduler.flushAnswered();
    expect(t.store.rows.get(sub.id)).toMatchObject({ lastReply: 408, failures: 1 });
  });
});

describe('NotifyScheduler: body rendering', () => {
  it('renders the body once per state revision however many watchers there are', async () => {
    const t = setup();
    const subs = Array.from({ length: 100 }, () => t.subscription());
    for (const sub of subs) t.scheduler.enqueue(sub);
    await settle();
    expect(t.notifier.requests).toHaveLength(100);
    expect(t.pkg.render).toHaveBeenCalledTimes(1);

    t.callState({ id: 'x', callId: 'x', state: 'confirmed' });
    for (const sub of subs) t.scheduler.enqueue(sub);
    await settle();
    expect(t.notifier.requests).toHaveLength(200);
    expect(t.pkg.render).toHaveBeenCalledTimes(2);
    expect(t.notifier.last!.body).toContain('<state>confirmed</state>');
  });

  it('gives each watcher its own version in the shared body', async () => {
    const t = setup();
    const a = t.subscription({ version: 0 });
    const b = t.subscription({ version: 41 });
    t.scheduler.enqueue(a);
    t.scheduler.enqueue(b);
    await settle();
    expect(t.notifier.requests.map((r) => /version="(\d+)"/.exec(r.body!)?.[1])).toEqual(['0', '41']);
  });
});
