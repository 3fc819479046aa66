import { isToken, parseParams } from './grammar.js';
import { SipParseError } from './sip-parse-error.js';

/** An Event / Allow-Events value (RFC 6665 8.2.1), e.g. `dialog;id=5`. */
export interface EventHeader {
  /** The event type as written, templates included ("presence.winfo"). */
  package: string;
  /** The `id` parameter, which distinguishes subscriptions in one dialog (RFC 6665 8.2.1). */
  id?: string;
  params: Map<string, string | null>;
}

export function parseEvent(value: string): EventHeader {
  const s = value.trim();
  const semi = s.indexOf(';');
  const pkg = (semi < 0 ? s : s.slice(0, semi)).trim();
  if (!isToken(pkg)) throw new SipParseError('Malformed Event header');
  const params = semi < 0 ? new Map<string, string | null>() : parseParams(s.slice(semi + 1), 'Event');
  const event: EventHeader = { package: pkg, params };
  const id = params.get('id');
  if (typeof id === 'string') event.id = id;
  return event;
}
