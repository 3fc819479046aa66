import type { HostPort, SipTransport } from '../../src/transport-binding.js';

export type SipEndpoint = { transport: SipTransport } & HostPort;

const TRANSPORTS: readonly SipTransport[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

export function asTransport(value: string): SipTransport | undefined {
  const t = value.toLowerCase();
  return (TRANSPORTS as readonly string[]).includes(t) ? (t as SipTransport) : undefined;
}

/** `127.0.0.1:5060` or `[::1]:5060` (the form drachtio uses for receivedOn and hostports). */
export function parseHostPort(value: string): HostPort | undefined {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(value.trim());
  if (!m) return undefined;
  return { address: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/**
 * The SIP endpoints a drachtio server announces when an application connects, e.g.
 * `tcp/127.0.0.1:5060,udp/127.0.0.1:5060,ws/127.0.0.1:5066`. Unknown entries are skipped.
 */
export function parseDrachtioEndpoints(hostports: string): SipEndpoint[] {
  const out: SipEndpoint[] = [];
  for (const entry of hostports.split(',')) {
    const slash = entry.indexOf('/');
    if (slash < 0) continue;
    const transport = asTransport(entry.slice(0, slash).trim());
    const hp = parseHostPort(entry.slice(slash + 1));
    if (transport && hp) out.push({ transport, ...hp });
  }
  return out;
}

export function formatHostPort(hp: HostPort): string {
  return `${hp.address.includes(':') ? `[${hp.address}]` : hp.address}:${hp.port}`;
}
