import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../api/server.js';
import { md5hex, startHarness, type Harness } from './harness.js';
import { tenant } from './fixtures.js';

describe('the HTTP server', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('listens, answers over real HTTP and closes gracefully', async () => {
    h = await startHarness();
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    const server = await startHttpServer(h.app, { host: '127.0.0.1', port: 0 });
    expect(server.address.port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${server.address.port}/v2/accounts/${acme.accountId}/presence/1001`, {
      method: 'POST',
      headers: { 'X-Auth-Token': acme.token, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '{"data":{"action":"set","state":"early"}}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(((await res.json()) as { data: string }).data).toBe('command sent');
    await Promise.all([server.close(), server.close()]);
    await expect(fetch(`http://127.0.0.1:${server.address.port}/`)).rejects.toThrow();
  });

  it('handles a request only once the admission lets it go (the SIP listener first)', async () => {
    const held: Array<() => void> = [];
    let admitting = false;
    h = await startHarness({ admit: (go) => (admitting ? go() : held.push(go)) });
    admitting = true;
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    admitting = false;
    const before = h.presence.view('1001@acme.example.com').revision;
    let answered = false;
    const res = h.app
      .inject({
        method: 'POST',
        url: `/v2/accounts/${acme.accountId}/presence/1001`,
        headers: { 'x-auth-token': acme.token },
        payload: { data: { action: 'set', state: 'confirmed' } },
      })
      .then((r) => {
        answered = true;
        return r;
      });
    for (let i = 0; i < 20 && held.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(held).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answered).toBe(false);
    expect(h.presence.view('1001@acme.example.com').revision).toBe(before);
    held.shift()!();
    expect((await res).statusCode).toBe(200);
    expect(h.presence.view('1001@acme.example.com').dialogs.map((d) => d.state)).toEqual(['confirmed']);
  });

  it('logs requests without tokens, api keys or passwords', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    h = await startHarness({ logger });
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    await h.app.inject({
      method: 'PUT',
      url: `/v2/accounts/${acme.accountId}/users`,
      headers: { 'x-auth-token': acme.token },
      payload: { data: { first_name: 'A', last_name: 'B', username: 'al', password: 'hunter2hunter2' } },
    });
    await h.app.inject({ method: 'PUT', url: '/v2/user_auth', payload: { data: { credentials: md5hex('al:hunter2hunter2'), account_name: 'Acme' } } });
    await h.app.inject({ method: 'GET', url: `/v2/accounts/${acme.accountId}`, headers: { authorization: `Bearer ${acme.token}` } });
    const log = lines.join('');
    expect(log).toContain('incoming request');
    expect(log).not.toContain(acme.token);
    expect(log).not.toContain(acme.apiKey);
    expect(log).not.toContain('hunter2hunter2');
    expect(log).not.toContain(md5hex('al:hunter2hunter2'));
  });
});
