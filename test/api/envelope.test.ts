import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { call, emptyValues, tenant, type Tenant } from './fixtures.js';

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('the Kazoo envelope', () => {
  let h: Harness;
  let acme: Tenant;

  beforeEach(async () => {
    h = await startHarness();
    acme = await tenant(h, 'Acme', 'acme.example.com');
  });
  afterEach(() => h.close());

  it('wraps a success in data, status, request_id, auth_token, node, timestamp, version and revision', async () => {
    const res = await call(h, acme, 'GET', `/v2/accounts/${acme.accountId}`);
    expect(res.statusCode).toBe(200);
    const env = res.json();
    expect(env).toMatchObject({
      status: 'success',
      auth_token: acme.token,
      node: 'test-node-1',
      version: '9.9.9',
      revision: '1',
      data: { id: acme.accountId, name: 'Acme', realm: 'acme.example.com' },
    });
    expect(env.timestamp).toMatch(ISO_SECONDS);
    expect(env.request_id).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers['x-request-id']).toBe(env.request_id);
    expect(emptyValues(env)).toEqual([]);
  });

  it('keeps a sane X-Request-ID from the client and replaces a hostile one', async () => {
    const kept = await h.app.inject({ method: 'GET', url: `/v2/accounts/${acme.accountId}`, headers: { 'x-auth-token': acme.token, 'x-request-id': 'abc-123' } });
    expect(kept.json().request_id).toBe('abc-123');
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await h.app.inject({ method: 'GET', url: `/v2/accounts/${acme.accountId}`, headers: { 'x-auth-token': acme.token, 'x-request-id': 'a b\u0000<script>' } });
    expect(replaced.json().request_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('answers an unknown route with a 404 envelope', async () => {
    const res = await call(h, acme, 'GET', '/v2/no/such/thing');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 'error', error: '404', message: 'not_found', node: 'test-node-1', version: '9.9.9' });
    expect(res.headers['x-request-id']).toBe(res.json().request_id);
  });

  it('answers a wrong verb on a known route with 405 invalid_method and Allow', async () => {
    const res = await call(h, acme, 'DELETE', `/v2/accounts/${acme.accountId}/presence`);
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
    expect(res.json()).toMatchObject({ status: 'error', error: '405', message: 'invalid_method' });
    const put = await call(h, acme, 'PUT', `/v2/accounts/${acme.accountId}/devices/0123456789abcdef0123456789abcdef`, {});
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('GET, POST, PATCH, DELETE');
  });

  it('answers malformed JSON with 400 invalid request and a clear reason', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: `/v2/accounts/${acme.accountId}/presence/1001`,
      headers: { 'x-auth-token': acme.token, 'content-type': 'application/json' },
      payload: '{"data": {"action": "reset"',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 'error', error: '400', message: 'invalid request', auth_token: acme.token });
    expect(res.json().data.message).toMatch(/not valid JSON/);
  });

  it('parses a form-encoded body holding JSON, as curl -d sends it', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: `/v2/accounts/${acme.accountId}/presence/1001`,
      headers: { 'x-auth-token': acme.token, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '{"data": {"action": "reset"}}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toBe('command sent');
  });

  it('refuses other content types with a 415 envelope', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: `/v2/accounts/${acme.accountId}/presence/1001`,
      headers: { 'x-auth-token': acme.token, 'content-type': 'text/xml' },
      payload: '<reset/>',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ status: 'error', error: '415' });
  });

  it('reports a missing body as a missing data field', async () => {
    const res = await call(h, acme, 'PUT', `/v2/accounts/${acme.accountId}/users`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ message: 'validation error', data: { data: { required: { message: 'Field is required but missing' } } } });
  });

  it('ignores keys that would reach a prototype', async () => {
    const res = await h.app.inject({
      method: 'PATCH',
      url: `/v2/accounts/${acme.accountId}`,
      headers: { 'x-auth-token': acme.token, 'content-type': 'application/json' },
      payload: '{"data": {"name": "Acme 2", "__proto__": {"polluted": true}}}',
    });
    expect(res.statusCode).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers an internal failure with a bare 500 that leaks nothing', async () => {
    h.db.close();
    const res = await call(h, acme, 'GET', `/v2/accounts/${acme.accountId}`);
    expect(res.statusCode).toBe(500);
    const env = res.json();
    expect(env).toMatchObject({ status: 'error', error: '500', message: 'internal_server_error', data: { message: 'internal server error' } });
    expect(res.body).not.toMatch(/sqlite|database|stack|\.ts/i);
  });
});
