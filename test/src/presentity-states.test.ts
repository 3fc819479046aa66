import { describe, expect, it } from 'vitest';
import type { DialogInfo } from '../../src/dialog-info.js';
import type { StateKind } from '../../src/event-package.js';
import { PresentityStates } from '../../src/presentity-states.js';
import type { StateSource } from '../../src/state-source.js';
import { FakeClock } from './fake-clock.js';
import { MemoryStateStore } from './memory-stores.js';

const ALICE = '1001@acme.example.com';

function setup() {
  const clock = new FakeClock();
  const store = new MemoryStateStore();
  const states = new PresentityStates(store, clock);
  const changes: Array<{ presentity: string; kinds: StateKind[] }> = [];
  states.onChange((presentity, kinds) => changes.push({ presentity, kinds: [...kinds].sort() }));
  /** A publication-like source carrying some dialogs. */
  const dialogs = (id: string, list: Array<Omit<DialogInfo, 'updatedAt'>>, extra: Partial<StateSource> = {}): StateSource => ({
    presentity: ALICE,
    id,
    kind: 'dialog',
    dialogs: list.map((d) => ({ ...d })),
    updatedAt: clock.now(),
    ...extra,
  });
  return { clock, store, states, changes, dialogs };
}

describe('PresentityStates: changes', () => {
  it('tells listeners of the kind a put source carries, and stores it', () => {
    const t = setup();
    t.states.put({ presentity: ALICE, id: 'mwi', kind: 'mwi', mwi: { newMessages: 1, oldMessages: 0, urgentNew: 0, urgentOld: 0 }, updatedAt: 1 });
    expect(t.changes).toEqual([{ presentity: ALICE, kinds: ['mwi'] }]);
    expect(t.store.idsOf(ALICE)).toEqual(['mwi']);
    expect(t.states.view(ALICE).mwi?.newMessages).toBe(1);
  });

  it('tells listeners when a source is removed, and says so only when there was one', () => {
    const t = setup();
    t.states.put(t.dialogs('api', [{ id: 'a', state: 'early' }]));
    expect(t.states.remove(ALICE, 'api')).toBe(true);
    expect(t.states.remove(ALICE, 'api')).toBe(false);
    expect(t.changes.map((c) => c.kinds)).toEqual([['dialog'], ['dialog']]);
    expect(t.store.idsOf(ALICE)).toEqual([]);
    expect(t.states.view(ALICE).dialogs).toEqual([]);
  });

  it('flush forgets the listed kinds only, and tells listeners even when there was nothing', () => {
    const t = setup();
    t.states.put(t.dialogs('api', [{ id: 'a', state: 'confirmed' }]));
    t.states.put({ presentity: ALICE, id: 'pub', kind: 'pidf', pidf: '<presence/>', updatedAt: 1 });
    t.states.put({ presentity: ALICE, id: 'mwi', kind: 'mwi', mwi: { newMessages: 2, oldMessages: 0, urgentNew: 0, urgentOld: 0 }, updatedAt: 1 });
    t.changes.length = 0;

    t.states.flush(ALICE, ['dialog', 'pidf']);
    expect(t.changes).toEqual([{ presentity: ALICE, kinds: ['dialog', 'pidf'] }]);
    const view = t.states.view(ALICE);
    expect(view.dialogs).toEqual([]);
    expect(view.pidf).toBeUndefined();
    expect(view.mwi?.newMessages).toBe(2);
    expect(t.store.idsOf(ALICE)).toEqual(['mwi']);

    t.states.flush('9999@acme.example.com', ['dialog']);
    expect(t.changes.at(-1)).toEqual({ presentity: '9999@acme.example.com', kinds: ['dialog'] });
  });

  it('touch tells listeners again without changing the state', () => {
    const t = setup();
    t.states.put(t.dialogs('api', [{ id: 'a', state: 'early' }]));
    const before = t.states.view(ALICE);
    t.states.touch(ALICE, ['dialog']);
    expect(t.changes.at(-1)).toEqual({ presentity: ALICE, kinds: ['dialog'] });
    const after = t.states.view(ALICE);
    expect(after.dialogs).toEqual(before.dialogs);
    expect(after.revision).toBe(before.revision + 1);
  });

  it('raises the revision with every change; an unknown presentity is idle at revision 0', () => {
    const t = setup();
    expect(t.states.view(ALICE)).toEqual({ presentity: ALICE, revision: 0, dialogs: [] });
    t.states.put(t.dialogs('api', [{ id: 'a', state: 'early' }]));
    const r1 = t.states.view(ALICE).revision;
    t.states.put(t.dialogs('api', [{ id: 'a', state: 'confirmed' }]));
    expect(t.states.view(ALICE).revision).toBe(r1 + 1);
  });
});

describe('PresentityStates: the aggregate view', () => {
  it('lists the live dialogs of every source, newest first', () => {
    const t = setup();
    t.states.put(t.dialogs('pbx-a', [{ id: 'old', callId: 'old', state: 'confirmed' }]));
    t.clock.advance(1000);
    t.states.put(t.dialogs('pbx-b', [{ id: 'new', callId: 'new', state: 'early' }]));
    expect(t.states.view(ALICE).dialogs.map((d) => d.id)).toEqual(['new', 'old']);
  });

  it('shows a call reported by two sources once, as the newer report says', () => {
    const t = setup();
    t.states.put(t.dialogs('pbx-a', [{ id: 'a-side', callId: 'same-call', state: 'early' }]));
    t.clock.advance(1000);
    t.states.put(t.dialogs('pbx-b', [{ id: 'b-side', callId: 'same-call', state: 'confirmed' }]));
    const { dialogs } = t.states.view(ALICE);
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0]).toMatchObject({ id: 'b-side', state: 'confirmed' });
  });

  it('serves the newest of several published PIDF documents', () => {
    const t = setup();
    t.states.put({ presentity: ALICE, id: 'p1', kind: 'pidf', pidf: '<presence>old</presence>', updatedAt: 1 });
    t.states.put({ presentity: ALICE, id: 'p2', kind: 'pidf', pidf: '<presence>new</presence>', updatedAt: 2 });
    expect(t.states.view(ALICE).pidf).toBe('<presence>new</presence>');
  });
});

describe('PresentityStates: the RFC 4235 dialog state machine', () => {
  it('does not revive a terminated call when a late early arrives with the same Call-ID', () => {
    const t = setup();
    t.states.put(t.dialogs('pub-1', [{ id: 'd1', callId: 'call-7', state: 'early' }]));
    t.states.put(t.dialogs('pub-1', [{ id: 'd1', callId: 'call-7', state: 'terminated' }]));
    expect(t.states.view(ALICE).dialogs).toEqual([]);

    t.states.put(t.dialogs('pub-2', [{ id: 'd1', callId: 'call-7', state: 'early' }]));
    t.states.put(t.dialogs('pub-2', [{ id: 'd1', callId: 'call-7', state: 'confirmed' }]));
    expect(t.states.view(ALICE).dialogs).toEqual([]);
  });

  it('still shows other calls of the presentity after one has ended', () => {
    const t = setup();
    t.states.put(t.dialogs('pub', [{ id: 'd1', callId: 'ended', state: 'terminated' }, { id: 'd2', callId: 'ringing', state: 'early' }]));
    expect(t.states.view(ALICE).dialogs.map((d) => d.callId)).toEqual(['ringing']);
  });

  it('keeps a confirmed call confirmed when a late early for it arrives', () => {
    const t = setup();
    t.states.put(t.dialogs('pub', [{ id: 'd1', callId: 'call-8', state: 'confirmed' }]));
    t.clock.advance(10);
    t.states.put(t.dialogs('pub', [{ id: 'd1', callId: 'call-8', state: 'early' }]));
    expect(t.states.view(ALICE).dialogs.map((d) => d.state)).toEqual(['confirmed']);
  });

  it('lets a ringing call move on to confirmed', () => {
    const t = setup();
    t.states.put(t.dialogs('pub', [{ id: 'd1', callId: 'call-9', state: 'early' }]));
    t.states.put(t.dialogs('pub', [{ id: 'd1', callId: 'call-9', state: 'confirmed' }]));
    expect(t.states.view(ALICE).dialogs.map((d) => d.state)).toEqual(['confirmed']);
  });
});

describe('PresentityStates: expiry', () => {
  it('drops a source with expiresAt by itself when its time comes, and tells listeners', () => {
    const t = setup();
    t.states.put(t.dialogs('api', [{ id: 'a', state: 'early' }], { expiresAt: t.clock.now() + 300_000 }));
    t.changes.length = 0;
    t.clock.advance(299_999);
    expect(t.states.view(ALICE).dialogs).toHaveLength(1);
    expect(t.changes).toEqual([]);
    t.clock.advance(1);
    expect(t.states.view(ALICE).dialogs).toEqual([]);
    expect(t.changes).toEqual([{ presentity: ALICE, kinds: ['dialog'] }]);
    expect(t.store.idsOf(ALICE)).toEqual([]);
  });

  it('times a replaced source from its new expiresAt', () => {
    const t = setup();
    t.states.put(t.dialogs('api', [{ id: 'a', state: 'early' }], { expiresAt: t.clock.now() + 1000 }));
    t.states.put(t.dialogs('api', [{ id: 'a', state: 'confirmed' }], { expiresAt: t.clock.now() + 5000 }));
    t.clock.advance(1000);
    expect(t.states.view(ALICE).dialogs).toHaveLength(1);
    t.clock.advance(4000);
    expect(t.states.view(ALICE).dialogs).toEqual([]);
  });

  it('keeps a source without expiresAt', () => {
    const t = setup();
    t.states.put(t.dialogs('api', [{ id: 'a', state: 'confirmed' }]));
    t.clock.advance(365 * 24 * 3_600_000);
    expect(t.states.view(ALICE).dialogs).toHaveLength(1);
  });

  it('restore() loads stored sources, drops the expired ones and re-arms the expiry of the rest, telling nobody', () => {
    const clock = new FakeClock();
    const store = new MemoryStateStore();
    const now = clock.now();
    store.put({ presentity: ALICE, id: 'stale', kind: 'dialog', dialogs: [{ id: 's', state: 'early' }], updatedAt: now - 10_000, expiresAt: now - 1 });
    store.put({ presentity: ALICE, id: 'live', kind: 'dialog', dialogs: [{ id: 'l', state: 'confirmed' }], updatedAt: now - 10_000, expiresAt: now + 60_000 });
    store.put({ presentity: ALICE, id: 'mwi', kind: 'mwi', mwi: { newMessages: 1, oldMessages: 0, urgentNew: 0, urgentOld: 0 }, updatedAt: now - 10_000 });
    const states = new PresentityStates(store, clock);
    const changes: string[] = [];
    states.onChange((p) => changes.push(p));

    states.restore();
    expect(changes).toEqual([]);
    expect(store.idsOf(ALICE).sort()).toEqual(['live', 'mwi']);
    expect(states.view(ALICE).dialogs.map((d) => d.id)).toEqual(['l']);
    expect(states.view(ALICE).mwi?.newMessages).toBe(1);

    clock.advance(60_000);
    expect(states.view(ALICE).dialogs).toEqual([]);
    expect(changes).toEqual([ALICE]);
  });
});
