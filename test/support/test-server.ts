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
  /** `127.0.0.1:<sipPort>` for SIPp. */
  target: string;
  stop(): Promise<void>;
}

/**
 * Starts the whole server in-process on free loopback ports with a fresh SQLite file.
 * Digest auth is off unless `env` turns it on.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
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
    ...env,
  });
  const server = await startPresenceServer(config, { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  return {
    server,
    sipPort,
    wsPort,
    httpPort,
    dir,
    dbPath,
    target: `127.0.0.1:${sipPort}`,
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
