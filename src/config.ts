import { ConfigError } from './config-error.js';
import type { SipTransport } from './transport-binding.js';

export interface SipListen {
  transport: SipTransport;
  host: string;
  port: number;
}

export interface Config {
  sipListen: SipListen[];
  httpListen: { host: string; port: number };
  dbPath: string;
  sipBackend: 'native' | 'drachtio';
  tls?: { certPath: string; keyPath: string };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Names this instance in the listing API's `stalker` and the envelope's `node`. */
  nodeId: string;
  /** Consecutive NOTIFY timeouts tolerated before a subscription is dropped. */
  notifyMaxTimeouts: number;
  /** REST-set `early` / `confirmed` lifetimes, seconds. */
  ringingTtl: number;
  busyTtl: number;
  /** REST token lifetime, seconds. */
  tokenTtl: number;
  /** On SIGTERM, end subscriptions with `deactivated` (moving for good) instead of keeping them. */
  deactivateOnStop: boolean;
  sipAuth: 'digest' | 'none';
  /** CIDRs (proxies, PBXes) whose requests skip the digest challenge. */
  sipTrusted: string[];
  /** Digest algorithms offered in challenges, preferred first (RFC 8760): MD5 and/or SHA-256. */
  sipAuthAlgorithms: Array<'MD5' | 'SHA-256'>;
  /** Shortest PUBLISH expiry accepted, seconds (RFC 3903 423 Interval Too Brief below it). */
  publishMinExpires: number;
  drachtio: { host: string; port: number; secret?: string };
  /** Native stack: UDP listeners send from a thread of their own; unset, on Linux only. */
  udpSendThread?: boolean;
  /**
   * Linux: the nice steps the database writer thread and the UDP send thread run below the
   * event loop, so that a busy machine gives its CPU to the event loop first (0: the same).
   */
  helperThreadNice: number;
}

/** Every environment variable the server reads, with its CLI flag (`--sip-listen` for PRESENCE_SIP_LISTEN). */
export const CONFIG_VARIABLES = [
  'PRESENCE_SIP_LISTEN',
  'PRESENCE_HTTP_LISTEN',
  'PRESENCE_DB',
  'PRESENCE_SIP_BACKEND',
  'PRESENCE_TLS_CERT',
  'PRESENCE_TLS_KEY',
  'LOG_LEVEL',
  'PRESENCE_NODE_ID',
  'PRESENCE_NOTIFY_MAX_TIMEOUTS',
  'PRESENCE_RINGING_TTL',
  'PRESENCE_BUSY_TTL',
  'PRESENCE_TOKEN_TTL',
  'PRESENCE_DEACTIVATE_ON_STOP',
  'PRESENCE_SIP_AUTH',
  'PRESENCE_SIP_TRUSTED',
  'PRESENCE_SIP_AUTH_ALGORITHMS',
  'PRESENCE_PUBLISH_MIN_EXPIRES',
  'PRESENCE_UDP_SEND_THREAD',
  'PRESENCE_HELPER_THREAD_NICE',
  'DRACHTIO_HOST',
  'DRACHTIO_PORT',
  'DRACHTIO_SECRET',
] as const;

const TRANSPORTS: readonly SipTransport[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `--sip-listen=x` or `--sip-listen x` become PRESENCE_SIP_LISTEN=x; `--log-level` becomes LOG_LEVEL. */
export function argvToEnv(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    const name = flag.toUpperCase().replace(/-/g, '_');
    const variable = CONFIG_VARIABLES.find((v) => v === name || v === `PRESENCE_${name}`);
    if (!variable) throw new ConfigError(`unknown option --${flag}`);
    if (value === undefined) throw new ConfigError(`option --${flag} needs a value`);
    out[variable] = value;
  }
  return out;
}

function port(value: string, variable: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 0 || n > 65535) throw new ConfigError(`${variable}: "${value}" is not a port number (0-65535)`);
  return n;
}

function splitHostPort(value: string, variable: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value.trim());
  if (!m) throw new ConfigError(`${variable}: "${value}" must be host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: port(m[2]!, variable) };
}

function positiveInt(env: Record<string, string | undefined>, variable: string, fallback: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ConfigError(`${variable}: "${raw}" must be a whole number of at least 1`);
  return Number(raw);
}

function intInRange(env: Record<string, string | undefined>, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new ConfigError(`${variable}: "${raw}" must be a whole number from ${min} to ${max}`);
  return Number(raw);
}

function bool(env: Record<string, string | undefined>, variable: string): boolean {
  const raw = (env[variable] ?? '').toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new ConfigError(`${variable}: "${env[variable]}" must be true or false`);
}

function isIpv4(address: string): boolean {
  const parts = address.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIpv6(address: string): boolean {
  // Hex groups with at most one "::"; a trailing dotted quad is allowed (::ffff:10.0.0.1).
  if (!/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(':')) return false;
  if ((address.match(/::/g) ?? []).length > 1) return false;
  const groups = address.split(':');
  const last = groups[groups.length - 1]!;
  if (last.includes('.') && !isIpv4(last)) return false;
  return groups.length <= 8 && groups.every((g) => g === '' || /^[0-9a-fA-F]{1,4}$/.test(g) || g === last);
}

/** An address or CIDR, checked here so that a typo stops the server at boot with its name. */
function cidr(value: string): string {
  const [address = '', prefix, extra] = value.split('/');
  const v4 = isIpv4(address);
  if (extra !== undefined || (!v4 && !isIpv6(address))) throw new ConfigError(`PRESENCE_SIP_TRUSTED: "${value}" is not an IP address or CIDR`);
  if (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (v4 ? 32 : 128))) {
    throw new ConfigError(`PRESENCE_SIP_TRUSTED: "${value}" has a prefix length out of range`);
  }
  return value;
}

/** Reads and validates the configuration once at boot; throws ConfigError naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const sipListen = (env.PRESENCE_SIP_LISTEN || 'udp:127.0.0.1:5060,tcp:127.0.0.1:5060,ws:127.0.0.1:5066')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((spec): SipListen => {
      const m = /^([a-z]+):(\[[^\]]+\]|[^:]+):(\d+)$/i.exec(spec);
      if (!m) throw new ConfigError(`PRESENCE_SIP_LISTEN: "${spec}" must be transport:host:port, e.g. udp:127.0.0.1:5060`);
      const transport = m[1]!.toLowerCase() as SipTransport;
      if (!TRANSPORTS.includes(transport)) throw new ConfigError(`PRESENCE_SIP_LISTEN: unknown transport "${m[1]}" (use ${TRANSPORTS.join(', ')})`);
      return { transport, host: m[2]!.replace(/^\[|\]$/g, ''), port: port(m[3]!, 'PRESENCE_SIP_LISTEN') };
    });
  if (sipListen.length === 0) throw new ConfigError('PRESENCE_SIP_LISTEN: at least one listener is needed');

  const certPath = env.PRESENCE_TLS_CERT;
  const keyPath = env.PRESENCE_TLS_KEY;
  if (!!certPath !== !!keyPath) throw new ConfigError('PRESENCE_TLS_CERT and PRESENCE_TLS_KEY go together: set both or neither');
  const secure = sipListen.filter((l) => l.transport === 'tls' || l.transport === 'wss');
  if (secure.length > 0 && !certPath) {
    throw new ConfigError(`PRESENCE_SIP_LISTEN: ${secure[0]!.transport} needs PRESENCE_TLS_CERT and PRESENCE_TLS_KEY`);
  }

  const backend = env.PRESENCE_SIP_BACKEND || 'native';
  if (backend !== 'native' && backend !== 'drachtio') throw new ConfigError(`PRESENCE_SIP_BACKEND: "${backend}" must be native or drachtio`);

  const logLevel = (env.LOG_LEVEL || 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError(`LOG_LEVEL: "${env.LOG_LEVEL}" must be one of ${LOG_LEVELS.join(', ')}`);

  const sipAuth = env.PRESENCE_SIP_AUTH || 'digest';
  if (sipAuth !== 'digest' && sipAuth !== 'none') throw new ConfigError(`PRESENCE_SIP_AUTH: "${sipAuth}" must be digest or none`);

  const sipAuthAlgorithms = (env.PRESENCE_SIP_AUTH_ALGORITHMS || 'MD5').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const a of sipAuthAlgorithms) {
    if (a !== 'MD5' && a !== 'SHA-256') throw new ConfigError(`PRESENCE_SIP_AUTH_ALGORITHMS: "${a}" must be MD5 or SHA-256`);
  }

  const config: Config = {
    sipListen,
    httpListen: splitHostPort(env.PRESENCE_HTTP_LISTEN || '127.0.0.1:8000', 'PRESENCE_HTTP_LISTEN'),
    dbPath: env.PRESENCE_DB || './data/presence.db',
    sipBackend: backend,
    logLevel: logLevel as Config['logLevel'],
    nodeId: env.PRESENCE_NODE_ID || 'presence-1',
    notifyMaxTimeouts: positiveInt(env, 'PRESENCE_NOTIFY_MAX_TIMEOUTS', 3),
    ringingTtl: positiveInt(env, 'PRESENCE_RINGING_TTL', 300),
    busyTtl: positiveInt(env, 'PRESENCE_BUSY_TTL', 14_400),
    tokenTtl: positiveInt(env, 'PRESENCE_TOKEN_TTL', 3600),
    deactivateOnStop: bool(env, 'PRESENCE_DEACTIVATE_ON_STOP'),
    sipAuth,
    sipAuthAlgorithms: sipAuthAlgorithms as Config['sipAuthAlgorithms'],
    publishMinExpires: positiveInt(env, 'PRESENCE_PUBLISH_MIN_EXPIRES', 60),
    helperThreadNice: intInRange(env, 'PRESENCE_HELPER_THREAD_NICE', 10, 0, 19),
    sipTrusted: (env.PRESENCE_SIP_TRUSTED ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(cidr),
    drachtio: {
      host: env.DRACHTIO_HOST || '127.0.0.1',
      port: env.DRACHTIO_PORT ? port(env.DRACHTIO_PORT, 'DRACHTIO_PORT') : 9022,
    },
  };
  if (env.DRACHTIO_SECRET) config.drachtio.secret = env.DRACHTIO_SECRET;
  if (env.PRESENCE_UDP_SEND_THREAD) config.udpSendThread = bool(env, 'PRESENCE_UDP_SEND_THREAD');
  if (certPath && keyPath) config.tls = { certPath, keyPath };
  return config;
}
