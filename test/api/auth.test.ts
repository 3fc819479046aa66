import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { md5hex, startHarness, type Harness } from './harness.js';
import { call, tenant, type Tenant } from './fixtures.js';

const INVALID_CREDENTIALS = { status: 'error', error: '401', message: 'invalid_credentials', data: { message: 'invalid credentials' } };

describe('api_auth and user_auth', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness({ tokenTtl: 60 });
  });
  afterEach(() => h.close());

  it('trades an api key for a token with the account id (201)', async () => {
    const { account, apiKey } = h.directory.createAccount({ name: 'Acme', realm: 'acme.example.com' });
    expect(apiKey).toMatch(/^[0-9a-f]{64}$/);
    const res = await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key: apiKey } } });
    expect(res.statusCode).toBe(201);
    const env = res.json();
    expect(env.status).toBe('success');
    expect(env.auth_token).toMatch(/^[0-9a-f]{64}$/);
    expect(env.data).toMatchObject({ account_id: account.id, account_name: 'Acme' });
    expect(env.data.owner_id).toBeUndefined();
  });

  it('refuses an unknown or malformed api key with 401 (Kazoo says 404; that tells which keys exist)', async () => {
    for (const api_key of ['0'.repeat(64), 'nope']) {
      const res = await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key } } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject(INVALID_CREDENTIALS);
      expect(res.json().auth_token).toBeUndefined();
    }
  });

  it('wants the api key in data', async () => {
    const res = await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: {} } });
    expect(res.statusCode).toBe(400);
    expect(res.json().data).toEqual({ api_key: { required: { message: 'Field is required but missing' } } });
  });

  it('logs a user in with md5(lower(username):password) and the account name or realm', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    const created = await call(h, acme, 'PUT', `/v2/accounts/${acme.accountId}/users`, {
      first_name: 'Alice',
      last_name: 'Liddell',
      username: 'Alice',
      password: 's3cret',
    });
    expect(created.statusCode).toBe(201);
    const userId = created.json().data.id;
    const credentials = md5hex('alice:s3cret');

    for (const selector of [{ account_name: 'acme' }, { account_realm: 'ACME.example.com' }]) {
      const res = await h.app.inject({ method: 'PUT', url: '/v2/user_auth', payload: { data: { credentials, ...selector } } });
      expect(res.statusCode).toBe(201);
      expect(res.json().data).toMatchObject({ account_id: acme.accountId, owner_id: userId });
      const token = res.json().auth_token;
      const me = await h.app.inject({ method: 'GET', url: `/v2/accounts/${acme.accountId}/users/${userId}`, headers: { 'x-auth-token': token } });
      expect(me.statusCode).toBe(200);
    }

    const wrong = await h.app.inject({ method: 'PUT', url: '/v2/user_auth', payload: { data: { credentials: md5hex('alice:wrong'), account_name: 'Acme' } } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject(INVALID_CREDENTIALS);
    const noAccount = await h.app.inject({ method: 'PUT', url: '/v2/user_auth', payload: { data: { credentials } } });
    expect(noAccount.statusCode).toBe(400);
    expect(noAccount.json().data.account_name.required).toBeDefined();
  });

  it('keeps the login through a PATCH that does not touch the username, and wants the password when it does', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    const id = (await call(h, acme, 'PUT', `/v2/accounts/${acme.accountId}/users`, { first_name: 'A', last_name: 'B', username: 'al', password: 'pw' })).json().data.id;
    await call(h, acme, 'PATCH', `/v2/accounts/${acme.accountId}/users/${id}`, { presence_id: '1001' });
    const login = await h.app.inject({ method: 'PUT', url: '/v2/user_auth', payload: { data: { credentials: md5hex('al:pw'), account_realm: acme.realm } } });
    expect(login.statusCode).toBe(201);
    const rename = await call(h, acme, 'PATCH', `/v2/accounts/${acme.accountId}/users/${id}`, { username: 'albert' });
    expect(rename.statusCode).toBe(400);
    expect(rename.json().data.password.required).toBeDefined();
  });

  it('answers 401 for a missing, unknown or expired token', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    const url = `/v2/accounts/${acme.accountId}/presence`;

    const missing = await h.app.inject({ method: 'GET', url });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject(INVALID_CREDENTIALS);

    const bad = await h.app.inject({ method: 'GET', url, headers: { 'x-auth-token': 'f'.repeat(64) } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject(INVALID_CREDENTIALS);

    expect((await h.app.inject({ method: 'GET', url, headers: { 'x-auth-token': acme.token } })).statusCode).toBe(200);
    h.clock.advance(61);
    const expired = await h.app.inject({ method: 'GET', url, headers: { 'x-auth-token': acme.token } });
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject(INVALID_CREDENTIALS);
  });

  it('accepts the token as Authorization: Bearer too', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    const res = await h.app.inject({ method: 'GET', url: `/v2/accounts/${acme.accountId}`, headers: { authorization: `Bearer ${acme.token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json().auth_token).toBe(acme.token);
  });

  it('checks the token before reading the body', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    const res = await h.app.inject({
      method: 'POST',
      url: `/v2/accounts/${acme.accountId}/presence/1001`,
      headers: { 'content-type': 'application/json' },
      payload: '{broken',
    });
    expect(res.statusCode).toBe(401);
  });

  it('forbids a token from touching another account (403), unless its account is a super-admin', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    const globex = await tenant(h, 'Globex', 'globex.example.com');
    const root = await tenant(h, 'Root', 'root.example.com', true);

    for (const [method, url, data] of [
      ['GET', `/v2/accounts/${globex.accountId}`, undefined],
      ['GET', `/v2/accounts/${globex.accountId}/presence`, undefined],
      ['POST', `/v2/accounts/${globex.accountId}/presence/1001`, { action: 'reset' }],
      ['PUT', `/v2/accounts/${globex.accountId}/devices`, { name: 'x' }],
    ] as const) {
      const res = await call(h, acme, method, url, data);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json()).toMatchObject({ status: 'error', error: '403', message: 'forbidden', auth_token: acme.token });
    }

    expect((await call(h, root, 'GET', `/v2/accounts/${globex.accountId}`)).statusCode).toBe(200);
    expect((await call(h, root, 'POST', `/v2/accounts/${globex.accountId}/presence/1001`, { action: 'reset' })).statusCode).toBe(200);
  });

  it('lets only a super-admin create and delete accounts', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    const root = await tenant(h, 'Root', 'root.example.com', true);

    const refused = await call(h, acme, 'PUT', '/v2/accounts', { name: 'Initech', realm: 'initech.example.com' });
    expect(refused.statusCode).toBe(403);

    const created = await call(h, root, 'PUT', '/v2/accounts', { name: 'Initech', realm: 'initech.example.com' });
    expect(created.statusCode).toBe(201);
    const { id, api_key } = created.json().data;
    expect(api_key).toMatch(/^[0-9a-f]{64}$/);
    const login = await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key } } });
    expect(login.json().data.account_id).toBe(id);

    expect((await call(h, acme, 'DELETE', `/v2/accounts/${id}`)).statusCode).toBe(403);
    expect((await call(h, root, 'DELETE', `/v2/accounts/${root.accountId}`)).statusCode).toBe(403);
    const deleted = await call(h, root, 'DELETE', `/v2/accounts/${id}`);
    expect(deleted.statusCode).toBe(200);
    // Its tokens went with it.
    const after = await h.app.inject({ method: 'GET', url: `/v2/accounts/${id}`, headers: { 'x-auth-token': login.json().auth_token } });
    expect(after.statusCode).toBe(401);
    expect((await call(h, root, 'GET', `/v2/accounts/${id}`)).statusCode).toBe(404);
  });

  it('rotating the api key retires the old key and its tokens', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    const rotated = await call(h, acme, 'PUT', `/v2/accounts/${acme.accountId}/api_key`);
    expect(rotated.statusCode).toBe(200);
    const newKey = rotated.json().data.api_key;
    expect(newKey).not.toBe(acme.apiKey);
    expect((await call(h, acme, 'GET', `/v2/accounts/${acme.accountId}`)).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key: acme.apiKey } } })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key: newKey } } })).statusCode).toBe(201);
  });

  it('logs a token out with DELETE /v2/token_auth', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    expect((await call(h, acme, 'DELETE', '/v2/token_auth')).statusCode).toBe(200);
    expect((await call(h, acme, 'GET', `/v2/accounts/${acme.accountId}`)).statusCode).toBe(401);
  });

  it('stores neither tokens nor api keys nor passwords in clear', async () => {
    const acme = await tenant(h, 'Acme', 'acme.example.com');
    await call(h, acme, 'PUT', `/v2/accounts/${acme.accountId}/users`, { first_name: 'A', last_name: 'B', username: 'al', password: 'hunter2hunter2' });
    const dump = JSON.stringify([
      h.db.prepare('SELECT * FROM accounts').all(),
      h.db.prepare('SELECT * FROM users').all(),
      h.db.prepare('SELECT * FROM auth_tokens').all(),
    ]);
    expect(dump).not.toContain(acme.token);
    expect(dump).not.toContain(acme.apiKey);
    expect(dump).not.toContain('hunter2hunter2');
    expect(dump).not.toContain(md5hex('al:hunter2hunter2'));
  });
});
