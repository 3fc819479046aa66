import type { Database, Statement } from 'better-sqlite3';
import type { DirectoryStore } from '../src/directory/directory-store.js';
import type { Account, Device, DeviceWithAccount, StoredUser } from '../src/directory/documents.js';
import type { StoredToken, TokenMethod, TokenStore } from '../src/directory/token-store.js';

interface AccountRow {
  id: string;
  name: string;
  realm: string;
  superadmin: 0 | 1;
  revision: number;
  created_at: number;
  updated_at: number;
}

interface UserRow {
  id: string;
  account_id: string;
  first_name: string;
  last_name: string;
  username: string | null;
  presence_id: string | null;
  credentials_hash: string | null;
  revision: number;
  created_at: number;
  updated_at: number;
}

interface DeviceRow {
  id: string;
  account_id: string;
  name: string;
  owner_id: string | null;
  presence_id: string | null;
  sip_username: string | null;
  sip_password: string | null;
  sip_realm: string | null;
  revision: number;
  created_at: number;
  updated_at: number;
}

interface TokenRow {
  digest: string;
  account_id: string;
  owner_id: string | null;
  method: TokenMethod;
  created_at: number;
  expires_at: number;
}

const ACCOUNT_COLUMNS = 'id, name, realm, superadmin, revision, created_at, updated_at';
const USER_COLUMNS = 'id, account_id, first_name, last_name, username, presence_id, credentials_hash, revision, created_at, updated_at';
const DEVICE_COLUMNS =
  'id, account_id, name, owner_id, presence_id, sip_username, sip_password, sip_realm, revision, created_at, updated_at';
const TOKEN_COLUMNS = 'digest, account_id, owner_id, method, created_at, expires_at';

function prefixed(columns: string, alias: string, prefix: string): string {
  return columns
    .split(', ')
    .map((c) => `${alias}.${c} AS ${prefix}${c}`)
    .join(', ');
}

type DeviceAccountRow = { [K in keyof DeviceRow as `d_${K}`]: DeviceRow[K] } & { [K in keyof AccountRow as `a_${K}`]: AccountRow[K] };

function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    name: r.name,
    realm: r.realm,
    superadmin: r.superadmin === 1,
    revision: r.revision,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function accountRow(a: Account): AccountRow {
  return {
    id: a.id,
    name: a.name,
    realm: a.realm,
    superadmin: a.superadmin ? 1 : 0,
    revision: a.revision,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

function toUser(r: UserRow): StoredUser {
  const u: StoredUser = {
    id: r.id,
    accountId: r.account_id,
    firstName: r.first_name,
    lastName: r.last_name,
    revision: r.revision,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.username !== null) u.username = r.username;
  if (r.presence_id !== null) u.presenceId = r.presence_id;
  if (r.credentials_hash !== null) u.credentialsHash = r.credentials_hash;
  return u;
}

function userRow(u: StoredUser): UserRow {
  return {
    id: u.id,
    account_id: u.accountId,
    first_name: u.firstName,
    last_name: u.lastName,
    username: u.username ?? null,
    presence_id: u.presenceId ?? null,
    credentials_hash: u.credentialsHash ?? null,
    revision: u.revision,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  };
}

function toDevice(r: DeviceRow): Device {
  const d: Device = {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    sip: {},
    revision: r.revision,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.owner_id !== null) d.ownerId = r.owner_id;
  if (r.presence_id !== null) d.presenceId = r.presence_id;
  if (r.sip_username !== null) d.sip.username = r.sip_username;
  if (r.sip_password !== null) d.sip.password = r.sip_password;
  if (r.sip_realm !== null) d.sip.realm = r.sip_realm;
  return d;
}

function deviceRow(d: Device): DeviceRow {
  return {
    id: d.id,
    account_id: d.accountId,
    name: d.name,
    owner_id: d.ownerId ?? null,
    presence_id: d.presenceId ?? null,
    sip_username: d.sip.username ?? null,
    sip_password: d.sip.password ?? null,
    sip_realm: d.sip.realm ?? null,
    revision: d.revision,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

function unprefix<T>(row: Record<string, unknown>, prefix: string): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out as T;
}

function toToken(r: TokenRow): StoredToken {
  const t: StoredToken = { digest: r.digest, accountId: r.account_id, method: r.method, createdAt: r.created_at, expiresAt: r.expires_at };
  if (r.owner_id !== null) t.ownerId = r.owner_id;
  return t;
}

/**
 * The directory and the REST tokens on SQLite. No cache: every read is a query, so the admin
 * CLI (another process on the same WAL file) and the server see each other's writes at once.
 */
export class SqliteDirectoryRepository implements DirectoryStore, TokenStore {
  private readonly s: {
    insertAccount: Statement<[AccountRow & { api_key_digest: string }], void>;
    updateAccount: Statement<[AccountRow], void>;
    deleteAccount: Statement<[string], void>;
    getAccount: Statement<[string], AccountRow>;
    listAccounts: Statement<[], AccountRow>;
    accountByRealm: Statement<[string], AccountRow>;
    accountsByName: Statement<[string], AccountRow>;
    accountByApiKey: Statement<[string], AccountRow & { api_key_digest: string }>;
    setApiKey: Statement<[string, string], void>;
    insertUser: Statement<[UserRow], void>;
    updateUser: Statement<[UserRow], void>;
    deleteUser: Statement<[string, string], void>;
    getUser: Statement<[string, string], UserRow>;
    listUsers: Statement<[string], UserRow>;
    userByUsername: Statement<[string, string], UserRow>;
    userByCredentials: Statement<[string, string], UserRow>;
    insertDevice: Statement<[DeviceRow], void>;
    updateDevice: Statement<[DeviceRow], void>;
    deleteDevice: Statement<[string, string], void>;
    getDevice: Statement<[string, string], DeviceRow>;
    listDevices: Statement<[string], DeviceRow>;
    devicesByOwner: Statement<[string, string], DeviceRow>;
    deviceBySip: Statement<[string, string], DeviceAccountRow>;
    insertToken: Statement<[TokenRow], void>;
    findToken: Statement<[string], TokenRow>;
    deleteToken: Statement<[string], void>;
    deleteExpiredTokens: Statement<[number], void>;
    deleteAccountTokens: Statement<[string, string], void>;
  };

  constructor(private readonly db: Database) {
    this.s = {
      insertAccount: db.prepare(
        `INSERT INTO accounts (${ACCOUNT_COLUMNS}, api_key_digest) ` +
          'VALUES (@id, @name, @realm, @superadmin, @revision, @created_at, @updated_at, @api_key_digest)',
      ),
      updateAccount: db.prepare(
        'UPDATE accounts SET name = @name, realm = @realm, superadmin = @superadmin, revision = @revision, ' +
          'updated_at = @updated_at WHERE id = @id',
      ),
      deleteAccount: db.prepare('DELETE FROM accounts WHERE id = ?'),
      getAccount: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`),
      listAccounts: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY created_at, rowid`),
      accountByRealm: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE realm = ?`),
      accountsByName: db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE name = ? COLLATE NOCASE`),
      accountByApiKey: db.prepare(`SELECT ${ACCOUNT_COLUMNS}, api_key_digest FROM accounts WHERE api_key_digest = ?`),
      setApiKey: db.prepare('UPDATE accounts SET api_key_digest = ? WHERE id = ?'),
      insertUser: db.prepare(
        `INSERT INTO users (${USER_COLUMNS}) VALUES (@id, @account_id, @first_name, @last_name, @username, ` +
          '@presence_id, @credentials_hash, @revision, @created_at, @updated_at)',
      ),
      updateUser: db.prepare(
        'UPDATE users SET first_name = @first_name, last_name = @last_name, username = @username, ' +
          'presence_id = @presence_id, credentials_hash = @credentials_hash, revision = @revision, ' +
          'updated_at = @updated_at WHERE id = @id AND account_id = @account_id',
      ),
      deleteUser: db.prepare('DELETE FROM users WHERE account_id = ? AND id = ?'),
      getUser: db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE account_id = ? AND id = ?`),
      listUsers: db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE account_id = ? ORDER BY created_at, rowid`),
      userByUsername: db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE account_id = ? AND username = ?`),
      userByCredentials: db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE account_id = ? AND credentials_hash = ?`),
      insertDevice: db.prepare(
        `INSERT INTO devices (${DEVICE_COLUMNS}) VALUES (@id, @account_id, @name, @owner_id, @presence_id, ` +
          '@sip_username, @sip_password, @sip_realm, @revision, @created_at, @updated_at)',
      ),
      updateDevice: db.prepare(
        'UPDATE devices SET name = @name, owner_id = @owner_id, presence_id = @presence_id, ' +
          'sip_username = @sip_username, sip_password = @sip_password, sip_realm = @sip_realm, ' +
          'revision = @revision, updated_at = @updated_at WHERE id = @id AND account_id = @account_id',
      ),
      deleteDevice: db.prepare('DELETE FROM devices WHERE account_id = ? AND id = ?'),
      getDevice: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE account_id = ? AND id = ?`),
      listDevices: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE account_id = ? ORDER BY created_at, rowid`),
      devicesByOwner: db.prepare(
        `SELECT ${DEVICE_COLUMNS} FROM devices WHERE account_id = ? AND owner_id = ? ORDER BY created_at, rowid`,
      ),
      deviceBySip: db.prepare(
        `SELECT ${prefixed(DEVICE_COLUMNS, 'd', 'd_')}, ${prefixed(ACCOUNT_COLUMNS, 'a', 'a_')} ` +
          'FROM devices d JOIN accounts a ON a.id = d.account_id ' +
          'WHERE d.sip_username = ? AND coalesce(d.sip_realm, a.realm) = ?',
      ),
      insertToken: db.prepare(
        `INSERT INTO auth_tokens (${TOKEN_COLUMNS}) VALUES (@digest, @account_id, @owner_id, @method, @created_at, @expires_at)`,
      ),
      findToken: db.prepare(`SELECT ${TOKEN_COLUMNS} FROM auth_tokens WHERE digest = ?`),
      deleteToken: db.prepare('DELETE FROM auth_tokens WHERE digest = ?'),
      deleteExpiredTokens: db.prepare('DELETE FROM auth_tokens WHERE expires_at <= ?'),
      deleteAccountTokens: db.prepare('DELETE FROM auth_tokens WHERE account_id = ? AND method = ?'),
    };
  }

  /** IMMEDIATE: take the write lock first, so a check-then-write waits for the other process (busy_timeout). */
  transaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn).immediate();
  }

  insertAccount(account: Account, apiKeyDigest: string): void {
    this.s.insertAccount.run({ ...accountRow(account), api_key_digest: apiKeyDigest });
  }

  updateAccount(account: Account): void {
    this.s.updateAccount.run(accountRow(account));
  }

  deleteAccount(id: string): boolean {
    return this.s.deleteAccount.run(id).changes > 0;
  }

  getAccount(id: string): Account | undefined {
    const r = this.s.getAccount.get(id);
    return r && toAccount(r);
  }

  listAccounts(): Account[] {
    return this.s.listAccounts.all().map(toAccount);
  }

  findAccountByRealm(realm: string): Account | undefined {
    const r = this.s.accountByRealm.get(realm.toLowerCase());
    return r && toAccount(r);
  }

  findAccountsByName(name: string): Account[] {
    return this.s.accountsByName.all(name).map(toAccount);
  }

  findAccountByApiKeyDigest(digest: string): { account: Account; apiKeyDigest: string } | undefined {
    const r = this.s.accountByApiKey.get(digest);
    return r && { account: toAccount(r), apiKeyDigest: r.api_key_digest };
  }

  setApiKeyDigest(accountId: string, digest: string): void {
    this.s.setApiKey.run(digest, accountId);
  }

  insertUser(user: StoredUser): void {
    this.s.insertUser.run(userRow(user));
  }

  updateUser(user: StoredUser): void {
    this.s.updateUser.run(userRow(user));
  }

  deleteUser(accountId: string, id: string): boolean {
    return this.s.deleteUser.run(accountId, id).changes > 0;
  }

  getUser(accountId: string, id: string): StoredUser | undefined {
    const r = this.s.getUser.get(accountId, id);
    return r && toUser(r);
  }

  listUsers(accountId: string): StoredUser[] {
    return this.s.listUsers.all(accountId).map(toUser);
  }

  findUserByUsername(accountId: string, username: string): StoredUser | undefined {
    const r = this.s.userByUsername.get(accountId, username.toLowerCase());
    return r && toUser(r);
  }

  findUserByCredentialsHash(accountId: string, hash: string): StoredUser | undefined {
    const r = this.s.userByCredentials.get(accountId, hash);
    return r && toUser(r);
  }

  insertDevice(device: Device): void {
    this.s.insertDevice.run(deviceRow(device));
  }

  updateDevice(device: Device): void {
    this.s.updateDevice.run(deviceRow(device));
  }

  deleteDevice(accountId: string, id: string): boolean {
    return this.s.deleteDevice.run(accountId, id).changes > 0;
  }

  getDevice(accountId: string, id: string): Device | undefined {
    const r = this.s.getDevice.get(accountId, id);
    return r && toDevice(r);
  }

  listDevices(accountId: string): Device[] {
    return this.s.listDevices.all(accountId).map(toDevice);
  }

  listDevicesOwnedBy(accountId: string, ownerId: string): Device[] {
    return this.s.devicesByOwner.all(accountId, ownerId).map(toDevice);
  }

  findDeviceBySipUsername(realm: string, username: string): DeviceWithAccount | undefined {
    const r = this.s.deviceBySip.get(username, realm.toLowerCase());
    if (!r) return undefined;
    const device = toDevice(unprefix<DeviceRow>(r, 'd_'));
    const account = toAccount(unprefix<AccountRow>(r, 'a_'));
    return { device, account, realm: device.sip.realm ?? account.realm };
  }

  insertToken(token: StoredToken): void {
    this.s.insertToken.run({
      digest: token.digest,
      account_id: token.accountId,
      owner_id: token.ownerId ?? null,
      method: token.method,
      created_at: token.createdAt,
      expires_at: token.expiresAt,
    });
  }

  findToken(digest: string): StoredToken | undefined {
    const r = this.s.findToken.get(digest);
    return r && toToken(r);
  }

  deleteToken(digest: string): void {
    this.s.deleteToken.run(digest);
  }

  deleteExpiredTokens(now: number): number {
    return this.s.deleteExpiredTokens.run(now).changes;
  }

  deleteAccountTokens(accountId: string, method: TokenMethod): void {
    this.s.deleteAccountTokens.run(accountId, method);
  }
}
