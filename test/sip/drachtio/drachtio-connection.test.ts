import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/ports/logger.js';
import { DrachtioConnection } from '../../../sip/drachtio/drachtio-connection.js';
import { freePort } from '../../support/free-port.js';
import { waitFor } from '../../support/test-server.js';
import { FakeDrachtioServer } from './fake-drachtio-server.js';

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  obj: object;
}

function recordingLogger(lines: Line[]): Logger {
  const log = (level: Line['level']) => (obj: object, msg = '') => void lines.push({ level, msg, obj });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

const FAST = { initialMs: 20, maxMs: 80 };

describe('the connection to the drachtio server', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('keeps retrying an unreachable server with backoff, warns once, and connects when it comes up', async () => {
    const port = await freePort();
    const lines: Line[] = [];
    const conn = new DrachtioConnection({ host: '127.0.0.1', port, secret: 's3cret', logger: recordingLogger(lines), backoff: FAST, warnEveryMs: 60_000 });
    cleanup.push(() => conn.stop());
    expect(await conn.start(50)).toBe(false);
    await waitFor(() => lines.filter((l) => l.msg.includes('unreachable')).length >= 4, 3000, 'several attempts');
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.obj).toMatchObject({ host: '127.0.0.1', port, attempts: 1, retryInMs: 20 });
    const delays = lines.filter((l) => l.msg.includes('unreachable')).map((l) => (l.obj as { retryInMs: number }).retryInMs);
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 80]);

    const server = new FakeDrachtioServer('s3cret', 'udp/127.0.0.1:5070,tcp/127.0.0.1:5070');
    await server.listen(port);
    cleanup.push(() => server.close());
    await waitFor(() => conn.isConnected, 3000, 'connected');
    expect(conn.endpoints()).toEqual([
      { transport: 'udp', address: '127.0.0.1', port: 5070 },
      { transport: 'tcp', address: '127.0.0.1', port: 5070 },
    ]);
    expect(lines.at(-1)).toMatchObject({ level: 'info', msg: 'connected to drachtio server' });
  });

  it('notices a lost connection, says so, and connects again', async () => {
    const server = new FakeDrachtioServer('s3cret');
    const port = await server.listen();
    cleanup.push(() => server.close());
    const lines: Line[] = [];
    const conn = new DrachtioConnection({ host: '127.0.0.1', port, secret: 's3cret', logger: recordingLogger(lines), backoff: FAST });
    cleanup.push(() => conn.stop());
    let downs = 0;
    let ups = 0;
    conn.onDisconnected(() => downs++);
    conn.onConnected(() => ups++);
    expect(await conn.start(2000)).toBe(true);
    server.dropConnection();
    await waitFor(() => downs === 1, 2000, 'disconnect noticed');
    expect(lines.some((l) => l.level === 'warn' && l.msg.includes('lost the connection'))).toBe(true);
    await waitFor(() => ups === 2 && conn.isConnected, 3000, 'reconnected');
  });

  it('reports a wrong secret as such', async () => {
    const server = new FakeDrachtioServer('right');
    const port = await server.listen();
    cleanup.push(() => server.close());
    const lines: Line[] = [];
    const conn = new DrachtioConnection({ host: '127.0.0.1', port, secret: 'wrong', logger: recordingLogger(lines), backoff: FAST });
    cleanup.push(() => conn.stop());
    expect(await conn.start(300)).toBe(false);
    expect(lines.find((l) => l.level === 'error')?.msg).toMatch(/DRACHTIO_SECRET/);
  });

  it('stops retrying once stopped', async () => {
    const port = await freePort();
    const lines: Line[] = [];
    const conn = new DrachtioConnection({ host: '127.0.0.1', port, logger: recordingLogger(lines), backoff: FAST });
    await conn.start(30);
    conn.stop();
    const attempts = lines.length;
    await new Promise((r) => setTimeout(r, 250));
    expect(lines.length).toBe(attempts);
  });
});
