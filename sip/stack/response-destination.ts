import type { Destination, MessageSource } from './transport-types.js';
import type { Via } from './via.js';

function defaultPort(transport: string): number {
  // RFC 3261 19.1.2 / RFC 7118: 5061 for TLS; 5060 otherwise.
  return transport === 'tls' ? 5061 : 5060;
}

/**
 * Where a response to a request goes (RFC 3261 18.2.2 with RFC 3581 4):
 * over a stream, back on the connection it came in on, falling back to the received
 * address and sent-by port when that connection has closed; over UDP, to received/rport
 * when set, else to the sent-by host and port.
 */
export function responseDestination(topVia: Via, source: MessageSource): Destination {
  if (source.transport === 'ws' || source.transport === 'wss') {
    return { transport: source.transport, address: source.address, port: source.port, connectionId: source.connectionId };
  }
  if (source.transport === 'tcp' || source.transport === 'tls') {
    return {
      transport: source.transport,
      address: topVia.received ?? source.address,
      port: topVia.port ?? defaultPort(source.transport),
      connectionId: source.connectionId,
    };
  }
  if (topVia.received !== undefined) {
    const port = typeof topVia.rport === 'number' ? topVia.rport : (topVia.port ?? 5060);
    return { transport: 'udp', address: topVia.received, port };
  }
  return { transport: 'udp', address: topVia.host, port: topVia.port ?? 5060 };
}
