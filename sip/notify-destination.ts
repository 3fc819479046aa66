import type { SubscriptionDialog } from '../src/subscription.js';
import type { SipTransport } from '../src/transport-binding.js';
import { parseNameAddr } from './stack/name-addr.js';
import { parseUri } from './stack/uri.js';

export interface NotifyDestination {
  transport: SipTransport;
  address: string;
  port: number;
  /** Stream transports: the SUBSCRIBE's connection, used while it is open. */
  connectionId?: string;
}

function defaultPort(transport: SipTransport): number {
  return transport === 'tls' ? 5061 : transport === 'wss' ? 443 : transport === 'ws' ? 80 : 5060;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/**
 * Where an in-dialog NOTIFY goes (sip-behaviour.md; RFC 3261 12.2.1.1, 18.1.1; RFC 3581):
 * - stream transports: the connection the SUBSCRIBE came on while it is open; once closed,
 *   a new connection to the first route or the Contact, where the phone listens (a browser's
 *   `*.invalid` Contact then fails, and the subscription is dropped);
 * - UDP behind NAT: back to the SUBSCRIBE's source address and port;
 * - otherwise the first route (a loose-routing proxy) or the Contact.
 */
export function notifyDestination(dialog: SubscriptionDialog): NotifyDestination {
  const b = dialog.binding;
  if (b.transport === 'udp' && b.sendToSource) {
    return { transport: b.transport, address: b.source.address, port: b.source.port };
  }
  const first = dialog.routeSet[0];
  const target = first !== undefined ? parseNameAddr(first, 'Route').uri : dialog.remoteTarget;
  const uri = parseUri(target, 'remote target');
  const dest: NotifyDestination = {
    transport: b.transport,
    address: stripBrackets(uri.params.get('maddr') ?? uri.host),
    port: uri.port ?? defaultPort(b.transport),
  };
  if (b.connectionId !== undefined) dest.connectionId = b.connectionId;
  return dest;
}
