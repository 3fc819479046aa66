import { describe, expect, it } from 'vitest';
import { dialogPublication } from '../../src/packages/dialog-publication.js';
import { presencePublication } from '../../src/packages/presence-publication.js';
import { silentLogger } from '../../src/ports/logger.js';
import { PresentityStates } from '../../src/presentity-states.js';
import { PublicationService } from '../../src/publication-service.js';
import type { PublishRequest } from '../../src/publish-request.js';
import type { SipReply } from '../../src/sip-reply.js';
import { FakeClock } from './fake-clock.js';
import { MemoryStateStore } from './memory-stores.js';

const ALICE = '1001@acme.example.com';
const DIALOG_INFO = 'application/dialog-info+xml';

function dialogInfo(dialogs: Array<{ id: string; callId?: string; state: string; direction?: string }>): string {
  const body = dialogs
    .map((d) => `<dialog id="${d.id}"${d.callId ? ` call-id="${d.callId}"` : ''}${d.direction ? ` direction="${d.direction}"` : ''}><state>${d.state}</state></dialog>`)
    .join('');
  return `<?xml version="1.0"?><dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:${ALICE}">${body}</dialog-info>`;
}

function setup(stateStore = new MemoryStateStore(), clock = new FakeClock()) {
  const states = new PresentityStates(stateStore, clock);
  const changes: string[] = [];
  states.onChange((p, kinds) => changes.push(`${p}:${[...kinds].join(',')}`));
  const publications = new PublicationService({
    states,
    formats: [dialogPublication, presencePublication],
    clock,
    logger: silentLogger,
    expires: { default: 3600, min: 60, max: 7200 },
  });
  const publish = (over: Partial<PublishRequest> = {}): SipReply =>
    publications.publish({
      callId: 'pub-1@pbx',
      requestUri: { user: '1001', host: 'acme.example.com' },
      toUri: { user: '1001', host: 'acme.example.com' },
      fromUri: { user: '1001', host: 'acme.example.com' },
      event: 'dialog',
      expires: 600,
      contentType: DIALOG_INFO,
      body: dialogInfo([{ id: 'd1', callId: 'c1', state: 'early', direction: 'recipient' }]),
      ...over,
    });
  const header = (r: SipReply, name: string) => r.headers?.find(([n]) => n === name)?.[1];
  const lamp = () => states.view(ALICE).dialogs.map((d) => `${d.callId ?? d.id}:${d.state}`);
  return { clock, stateStore, states, publications, publish, header, lamp, changes };
}

describe('PublicationService (RFC 3903)', () => {
  it('stores a dialog-info publication and answers 200 with a SIP-ETag and the granted Expires', () => {
    const t = setup();
    const r = t.publish();
    expect(r.status).toBe(200);
    expect(t.header(r, 'SIP-ETag')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(t.header(r, 'Expires')).toBe('600');
    expect(t.lamp()).toEqual(['c1:early']);
    expect(t.stateStore.idsOf(ALICE)).toEqual([`publish:${t.header(r, 'SIP-ETag')}`]);
  });

  it('gives a new entity-tag on every refresh, and the old one no longer matches (412)', () => {
    const t = setup();
    const etag1 = t.header(t.publish(), 'SIP-ETag')!;
    const refresh = t.publish({ ifMatch: etag1, body: '', contentType: undefined, expires: 900 });
    expect(refresh.status).toBe(200);
    const etag2 = t.header(refresh, 'SIP-ETag')!;
    expect(etag2).not.toBe(etag1);
    expect(t.header(refresh, 'Expires')).toBe('900');
    expect(t.publish({ ifMatch: etag1, body: '' }).status).toBe(412);
    expect(t.lamp()).toEqual(['c1:early']);
  });

  it('does not notify watchers on a refresh that changes nothing', () => {
    const t = setup();
    const etag = t.header(t.publish(), 'SIP-ETag')!;
    const before = t.changes.length;
    t.publish({ ifMatch: etag, body: '' });
    expect(t.changes.length).toBe(before);
  });

  it('answers 412 Conditional Request Failed for an unknown entity-tag', () => {
    const t = setup();
    expect(t.publish({ ifMatch: 'nope' })).toMatchObject({ status: 412, reason: 'Conditional Request Failed' });
  });

  it('answers 412 for an entity-tag of another presentity', () => {
    const t = setup();
    const etag = t.header(t.publish(), 'SIP-ETag')!;
    expect(t.publish({ ifMatch: etag, requestUri: { user: '1002', host: 'acme.example.com' }, toUri: { user: '1002', host: 'acme.example.com' } }).status).toBe(412);
  });

  it('modifies a publication: its state is replaced, not added to', () => {
    const t = setup();
    const etag = t.header(t.publish(), 'SIP-ETag')!;
    const r = t.publish({ ifMatch: etag, body: dialogInfo([{ id: 'd1', callId: 'c1', state: 'confirmed' }]) });
    expect(r.status).toBe(200);
    expect(t.lamp()).toEqual(['c1:confirmed']);
    expect(t.stateStore.idsOf(ALICE)).toEqual([`publish:${t.header(r, 'SIP-ETag')}`]);
  });

  it('removes a publication with Expires: 0 and the lamp goes off', () => {
    const t = setup();
    const etag = t.header(t.publish(), 'SIP-ETag')!;
    const r = t.publish({ ifMatch: etag, body: '', expires: 0 });
    expect(r.status).toBe(200);
    expect(t.header(r, 'Expires')).toBe('0');
    expect(t.lamp()).toEqual([]);
    expect(t.publications.size).toBe(0);
    expect(t.publish({ ifMatch: etag, body: '' }).status).toBe(412);
  });

  it('answers 423 with Min-Expires below the minimum, and grants the maximum above it', () => {
    const t = setup();
    const short = t.publish({ expires: 30 });
    expect(short.status).toBe(423);
    expect(t.header(short, 'Min-Expires')).toBe('60');
    expect(t.header(t.publish({ expires: 86_400 }), 'Expires')).toBe('7200');
    expect(t.header(t.publish({ expires: undefined }), 'Expires')).toBe('3600');
  });

  it('lets a publication expire by itself, turning the lamp off', () => {
    const t = setup();
    const etag = t.header(t.publish({ expires: 120, body: dialogInfo([{ id: 'd1', callId: 'c1', state: 'confirmed' }]) }), 'SIP-ETag')!;
    t.clock.advance(119_000);
    expect(t.lamp()).toEqual(['c1:confirmed']);
    t.clock.advance(1_000);
    expect(t.lamp()).toEqual([]);
    expect(t.publications.size).toBe(0);
    expect(t.publish({ ifMatch: etag, body: '' }).status).toBe(412);
  });

  it('follows RFC 4235: early, confirmed, terminated, then a late early for the same call leaves the lamp idle', () => {
    const t = setup();
    let etag = t.header(t.publish(), 'SIP-ETag')!;
    for (const state of ['confirmed', 'terminated', 'early']) {
      const r = t.publish({ ifMatch: etag, body: dialogInfo([{ id: 'd1', callId: 'c1', state }]) });
      expect(r.status).toBe(200);
      etag = t.header(r, 'SIP-ETag')!;
      if (state === 'confirmed') expect(t.lamp()).toEqual(['c1:confirmed']);
    }
    expect(t.lamp()).toEqual([]);
    // Even a new publication (another PBX, or after a 412) cannot revive that call.
    t.publish({ body: dialogInfo([{ id: 'd1', callId: 'c1', state: 'early' }]) });
    expect(t.lamp()).toEqual([]);
  });

  it('does not move a dialog back from confirmed to early', () => {
    const t = setup();
    const etag = t.header(t.publish({ body: dialogInfo([{ id: 'd1', callId: 'c1', state: 'confirmed' }]) }), 'SIP-ETag')!;
    t.publish({ ifMatch: etag, body: dialogInfo([{ id: 'd1', callId: 'c1', state: 'early' }]) });
    expect(t.lamp()).toEqual(['c1:confirmed']);
  });

  it('aggregates several publications and several calls for one presentity', () => {
    const t = setup();
    t.publish({ callId: 'pbx1', body: dialogInfo([{ id: 'a', callId: 'call-a', state: 'confirmed' }]) });
    const etagB = t.header(t.publish({ callId: 'pbx2', body: dialogInfo([{ id: 'b', callId: 'call-b', state: 'early' }, { id: 'c', callId: 'call-c', state: 'early' }]) }), 'SIP-ETag')!;
    expect(t.lamp().sort()).toEqual(['call-a:confirmed', 'call-b:early', 'call-c:early']);
    t.publish({ ifMatch: etagB, body: '', expires: 0 });
    expect(t.lamp()).toEqual(['call-a:confirmed']);
  });

  it('ends a call in every source once one source says it terminated', () => {
    const t = setup();
    t.publish({ body: dialogInfo([{ id: 'a', callId: 'shared', state: 'confirmed' }]) });
    t.publish({ body: dialogInfo([{ id: 'a', callId: 'shared', state: 'terminated' }]) });
    expect(t.lamp()).toEqual([]);
  });

  it('stores a PIDF publication for presence watchers', () => {
    const t = setup();
    const pidf = '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@acme.example.com"><tuple id="t"><status><basic>closed</basic></status></tuple></presence>';
    const r = t.publish({ event: 'presence', contentType: 'application/pidf+xml', body: pidf });
    expect(r.status).toBe(200);
    expect(t.states.view(ALICE).pidf).toBe(pidf);
    expect(t.changes.at(-1)).toBe(`${ALICE}:pidf`);
  });

  it('answers 489 with Allow-Events for a package that takes no publications', () => {
    const t = setup();
    const r = t.publish({ event: 'message-summary' });
    expect(r.status).toBe(489);
    expect(t.header(r, 'Allow-Events')).toBe('dialog, presence');
    expect(t.publish({ event: undefined }).status).toBe(489);
  });

  it('answers 415 with Accept for a body type the package does not take', () => {
    const t = setup();
    const r = t.publish({ contentType: 'application/pidf+xml' });
    expect(r.status).toBe(415);
    expect(t.header(r, 'Accept')).toBe(DIALOG_INFO);
    expect(t.publish({ contentType: undefined }).status).toBe(415);
  });

  it('answers 400 naming the problem for a broken body', () => {
    const t = setup();
    expect(t.publish({ body: '<dialog-info><dialog id="x"><state>early</dialog>' }).reason).toMatch(/^Bad Request - dialog-info: malformed XML/);
    expect(t.publish({ body: dialogInfo([{ id: 'x', state: 'ringing' }]) }).reason).toBe('Bad Request - dialog-info: dialog x has unknown state ringing');
    expect(t.publish({ body: '<presence/>' }).reason).toBe('Bad Request - dialog-info: root element is not dialog-info');
    expect(t.publish({ event: 'presence', contentType: 'application/pidf+xml', body: '<dialog-info/>' }).reason).toBe('Bad Request - pidf: root element is not presence');
    expect(t.lamp()).toEqual([]);
  });

  it('answers 400 to a first PUBLISH without a body, or Expires: 0 without SIP-If-Match', () => {
    const t = setup();
    expect(t.publish({ body: '' }).status).toBe(400);
    expect(t.publish({ expires: 0 }).status).toBe(400);
  });

  it("answers 403 to an authenticated publisher for another account's presentity", () => {
    const t = setup();
    expect(t.publish({ authenticatedRealm: 'globex.example.com' }).status).toBe(403);
    expect(t.publish({ authenticatedRealm: 'ACME.example.com' }).status).toBe(200);
  });

  it('answers 412 to a refresh of a publication a REST reset flushed (the PUA then republishes)', () => {
    const t = setup();
    const etag = t.header(t.publish(), 'SIP-ETag')!;
    t.states.flush(ALICE, ['dialog', 'pidf']);
    expect(t.publish({ ifMatch: etag, body: '' }).status).toBe(412);
  });

  it('finds its publications again after a restart', () => {
    const first = setup();
    const etag = first.header(first.publish(), 'SIP-ETag')!;
    const again = setup(first.stateStore, first.clock);
    again.states.restore();
    expect(again.publications.restore()).toBe(1);
    expect(again.publish({ ifMatch: etag, body: '' }).status).toBe(200);
  });
});
