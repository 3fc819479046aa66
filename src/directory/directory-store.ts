import type { Account, Device, DeviceWithAccount, StoredUser } from './documents.js';

/**
 * Durable home of accounts, users and devices (implemented on SQLite in db/). Reads always go
 * to the store: the admin CLI writes the same file while the server runs, and a new account
 * must be usable at once.
 */
export interface DirectoryStore {
  /** Runs `fn` in one write transaction, so a uniqueness check and its write cannot interleave with another process. */
  transaction<T>(fn: () => T): T;

  insertAccount(account: Account, apiKeyDigest: string): void;
  updateAccount(account: Account): void;
  deleteAccount(id: string): boolean;
  getAccount(id: string): Account | undefined;
  listAccounts(): Account[];
  /** `realm` is compared lower-cased. */
  findAccountByRealm(realm: string): Account | undefined;
  /** Names are not unique; compared case-insensitively. */
  findAccountsByName(name: string): Account[];
  findAccountByApiKeyDigest(digest: string): { account: Account; apiKeyDigest: string } | undefined;
  setApiKeyDigest(accountId: string, digest: string): void;

  insertUser(user: StoredUser): void;
  updateUser(user: StoredUser): void;
  deleteUser(accountId: string, id: string): boolean;
  getUser(accountId: string, id: string): StoredUser | undefined;
  listUsers(accountId: string): StoredUser[];
  findUserByUsername(accountId: string, username: string): StoredUser | undefined;
  findUserByCredentialsHash(accountId: string, hash: string): StoredUser | undefined;

  insertDevice(device: Device): void;
  updateDevice(device: Device): void;
  deleteDevice(accountId: string, id: string): boolean;
  getDevice(accountId: string, id: string): Device | undefined;
  listDevices(accountId: string): Device[];
  listDevicesOwnedBy(accountId: string, ownerId: string): Device[];
  /**
   * The device whose SIP username is `username` in `realm`, where a device's realm is its
   * `sip.realm`, else its account's realm. For SIP digest authentication.
   */
  findDeviceBySipUsername(realm: string, username: string): DeviceWithAccount | undefined;
}
