import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { RawSipClient, subscribeText } from '../support/raw-sip-client.js';
import { spawnServer, type ServerProcess } from '../support/server-process.js';

function cseqOf(m: { headers: { get(n: string): string | undefined } }): number {
  return Number.parseInt(m.headers.get('CSeq') ?? '', 10);
}

function versionOf(body: Buffer): number {
  return Number(/version="(\d+)"/.exec(body.toString())?.[1]);
}

describe('a restart loses nothing', () => {
  let dir: string;
  let env: Record<string, string>;
  let sipPort: number;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'presence-restart-'));
    sipPort = await freePort();
    env = {
      PRESENCE_SIP_LISTEN: `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort}`,
      PRESENCE_HTTP_LISTEN: `127.0.0.1:${await freePort()}`,
      PRESENCE_DB: join(dir, 'presence.db'),
      PRESENCE_SIP_AUTH: 'none',
    };
  });

  afterAll(() => {
    server?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('after kill -9 the subscription is still there and NOTIFYs go on with higher CSeq and version', async () => {
    server = await spawnServer(env);
    const phone = await RawSipClient.connect('udp', sipPort);
    const base = { transport: 'udp' as const, localPort: phone.localPort, ext: '8001', domain: 'acme.example.com', callId: 'restart-1', fromTag: 'rTag' };

    phone.send(subscribeText({ ...base, cseq: 1, expires: 3600, branch: 'z9hG4bK-r1' }));
    const ok = await phone.response(200);
    const toTag = /tag=([^;>\s]+)/.exec(ok.headers.get('To') ?? '')?.[1];
    const n1 = await phone.notify();
    phone.send(subscribeText({ ...base, toTag, cseq: 2, expires: 3600, branch: 'z9hG4bK-r2' }));
    await phone.response(200);
    const n2 = await phone.notify();
    expect(cseqOf(n2)).toBeGreaterThan(cseqOf(n1));

    // No shutdown at all: the process dies between two requests.
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');

    server = await spawnServer(env);
    expect(server.output()).toContain('"restored":1');
    // The phone refreshes in the same dialog: the server still knows it (no 481)...
    phone.send(subscribeText({ ...base, toTag, cseq: 3, expires: 3600, branch: 'z9hG4bK-r3' }));
    await phone.response(200);
    const n3 = await phone.notify();
    // ...and the NOTIFY continues the dialog's CSeq and the document's version.
    expect(cseqOf(n3)).toBeGreaterThan(cseqOf(n2));
    expect(versionOf(n3.body)).toBeGreaterThan(versionOf(n2.body));
    expect(n3.headers.get('From')).toContain(`tag=${toTag}`);

    // SIGTERM is a clean stop: exit 0, the phone hears nothing (it keeps its subscription).
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('presence server stopped');
    await new Promise((r) => setTimeout(r, 200));
    expect(phone.received.filter((m) => m.kind === 'request')).toHaveLength(0);

    server = await spawnServer(env);
    expect(server.output()).toContain('"restored":1');
    phone.send(subscribeText({ ...base, toTag, cseq: 4, expires: 0, branch: 'z9hG4bK-r4' }));
    await phone.response(200);
    const last = await phone.notify();
    expect(last.headers.get('Subscription-State')).toBe('terminated;reason=timeout');
    expect(cseqOf(last)).toBeGreaterThan(cseqOf(n3));
    phone.close();
    server.child.kill('SIGTERM');
    await server.exited;
    server = undefined;
  }, 60_000);
});
