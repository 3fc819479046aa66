import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { presentityOf } from '../../src/presentity.js';
import { runSipp, sippAvailable, type SippRun } from '../support/sipp.js';
import { SIP_BACKENDS, startTestServer, waitFor, type TestServer } from '../support/test-server.js';

const DOMAIN = 'acme.example.com';
const hasSipp = sippAvailable();

// Written once, run against every SIP front; one without its server here is reported as skipped.
describe.each(SIP_BACKENDS.map((b) => [b.label, b] as const))('SIPp PBXes publishing dialog state (RFC 3903 PUBLISH) against the %s', (_label, { backend, available }) => {
  const runnable = hasSipp && available;
  const it = runnable ? test : test.skip;
  let t: TestServer;
  beforeAll(async () => {
    if (!runnable) return;
    // Short publications for the expiry test; the default minimum is 60 s.
    t = await startTestServer({ PRESENCE_PUBLISH_MIN_EXPIRES: '2' }, backend);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const run = (scenario: string, service: string, extra: Partial<SippRun> = {}) =>
    runSipp({
      scenario,
      transport: 'u1',
      target: t.target,
      service,
      domain: DOMAIN,
      timeoutSeconds: 25,
      ...extra,
      extraArgs: ['-key', 'watcher', 'blf', ...(extra.extraArgs ?? [])],
    });

  const expectPassed = (r: Awaited<ReturnType<typeof runSipp>>) => {
    if (r.code !== 0) throw new Error(`sipp exited ${r.code}\n${r.stderr.slice(0, 3000)}`);
    expect(r.successful).toBe(1);
    expect(r.failed).toBe(0);
  };

  const initialNotifyAnswered = (ext: string) =>
    waitFor(() => t.server.presence.watchers(presentityOf(ext, DOMAIN)).some((s) => s.notifyCount >= 1 && s.lastReply === 200), 10_000, 'initial NOTIFY answered');

  it('early, confirmed, terminated, then a late early for the same call leaves the lamp idle', async () => {
    const ext = '8001';
    const watcher = run('watch-publish-sequence.xml', ext);
    await initialNotifyAnswered(ext);
    expectPassed(await run('publish-sequence.xml', ext));
    expect(t.server.presence.view(presentityOf(ext, DOMAIN)).dialogs).toHaveLength(0);
    expectPassed(await watcher);
  });

  it('a publication that is not refreshed expires and turns the lamp off by itself', async () => {
    const ext = '8002';
    const watcher = run('watch-publish-expiry.xml', ext);
    await initialNotifyAnswered(ext);
    expectPassed(await run('publish-expiry.xml', ext));
    expect(t.server.presence.view(presentityOf(ext, DOMAIN)).dialogs.map((d) => d.state)).toEqual(['confirmed']);
    expectPassed(await watcher);
    expect(t.server.presence.view(presentityOf(ext, DOMAIN)).dialogs).toHaveLength(0);
  });

  it('answers bad publications with 489, 415, 400, 423 and 412, and takes a PIDF for presence', async () => {
    expectPassed(await run('publish-errors.xml', '8003'));
  });
});
