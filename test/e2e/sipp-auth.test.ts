import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { presentityOf } from '../../src/presentity.js';
import { createDevice, provisionAccount, type ProvisionedAccount } from '../support/provision.js';
import { runSipp, sippAvailable, type SippRun } from '../support/sipp.js';
import { SIP_BACKENDS, startTestServer, waitFor, type TestServer } from '../support/test-server.js';

const REALM = 'acme.example.com';
const OTHER_REALM = 'globex.example.com';
const hasSipp = sippAvailable();

// Written once, run against every SIP front; one without its server here is reported as skipped.
describe.each(SIP_BACKENDS.map((b) => [b.label, b] as const))('SIPp phones with digest authentication (PRESENCE_SIP_AUTH=digest) against the %s', (_label, { backend, available }) => {
  const runnable = hasSipp && available;
  const it = runnable ? test : test.skip;
  let t: TestServer;
  let acme: ProvisionedAccount;
  beforeAll(async () => {
    if (!runnable) return;
    t = await startTestServer({ PRESENCE_SIP_AUTH: 'digest' }, backend);
    acme = await provisionAccount(t, REALM);
    await provisionAccount(t, OTHER_REALM);
    await createDevice(t, acme, { username: 'phone1001', password: 's3cret-1001' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const run = (scenario: string, transport: SippRun['transport'], service: string, auth: { user: string; password: string }, extra: Partial<SippRun> = {}) =>
    runSipp({
      scenario,
      transport,
      target: t.target,
      service,
      domain: REALM,
      timeoutSeconds: 20,
      ...extra,
      extraArgs: ['-au', auth.user, '-ap', auth.password, '-key', 'watcher', auth.user, ...(extra.extraArgs ?? [])],
    });

  const expectPassed = (r: Awaited<ReturnType<typeof runSipp>>, calls = 1) => {
    if (r.code !== 0) throw new Error(`sipp exited ${r.code}\n${r.stderr.slice(0, 3000)}`);
    expect(r.successful).toBe(calls);
    expect(r.failed).toBe(0);
  };

  const phone = { user: 'phone1001', password: 's3cret-1001' };

  for (const transport of ['u1', 't1'] as const) {
    const name = transport === 'u1' ? 'UDP' : 'TCP';
    it(`a device created over REST subscribes with its SIP password, refreshes and unsubscribes over ${name}`, async () => {
      const ext = `7${transport}`;
      expectPassed(await run('auth-subscribe.xml', transport, ext, phone));
      await waitFor(() => t.server.presence.watchers(presentityOf(ext, REALM)).length === 0, 3000, 'subscription removed');
    });

    it(`a wrong password is challenged again over ${name}`, async () => {
      expectPassed(await run('auth-wrong-password.xml', transport, '7100', { user: 'phone1001', password: 'guess' }));
      expect(t.server.presence.watchers(presentityOf('7100', REALM))).toHaveLength(0);
    });
  }

  it('an unknown SIP username is challenged again, like a wrong password', async () => {
    expectPassed(await run('auth-wrong-password.xml', 'u1', '7101', { user: 'nobody', password: 'x' }));
  });

  it("a device may not watch another account's presentity: 403", async () => {
    expectPassed(await run('auth-forbidden.xml', 'u1', '7102', phone, { extraArgs: ['-key', 'other_domain', OTHER_REALM] }));
    expect(t.server.presence.watchers(presentityOf('7102', OTHER_REALM))).toHaveLength(0);
  });

  it('a captured Authorization header replayed on a new SUBSCRIBE is refused with a stale challenge', async () => {
    const log = join(tmpdir(), `sipp-auth-${process.pid}-messages.log`);
    try {
      expectPassed(await run('auth-subscribe.xml', 'u1', '7103', phone, { extraArgs: ['-trace_msg', '-message_file', log] }));
      const captured = /^Authorization: (Digest .+)$/m.exec(readFileSync(log, 'utf8'))?.[1]?.trim();
      expect(captured).toMatch(/nc=00000001/);
      expectPassed(await run('auth-replay.xml', 'u1', '7103', phone, { extraArgs: ['-key', 'auth', captured!] }));
      expect(t.server.presence.watchers(presentityOf('7103', REALM))).toHaveLength(0);
    } finally {
      rmSync(log, { force: true });
    }
  });

  it('a device publishes dialog state with its credentials and removes it', async () => {
    expectPassed(await run('auth-publish.xml', 'u1', '7104', phone));
    expect(t.server.presence.view(presentityOf('7104', REALM)).dialogs).toHaveLength(0);
  });
});

// Written once, run against every SIP front; one without its server here is reported as skipped.
describe.each(SIP_BACKENDS.map((b) => [b.label, b] as const))('repeated digest failures from one address against the %s', (_label, { backend, available }) => {
  const runnable = hasSipp && available;
  const it = runnable ? test : test.skip;
  let t: TestServer;
  beforeAll(async () => {
    if (!runnable) return;
    t = await startTestServer({ PRESENCE_SIP_AUTH: 'digest' }, backend);
    const acme = await provisionAccount(t, REALM);
    await createDevice(t, acme, { username: 'phone1001', password: 's3cret-1001' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('are refused with 403 once 10 have failed within a minute, without a challenge', async () => {
    const args = (scenario: string, calls: number) =>
      runSipp({
        scenario,
        transport: 'u1',
        target: t.target,
        service: '7200',
        domain: REALM,
        calls,
        rate: 20,
        concurrent: 1,
        timeoutSeconds: 20,
        extraArgs: ['-au', 'phone1001', '-ap', 'wrong', '-key', 'watcher', 'phone1001'],
      });
    const guesses = await args('auth-wrong-password.xml', 9);
    expect(guesses.successful).toBe(9);
    const blocked = await args('auth-blocked.xml', 1);
    if (blocked.code !== 0) throw new Error(`sipp exited ${blocked.code}\n${blocked.stderr.slice(0, 3000)}`);
    expect(blocked.successful).toBe(1);
  });
});
