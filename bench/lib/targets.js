// @ts-check
/**
 * The servers under test, started on loopback and stopped by PID: ours from the build
 * (dist/src/main.js, or bench/lib/server-harness.js when a figure needs an in-process state
 * change) and, for --vs-kamailio, Kamailio with bench/kamailio/kamailio.cfg.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, childrenOf, cpuMsOf, freePort, memKbOf, sleep, track } from './proc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HARNESS = fileURLToPath(new URL('./server-harness.js', import.meta.url));
const KAMAILIO_CFG = fileURLToPath(new URL('../kamailio/kamailio.cfg', import.meta.url));
/** The stock db_text tables Debian's kamailio package ships. */
const KAMAILIO_DBTEXT = '/usr/share/kamailio/dbtext/kamailio';

/**
 * @typedef {object} Target
 * @property {'ours' | 'kamailio'} name
 * @property {number} pid
 * @property {{ host: string, port: number }} sip     UDP and TCP listen on the same port
 * @property {{ host: string, port: number }} [http]
 * @property {string} dir
 * @property {() => number} cpuMs                     CPU used so far by all its processes
 * @property {() => number} memKb                     resident memory: RSS (ours) or PSS summed over processes (Kamailio)
 * @property {(msg: object) => Promise<any>} [ipc]    the harness's channel (in-process state changes)
 * @property {() => Promise<{ seconds: number, killed: boolean }>} stop
 * @property {() => string} logTail
 */

/**
 * SIGTERM, then SIGKILL after `graceMs`. Only the PID given is signalled (Kamailio's main
 * process takes its children down itself).
 * @param {import('node:child_process').ChildProcess} child @param {number} graceMs
 */
async function stopChild(child, graceMs) {
  const started = Date.now();
  if (child.exitCode !== null || child.signalCode !== null) return { seconds: 0, killed: false };
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const grace = new Promise((resolve) => (timer = setTimeout(() => resolve(true), graceMs)));
  const timedOut = await Promise.race([exited.then(() => false), grace]);
  clearTimeout(timer);
  if (timedOut && child.pid) {
    child.kill('SIGKILL');
    await exited;
  }
  return { seconds: (Date.now() - started) / 1000, killed: timedOut };
}

/**
 * Keeps the last lines a process printed (for error messages) and copies everything to a file.
 * @param {import('node:child_process').ChildProcess} child @param {string} file
 */
function captureOutput(child, file) {
  const out = fs.createWriteStream(file);
  /** @type {string[]} */
  let tail = [];
  /** @type {((line: string) => void)[]} */
  const lineWatchers = [];
  let partial = '';
  const onData = (/** @type {Buffer} */ d) => {
    out.write(d);
    const text = partial + d.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      for (const w of lineWatchers) w(line);
    }
    tail = [...tail, ...lines].slice(-20);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.once('close', () => out.end());
  return {
    tail: () => tail.join('\n'),
    /** @param {(line: string) => boolean} test @param {number} timeoutMs */
    waitForLine: (test, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms; last output:\n${tail.join('\n')}`)), timeoutMs);
        // Another readiness check may win the race; this one must not keep the runner alive.
        timer.unref();
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`exited with ${code} before it was ready; last output:\n${tail.join('\n')}`));
        });
        lineWatchers.push((line) => {
          if (test(line)) {
            clearTimeout(timer);
            resolve(line);
          }
        });
      }),
  };
}

/**
 * Starts our server from dist/ on fresh loopback ports with its database in `dir`.
 * @param {{ dir: string, harness?: boolean, cpuProfDir?: string, nodeFlags?: string[], db?: 'file' | 'memory', env?: Record<string, string> }} o
 * @returns {Promise<Target>}
 */
export async function startOurs(o) {
  fs.mkdirSync(o.dir, { recursive: true });
  const entry = path.join(ROOT, 'dist/src/main.js');
  if (!fs.existsSync(entry)) throw new Error('dist/src/main.js is missing: run `npm run build` (npm run bench does)');
  const taken = new Set();
  const sipPort = await freePort(taken);
  const httpPort = await freePort(taken);
  const env = {
    ...process.env,
    PRESENCE_SIP_LISTEN: `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort}`,
    PRESENCE_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    PRESENCE_DB: o.db === 'memory' ? ':memory:' : path.join(o.dir, 'presence.db'),
    LOG_LEVEL: 'warn',
    PRESENCE_SIP_AUTH: 'none',
    ...o.env,
  };
  const nodeArgs = [...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []), ...(o.nodeFlags ?? [])];
  const child = track(
    spawn(process.execPath, [...nodeArgs, o.harness ? HARNESS : entry], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe', ...(o.harness ? /** @type {const} */ (['ipc']) : [])],
    }),
  );
  const output = captureOutput(child, path.join(o.dir, 'server.log'));
  // pino's ready line; LOG_LEVEL=warn hides it, so also accept the SIP port answering.
  const ready = output.waitForLine((l) => l.includes('presence server listening'), 20_000);
  ready.catch(() => {});
  await Promise.race([ready, waitForSip({ host: '127.0.0.1', port: sipPort }, 20_000)]);
  if (!alive(/** @type {number} */ (child.pid))) throw new Error(`our server exited at start:\n${output.tail()}`);

  let nextId = 1;
  /** @type {Map<number, (m: any) => void>} */
  const waiting = new Map();
  child.on('message', (/** @type {any} */ m) => {
    const w = waiting.get(m.id);
    if (w) {
      waiting.delete(m.id);
      w(m);
    }
  });
  const pid = /** @type {number} */ (child.pid);
  return {
    name: 'ours',
    pid,
    sip: { host: '127.0.0.1', port: sipPort },
    http: { host: '127.0.0.1', port: httpPort },
    dir: o.dir,
    cpuMs: () => cpuMsOf(pid),
    memKb: () => memKbOf(pid, 'VmRSS'),
    ...(o.harness
      ? {
          ipc: (/** @type {object} */ msg) =>
            new Promise((resolve) => {
              const id = nextId++;
              waiting.set(id, resolve);
              child.send({ ...msg, id });
            }),
        }
      : {}),
    stop: () => stopChild(child, 45_000),
    logTail: output.tail,
  };
}

/**
 * Sends OPTIONS over UDP until anything answers (the server is up), at most `timeoutMs`.
 * @param {{ host: string, port: number }} to @param {number} timeoutMs
 */
export async function waitForSip(to, timeoutMs) {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = socket.address();
  const answered = new Promise((resolve) => socket.once('message', resolve));
  const deadline = Date.now() + timeoutMs;
  try {
    for (let i = 0; Date.now() < deadline; i++) {
      const msg =
        `OPTIONS sip:presence@${to.host}:${to.port} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKbenchready${i}${process.pid};rport\r\n` +
        `From: <sip:bench@127.0.0.1>;tag=ready${i}\r\nTo: <sip:presence@${to.host}>\r\n` +
        `Call-ID: ready-${i}-${process.pid}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
      socket.send(msg, to.port, to.host);
      const got = await Promise.race([answered.then(() => true), sleep(200).then(() => false)]);
      if (got) return;
    }
    throw new Error(`nothing answered OPTIONS on udp ${to.host}:${to.port} within ${timeoutMs} ms`);
  } finally {
    socket.close();
  }
}

/** Whether Kamailio and the presence modules are installed. */
export function kamailioInstalled() {
  return (
    fs.existsSync('/usr/sbin/kamailio') &&
    fs.existsSync('/usr/lib/x86_64-linux-gnu/kamailio/modules/presence_dialoginfo.so') &&
    fs.existsSync(KAMAILIO_DBTEXT)
  );
}

/**
 * Starts Kamailio in the foreground (-DD) with our config on fresh loopback ports.
 * @param {{ dir: string }} o
 * @returns {Promise<Target>}
 */
export async function startKamailio(o) {
  fs.mkdirSync(o.dir, { recursive: true });
  const dbDir = path.join(o.dir, 'dbtext');
  fs.mkdirSync(dbDir, { recursive: true });
  for (const table of ['version', 'presentity', 'active_watchers', 'watchers', 'xcap']) {
    fs.copyFileSync(path.join(KAMAILIO_DBTEXT, table), path.join(dbDir, table));
  }
  const port = await freePort();
  const args = [
    '-f', KAMAILIO_CFG,
    '-DD', '-E',
    '-m', '1024', '-M', '32',
    '-A', `BENCH_LISTEN_UDP=udp:127.0.0.1:${port}`,
    '-A', `BENCH_LISTEN_TCP=tcp:127.0.0.1:${port}`,
    '-A', `BENCH_DB_URL="text://${dbDir}"`,
    '-Y', o.dir,
  ];
  const child = track(spawn('kamailio', args, { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  const output = captureOutput(child, path.join(o.dir, 'kamailio.log'));
  const exited = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`kamailio exited with ${code}:\n${output.tail()}`))));
  exited.catch(() => {});
  await Promise.race([waitForSip({ host: '127.0.0.1', port }, 20_000), exited]);
  const pid = /** @type {number} */ (child.pid);
  const all = () => [pid, ...childrenOf(pid)];
  return {
    name: 'kamailio',
    pid,
    sip: { host: '127.0.0.1', port },
    dir: o.dir,
    cpuMs: () => all().reduce((sum, p) => sum + cpuMsOf(p), 0),
    // Subscriptions live in shared memory that every child maps: PSS counts each page once.
    memKb: () => all().reduce((sum, p) => sum + memKbOf(p, 'Pss', 'smaps_rollup'), 0),
    stop: () => stopChild(child, 20_000),
    logTail: output.tail,
  };
}
