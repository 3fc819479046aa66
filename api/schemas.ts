import { Type, type Static } from '@sinclair/typebox';

/**
 * Request and response schemas of the v2 API. Request bodies are Kazoo's `{"data": {...}}`;
 * document fields are optional here (their types and lengths are checked here, the rules that
 * need the whole document or the store - required, unique, owner - in the directory).
 * Unknown fields are ignored.
 */

const Text = (maxLength = 256) => Type.String({ maxLength });

export const AccountParams = Type.Object({ accountId: Type.String() });
export const UserParams = Type.Object({ accountId: Type.String(), userId: Type.String() });
export const DeviceParams = Type.Object({ accountId: Type.String(), deviceId: Type.String() });
export const ExtensionParams = Type.Object({ accountId: Type.String(), extension: Type.String({ minLength: 1, maxLength: 256 }) });

/** Wraps a request document in Kazoo's `{"data": ...}`. */
export function Body<T extends ReturnType<typeof Type.Object>>(data: T) {
  return Type.Object({ data });
}

// ---- documents --------------------------------------------------------------------------

export const AccountFields = Type.Object({ name: Type.Optional(Text(128)), realm: Type.Optional(Text(253)) });

export const AccountDoc = Type.Object({ id: Type.String(), name: Type.String(), realm: Type.String() });
export type AccountDoc = Static<typeof AccountDoc>;

/** Only the creating answer carries the api key: it is stored as a digest and cannot be shown again. */
export const CreatedAccountDoc = Type.Object({ ...AccountDoc.properties, api_key: Type.String() });

export const UserFields = Type.Object({
  first_name: Type.Optional(Text(128)),
  last_name: Type.Optional(Text(128)),
  username: Type.Optional(Text(128)),
  presence_id: Type.Optional(Text(256)),
  /** Write-only: stored as the scrypt of Kazoo's md5 credentials, never returned. */
  password: Type.Optional(Text(256)),
});

export const UserDoc = Type.Object({
  id: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  username: Type.Optional(Type.String()),
  presence_id: Type.Optional(Type.String()),
});
export type UserDoc = Static<typeof UserDoc>;

const SipFields = Type.Object({
  username: Type.Optional(Text(128)),
  password: Type.Optional(Text(128)),
  realm: Type.Optional(Text(253)),
});

export const DeviceFields = Type.Object({
  name: Type.Optional(Text(128)),
  owner_id: Type.Optional(Text(64)),
  presence_id: Type.Optional(Text(256)),
  sip: Type.Optional(SipFields),
});

export const DeviceDoc = Type.Object({
  id: Type.String(),
  name: Type.String(),
  owner_id: Type.Optional(Type.String()),
  presence_id: Type.Optional(Type.String()),
  sip: Type.Object({
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    realm: Type.Optional(Type.String()),
  }),
});
export type DeviceDoc = Static<typeof DeviceDoc>;

// ---- auth -------------------------------------------------------------------------------

export const ApiAuthBody = Body(Type.Object({ api_key: Type.String({ maxLength: 256 }) }));

export const UserAuthBody = Body(
  Type.Object({
    /** md5hex(lower(username) + ':' + password) */
    credentials: Type.String({ maxLength: 256 }),
    account_name: Type.Optional(Text(128)),
    account_realm: Type.Optional(Text(253)),
  }),
);

export const AuthData = Type.Object({
  account_id: Type.String(),
  account_name: Type.String(),
  owner_id: Type.Optional(Type.String()),
  /** When the token stops working (ISO 8601). */
  expires_at: Type.String(),
});

export const ApiKeyData = Type.Object({ api_key: Type.String() });

// ---- presence ---------------------------------------------------------------------------

export const PRESENCE_EVENTS = ['dialog', 'presence', 'message-summary'] as const;

export const PresenceQuery = Type.Object({
  event: Type.Optional(Type.Unsafe<(typeof PRESENCE_EVENTS)[number]>({ type: 'string', enum: [...PRESENCE_EVENTS] })),
});

export const SubscriptionEntry = Type.Object({
  /** Granted expiry, seconds. */
  expires: Type.Integer(),
  /** The watcher, user@realm. */
  from: Type.String(),
  notify: Type.Object({
    /** The last NOTIFY body; absent before the first. */
    body: Type.Optional(Type.String()),
    /** The watcher's answer to the last NOTIFY (0 before any). */
    reply: Type.Integer(),
    /** NOTIFYs sent. */
    sequence: Type.Integer(),
  }),
  stalker: Type.String(),
  /** Gregorian seconds of the last SUBSCRIBE. */
  timestamp: Type.Integer(),
  /** 2 when the SUBSCRIBE carried an Event id, else 1. */
  version: Type.Integer(),
});
export type SubscriptionEntry = Static<typeof SubscriptionEntry>;

/** `subscriptions.{presence id}.{event}.{Call-ID}` */
export const SubscriptionListing = Type.Object({
  subscriptions: Type.Record(Type.String(), Type.Record(Type.String(), Type.Record(Type.String(), SubscriptionEntry))),
});
export type SubscriptionListing = Static<typeof SubscriptionListing>;

/**
 * A presence command. `action` and `state` are checked by the route (Kazoo's
 * `data.action.invalid` / `data.state.invalid`); `reset: true` is the old form of reset.
 * `mwi` sets a mailbox's counts for message-summary watchers (RFC 3842).
 */
const Count = Type.Integer({ minimum: 0, maximum: 1_000_000 });
export const PresenceCommandBody = Body(
  Type.Object({
    action: Type.Optional(Type.String({ maxLength: 32 })),
    state: Type.Optional(Type.String({ maxLength: 32 })),
    reset: Type.Optional(Type.Boolean()),
    messages_new: Type.Optional(Count),
    messages_saved: Type.Optional(Count),
    messages_urgent: Type.Optional(Count),
    messages_urgent_saved: Type.Optional(Count),
  }),
);
export type PresenceCommandBody = Static<typeof PresenceCommandBody>;

export const CommandResult = Type.String();
