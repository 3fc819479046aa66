import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { settle, startHarness, subscribe, subscribeRequest, type Harness } from './harness.js';
import { call, curl, emptyValues, tenant, type Tenant } from './fixtures.js';
import { lastBodyOf } from '../../src/subscription.js';

const GREGORIAN_OFFSET = 62_167_219_200;

/** The NOTIFYs sent for `user@realm` since `from`. */
function notifiesFor(h: Harness, presentity: string, from = 0) {
  return h.sent.slice(from).filter((n) => n.dialog.localUri.includes(`sip:${presentity}>`));
}

function lastBody(h: Harness, presentity: string): string {
  const mine = notifiesFor(h, presentity);
  const body = mine[mine.length - 1]?.body;
  if (body === undefined) throw new Error(`no NOTIFY for ${presentity}`);
  return body;
}

describe('presence API', () => {
  let h: Harness;
  let acme: Tenant;
  const A = () => `/v2/accounts/${acme.accountId}`;

  beforeEach(async () => {
    h = await startHarness();
    acme = await tenant(h, 'Acme', 'acme.example.com');
  });
  afterEach(() => h.close());

  describe('the curl lines of the API page', () => {
    it('GET /v2/accounts/{ACCOUNT_ID}/presence lists the subscriptions', async () => {
      await subscribe(h, '1001', acme.realm, { watcher: '2001', callId: 'c1@phone' });
      const res = await curl(h, acme.token, 'GET', `http://localhost:8000${A()}/presence`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'success', auth_token: acme.token });
      expect(Object.keys(res.json().data.subscriptions['1001'].dialog)).toEqual(['c1@phone']);
    });

    it('POST .../presence/{EXTENSION} with {"data": {"action": "reset"}} flushes the extension', async () => {
      await subscribe(h, '*3101', acme.realm);
      h.presence.set('*3101@acme.example.com', 'confirmed');
      await settle();
      expect(lastBody(h, '*3101@acme.example.com')).toContain('<state>confirmed</state>');

      const res = await curl(h, acme.token, 'POST', `${A()}/presence/*3101`, '{"data": {"action": "reset"}}');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'success', data: 'command sent' });
      await settle();
      expect(lastBody(h, '*3101@acme.example.com')).toContain('<state>terminated</state>');
      expect(h.presence.view('*3101@acme.example.com').dialogs).toEqual([]);
    });

    it('POST .../presence/{EXTENSION} with {"data":{"action":"set","state":...}} sets the lamp', async () => {
      await subscribe(h, '1001', acme.realm);
      for (const state of ['early', 'confirmed', 'terminated'] as const) {
        const res = await curl(h, acme.token, 'POST', `${A()}/presence/1001`, `{"data":{"action":"set","state":"${state}"}}`);
        expect(res.statusCode).toBe(200);
        expect(res.json().data).toBe('command sent');
        await settle();
        const body = lastBody(h, '1001@acme.example.com');
        expect(body).toContain(`<state>${state}</state>`);
        expect(body).toContain('entity="sip:1001@acme.example.com"');
      }
    });

    it('POST .../devices/{DEVICE_ID}/presence resets and sets the device presence id', async () => {
      const device = (await call(h, acme, 'PUT', `${A()}/devices`, { name: 'd', presence_id: '1010', sip: { username: 'user_abc' } })).json().data.id;
      await subscribe(h, '1010', acme.realm);
      // The API page's reset line lacks its closing quote; this is the body it means.
      const reset = await curl(h, acme.token, 'POST', `${A()}/devices/${device}/presence`, '{"data":{"action":"reset"}}');
      expect(reset.json()).toMatchObject({ status: 'success', data: 'command sent' });
      const set = await curl(h, acme.token, 'POST', `${A()}/devices/${device}/presence`, '{"data":{"action":"set","state":"early"}}');
      expect(set.statusCode).toBe(200);
      await settle();
      expect(lastBody(h, '1010@acme.example.com')).toContain('<state>early</state>');
    });

    it('POST .../users/{USER_ID}/presence resets and sets the user presence id', async () => {
      const user = (await call(h, acme, 'PUT', `${A()}/users`, { first_name: 'A', last_name: 'B', presence_id: '1020' })).json().data.id;
      await subscribe(h, '1020', acme.realm);
      const reset = await curl(h, acme.token, 'POST', `${A()}/users/${user}/presence`, '{"data":{"action":"reset"}}');
      expect(reset.json().data).toBe('command sent');
      const set = await curl(h, acme.token, 'POST', `${A()}/users/${user}/presence`, '{"data":{"action":"set","state":"confirmed"}}');
      expect(set.json().data).toBe('command sent');
      await settle();
      expect(lastBody(h, '1020@acme.example.com')).toContain('<state>confirmed</state>');
    });
  });

  describe('listing', () => {
    it('groups by presence id, event and Call-ID with Kazoo fields', async () => {
      const dialogSub = await subscribe(h, '1001', acme.realm, { watcher: '2001', callId: 'dlg-1@10.0.0.9', expires: 1820 });
      await subscribe(h, '1001', acme.realm, { watcher: '2002', event: 'presence', eventId: '7', callId: 'pres-1@10.0.0.9' });
      await subscribe(h, '1002', acme.realm, { watcher: '2001', callId: 'dlg-2@10.0.0.9' });
      // Another account's subscriptions stay out.
      await subscribe(h, '1001', 'globex.example.com', { callId: 'foreign@10.0.0.9' });

      const res = await call(h, acme, 'GET', `${A()}/presence`);
      expect(res.statusCode).toBe(200);
      const subs = res.json().data.subscriptions;
      expect(Object.keys(subs).sort()).toEqual(['1001', '1002']);
      expect(subs['1001'].dialog['dlg-1@10.0.0.9']).toEqual({
        expires: 1820,
        from: '2001@acme.example.com',
        notify: { body: lastBodyOf(dialogSub), reply: 200, sequence: 1 },
        stalker: 'BLF-test-node-1',
        timestamp: Math.floor(dialogSub.lastSubscribeAt / 1000) + GREGORIAN_OFFSET,
        version: 1,
      });
      expect(subs['1001'].dialog['dlg-1@10.0.0.9'].notify.body).toContain('<dialog-info');
      expect(subs['1001'].presence['pres-1@10.0.0.9']).toMatchObject({ from: '2002@acme.example.com', version: 2 });
      expect(res.body).not.toContain('foreign@10.0.0.9');
      expect(emptyValues(res.json())).toEqual([]);
    });

    it('filters by ?event= and by extension', async () => {
      await subscribe(h, '1001', acme.realm, { callId: 'd@x' });
      await subscribe(h, '1001', acme.realm, { event: 'presence', callId: 'p@x' });
      await subscribe(h, '1002', acme.realm, { callId: 'd2@x' });

      const dialogs = (await call(h, acme, 'GET', `${A()}/presence?event=dialog`)).json().data.subscriptions;
      expect(Object.keys(dialogs).sort()).toEqual(['1001', '1002']);
      expect(dialogs['1001'].presence).toBeUndefined();

      const one = (await call(h, acme, 'GET', `${A()}/presence/1001`)).json().data.subscriptions;
      expect(Object.keys(one)).toEqual(['1001']);
      expect(Object.keys(one['1001']).sort()).toEqual(['dialog', 'presence']);

      const onePresence = (await call(h, acme, 'GET', `${A()}/presence/1001?event=presence`)).json().data.subscriptions;
      expect(Object.keys(onePresence['1001'])).toEqual(['presence']);

      const bad = await call(h, acme, 'GET', `${A()}/presence?event=bogus`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().data.event.enum).toBeDefined();
    });

    it('omits notify.body before the first NOTIFY and shows an empty listing as {}', async () => {
      expect((await call(h, acme, 'GET', `${A()}/presence`)).json().data).toEqual({ subscriptions: {} });
      const reply = h.subscriptions.subscribe(subscribeRequest('1003', acme.realm, { callId: 'fresh@x' }));
      expect(reply.status).toBe(200);
      // The 200 is "not yet on the wire": no NOTIFY has gone out.
      const entry = (await call(h, acme, 'GET', `${A()}/presence/1003`)).json().data.subscriptions['1003'].dialog['fresh@x'];
      expect(entry.notify).toEqual({ reply: 0, sequence: 0 });
    });
  });

  describe('commands', () => {
    it('puts a state set before the subscription into its first NOTIFY', async () => {
      const res = await call(h, acme, 'POST', `${A()}/presence/1001`, { action: 'set', state: 'confirmed' });
      expect(res.statusCode).toBe(200);
      const before = h.sent.length;
      await subscribe(h, '1001', acme.realm);
      const first = notifiesFor(h, '1001@acme.example.com', before)[0];
      expect(first?.body).toContain('<state>confirmed</state>');
    });

    it('accepts an extension with the account realm and refuses another realm', async () => {
      await subscribe(h, '1001', acme.realm);
      const ok = await call(h, acme, 'POST', `${A()}/presence/${encodeURIComponent('1001@ACME.example.com')}`, { action: 'set', state: 'early' });
      expect(ok.statusCode).toBe(200);
      await settle();
      expect(lastBody(h, '1001@acme.example.com')).toContain('<state>early</state>');

      const foreign = await call(h, acme, 'POST', `${A()}/presence/${encodeURIComponent('1001@globex.example.com')}`, { action: 'set', state: 'early' });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.json()).toMatchObject({ status: 'error', error: '403', message: 'forbidden' });
    });

    it('treats the old {"reset": true} as reset', async () => {
      const res = await call(h, acme, 'POST', `${A()}/presence/1001`, { reset: true });
      expect(res.statusCode).toBe(200);
      expect(res.json().data).toBe('command sent');
    });

    it('refuses a bad action with data.action.invalid', async () => {
      for (const data of [{ action: 'flush' }, {}, { reset: false }, { action: 'Set', state: 'early' }]) {
        const res = await call(h, acme, 'POST', `${A()}/presence/1001`, data);
        expect(res.statusCode, JSON.stringify(data)).toBe(400);
        expect(res.json()).toMatchObject({
          status: 'error',
          error: '400',
          message: 'validation error',
          data: { action: { invalid: { message: 'Field must be set to a valid action' } } },
        });
      }
    });

    it('refuses a bad or missing state with data.state.invalid', async () => {
      for (const data of [{ action: 'set' }, { action: 'set', state: 'ringing' }, { action: 'set', state: 'Early' }]) {
        const res = await call(h, acme, 'POST', `${A()}/presence/1001`, data);
        expect(res.statusCode, JSON.stringify(data)).toBe(400);
        expect(res.json()).toMatchObject({
          message: 'validation error',
          data: { state: { invalid: { message: 'Field must be set to a valid state' } } },
        });
      }
    });

    it('answers POST on the presence collection with 404', async () => {
      const res = await call(h, acme, 'POST', `${A()}/presence`, { action: 'reset' });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ status: 'error', error: '404' });
    });

    it('answers unknown devices, users and accounts with 404 bad_identifier', async () => {
      const id = 'abcdefabcdefabcdefabcdefabcdefab';
      const root = await tenant(h, 'Root', 'root.example.com', true);
      for (const [who, url] of [
        [acme, `${A()}/devices/${id}/presence`],
        [acme, `${A()}/users/${id}/presence`],
        [root, `/v2/accounts/${id}/presence/1001`],
      ] as const) {
        const res = await call(h, who, 'POST', url, { action: 'reset' });
        expect(res.statusCode, url).toBe(404);
        expect(res.json()).toMatchObject({ message: 'bad_identifier', data: { cause: id, message: 'bad identifier' } });
      }
    });

    it('falls back to the SIP username of a device without presence_id', async () => {
      const device = (await call(h, acme, 'PUT', `${A()}/devices`, { name: 'd', sip: { username: 'desk7' } })).json().data.id;
      await subscribe(h, 'desk7', acme.realm);
      await call(h, acme, 'POST', `${A()}/devices/${device}/presence`, { action: 'set', state: 'early' });
      await settle();
      expect(lastBody(h, 'desk7@acme.example.com')).toContain('<state>early</state>');
    });

    it('acts on every device of a user without presence_id, and says so when there is none', async () => {
      const user = (await call(h, acme, 'PUT', `${A()}/users`, { first_name: 'A', last_name: 'B' })).json().data.id;
      const nothing = await call(h, acme, 'POST', `${A()}/users/${user}/presence`, { action: 'set', state: 'confirmed' });
      expect(nothing.statusCode).toBe(200);
      expect(nothing.json().data).toBe('nothing to send command to');

      await call(h, acme, 'PUT', `${A()}/devices`, { name: 'a', owner_id: user, presence_id: '1101' });
      await call(h, acme, 'PUT', `${A()}/devices`, { name: 'b', owner_id: user, sip: { username: '1102' } });
      await subscribe(h, '1101', acme.realm);
      await subscribe(h, '1102', acme.realm);
      const sent = await call(h, acme, 'POST', `${A()}/users/${user}/presence`, { action: 'set', state: 'confirmed' });
      expect(sent.json().data).toBe('command sent');
      await settle();
      expect(lastBody(h, '1101@acme.example.com')).toContain('<state>confirmed</state>');
      expect(lastBody(h, '1102@acme.example.com')).toContain('<state>confirmed</state>');
    });

    it('sets a mailbox\'s counts for message-summary watchers with action mwi', async () => {
      await subscribe(h, '1001', acme.realm, { event: 'message-summary' });
      const res = await call(h, acme, 'POST', `${A()}/presence/1001`, {
        action: 'mwi',
        messages_new: 2,
        messages_saved: 1,
        messages_urgent: 1,
        messages_urgent_saved: 0,
      });
      expect(res.statusCode).toBe(200);
      await settle();
      const body = lastBody(h, '1001@acme.example.com');
      expect(body).toContain('Messages-Waiting: yes');
      expect(body).toContain('Message-Account: sip:1001@acme.example.com');
      expect(body).toContain('Voice-Message: 2/1 (1/0)');

      const negative = await call(h, acme, 'POST', `${A()}/presence/1001`, { action: 'mwi', messages_new: -1 });
      expect(negative.statusCode).toBe(400);
      expect(negative.json().data.messages_new.minimum).toBeDefined();
    });
  });
});
