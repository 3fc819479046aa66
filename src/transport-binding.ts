/** SIP transports the server speaks. */
export type SipTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export interface HostPort {
  address: string;
  port: number;
}

/**
 * How to reach a watcher again: recorded from the SUBSCRIBE so that a NOTIFY, even after a
 * restart, goes where the phone can hear it (sip-behaviour.md: the same connection for
 * TCP/TLS/WS; the source address for UDP phones behind NAT, RFC 3581).
 */
export interface TransportBinding {
  transport: SipTransport;
  /** Source address and port of the SUBSCRIBE. */
  source: HostPort;
  /** The local listening address the SUBSCRIBE arrived on. */
  local?: HostPort;
  /** Stream transports: the connection the SUBSCRIBE came on (adapter-specific id). */
  connectionId?: string;
  /** Send to `source` instead of resolving the Contact (NAT, rport, or a stream connection). */
  sendToSource: boolean;
}
