import type { Migration } from '../migration.js';

/**
 * Subscriptions and presentity state. A subscription row holds everything needed to send an
 * in-dialog NOTIFY after a restart (RFC 6665 4.1.2, RFC 3261 12): dialog id, both CSeqs,
 * route set, remote target and the transport binding it arrived on.
 */
export const migration001: Migration = {
  version: 1,
  name: 'subscriptions-and-state',
  up(db) {
    db.exec(`
      CREATE TABLE subscriptions (
        id                TEXT    PRIMARY KEY NOT NULL,
        call_id           TEXT    NOT NULL,
        local_tag         TEXT    NOT NULL,
        remote_tag        TEXT    NOT NULL,
        local_uri         TEXT    NOT NULL,
        remote_uri        TEXT    NOT NULL,
        remote_target     TEXT    NOT NULL,
        -- JSON array of Record-Route values in the order received (RFC 3261 12.1.1).
        route_set         TEXT    NOT NULL CHECK (json_type(route_set) = 'array'),
        local_cseq        INTEGER NOT NULL,
        remote_cseq       INTEGER NOT NULL,
        transport         TEXT    NOT NULL CHECK (transport IN ('udp', 'tcp', 'tls', 'ws', 'wss')),
        source_address    TEXT    NOT NULL,
        source_port       INTEGER NOT NULL,
        local_address     TEXT,
        local_port        INTEGER,
        connection_id     TEXT,
        send_to_source    INTEGER NOT NULL CHECK (send_to_source IN (0, 1)),
        event             TEXT    NOT NULL,
        event_id          TEXT,
        presentity        TEXT    NOT NULL,
        -- The presentity's part after the last '@', so the REST API can list one account's realm.
        realm             TEXT    NOT NULL,
        watcher           TEXT    NOT NULL,
        expires           INTEGER NOT NULL,
        expires_at        INTEGER NOT NULL,
        version           INTEGER NOT NULL,
        user_agent        TEXT,
        created_at        INTEGER NOT NULL,
        last_subscribe_at INTEGER NOT NULL,
        notify_count      INTEGER NOT NULL,
        last_reply        INTEGER NOT NULL,
        last_body         TEXT,
        failures          INTEGER NOT NULL,
        CHECK ((local_address IS NULL) = (local_port IS NULL))
      ) STRICT;
      CREATE INDEX subscriptions_presentity ON subscriptions (presentity);
      CREATE INDEX subscriptions_expires_at ON subscriptions (expires_at);
      CREATE INDEX subscriptions_realm ON subscriptions (realm, presentity);

      CREATE TABLE presentity_state (
        presentity TEXT    NOT NULL,
        -- 'api', 'publish:<etag>' (RFC 3903) or 'mwi'.
        source_id  TEXT    NOT NULL,
        kind       TEXT    NOT NULL CHECK (kind IN ('dialog', 'mwi', 'pidf')),
        -- JSON object {dialogs?, mwi?, pidf?}.
        data       TEXT    NOT NULL CHECK (json_type(data) = 'object'),
        expires_at INTEGER,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (presentity, source_id)
      ) STRICT;
      CREATE INDEX presentity_state_expires_at ON presentity_state (expires_at);
    `);
  },
};
