import type { Migration } from '../migration.js';

/**
 * The directory the REST API serves: accounts, their users and devices, and REST auth tokens.
 * Secrets are stored as digests (api keys and tokens: SHA-256; user credentials: scrypt),
 * except a device's SIP password, which digest authentication needs in clear.
 */
export const migration002: Migration = {
  version: 2,
  name: 'directory',
  up(db) {
    db.exec(`
      CREATE TABLE accounts (
        id             TEXT    PRIMARY KEY NOT NULL CHECK (length(id) = 32),
        name           TEXT    NOT NULL,
        -- The SIP domain, stored lower-cased.
        realm          TEXT    NOT NULL UNIQUE CHECK (realm = lower(realm)),
        superadmin     INTEGER NOT NULL CHECK (superadmin IN (0, 1)),
        api_key_digest TEXT    NOT NULL UNIQUE,
        revision       INTEGER NOT NULL,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX accounts_name ON accounts (name COLLATE NOCASE);

      CREATE TABLE users (
        id               TEXT    PRIMARY KEY NOT NULL CHECK (length(id) = 32),
        account_id       TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        first_name       TEXT    NOT NULL,
        last_name        TEXT    NOT NULL,
        username         TEXT    CHECK (username = lower(username)),
        presence_id      TEXT,
        -- scrypt of Kazoo's md5(username:password) credentials, salted with the account id.
        credentials_hash TEXT,
        revision         INTEGER NOT NULL,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX users_username ON users (account_id, username) WHERE username IS NOT NULL;
      CREATE INDEX users_credentials ON users (account_id, credentials_hash) WHERE credentials_hash IS NOT NULL;

      CREATE TABLE devices (
        id           TEXT    PRIMARY KEY NOT NULL CHECK (length(id) = 32),
        account_id   TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        name         TEXT    NOT NULL,
        owner_id     TEXT    REFERENCES users (id) ON DELETE SET NULL,
        presence_id  TEXT,
        sip_username TEXT,
        sip_password TEXT,
        -- Overrides the account realm for digest authentication; lower-cased.
        sip_realm    TEXT    CHECK (sip_realm = lower(sip_realm)),
        revision     INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX devices_account ON devices (account_id);
      CREATE INDEX devices_owner ON devices (owner_id) WHERE owner_id IS NOT NULL;
      CREATE INDEX devices_sip_username ON devices (sip_username) WHERE sip_username IS NOT NULL;

      CREATE TABLE auth_tokens (
        -- SHA-256 of the token; the token itself is never stored.
        digest     TEXT    PRIMARY KEY NOT NULL,
        account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        owner_id   TEXT    REFERENCES users (id) ON DELETE CASCADE,
        method     TEXT    NOT NULL CHECK (method IN ('api_key', 'user')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX auth_tokens_expires_at ON auth_tokens (expires_at);
      CREATE INDEX auth_tokens_account ON auth_tokens (account_id, method);
    `);
  },
};
