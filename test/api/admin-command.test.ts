import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDirectoryRepository } from '../../db/directory-repository.js';
import { closeDatabase, openDatabase } from '../../db/open.js';
import { ADMIN_USAGE, AdminUsageError, executeAdmin, parseAdminCommand } from '../../src/admin-command.js';
import { DirectoryService } from '../../src/directory/directory-service.js';
import { systemClock } from '../../src/ports/clock.js';
import { startHarness, type Harness } from './harness.js';

describe('parseAdminCommand', () => {
  it('reads account create with --flag value and --flag=value', () => {
    expect(parseAdminCommand(['account', 'create', '--name', 'Acme', '--realm=acme.example.com', '--superadmin'])).toEqual({
      kind: 'account-create',
      name: 'Acme',
      realm: 'acme.example.com',
      superadmin: true,
    });
    expect(parseAdminCommand(['account', 'list'])).toEqual({ kind: 'account-list' });
    expect(parseAdminCommand(['account', 'api-key', '--realm', 'r.example.com'])).toEqual({ kind: 'account-api-key', realm: 'r.example.com' });
    expect(parseAdminCommand([])).toEqual({ kind: 'help' });
  });

  it('says what is wrong with a bad command line', () => {
    expect(() => parseAdminCommand(['account', 'create', '--name', 'A'])).toThrow(new AdminUsageError('option --realm is required'));
    expect(() => parseAdminCommand(['account', 'create', '--name'])).toThrow(/--name needs a value/);
    expect(() => parseAdminCommand(['account', 'create', '--bogus', 'x'])).toThrow(/unknown option --bogus/);
    expect(() => parseAdminCommand(['account', 'list', '--superadmin'])).toThrow(/unknown option/);
    expect(() => parseAdminCommand(['user', 'create'])).toThrow(/unknown command "user"/);
    expect(() => parseAdminCommand(['account', 'explode'])).toThrow(/unknown account command/);
  });
});

describe('presence-admin against the server database', () => {
  let h: Harness;
  let cliDb: ReturnType<typeof openDatabase>;
  let cli: DirectoryService;

  beforeEach(async () => {
    h = await startHarness();
    // A second connection on the same file, as the CLI process opens it while the server runs.
    cliDb = openDatabase(h.file);
    const repo = new SqliteDirectoryRepository(cliDb);
    cli = new DirectoryService({ store: repo, tokens: repo, clock: systemClock });
  });
  afterEach(async () => {
    closeDatabase(cliDb);
    await h.close();
  });

  it('creates a super-admin account whose api key the running server accepts at once', async () => {
    const result = executeAdmin(['account', 'create', '--name', 'Root', '--realm', 'Root.Example.com', '--superadmin'], cli);
    expect(result.exitCode).toBe(0);
    const printed = JSON.parse(result.stdout!);
    expect(printed).toEqual({
      account_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      name: 'Root',
      realm: 'root.example.com',
      api_key: expect.stringMatching(/^[0-9a-f]{64}$/),
      superadmin: true,
    });

    const login = await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key: printed.api_key } } });
    expect(login.statusCode).toBe(201);
    const created = await h.app.inject({
      method: 'PUT',
      url: '/v2/accounts',
      headers: { 'x-auth-token': login.json().auth_token },
      payload: { data: { name: 'Acme', realm: 'acme.example.com' } },
    });
    expect(created.statusCode).toBe(201);
  });

  it('lists accounts without keys', () => {
    executeAdmin(['account', 'create', '--name', 'A', '--realm', 'a.example.com'], cli);
    executeAdmin(['account', 'create', '--name', 'B', '--realm', 'b.example.com', '--superadmin'], cli);
    const result = executeAdmin(['account', 'list'], cli);
    expect(result.exitCode).toBe(0);
    const list = JSON.parse(result.stdout!);
    expect(list.map((a: { realm: string; superadmin: boolean }) => [a.realm, a.superadmin])).toEqual([
      ['a.example.com', false],
      ['b.example.com', true],
    ]);
    expect(result.stdout).not.toContain('api_key');
  });

  it('issues a new api key with account api-key; the old key stops working', async () => {
    const old = JSON.parse(executeAdmin(['account', 'create', '--name', 'A', '--realm', 'a.example.com'], cli).stdout!);
    const rotated = executeAdmin(['account', 'api-key', '--realm', 'A.example.com'], cli);
    expect(rotated.exitCode).toBe(0);
    const fresh = JSON.parse(rotated.stdout!);
    expect(fresh).toMatchObject({ account_id: old.account_id, realm: 'a.example.com' });
    expect(fresh.api_key).not.toBe(old.api_key);
    expect((await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key: old.api_key } } })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key: fresh.api_key } } })).statusCode).toBe(201);
  });

  it('deletes an account by realm', () => {
    executeAdmin(['account', 'create', '--name', 'A', '--realm', 'a.example.com'], cli);
    const deleted = executeAdmin(['account', 'delete', '--realm', 'a.example.com'], cli);
    expect(deleted.exitCode).toBe(0);
    expect(JSON.parse(deleted.stdout!)).toMatchObject({ realm: 'a.example.com', deleted: true });
    expect(h.directory.findAccountByRealm('a.example.com')).toBeUndefined();
  });

  it('exits 1 with the reason when the directory refuses, 2 on a bad command line, 0 with usage for help', () => {
    executeAdmin(['account', 'create', '--name', 'A', '--realm', 'a.example.com'], cli);
    const dup = executeAdmin(['account', 'create', '--name', 'B', '--realm', 'a.example.com'], cli);
    expect(dup.exitCode).toBe(1);
    expect(dup.stderr).toContain('"realm":{"unique"');
    const missing = executeAdmin(['account', 'api-key', '--realm', 'nowhere.example.com'], cli);
    expect(missing).toEqual({ exitCode: 1, stderr: 'presence-admin: no account has realm nowhere.example.com\n' });
    const bad = executeAdmin(['account', 'create'], cli);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(ADMIN_USAGE);
    expect(executeAdmin(['help'], cli)).toEqual({ exitCode: 0, stdout: `${ADMIN_USAGE}\n` });
  });
});
