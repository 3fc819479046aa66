/** The transports of RFC 3261 18 plus WebSocket (RFC 7118), lowercase as used in config. */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Host/port to put in Via sent-by and Contact when the bound address is not reachable (NAT, 0.0.0.0). */
export interface AdvertisedAddress {
  host: string;
  port?: number;
}

export type ListenSpec =
  | { transport: 'udp' | 'tcp' | 'ws'; host: string; port: number; advertise?: AdvertisedAddress }
  | {
      transport: 'tls' | 'wss';
      host: string;
      port: number;
      /** PEM certificate chain and private key. */
      cert: string | Buffer;
      key: string | Buffer;
      /** Outbound TLS only: verify the peer's certificate (default true). */
      rejectUnauthorized?: boolean;
      advertise?: AdvertisedAddress;
    };

export interface LocalAddress {
  address: string;
  port: number;
}

/** Where a message came from. Stream transports set connectionId, stable for the connection's life. */
export interface MessageSource {
  transport: TransportProtocol;
  address: string;
  port: number;
  local: LocalAddress;
  connectionId?: string;
}

/** Where to send. For streams, connectionId wins while that connection is open. */
export interface Destination {
  transport: TransportProtocol;
  address: string;
  port: number;
  connectionId?: string;
}

/** Sends never throw or reject; failures come back as a reason. */
export type SendResult = { ok: true } | { ok: false; reason: string };

/** The subset of a pino logger the stack uses, so pino (or nothing) can be passed in. */
export interface StackLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const SILENT_LOGGER: StackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

export function isReliable(transport: TransportProtocol): boolean {
  return transport !== 'udp';
}
