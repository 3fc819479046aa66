import type { SipTransport } from '../src/transport-binding.js';

/** One `subscriptions` row; keys are the column names. */
export interface SubscriptionRow {
  id: string;
  call_id: string;
  local_tag: string;
  remote_tag: string;
  local_uri: string;
  remote_uri: string;
  remote_target: string;
  route_set: string;
  local_cseq: number;
  remote_cseq: number;
  transport: SipTransport;
  source_address: string;
  source_port: number;
  local_address: string | null;
  local_port: number | null;
  connection_id: string | null;
  send_to_source: 0 | 1;
  event: string;
  event_id: string | null;
  presentity: string;
  realm: string;
  watcher: string;
  expires: number;
  expires_at: number;
  version: number;
  user_agent: string | null;
  created_at: number;
  last_subscribe_at: number;
  notify_count: number;
  last_reply: number;
  last_body: string | null;
  failures: number;
}

/** `id` first: a row's values start with its subscription key. */
export const SUBSCRIPTION_COLUMNS: readonly (keyof SubscriptionRow)[] = [
  'id', 'call_id', 'local_tag', 'remote_tag', 'local_uri', 'remote_uri', 'remote_target', 'route_set',
  'local_cseq', 'remote_cseq', 'transport', 'source_address', 'source_port', 'local_address', 'local_port',
  'connection_id', 'send_to_source', 'event', 'event_id', 'presentity', 'realm', 'watcher', 'expires',
  'expires_at', 'version', 'user_agent', 'created_at', 'last_subscribe_at', 'notify_count', 'last_reply',
  'last_body', 'failures',
];

/**
 * A row's values in SUBSCRIPTION_COLUMNS order. Positional because binding 32 values by name
 * costs a lookup each on every SUBSCRIBE, and an array is also cheaper than an object to copy
 * to the writer thread.
 */
export type SubscriptionValues = ReadonlyArray<string | number | null>;

/** What must be durable before a NOTIFY leaves: its CSeq and version (and the count). */
export type ProgressValues = readonly [id: string, localCseq: number, version: number, notifyCount: number];

/** The watcher's last answer, for the listing API. */
export type AnswerValues = readonly [id: string, lastReply: number, lastBody: string | null, failures: number];
