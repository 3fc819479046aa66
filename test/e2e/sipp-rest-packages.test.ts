import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { presentityOf } from '../../src/presentity.js';
import { createDevice, presenceCommand, provisionAccount, type ProvisionedAccount } from '../support/provision.js';
import { runSipp, sippAvailable } from '../support/sipp.js';
import { SIP_BACKENDS, startTestServer, waitFor, type TestServer } from '../support/test-server.js';

const REALM = 'acme.example.com';
const hasSipp = sippAvailable();

// Written once, run against every SIP front; one without its server here is reported as skipped.
describe.each(SIP_BACKENDS.map((b) => [b.label, b] as const))('presence and message-summary watchers follow the REST API (digest auth on) against the %s', (_label, { backend, available }) => {
  const runnable = hasSipp && available;
  const it = runnable ? test : test.skip;
  let t: TestServer;
  let acme: ProvisionedAccount;
  beforeAll(async () => {
    if (!runnable) return;
    t = await startTestServer({ PRESENCE_SIP_AUTH: 'digest' }, backend);
    acme = await provisionAccount(t, REALM);
    await createDevice(t, acme, { username: 'desk2001', password: 'pa55-2001' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const watch = (scenario: string, ext: string) =>
    runSipp({
      scenario,
      transport: 'u1',
      target: t.target,
      service: ext,
      domain: REALM,
      timeoutSeconds: 25,
      extraArgs: ['-au', 'desk2001', '-ap', 'pa55-2001', '-key', 'watcher', 'desk2001'],
    });

  const expectPassed = (r: Awaited<ReturnType<typeof runSipp>>) => {
    if (r.code !== 0) throw new Error(`sipp exited ${r.code}\n${r.stderr.slice(0, 3000)}`);
    expect(r.successful).toBe(1);
    expect(r.failed).toBe(0);
  };

  const notified = (ext: string, event: string, count: number) =>
    waitFor(
      () => t.server.presence.watchers(presentityOf(ext, REALM)).some((s) => s.event === event && s.notifyCount >= count && s.lastReply === 200),
      10_000,
      `${event} NOTIFY ${count} answered`,
    );

  it('a presence watcher sees Available, Busy (ringing), On the Phone and Available again as REST sets and resets', async () => {
    const ext = '1001';
    const phone = watch('auth-watch-presence.xml', ext);
    await notified(ext, 'presence', 1);
    await presenceCommand(t, acme, ext, { action: 'set', state: 'early' });
    await notified(ext, 'presence', 2);
    await presenceCommand(t, acme, ext, { action: 'set', state: 'confirmed' });
    await notified(ext, 'presence', 3);
    await presenceCommand(t, acme, ext, { action: 'reset' });
    expectPassed(await phone);
  });

  it('an MWI watcher gets the counts REST sets, and a reset does not wipe them', async () => {
    const ext = '1002';
    const phone = watch('auth-watch-mwi.xml', ext);
    await notified(ext, 'message-summary', 1);
    await presenceCommand(t, acme, ext, { action: 'mwi', messages_new: 2, messages_saved: 1, messages_urgent: 1 });
    await notified(ext, 'message-summary', 2);
    await presenceCommand(t, acme, ext, { action: 'reset' });
    expect(t.server.presence.view(presentityOf(ext, REALM)).mwi?.newMessages).toBe(2);
    // The scenario refreshes in its dialog (full state: still 2 new), then the mailbox is read.
    await notified(ext, 'message-summary', 3);
    await presenceCommand(t, acme, ext, { action: 'mwi', messages_new: 0, messages_saved: 3 });
    expectPassed(await phone);
  });
});
