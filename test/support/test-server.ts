import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import pino from 'pino';
import { startPresenceServer, type RunningServer } from '../../src/main.js';
import { freePort } from './free-port.js';

export interface TestServer {
  server: RunningServer;
  /** UDP and TCP share this port. */
  sipPort: number;
  wsPort: number;
  httpPort: number;
  dir: string;
  dbPath: string;
  /** Where SIPp sends to: `127.0.0.1:<sipPort>`, or the drachtio server's SIP address. */
  target: string;
  stop(): Promise<void>;
}

/** A SIP front the end-to-end suites run against. */
export interface SipBackend {
  backend: 'native' | 'drachtio';
  label: string;
  /** False when the backend cannot run here: its tests are reported as skipped. */
  available: boolean;
}

/**
 * The embedded stack always; a drachtio server when the environment names one:
 * DRACHTIO_HOST (and DRACHTIO_PORT, DRACHTIO_SECRET) for its admin port, DRACHTIO_SIP
 * (`host:port`, default `<DRACHTIO_HOST>:5060`) for where SIPp sends to (UDP and TCP).
 */
export const SIP_BACKENDS: readonly SipBackend[] = [
  { backend: 'native', label: 'embedded SIP stack', available: true },
  { backend: 'drachtio', label: 'drachtio server', available: !!process.env.DRACHTIO_HOST },
];

function drachtioEnv(): Record<string, string> {
  const host = process.env.DRACHTIO_HOST;
  if (!host) throw new Error('the drachtio backend needs DRACHTIO_HOST (and DRACHTIO_SIP) in the test environment');
  const env: Record<string, string> = { PRESENCE_SIP_BACKEND: 'drachtio', DRACHTIO_HOST: host };
  if (process.env.DRACHTIO_PORT) env.DRACHTIO_PORT = process.env.DRACHTIO_PORT;
  if (process.env.DRACHTIO_SECRET) env.DRACHTIO_SECRET = process.env.DRACHTIO_SECRET;
  return env;
}

/**
 * Starts the whole server in-process on free loopback ports with a fresh SQLite file.
 * Digest auth is off unless `env` turns it on. With `backend: 'drachtio'` the server connects
 * to the drachtio server named by the environment, and `target` is that server's SIP address.
 * `logger`: where the server logs (default: silent, or TEST_LOG_LEVEL).
 */
export async function startTestServer(env: Record<string, string> = {}, backend: SipBackend['backend'] = 'native', logger?: pino.Logger): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'presence-test-'));
  const sipPort = await freePort();
  const wsPort = await freePort();
  const httpPort = await freePort();
  const dbPath = join(dir, 'presence.db');
  const config = loadConfig({
    PRESENCE_SIP_LISTEN: `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort},ws:127.0.0.1:${wsPort}`,
    PRESENCE_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    PRESENCE_DB: dbPath,
    PRESENCE_SIP_AUTH: 'none',
    LOG_LEVEL: 'silent',
    ...(backend === 'drachtio' ? drachtioEnv() : {}),
    ...env,
  });
  const server = await startPresenceServer(config, { logger: logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  return {
    server,
    sipPort,
    wsPort,
    httpPort,
    dir,
    dbPath,
    target: backend === 'drachtio' ? (process.env.DRACHTIO_SIP ?? `${process.env.DRACHTIO_HOST}:5060`) : `127.0.0.1:${sipPort}`,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` holds, or fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
