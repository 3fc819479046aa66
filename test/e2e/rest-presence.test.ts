import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RawSipClient, subscribeText } from '../support/raw-sip-client.js';
import { SIP_BACKENDS, startTestServer, type TestServer } from '../support/test-server.js';

const run = promisify(execFile);
const REALM = 'acme.example.com';

interface CurlResult {
  status: number;
  json: { status: string; data: unknown; auth_token?: string; [k: string]: unknown };
}

/** Runs curl as presence-api.txt writes it (JSON sent with -d, i.e. as a form body). */
async function curl(args: string[]): Promise<CurlResult> {
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...args]);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), json: JSON.parse(stdout.slice(0, cut)) as CurlResult['json'] };
}

function toTagOf(value: string | undefined): string | undefined {
  return /tag=([^;>\s]+)/.exec(value ?? '')?.[1];
}

function versionOf(body: Buffer): number {
  return Number(/version="(\d+)"/.exec(body.toString())?.[1]);
}

// Written once, run against every SIP front; one without its server here is reported as skipped.
describe.each(SIP_BACKENDS.map((b) => [b.label, b] as const))('the presence API page, curl line by curl line, with a phone watching, on the %s', (_label, { backend, available }) => {
  const it = available ? test : test.skip;
  let t: TestServer;
  let server: string;
  let accountId: string;
  let token: string;
  let userId: string;
  let deviceId: string;
  const phones: RawSipClient[] = [];
  // Call-IDs unique per run: a drachtio server remembers dialogs across test runs.
  const run = `${backend}-${process.pid}-${Date.now()}`;

  /** A desk phone subscribed to `ext`, its first NOTIFY already taken. */
  async function watch(ext: string): Promise<{ phone: RawSipClient; version: number }> {
    const phone = await RawSipClient.connect('udp', sip().port, sip().host);
    phones.push(phone);
    phone.send(subscribeText({ transport: 'udp', localPort: phone.localPort, ext, domain: REALM, callId: `rest-${ext}-${run}`, fromTag: 'w', cseq: 1, expires: 600, branch: `z9hG4bK-rest-${phone.localPort}-${run}` }));
    const ok = await phone.response(200);
    expect(toTagOf(ok.headers.get('To'))).toBeDefined();
    const first = await phone.notify();
    return { phone, version: versionOf(first.body) };
  }

  async function expectLamp(w: { phone: RawSipClient; version: number }, state: 'early' | 'confirmed' | 'terminated'): Promise<void> {
    const n = await w.phone.notify();
    const body = n.body.toString();
    expect(versionOf(n.body)).toBe(w.version + 1);
    w.version++;
    expect(body).toContain(`<state>${state}</state>`);
    // Idle is one terminated dialog; busy or ringing shows no terminated one.
    expect((body.match(/<dialog /g) ?? []).length).toBe(1);
  }

  /** Where phones send SIP: the embedded stack, or the drachtio server in front. */
  const sip = () => {
    const [host, port] = t.target.split(':');
    return { host: host!, port: Number(port) };
  };

  beforeAll(async () => {
    if (!available) return;
    t = await startTestServer({}, backend);
    server = `127.0.0.1:${t.httpPort}`;
    const { account, apiKey } = t.server.directory.createAccount({ name: 'Acme', realm: REALM });
    accountId = account.id;
    const auth = await curl(['-X', 'PUT', '-d', JSON.stringify({ data: { api_key: apiKey } }), `http://${server}/v2/api_auth`]);
    expect(auth.status).toBe(201);
    token = auth.json.auth_token!;
    const user = await curl(['-X', 'PUT', '-H', `X-Auth-Token: ${token}`, '-d', JSON.stringify({ data: { first_name: 'Ada', last_name: 'Lovelace', username: 'ada', presence_id: '2001' } }), `http://${server}/v2/accounts/${accountId}/users`]);
    expect(user.status).toBe(201);
    userId = (user.json.data as { id: string }).id;
    // No presence_id: the API falls back to the SIP user name (the page says so).
    const device = await curl(['-X', 'PUT', '-H', `X-Auth-Token: ${token}`, '-d', JSON.stringify({ data: { name: 'Desk', owner_id: userId, sip: { username: '3001', password: 'secret-3001' } } }), `http://${server}/v2/accounts/${accountId}/devices`]);
    expect(device.status).toBe(201);
    deviceId = (device.json.data as { id: string }).id;
  });

  afterAll(async () => {
    for (const p of phones) p.close();
    await t?.stop();
  });

  it('lists the account subscriptions grouped by presence id, event and Call-ID', async () => {
    await watch('110011');
    const r = await curl(['-X', 'GET', '-H', `X-Auth-Token: ${token}`, `http://${server}/v2/accounts/${accountId}/presence`]);
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('success');
    expect(r.json.auth_token).toBe(token);
    const subs = (r.json.data as { subscriptions: Record<string, Record<string, Record<string, Record<string, unknown>>>> }).subscriptions;
    const entry = subs['110011']!.dialog![`rest-110011-${run}`]!;
    expect(entry).toMatchObject({ expires: 600, from: `watcher@${REALM}`, stalker: 'BLF-presence-1', version: 1 });
    expect(entry.notify).toMatchObject({ reply: 200, sequence: 1 });
    // Gregorian seconds: Unix seconds plus 62167219200.
    expect(entry.timestamp as number).toBeGreaterThan(62167219200 + 1_700_000_000);
  });

  it('POST to an extension resets (flushes) and sets its state, and the watcher sees both', async () => {
    const w = await watch('*3101');
    const url = `http://${server}/v2/accounts/${accountId}/presence/*3101`;
    const set = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data":{"action":"set","state":"confirmed"}}', url]);
    expect(set.status).toBe(200);
    expect(set.json.data).toBe('command sent');
    await expectLamp(w, 'confirmed');
    const reset = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data": {"action": "reset"}}', url]);
    expect(reset.status).toBe(200);
    expect(reset.json.data).toBe('command sent');
    await expectLamp(w, 'terminated');
  });

  it('POST to a device acts on its presence id, else its SIP user name', async () => {
    const w = await watch('3001');
    const url = `http://${server}/v2/accounts/${accountId}/devices/${deviceId}/presence`;
    const set = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data":{"action":"set","state":"early"}}', url]);
    expect(set.status).toBe(200);
    await expectLamp(w, 'early');
    const reset = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data":{"action":"reset"}}', url]);
    expect(reset.status).toBe(200);
    await expectLamp(w, 'terminated');
  });

  it('POST to a user acts on the user presence id', async () => {
    const w = await watch('2001');
    const url = `http://${server}/v2/accounts/${accountId}/users/${userId}/presence`;
    const set = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data":{"action":"set","state":"confirmed"}}', url]);
    expect(set.status).toBe(200);
    await expectLamp(w, 'confirmed');
    const reset = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data":{"action":"reset"}}', url]);
    expect(reset.status).toBe(200);
    await expectLamp(w, 'terminated');
  });

  it('a state set before a phone subscribes is in that phone’s first NOTIFY', async () => {
    const url = `http://${server}/v2/accounts/${accountId}/presence/4444`;
    const set = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data":{"action":"set","state":"confirmed"}}', url]);
    expect(set.status).toBe(200);
    const phone = await RawSipClient.connect('udp', sip().port, sip().host);
    phones.push(phone);
    phone.send(subscribeText({ transport: 'udp', localPort: phone.localPort, ext: '4444', domain: REALM, callId: `late-4444-${run}`, fromTag: 'late', cseq: 1, expires: 600, branch: `z9hG4bK-late-4444-${run}` }));
    await phone.response(200);
    const first = await phone.notify();
    expect(first.body.toString()).toContain('<state>confirmed</state>');
  });

  it('bad input gets Kazoo error envelopes, not a crash', async () => {
    const url = `http://${server}/v2/accounts/${accountId}/presence/5555`;
    const badAction = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data":{"action":"dance"}}', url]);
    expect(badAction.status).toBe(400);
    expect(badAction.json).toMatchObject({ status: 'error', error: '400', message: 'validation error' });
    const badState = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data":{"action":"set","state":"ringing"}}', url]);
    expect(badState.status).toBe(400);
    const noToken = await curl(['-X', 'POST', '-d', '{"data":{"action":"reset"}}', url]);
    expect(noToken.status).toBe(401);
    expect(noToken.json).toMatchObject({ status: 'error', error: '401', message: 'invalid_credentials' });
    const malformed = await curl(['-X', 'POST', '-H', `X-Auth-Token: ${token}`, '-d', '{"data":', url]);
    expect(malformed.status).toBe(400);
    const wrongVerb = await curl(['-X', 'DELETE', '-H', `X-Auth-Token: ${token}`, url]);
    expect(wrongVerb.status).toBe(405);
  });
});
