import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Subscriber, SubscriptionState, UserAgent, type Notification } from 'sip.js';
import { presentityOf } from '../../src/presentity.js';
import { createDevice, presenceCommand, provisionAccount, type ProvisionedAccount } from '../support/provision.js';
import { startTestServer, waitFor, type TestServer } from '../support/test-server.js';

const REALM = 'acme.example.com';

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

describe('SIP.js as a browser phone with digest credentials (PRESENCE_SIP_AUTH=digest)', () => {
  let t: TestServer;
  let acme: ProvisionedAccount;

  beforeAll(async () => {
    t = await startTestServer({ PRESENCE_SIP_AUTH: 'digest' });
    acme = await provisionAccount(t, REALM);
    await createDevice(t, acme, { username: 'browser', password: 'web-secret' });
  });

  afterAll(async () => {
    await t?.stop();
  });

  const phone = async (password: string) => {
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:browser@${REALM}`),
      transportOptions: { server: `ws://127.0.0.1:${t.wsPort}` },
      authorizationUsername: 'browser',
      authorizationPassword: password,
      logLevel: 'error',
      logBuiltinEnabled: false,
    });
    await ua.start();
    return ua;
  };

  it('answers the challenge, subscribes, sees REST light the lamp, and unsubscribes', async () => {
    const ua = await phone('web-secret');
    try {
      const presentity = presentityOf('6101', REALM);
      const bodies: string[] = [];
      const subscriber = new Subscriber(ua, UserAgent.makeURI(`sip:6101@${REALM}`)!, 'dialog', { expires: 600 });
      subscriber.delegate = {
        onNotify(n: Notification) {
          bodies.push(n.request.body);
          void n.accept();
        },
      };
      await subscriber.subscribe();
      await waitFor(() => bodies.length === 1, 5000, 'initial NOTIFY');
      expect(subscriber.state).toBe(SubscriptionState.Subscribed);
      await presenceCommand(t, acme, '6101', { action: 'set', state: 'confirmed' });
      await waitFor(() => bodies.length === 2, 5000, 'NOTIFY after REST set');
      expect(bodies[1]).toContain('<state>confirmed</state>');
      await subscriber.unsubscribe();
      await waitFor(() => t.server.presence.watchers(presentity).length === 0, 5000, 'subscription removed');
    } finally {
      await ua.stop();
    }
  });

  it('does not get a subscription with the wrong password', async () => {
    const ua = await phone('wrong');
    try {
      const subscriber = new Subscriber(ua, UserAgent.makeURI(`sip:6102@${REALM}`)!, 'dialog', { expires: 600 });
      await subscriber.subscribe();
      await new Promise((r) => setTimeout(r, 500));
      expect(subscriber.state).not.toBe(SubscriptionState.Subscribed);
      expect(t.server.presence.watchers(presentityOf('6102', REALM))).toHaveLength(0);
    } finally {
      await ua.stop();
    }
  });
});
