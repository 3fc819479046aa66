import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDirectoryRepository } from '../../db/directory-repository.js';
import { closeDatabase, openDatabase } from '../../db/open.js';
import { DirectoryService } from '../../src/directory/directory-service.js';
import { systemClock } from '../../src/ports/clock.js';
import { startHarness, type Harness } from './harness.js';
import { call, emptyValues, tenant, type Tenant } from './fixtures.js';

describe('accounts, users and devices', () => {
  let h: Harness;
  let acme: Tenant;
  let root: Tenant;
  const base = () => `/v2/accounts/${acme.accountId}`;

  beforeEach(async () => {
    h = await startHarness();
    acme = await tenant(h, 'Acme', 'acme.example.com');
    root = await tenant(h, 'Root', 'root.example.com', true);
  });
  afterEach(() => h.close());

  describe('accounts', () => {
    it('lower-cases the realm and refuses one already in use with data.realm.unique', async () => {
      const created = await call(h, root, 'PUT', '/v2/accounts', { name: 'Globex', realm: 'Globex.Example.COM' });
      expect(created.statusCode).toBe(201);
      expect(created.json().data.realm).toBe('globex.example.com');
      expect(created.json().data.id).toMatch(/^[0-9a-f]{32}$/);

      const dup = await call(h, root, 'PUT', '/v2/accounts', { name: 'Other', realm: 'GLOBEX.example.com' });
      expect(dup.statusCode).toBe(400);
      expect(dup.json()).toMatchObject({ status: 'error', error: '400', message: 'validation error' });
      expect(dup.json().data.realm.unique).toMatchObject({ message: 'Realm already in use' });
    });

    it('names every missing or malformed field in data.{field}.{rule}', async () => {
      const res = await call(h, root, 'PUT', '/v2/accounts', { realm: 'not a realm!' });
      expect(res.statusCode).toBe(400);
      expect(res.json().data.name.required.message).toBe('Field is required but missing');
      expect(res.json().data.realm.pattern).toBeDefined();
      const typed = await call(h, root, 'PUT', '/v2/accounts', { name: { first: 'x' }, realm: 'ok.example.com' });
      expect(typed.statusCode).toBe(400);
      expect(typed.json().data.name.type).toMatchObject({ target: 'string' });
    });

    it('replaces with POST, merges with PATCH and counts revisions', async () => {
      const patched = await call(h, acme, 'PATCH', base(), { name: 'Acme Corp' });
      expect(patched.json()).toMatchObject({ revision: '2', data: { name: 'Acme Corp', realm: 'acme.example.com' } });
      const replaced = await call(h, acme, 'POST', base(), { name: 'Acme Inc' });
      expect(replaced.statusCode).toBe(400);
      expect(replaced.json().data.realm.required).toBeDefined();
      const ok = await call(h, acme, 'POST', base(), { name: 'Acme Inc', realm: 'acme2.example.com' });
      expect(ok.json()).toMatchObject({ revision: '3', data: { name: 'Acme Inc', realm: 'acme2.example.com' } });
    });

    it('answers an unknown account id with 404 bad_identifier', async () => {
      const id = '0123456789abcdef0123456789abcdef';
      for (const url of [`/v2/accounts/${id}`, `/v2/accounts/${id}/users`, `/v2/accounts/${id}/devices`, `/v2/accounts/${id}/presence`]) {
        const res = await call(h, root, 'GET', url);
        expect(res.statusCode, url).toBe(404);
        expect(res.json()).toMatchObject({ status: 'error', error: '404', message: 'bad_identifier', data: { cause: id, message: 'bad identifier' } });
      }
    });
  });

  describe('users', () => {
    it('creates, reads, lists, patches, replaces and deletes a user, never returning the password', async () => {
      const created = await call(h, acme, 'PUT', `${base()}/users`, {
        first_name: 'Alice',
        last_name: 'Liddell',
        username: 'Alice',
        presence_id: '1001',
        password: 'pw',
      });
      expect(created.statusCode).toBe(201);
      const user = created.json().data;
      expect(user).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), first_name: 'Alice', last_name: 'Liddell', username: 'alice', presence_id: '1001' });
      expect(created.json().revision).toBe('1');

      const read = await call(h, acme, 'GET', `${base()}/users/${user.id}`);
      expect(read.json().data).toEqual(user);
      const list = await call(h, acme, 'GET', `${base()}/users`);
      expect(list.json().data).toEqual([user]);
      expect(list.body).not.toContain('password');

      const patched = await call(h, acme, 'PATCH', `${base()}/users/${user.id}`, { last_name: 'L.' });
      expect(patched.json().data).toMatchObject({ first_name: 'Alice', last_name: 'L.', presence_id: '1001' });

      const replaced = await call(h, acme, 'POST', `${base()}/users/${user.id}`, { first_name: 'Al', last_name: 'L', username: 'alice' });
      expect(replaced.json().data).toEqual({ id: user.id, first_name: 'Al', last_name: 'L', username: 'alice' });
      expect(emptyValues(replaced.json())).toEqual([]);

      const deleted = await call(h, acme, 'DELETE', `${base()}/users/${user.id}`);
      expect(deleted.statusCode).toBe(200);
      const gone = await call(h, acme, 'GET', `${base()}/users/${user.id}`);
      expect(gone.statusCode).toBe(404);
      expect(gone.json().data).toEqual({ cause: user.id, message: 'bad identifier' });
    });

    it('requires first and last name and a username unique in the account', async () => {
      const missing = await call(h, acme, 'PUT', `${base()}/users`, {});
      expect(Object.keys(missing.json().data).sort()).toEqual(['first_name', 'last_name']);
      await call(h, acme, 'PUT', `${base()}/users`, { first_name: 'A', last_name: 'B', username: 'al' });
      const dup = await call(h, acme, 'PUT', `${base()}/users`, { first_name: 'C', last_name: 'D', username: 'AL' });
      expect(dup.json().data.username.unique).toBeDefined();
    });

    it('refuses a presence id in another realm', async () => {
      const res = await call(h, acme, 'PUT', `${base()}/users`, { first_name: 'A', last_name: 'B', presence_id: '1001@globex.example.com' });
      expect(res.statusCode).toBe(400);
      expect(res.json().data.presence_id.invalid).toBeDefined();
      const ok = await call(h, acme, 'PUT', `${base()}/users`, { first_name: 'A', last_name: 'B', presence_id: '1001@ACME.example.com' });
      expect(ok.statusCode).toBe(201);
    });
  });

  describe('devices', () => {
    it('creates a device owned by a user of the account and merges sip on PATCH', async () => {
      const owner = (await call(h, acme, 'PUT', `${base()}/users`, { first_name: 'A', last_name: 'B' })).json().data.id;
      const created = await call(h, acme, 'PUT', `${base()}/devices`, {
        name: 'Desk phone',
        owner_id: owner,
        sip: { username: 'desk1001', password: 'sippw' },
      });
      expect(created.statusCode).toBe(201);
      const device = created.json().data;
      expect(device).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'Desk phone', owner_id: owner, sip: { username: 'desk1001', password: 'sippw' } });

      const patched = await call(h, acme, 'PATCH', `${base()}/devices/${device.id}`, { sip: { realm: 'PBX.acme.example.com' } });
      expect(patched.json().data.sip).toEqual({ username: 'desk1001', password: 'sippw', realm: 'pbx.acme.example.com' });
      expect(patched.json().revision).toBe('2');

      const list = await call(h, acme, 'GET', `${base()}/devices`);
      expect(list.json().data).toHaveLength(1);
    });

    it('refuses an owner that is not a user of the same account', async () => {
      const globex = await tenant(h, 'Globex', 'globex.example.com');
      const foreignUser = (await call(h, globex, 'PUT', `/v2/accounts/${globex.accountId}/users`, { first_name: 'G', last_name: 'X' })).json().data.id;
      const res = await call(h, acme, 'PUT', `${base()}/devices`, { name: 'x', owner_id: foreignUser });
      expect(res.statusCode).toBe(400);
      expect(res.json().data.owner_id.invalid).toBeDefined();
      const noName = await call(h, acme, 'PUT', `${base()}/devices`, {});
      expect(noName.json().data.name.required).toBeDefined();
    });

    it('keeps a SIP username unique within its realm', async () => {
      await call(h, acme, 'PUT', `${base()}/devices`, { name: 'a', sip: { username: '1001', password: 'x' } });
      const dup = await call(h, acme, 'PUT', `${base()}/devices`, { name: 'b', sip: { username: '1001', password: 'y' } });
      expect(dup.statusCode).toBe(400);
      expect(dup.json().data['sip.username'].unique).toBeDefined();
      const otherRealm = await call(h, acme, 'PUT', `${base()}/devices`, { name: 'c', sip: { username: '1001', realm: 'other.acme.example.com' } });
      expect(otherRealm.statusCode).toBe(201);
    });

    it('finds a device by SIP username for digest auth, sip.realm overriding the account realm', async () => {
      await call(h, acme, 'PUT', `${base()}/devices`, { name: 'a', sip: { username: '1001', password: 'x' } });
      await call(h, acme, 'PUT', `${base()}/devices`, { name: 'b', sip: { username: '1002', password: 'y', realm: 'edge.example.net' } });
      const a = h.directory.findDeviceBySipUsername('ACME.example.com', '1001');
      expect(a).toMatchObject({ realm: 'acme.example.com', device: { name: 'a', sip: { password: 'x' } }, account: { id: acme.accountId } });
      expect(h.directory.findDeviceBySipUsername('acme.example.com', '1002')).toBeUndefined();
      expect(h.directory.findDeviceBySipUsername('edge.example.net', '1002')).toMatchObject({ realm: 'edge.example.net', account: { realm: 'acme.example.com' } });
      expect(h.directory.findAccountByRealm('Acme.Example.Com')?.id).toBe(acme.accountId);
    });

    it('answers an unknown device id with 404 bad_identifier, also on delete', async () => {
      const id = 'ffffffffffffffffffffffffffffffff';
      for (const method of ['GET', 'DELETE'] as const) {
        const res = await call(h, acme, method, `${base()}/devices/${id}`);
        expect(res.statusCode).toBe(404);
        expect(res.json()).toMatchObject({ message: 'bad_identifier', data: { cause: id, message: 'bad identifier' } });
      }
    });
  });

  it('sees an account another connection (the admin CLI) wrote, at once', async () => {
    const other = openDatabase(h.file);
    try {
      const repo = new SqliteDirectoryRepository(other);
      const cli = new DirectoryService({ store: repo, tokens: repo, clock: systemClock });
      const { account, apiKey } = cli.createAccount({ name: 'Late', realm: 'late.example.com' });
      const res = await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key: apiKey } } });
      expect(res.statusCode).toBe(201);
      expect(res.json().data.account_id).toBe(account.id);
    } finally {
      closeDatabase(other);
    }
  });
});
