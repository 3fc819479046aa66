import { describe, expect, it } from 'vitest';
import { API_SOURCE, MWI_SOURCE } from '../../src/presence-service.js';
import type { SubscribeRequest } from '../../src/subscribe-request.js';
import { createDomain, settle, subscribeRequest, type Domain } from './domain-harness.js';

const ALICE = '1001@acme.example.com';

async function watch(d: Domain, pkg: string, overrides: Partial<SubscribeRequest> = {}): Promise<void> {
  const r = d.subscriptions.subscribe(subscribeRequest({ event: { package: pkg }, ...overrides }));
  expect(r.status).toBe(200);
  r.afterSent?.();
  await settle();
}

function bodiesOf(d: Domain, event: string): string[] {
  return d.notifier.requests.filter((r) => r.event === event).map((r) => r.body ?? '');
}

describe('PresenceService.set', () => {
  it('early stores a ringing dialog that lasts ringingTtl and tells dialog watchers', async () => {
    const d = createDomain({ ringingTtl: 300 });
    await watch(d, 'dialog');
    d.presence.set(ALICE, 'early');
    await settle();

    const source = d.states.source(ALICE, API_SOURCE)!;
    expect(source.expiresAt).toBe(d.clock.now() + 300_000);
    expect(source.dialogs).toEqual([expect.objectContaining({ id: '1001', state: 'early', direction: 'recipient' })]);
    expect(d.stateStore.idsOf(ALICE)).toEqual([API_SOURCE]);
    const bodies = bodiesOf(d, 'dialog');
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toContain('<state>early</state>');
  });

  it('confirmed stores a busy dialog that lasts busyTtl', () => {
    const d = createDomain({ busyTtl: 14_400 });
    d.presence.set(ALICE, 'confirmed');
    expect(d.states.source(ALICE, API_SOURCE)!.expiresAt).toBe(d.clock.now() + 14_400_000);
  });

  it('a ringing lamp goes dark by itself after ringingTtl, and watchers are told', async () => {
    const d = createDomain({ ringingTtl: 300 });
    await watch(d, 'dialog');
    d.presence.set(ALICE, 'early');
    d.clock.advance(300_000);
    await settle();
    expect(d.presence.view(ALICE).dialogs).toEqual([]);
    expect(bodiesOf(d, 'dialog').at(-1)).toContain('<state>terminated</state>');
  });

  it('carries call details for directed pickup', () => {
    const d = createDomain();
    d.presence.set(ALICE, 'early', { callId: 'abc@pbx', localTag: 'lt', remoteTag: 'rt', remote: { identity: 'sip:2000@acme.example.com' } });
    expect(d.presence.view(ALICE).dialogs[0]).toMatchObject({ id: 'abc@pbx', callId: 'abc@pbx', localTag: 'lt', remoteTag: 'rt' });
  });

  it('terminated clears what the API set and sends watchers the idle body', async () => {
    const d = createDomain();
    await watch(d, 'dialog');
    d.presence.set(ALICE, 'confirmed');
    await settle();
    d.presence.set(ALICE, 'terminated');
    await settle();
    expect(d.states.source(ALICE, API_SOURCE)).toBeUndefined();
    expect(d.stateStore.idsOf(ALICE)).toEqual([]);
    const bodies = bodiesOf(d, 'dialog');
    expect(bodies).toHaveLength(3);
    expect(bodies[2]).toContain('<state>terminated</state>');
    expect(bodies[2]).not.toContain('confirmed');
  });

  it('terminated with nothing set still sends watchers the idle body', async () => {
    const d = createDomain();
    await watch(d, 'dialog');
    d.presence.set(ALICE, 'terminated');
    await settle();
    expect(bodiesOf(d, 'dialog')).toHaveLength(2);
  });

  it('tells presence watchers too, with the matching PIDF', async () => {
    const d = createDomain();
    await watch(d, 'presence');
    d.presence.set(ALICE, 'confirmed');
    await settle();
    expect(bodiesOf(d, 'presence').at(-1)).toContain('On the Phone');
  });

  it('does not bother message-summary watchers', async () => {
    const d = createDomain();
    await watch(d, 'message-summary');
    d.presence.set(ALICE, 'early');
    await settle();
    expect(d.notifier.requests).toHaveLength(1);
  });

  it('does not bother watchers of another presentity', async () => {
    const d = createDomain();
    await watch(d, 'dialog', { requestUri: { user: '1003', host: 'acme.example.com' }, toUri: { user: '1003', host: 'acme.example.com' } });
    d.presence.set(ALICE, 'early');
    await settle();
    expect(d.notifier.requests).toHaveLength(1);
  });

  it('a state set before anyone subscribes is in the first NOTIFY', async () => {
    const d = createDomain();
    d.presence.set(ALICE, 'early');
    await watch(d, 'dialog');
    expect(d.notifier.requests).toHaveLength(1);
    expect(d.notifier.last!.body).toContain('<state>early</state>');
    expect(d.notifier.last!.body).toContain('version="0"');
  });
});

describe('PresenceService.reset', () => {
  it('flushes call state and published PIDF but keeps the mailbox counts', async () => {
    const d = createDomain();
    await watch(d, 'dialog');
    await watch(d, 'message-summary');
    d.presence.set(ALICE, 'confirmed');
    d.states.put({ presentity: ALICE, id: 'publish:e1', kind: 'dialog', dialogs: [{ id: 'p', callId: 'p', state: 'early' }], updatedAt: d.clock.now() });
    d.states.put({ presentity: ALICE, id: 'publish:e2', kind: 'pidf', pidf: '<presence/>', updatedAt: d.clock.now() });
    d.presence.setMessageSummary(ALICE, { newMessages: 3, oldMessages: 1, urgentNew: 0, urgentOld: 0 });
    await settle();
    const mwiNotifies = bodiesOf(d, 'message-summary').length;

    d.presence.reset(ALICE);
    await settle();
    const view = d.presence.view(ALICE);
    expect(view.dialogs).toEqual([]);
    expect(view.pidf).toBeUndefined();
    expect(view.mwi?.newMessages).toBe(3);
    expect(d.stateStore.idsOf(ALICE)).toEqual([MWI_SOURCE]);
    expect(bodiesOf(d, 'dialog').at(-1)).toContain('<state>terminated</state>');
    expect(bodiesOf(d, 'message-summary')).toHaveLength(mwiNotifies);
  });

  it('sends the idle body even when nothing was held, so stuck lamps go dark', async () => {
    const d = createDomain();
    await watch(d, 'dialog');
    d.presence.reset(ALICE);
    await settle();
    expect(bodiesOf(d, 'dialog')).toHaveLength(2);
  });
});

describe('PresenceService.setMessageSummary', () => {
  it('tells message-summary watchers the new counts, and clearing them says no messages', async () => {
    const d = createDomain();
    await watch(d, 'message-summary');
    d.presence.setMessageSummary(ALICE, { newMessages: 2, oldMessages: 5, urgentNew: 1, urgentOld: 0 });
    await settle();
    expect(bodiesOf(d, 'message-summary').at(-1)).toContain('Messages-Waiting: yes');
    d.presence.setMessageSummary(ALICE, undefined);
    await settle();
    expect(bodiesOf(d, 'message-summary').at(-1)).toContain('Messages-Waiting: no');
  });
});

describe('PresenceService.set as a lamp switch', () => {
  it('a REST set early after set confirmed makes the lamp ring (a parked call ringing back)', () => {
    const d = createDomain({ ringingTtl: 300, busyTtl: 14_400 });
    d.presence.set('1001@acme.example.com', 'confirmed');
    d.presence.set('1001@acme.example.com', 'early');
    expect(d.presence.view('1001@acme.example.com').dialogs.map((x) => x.state)).toEqual(['early']);
    expect(d.states.source('1001@acme.example.com', API_SOURCE)?.expiresAt).toBe(d.clock.now() + 300_000);
  });

  it('a call the API ended cannot be revived by a later update of the same Call-ID', () => {
    const d = createDomain();
    const p = '1001@acme.example.com';
    d.presence.set(p, 'early', { callId: 'c1' });
    d.presence.set(p, 'terminated');
    d.states.put({ presentity: p, id: 'publish:late', kind: 'dialog', dialogs: [{ id: 'c1', callId: 'c1', state: 'early' }], updatedAt: d.clock.now() });
    expect(d.presence.view(p).dialogs).toEqual([]);
  });
});
