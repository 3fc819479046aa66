import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RawSipClient, subscribeText } from '../support/raw-sip-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const DOMAIN = 'acme.example.com';

describe('what phones see when the server is kept alive and when it stops', () => {
  let t: TestServer | undefined;
  const phones: RawSipClient[] = [];
  afterEach(async () => {
    for (const p of phones.splice(0)) p.close();
    await t?.stop();
    t = undefined;
  });

  it('answers OPTIONS (a load balancer or phone keepalive) with 200 and what it serves', async () => {
    t = await startTestServer();
    const phone = await RawSipClient.connect('udp', t.sipPort);
    phones.push(phone);
    phone.send(
      [
        `OPTIONS sip:${DOMAIN} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${phone.localPort};branch=z9hG4bK-opt-1;rport`,
        `From: <sip:lb@${DOMAIN}>;tag=lb1`,
        `To: <sip:${DOMAIN}>`,
        'Call-ID: options-1',
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const ok = await phone.response(200);
    expect(ok.headers.get('Allow')).toContain('SUBSCRIBE');
    expect(ok.headers.get('Allow-Events')).toContain('dialog');
  });

  it('logs one component per line: the REST API lines say api', async () => {
    const lines: string[] = [];
    t = await startTestServer({}, 'native', pino({ level: 'info' }, { write: (line: string) => lines.push(line) }));
    const res = await fetch(`http://127.0.0.1:${t.httpPort}/v2/accounts/0123456789abcdef0123456789abcdef/presence`);
    expect(res.status).toBe(401);
    const request = lines.map((l) => JSON.parse(l) as { component?: string; requestId?: string }).filter((l) => l.requestId !== undefined);
    expect(request.length).toBeGreaterThan(0);
    for (const l of request) expect(l.component).toBe('api');
    // JSON.parse keeps the last of two equal keys; an operator's log pipeline may keep either.
    for (const l of lines) expect(l.match(/"component":/g)?.length ?? 0).toBeLessThanOrEqual(1);
  });

  it('a stop for good ends every subscription with terminated;reason=deactivated', async () => {
    t = await startTestServer();
    const phone = await RawSipClient.connect('udp', t.sipPort);
    phones.push(phone);
    phone.send(subscribeText({ transport: 'udp', localPort: phone.localPort, ext: '9001', domain: DOMAIN, callId: 'deact-1', fromTag: 'd1', cseq: 1, expires: 600, branch: 'z9hG4bK-deact-1' }));
    await phone.response(200);
    await phone.notify();
    await t.server.stop({ deactivate: true });
    const last = await phone.notify();
    // RFC 6665 4.2.2: deactivated tells the phone to subscribe again (elsewhere) at once.
    expect(last.headers.get('Subscription-State')).toBe('terminated;reason=deactivated');
    expect(t.server.presence.watchers(`9001@${DOMAIN}`)).toHaveLength(0);
  });
});
