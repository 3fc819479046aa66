/**
 * The directory documents presence needs, shaped like Kazoo's (only the fields this server
 * uses). Ids are 32 lower-case hex characters, like Kazoo's. `revision` counts writes.
 */

export interface Account {
  id: string;
  name: string;
  /** The SIP domain of the account, lower-cased and unique. */
  realm: string;
  /** A super-admin account's tokens may touch every account. */
  superadmin: boolean;
  revision: number;
  createdAt: number;
  updatedAt: number;
}

export interface User {
  id: string;
  accountId: string;
  firstName: string;
  lastName: string;
  /** Lower-cased; unique in the account; with a password, it logs in via user_auth. */
  username?: string;
  presenceId?: string;
  revision: number;
  createdAt: number;
  updatedAt: number;
}

/** A user as stored: with the hash of its user_auth credentials (never leaves the directory). */
export interface StoredUser extends User {
  credentialsHash?: string;
}

export interface DeviceSip {
  username?: string;
  /** Kept in clear: SIP digest authentication (RFC 3261 22.4) needs it to compute HA1. */
  password?: string;
  /** Overrides the account realm for digest authentication; lower-cased. */
  realm?: string;
}

export interface Device {
  id: string;
  accountId: string;
  name: string;
  ownerId?: string;
  presenceId?: string;
  sip: DeviceSip;
  revision: number;
  createdAt: number;
  updatedAt: number;
}

/** What SIP digest authentication needs: a device and the account it belongs to. */
export interface DeviceWithAccount {
  device: Device;
  account: Account;
  /** The realm the device authenticates in: `sip.realm`, else the account's realm. */
  realm: string;
}

/** Writable account fields, as a client sends them. */
export interface AccountFields {
  name?: string;
  realm?: string;
}

export interface UserFields {
  first_name?: string;
  last_name?: string;
  username?: string;
  presence_id?: string;
  password?: string;
}

export interface DeviceFields {
  name?: string;
  owner_id?: string;
  presence_id?: string;
  sip?: DeviceSip;
}
