import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { RawSipClient, subscribeText } from '../support/raw-sip-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('SUBSCRIBE over TLS', () => {
  let t: TestServer;
  let tlsPort: number;
  let certDir: string;

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'presence-cert-'));
    // A throwaway self-signed certificate, made here so no key is ever committed.
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
    ], { stdio: 'ignore' });
    tlsPort = await freePort();
    const udp = await freePort();
    t = await startTestServer({
      PRESENCE_SIP_LISTEN: `udp:127.0.0.1:${udp},tls:127.0.0.1:${tlsPort}`,
      PRESENCE_TLS_CERT: join(certDir, 'cert.pem'),
      PRESENCE_TLS_KEY: join(certDir, 'key.pem'),
    });
  });

  afterAll(async () => {
    await t?.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('a TLS phone subscribes and gets its NOTIFYs on the same TLS connection', async () => {
    const phone = await RawSipClient.connect('tls', tlsPort);
    const base = { transport: 'tls' as const, localPort: phone.localPort, ext: '7001', domain: 'acme.example.com', callId: 'tls-call-1', fromTag: 'tlsTag' };
    phone.send(subscribeText({ ...base, cseq: 1, expires: 600, branch: 'z9hG4bK-tls-1' }));
    const ok = await phone.response(200);
    const toTag = /tag=([^;>\s]+)/.exec(ok.headers.get('To') ?? '')?.[1];
    expect(toTag).toBeDefined();
    expect(ok.headers.get('Contact')).toContain('transport=tls');
    const first = await phone.notify();
    expect(first.headers.get('Via')).toMatch(/^SIP\/2\.0\/TLS /);
    expect(first.body.toString()).toContain('version="0"');

    t.server.presence.set('7001@acme.example.com', 'confirmed');
    const change = await phone.notify();
    expect(change.body.toString()).toContain('<state>confirmed</state>');
    expect(change.headers.get('CSeq')).toBe('2 NOTIFY');

    phone.send(subscribeText({ ...base, toTag, cseq: 2, expires: 0, branch: 'z9hG4bK-tls-2' }));
    await phone.response(200);
    const last = await phone.notify();
    expect(last.headers.get('Subscription-State')).toBe('terminated;reason=timeout');
    phone.close();
  });
});
