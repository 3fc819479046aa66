import type { Clock } from '../ports/clock.js';
import { presentityFromId, splitPresentity } from '../presentity.js';
import { credentialsHash, newApiKey, newDocumentId, secretDigest, userCredentials } from './credentials.js';
import { FieldErrorCollector, UnknownIdentifierError } from './directory-error.js';
import type { DirectoryStore } from './directory-store.js';
import type {
  Account,
  AccountFields,
  Device,
  DeviceFields,
  DeviceWithAccount,
  StoredUser,
  User,
  UserFields,
} from './documents.js';
import type { TokenStore } from './token-store.js';

export interface DirectoryServiceOptions {
  store: DirectoryStore;
  tokens: TokenStore;
  clock: Clock;
}

/** A SIP domain: dot-separated labels of letters, digits and inner hyphens (RFC 1035 2.3.1). */
const REALM_PATTERN = '^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$';
const REALM = new RegExp(REALM_PATTERN);
/** The user part of a SIP URI as phones dial it (`1001`, `*3101`, `alice.b`): no separators or blanks. */
const SIP_USER_PATTERN = '^[^\\s@:;,<>"]+$';
const SIP_USER = new RegExp(SIP_USER_PATTERN);
/** A presence id: a SIP user part, optionally followed by `@realm`. */
const PRESENCE_ID_PATTERN = '^[^\\s:;,<>"@]+(@[^\\s:;,<>"@]+)?$';
const PRESENCE_ID = new RegExp(PRESENCE_ID_PATTERN);

function required(errors: FieldErrorCollector, field: string, value: string | undefined): void {
  if (value === undefined) errors.add(field, 'required', { message: 'Field is required but missing' });
  else if (value.trim() === '') errors.add(field, 'minLength', { message: 'Value must be at least 1 characters', target: 1 });
}

function pattern(errors: FieldErrorCollector, field: string, value: string | undefined, re: RegExp, source: string): void {
  if (value !== undefined && !errors.has(field) && !re.test(value)) {
    errors.add(field, 'pattern', { message: `Failed to match pattern '${source}'`, target: source });
  }
}

function presenceIdRules(errors: FieldErrorCollector, value: string | undefined, account: Account): void {
  if (value === undefined) return;
  required(errors, 'presence_id', value);
  pattern(errors, 'presence_id', value, PRESENCE_ID, PRESENCE_ID_PATTERN);
  if (errors.has('presence_id')) return;
  // A presence id naming another realm would let this account drive another's lamps.
  if (splitPresentity(presentityFromId(value, account.realm)).realm !== account.realm) {
    errors.add('presence_id', 'invalid', { message: `Presence id must be in the account realm ${account.realm}`, target: account.realm });
  }
}

/** Drops keys whose value is undefined, so a merge never erases with an absent field. */
function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Accounts, users and devices: Kazoo's create (PUT) / replace (POST) / merge (PATCH) /
 * delete, with Kazoo's validation error shape. Every read goes to the store (no cache), so
 * an account the admin CLI creates is usable at once.
 */
export class DirectoryService {
  constructor(private readonly o: DirectoryServiceOptions) {}

  // ---- accounts -------------------------------------------------------------------------

  /** Creates an account with a fresh api key; the key is returned once and stored only as a digest. */
  createAccount(fields: AccountFields, opts: { superadmin?: boolean } = {}): { account: Account; apiKey: string } {
    const now = this.o.clock.now();
    const apiKey = newApiKey();
    const account = this.o.store.transaction(() => {
      const next: Account = {
        id: newDocumentId(),
        name: fields.name ?? '',
        realm: (fields.realm ?? '').toLowerCase(),
        superadmin: opts.superadmin ?? false,
        revision: 1,
        createdAt: now,
        updatedAt: now,
      };
      this.checkAccount(fields, next);
      this.o.store.insertAccount(next, secretDigest(apiKey));
      return next;
    });
    return { account, apiKey };
  }

  getAccount(id: string): Account {
    const account = this.o.store.getAccount(id);
    if (!account) throw new UnknownIdentifierError(id);
    return account;
  }

  findAccount(id: string): Account | undefined {
    return this.o.store.getAccount(id);
  }

  listAccounts(): Account[] {
    return this.o.store.listAccounts();
  }

  findAccountByRealm(realm: string): Account | undefined {
    return this.o.store.findAccountByRealm(realm.toLowerCase());
  }

  findAccountsByName(name: string): Account[] {
    return this.o.store.findAccountsByName(name);
  }

  /** POST: the document becomes exactly `fields`. */
  replaceAccount(id: string, fields: AccountFields): Account {
    return this.writeAccount(id, () => fields);
  }

  /** PATCH: `fields` are merged into the document. */
  patchAccount(id: string, fields: AccountFields): Account {
    return this.writeAccount(id, (current) => ({ name: current.name, realm: current.realm, ...defined(fields) }));
  }

  /** Deletes the account with its users, devices and tokens. */
  deleteAccount(id: string): Account {
    return this.o.store.transaction(() => {
      const account = this.getAccount(id);
      this.o.store.deleteAccount(id);
      return account;
    });
  }

  /** Issues a new api key; the old one, and the tokens obtained with it, stop working at once. */
  rotateApiKey(accountId: string): string {
    const apiKey = newApiKey();
    this.o.store.transaction(() => {
      this.getAccount(accountId);
      this.o.store.setApiKeyDigest(accountId, secretDigest(apiKey));
      this.o.tokens.deleteAccountTokens(accountId, 'api_key');
    });
    return apiKey;
  }

  private writeAccount(id: string, merge: (current: Account) => AccountFields): Account {
    return this.o.store.transaction(() => {
      const current = this.getAccount(id);
      const fields = merge(current);
      const next: Account = {
        ...current,
        name: fields.name ?? '',
        realm: (fields.realm ?? '').toLowerCase(),
        revision: current.revision + 1,
        updatedAt: this.o.clock.now(),
      };
      this.checkAccount(fields, next);
      this.o.store.updateAccount(next);
      return next;
    });
  }

  private checkAccount(fields: AccountFields, next: Account): void {
    const errors = new FieldErrorCollector();
    required(errors, 'name', fields.name);
    required(errors, 'realm', fields.realm);
    pattern(errors, 'realm', next.realm, REALM, REALM_PATTERN);
    if (!errors.has('realm')) {
      const holder = this.o.store.findAccountByRealm(next.realm);
      if (holder && holder.id !== next.id) errors.add('realm', 'unique', { message: 'Realm already in use', cause: next.realm });
    }
    errors.throwIfAny();
  }

  // ---- users ----------------------------------------------------------------------------

  listUsers(accountId: string): User[] {
    this.getAccount(accountId);
    return this.o.store.listUsers(accountId).map(publicUser);
  }

  getUser(accountId: string, id: string): User {
    return publicUser(this.storedUser(accountId, id));
  }

  async createUser(accountId: string, fields: UserFields): Promise<User> {
    const account = this.getAccount(accountId);
    const hash = await this.hashFor(account, fields);
    return this.o.store.transaction(() => {
      const now = this.o.clock.now();
      const user = this.checkedUser(account, undefined, fields, hash, { id: newDocumentId(), createdAt: now, updatedAt: now, revision: 1 });
      this.o.store.insertUser(user);
      return publicUser(user);
    });
  }

  /** POST: the document becomes `fields`; the login is kept unless the username changes. */
  replaceUser(accountId: string, id: string, fields: UserFields): Promise<User> {
    return this.writeUser(accountId, id, () => fields);
  }

  patchUser(accountId: string, id: string, fields: UserFields): Promise<User> {
    return this.writeUser(accountId, id, (current) => ({
      first_name: current.firstName,
      last_name: current.lastName,
      username: current.username,
      presence_id: current.presenceId,
      ...defined(fields),
    }));
  }

  deleteUser(accountId: string, id: string): User {
    return this.o.store.transaction(() => {
      const user = this.storedUser(accountId, id);
      this.o.store.deleteUser(accountId, id);
      return publicUser(user);
    });
  }

  private storedUser(accountId: string, id: string): StoredUser {
    this.getAccount(accountId);
    const user = this.o.store.getUser(accountId, id);
    if (!user) throw new UnknownIdentifierError(id);
    return user;
  }

  private async writeUser(accountId: string, id: string, merge: (current: StoredUser) => UserFields): Promise<User> {
    const account = this.getAccount(accountId);
    const fields = merge(this.storedUser(accountId, id));
    const hash = await this.hashFor(account, fields);
    return this.o.store.transaction(() => {
      // Re-read under the write lock: the document may have changed while scrypt ran.
      const current = this.storedUser(accountId, id);
      const user = this.checkedUser(account, current, fields, hash, {
        id,
        createdAt: current.createdAt,
        updatedAt: this.o.clock.now(),
        revision: current.revision + 1,
      });
      this.o.store.updateUser(user);
      return publicUser(user);
    });
  }

  /** The scrypt of the user's credentials when a password comes with a username; undefined otherwise. */
  private async hashFor(account: Account, fields: UserFields): Promise<string | undefined> {
    if (fields.password === undefined || fields.password === '' || !fields.username) return undefined;
    return credentialsHash(account.id, userCredentials(fields.username, fields.password));
  }

  private checkedUser(
    account: Account,
    current: StoredUser | undefined,
    fields: UserFields,
    hash: string | undefined,
    meta: Pick<StoredUser, 'id' | 'createdAt' | 'updatedAt' | 'revision'>,
  ): StoredUser {
    const errors = new FieldErrorCollector();
    required(errors, 'first_name', fields.first_name);
    required(errors, 'last_name', fields.last_name);
    const username = fields.username?.toLowerCase();
    if (username !== undefined) {
      required(errors, 'username', username);
      if (!errors.has('username')) {
        const holder = this.o.store.findUserByUsername(account.id, username);
        if (holder && holder.id !== meta.id) errors.add('username', 'unique', { message: 'Username already in use', cause: username });
      }
    }
    presenceIdRules(errors, fields.presence_id, account);
    if (fields.password !== undefined) {
      required(errors, 'password', fields.password);
      if (username === undefined) errors.add('username', 'required', { message: 'A password needs a username to log in with' });
    } else if (current?.credentialsHash && username !== undefined && username !== current.username) {
      // The stored hash covers the old username (Kazoo's md5 credentials mix it in).
      errors.add('password', 'required', { message: 'Changing the username needs the password again' });
    }
    errors.throwIfAny();

    const user: StoredUser = { ...meta, accountId: account.id, firstName: fields.first_name!, lastName: fields.last_name! };
    if (username !== undefined) user.username = username;
    if (fields.presence_id !== undefined) user.presenceId = fields.presence_id;
    const credentials = fields.password !== undefined ? hash : username !== undefined ? current?.credentialsHash : undefined;
    if (credentials !== undefined) user.credentialsHash = credentials;
    return user;
  }

  // ---- devices --------------------------------------------------------------------------

  listDevices(accountId: string): Device[] {
    this.getAccount(accountId);
    return this.o.store.listDevices(accountId);
  }

  getDevice(accountId: string, id: string): Device {
    this.getAccount(accountId);
    const device = this.o.store.getDevice(accountId, id);
    if (!device) throw new UnknownIdentifierError(id);
    return device;
  }

  devicesOwnedBy(accountId: string, userId: string): Device[] {
    return this.o.store.listDevicesOwnedBy(accountId, userId);
  }

  createDevice(accountId: string, fields: DeviceFields): Device {
    return this.o.store.transaction(() => {
      const account = this.getAccount(accountId);
      const now = this.o.clock.now();
      const device = this.checkedDevice(account, fields, { id: newDocumentId(), createdAt: now, updatedAt: now, revision: 1 });
      this.o.store.insertDevice(device);
      return device;
    });
  }

  replaceDevice(accountId: string, id: string, fields: DeviceFields): Device {
    return this.writeDevice(accountId, id, () => fields);
  }

  /** PATCH merges `sip` key by key too (Kazoo merges deeply). */
  patchDevice(accountId: string, id: string, fields: DeviceFields): Device {
    return this.writeDevice(accountId, id, (current) => ({
      name: current.name,
      owner_id: current.ownerId,
      presence_id: current.presenceId,
      ...defined(fields),
      sip: { ...current.sip, ...defined(fields.sip ?? {}) },
    }));
  }

  deleteDevice(accountId: string, id: string): Device {
    return this.o.store.transaction(() => {
      const device = this.getDevice(accountId, id);
      this.o.store.deleteDevice(accountId, id);
      return device;
    });
  }

  /** For SIP digest authentication: the device with this SIP username in this realm. */
  findDeviceBySipUsername(realm: string, username: string): DeviceWithAccount | undefined {
    return this.o.store.findDeviceBySipUsername(realm.toLowerCase(), username);
  }

  private writeDevice(accountId: string, id: string, merge: (current: Device) => DeviceFields): Device {
    return this.o.store.transaction(() => {
      const account = this.getAccount(accountId);
      const current = this.getDevice(accountId, id);
      const device = this.checkedDevice(account, merge(current), {
        id,
        createdAt: current.createdAt,
        updatedAt: this.o.clock.now(),
        revision: current.revision + 1,
      });
      this.o.store.updateDevice(device);
      return device;
    });
  }

  private checkedDevice(account: Account, fields: DeviceFields, meta: Pick<Device, 'id' | 'createdAt' | 'updatedAt' | 'revision'>): Device {
    const errors = new FieldErrorCollector();
    required(errors, 'name', fields.name);
    if (fields.owner_id !== undefined && !this.o.store.getUser(account.id, fields.owner_id)) {
      errors.add('owner_id', 'invalid', { message: 'Owner must be a user of this account', cause: fields.owner_id });
    }
    presenceIdRules(errors, fields.presence_id, account);
    const sip = fields.sip ?? {};
    const sipRealm = sip.realm?.toLowerCase();
    if (sip.username !== undefined) {
      required(errors, 'sip.username', sip.username);
      pattern(errors, 'sip.username', sip.username, SIP_USER, SIP_USER_PATTERN);
    }
    if (sip.password !== undefined) required(errors, 'sip.password', sip.password);
    if (sipRealm !== undefined) {
      required(errors, 'sip.realm', sipRealm);
      pattern(errors, 'sip.realm', sipRealm, REALM, REALM_PATTERN);
    }
    if (sip.username !== undefined && !errors.has('sip.username') && !errors.has('sip.realm')) {
      // Digest authentication finds a device by (realm, username): the pair must name one device.
      const holder = this.o.store.findDeviceBySipUsername(sipRealm ?? account.realm, sip.username);
      if (holder && holder.device.id !== meta.id) {
        errors.add('sip.username', 'unique', { message: 'SIP username already in use in this realm', cause: sip.username });
      }
    }
    errors.throwIfAny();

    const device: Device = { ...meta, accountId: account.id, name: fields.name!, sip: {} };
    if (fields.owner_id !== undefined) device.ownerId = fields.owner_id;
    if (fields.presence_id !== undefined) device.presenceId = fields.presence_id;
    if (sip.username !== undefined) device.sip.username = sip.username;
    if (sip.password !== undefined) device.sip.password = sip.password;
    if (sipRealm !== undefined) device.sip.realm = sipRealm;
    return device;
  }
}

/** A user without its credentials hash. */
function publicUser(user: StoredUser): User {
  const { credentialsHash: _hidden, ...rest } = user;
  return rest;
}
