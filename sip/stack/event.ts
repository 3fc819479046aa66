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
  const pkg = eventPackage(s, semi);
  const params = semi < 0 ? new Map<string, string | null>() : parseParams(s.slice(semi + 1), 'Event');
  const event: EventHeader = { package: pkg, params };
  const id = params.get('id');
  if (typeof id === 'string') event.id = id;
  return event;
}

/**
 * The package and `id` of an Event value, with the checks and errors of parseEvent() but no
 * params map when there are no params: a subscription is known by these two within its
 * dialog (RFC 6665 4.1.2), and a SUBSCRIBE keeps nothing else of its Event.
 */
export function parseEventPackageId(value: string): { package: string; id?: string } {
  const s = value.trim();
  const semi = s.indexOf(';');
  const pkg = eventPackage(s, semi);
  if (semi < 0) return { package: pkg };
  const id = parseParams(s.slice(semi + 1), 'Event').get('id');
  return typeof id === 'string' ? { package: pkg, id } : { package: pkg };
}

function eventPackage(s: string, semi: number): string {
  const pkg = (semi < 0 ? s : s.slice(0, semi)).trim();
  if (!isToken(pkg)) throw new SipParseError('Malformed Event header');
  return pkg;
}
