import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Subscriber, SubscriptionState, UserAgent, type Notification } from 'sip.js';
import { presentityOf } from '../../src/presentity.js';
import { startTestServer, waitFor, type TestServer } from '../support/test-server.js';

const DOMAIN = 'acme.example.com';

// SIP.js is a browser library: it opens its transport with the global WebSocket, which Node
// 20 lacks. The `ws` client speaks the same protocol, subprotocol `sip` included (RFC 7118).
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

interface Received {
  state: string;
  body: string;
}

describe('SIP.js as a browser phone over WebSocket', () => {
  let t: TestServer;
  let ua: UserAgent;
  /** Every SIP message the phone received, as SIP.js traced it. */
  const wire: string[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:browser@${DOMAIN}`),
      transportOptions: { server: `ws://127.0.0.1:${t.wsPort}`, traceSip: true },
      logLevel: 'debug',
      logBuiltinEnabled: false,
      logConnector: (_level, category, _label, content) => {
        if (category === 'sip.Transport' && content.startsWith('Received WebSocket text message:')) wire.push(content);
      },
    });
    await ua.start();
  });

  afterAll(async () => {
    await ua?.stop();
    await t?.stop();
  });

  it('subscribes to an extension, sees it ring, and unsubscribes with a final NOTIFY', async () => {
    const presentity = presentityOf('6001', DOMAIN);
    const received: Received[] = [];
    const target = UserAgent.makeURI(`sip:6001@${DOMAIN}`);
    if (!target) throw new Error('bad target');
    const subscriber = new Subscriber(ua, target, 'dialog', { expires: 600, extraHeaders: ['Accept: application/dialog-info+xml'] });
    subscriber.delegate = {
      onNotify(notification: Notification) {
        received.push({ state: notification.request.getHeader('Subscription-State') ?? '', body: notification.request.body });
        void notification.accept();
      },
    };
    await subscriber.subscribe();
    await waitFor(() => received.length === 1, 5000, 'initial NOTIFY');
    expect(subscriber.state).toBe(SubscriptionState.Subscribed);
    expect(received[0]!.state).toMatch(/^active;expires=(600|599)$/);
    expect(received[0]!.body).toContain('version="0"');
    expect(received[0]!.body).toContain('<state>terminated</state>');

    // The server keeps the subscription on the WebSocket connection it came in on.
    const [sub] = t.server.presence.watchers(presentity);
    expect(sub?.dialog.binding.transport).toBe('ws');
    expect(sub?.dialog.binding.connectionId).toBeDefined();

    t.server.presence.set(presentity, 'early');
    await waitFor(() => received.length === 2, 5000, 'NOTIFY after the change');
    expect(received[1]!.body).toContain('version="1"');
    expect(received[1]!.body).toContain('<state>early</state>');

    await subscriber.unsubscribe();
    // SIP.js consumes the final NOTIFY itself (no onNotify), so look at what arrived.
    const finalNotify = () => wire.find((m) => m.includes('NOTIFY sip:') && m.includes('Subscription-State: terminated;reason=timeout'));
    await waitFor(() => finalNotify() !== undefined, 5000, 'final NOTIFY');
    expect(finalNotify()).toContain('version="2"');
    await waitFor(() => subscriber.state === SubscriptionState.Terminated, 5000, 'SIP.js subscription terminated');
    await waitFor(() => t.server.presence.watchers(presentity).length === 0, 5000, 'subscription removed');
  });

  it('drops the subscription when the browser goes away, without waiting for expiry', async () => {
    const presentity = presentityOf('6002', DOMAIN);
    const other = new UserAgent({
      uri: UserAgent.makeURI(`sip:tab@${DOMAIN}`),
      transportOptions: { server: `ws://127.0.0.1:${t.wsPort}` },
      logLevel: 'error',
      logBuiltinEnabled: false,
      // The tab is gone: stopping must not try to unsubscribe over a closed socket.
      gracefulShutdown: false,
    });
    await other.start();
    const target = UserAgent.makeURI(`sip:6002@${DOMAIN}`);
    if (!target) throw new Error('bad target');
    const subscriber = new Subscriber(other, target, 'dialog', { expires: 600 });
    let notifies = 0;
    subscriber.delegate = { onNotify: (n) => void (notifies++, n.accept()) };
    await subscriber.subscribe();
    await waitFor(() => notifies === 1, 5000, 'initial NOTIFY');
    // The tab closes without unsubscribing: the WebSocket is gone, and the next NOTIFY has
    // nowhere to go (the Contact is *.invalid), so the subscription ends at once.
    await other.transport.disconnect();
    t.server.presence.set(presentity, 'confirmed');
    await waitFor(() => t.server.presence.watchers(presentity).length === 0, 5000, 'subscription dropped');
    await other.stop();
  });
});
