// @ts-check
/**
 * `npm run bench` (after the build): measures our presence server from dist/ on loopback,
 * and with --vs-kamailio Kamailio's presence modules the same way, then prints a table and
 * writes bench/out/latest.json. See bench/README.md.
 *
 *   node bench/run.js [--quick] [--vs-kamailio] [--only=udp,tcp,fanout,memory,storm]
 *                     [--db=file|memory] [--out=FILE]
 *   node bench/run.js --profile [--profile-rate=N] [--profile-seconds=S]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hotFunctions, readProfile, selfTimeByArea } from './lib/profile.js';
import { liveChildren, machine, now, sleep } from './lib/proc.js';
import { connectRest } from './lib/rest.js';
import { acceptsPublish, DOMAIN, fanout, freshDir, memory, publishTrigger, stateStorm, sustainedCycles } from './lib/scenarios.js';
import { runCycles } from './lib/sipp.js';
import { fmt, table } from './lib/stats.js';
import { kamailioInstalled, startKamailio, startOurs } from './lib/targets.js';

const BENCH = fileURLToPath(new URL('./', import.meta.url));
const PHASES = ['udp', 'tcp', 'fanout', 'memory', 'storm'];

/** Kamailio 5.6 presence + presence_dialoginfo as measured in issue #6 (2 cores, SIPp on the same machine). */
const REFERENCE = {
  udpCycles: 12_000,
  tcpCycles: 16_000,
  subscribeTo200P99: '12–40',
  cpuUsUdp: 62,
  cpuUsTcp: 48,
  fanout1000P99: 35,
  fanout5000P99: 447,
  stormNotifies: 32_000,
  bytesPerSubscription50k: 0.85 * 1024,
};

/**
 * Memory is read this long after the last SUBSCRIBE: the UDP server transactions are gone
 * (Timer J, 32 s) and a server that tidies up once it is quiet has had the time to (ours
 * compacts its heap after 40 s of quiet: src/heap-reclaimer.ts).
 */
const MEMORY_SETTLE_SECONDS = 60;

/** The floors issue #6 sets for us. */
const TARGETS = { udpCycles: 4000, fanout5000P99: 446, bytesPerSubscription: 4096 };

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {Record<string, string | true>} */
  const flags = {};
  for (const arg of argv) {
    if (arg === '--') continue;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument ${arg} (see bench/README.md)`);
    flags[m[1]] = m[2] ?? true;
  }
  const known = ['quick', 'vs-kamailio', 'only', 'db', 'out', 'profile', 'profile-rate', 'profile-seconds', 'help'];
  for (const f of Object.keys(flags)) if (!known.includes(f)) throw new Error(`unknown option --${f} (known: ${known.map((k) => `--${k}`).join(' ')})`);
  const only = typeof flags.only === 'string' ? flags.only.split(',').map((s) => s.trim()) : PHASES;
  for (const p of only) if (!PHASES.includes(p)) throw new Error(`--only: unknown phase ${p} (phases: ${PHASES.join(', ')})`);
  const db = flags.db === 'memory' ? 'memory' : 'file';
  return {
    quick: flags.quick === true,
    vsKamailio: flags['vs-kamailio'] === true,
    profile: flags.profile === true,
    profileRate: Number(flags['profile-rate'] ?? 500),
    profileSeconds: Number(flags['profile-seconds'] ?? 15),
    only,
    db: /** @type {'file' | 'memory'} */ (db),
    // A profile run measures something else (and with the profiler on): its own file.
    out: typeof flags.out === 'string' ? path.resolve(flags.out) : path.join(BENCH, flags.profile === true ? 'out/profile.json' : 'out/latest.json'),
    help: flags.help === true,
  };
}

/** @param {string} msg */
const log = (msg) => process.stdout.write(`${msg}\n`);

/**
 * Runs every phase against one kind of server.
 * @param {'ours' | 'kamailio'} name
 * @param {ReturnType<typeof parseArgs>} opts
 * @param {string} workDir
 */
async function measure(name, opts, workDir) {
  const q = opts.quick;
  let n = 0;
  const start = (/** @type {{ harness?: boolean }} */ extra = {}) => {
    const dir = freshDir(path.join(workDir, `${name}-${++n}`));
    return name === 'ours' ? startOurs({ dir, db: opts.db, ...extra }) : startKamailio({ dir });
  };
  /** @type {Record<string, any>} */
  const result = {};
  // Quick: 500, 1000, 2000/s for 2.5 s each, no bisection: a smoke run, not a measurement.
  const plan = {
    start: 500,
    factor: q ? 2 : 1.5,
    seconds: q ? 2.5 : 8,
    maxSteps: q ? 3 : 14,
    refine: q ? 0 : 3,
    maxRate: 40_000,
    budgetSeconds: q ? 20 : 240,
  };
  for (const transport of /** @type {const} */ (['udp', 'tcp'])) {
    if (!opts.only.includes(transport)) continue;
    log(`\n[${name}] sustained SUBSCRIBE/NOTIFY/unSUBSCRIBE cycles over ${transport.toUpperCase()} (SIPp, ${plan.seconds} s steps)`);
    result[transport] = await sustainedCycles({ start: () => start(), transport, plan, dir: path.join(workDir, `${name}-sipp`), log });
    log(`  => sustained ${fmt(result[transport].sustained)} cycles/s, ${fmt(result[transport].cpuUsPerCycle)} µs CPU per cycle`);
  }

  if (opts.only.includes('fanout') || opts.only.includes('storm')) {
    let target = await start();
    /** @type {import('./lib/scenarios.js').Trigger & { close?: () => void }} */
    let trigger;
    /** @type {string | undefined} */
    let restUnavailable;
    let rest;
    if (name === 'kamailio') {
      trigger = await publishTrigger(target);
    } else {
      const connected = await connectRest({ http: target.http, dbPath: opts.db === 'memory' ? ':memory:' : path.join(target.dir, 'presence.db'), realm: DOMAIN, sockets: 32 });
      if ('rest' in connected) {
        rest = connected.rest;
        const r = rest;
        trigger = { kind: 'rest', label: 'REST set', set: async (user, state) => { const s = await r.set(user, state); return s >= 200 && s < 300; }, close: () => r.close() };
      } else {
        restUnavailable = connected.unavailable;
        log(`\n[ours] ${restUnavailable}`);
        if (await acceptsPublish(target)) {
          trigger = await publishTrigger(target);
          log('[ours] state changes by PUBLISH instead');
        } else {
          // The same PresenceService.set the REST route calls, in-process through the harness.
          await target.stop();
          target = await start({ harness: true });
          trigger = {
            kind: 'in-process',
            label: 'in-process PresenceService.set (what the REST route calls)',
            set: async (user, state) => {
              await /** @type {NonNullable<typeof target.ipc>} */ (target.ipc)({ type: 'set', presentity: `${user}@${DOMAIN}`, state });
              return true;
            },
          };
          log('[ours] state changes in-process through bench/lib/server-harness.js instead');
        }
      }
    }
    result.trigger = trigger.kind;
    if (restUnavailable) result.restUnavailable = restUnavailable;
    try {
      if (opts.only.includes('fanout')) {
        log(`\n[${name}] fan-out of one state change (${trigger.label}), UDP watchers`);
        result.fanout = await fanout({ target, trigger, sizes: [1000, 5000], trials: q ? 1 : 3, transport: 'udp', log });
      }
      if (opts.only.includes('storm')) {
        log(`\n[${name}] storm of state changes (${trigger.label}), 100 watchers each`);
        result.storm = await stateStorm({ target, trigger, presentities: q ? 10 : 20, watchersEach: 100, seconds: q ? 2 : 10, maxChanges: 500_000, log });
      }
    } finally {
      trigger.close?.();
      const stopped = await target.stop();
      if (stopped.killed) log(`[${name}] did not stop within the grace period after SIGTERM; killed`);
    }
  }

  if (opts.only.includes('memory')) {
    log(`\n[${name}] memory with held subscriptions`);
    // Ours runs in the harness with --expose-gc so it can also report the live JS heap.
    const target = name === 'ours' ? await startOurs({ dir: freshDir(path.join(workDir, `${name}-${++n}`)), db: opts.db, harness: true, nodeFlags: ['--expose-gc'] }) : await start();
    try {
      // Quick: no wait for Timer J, so the figure still counts live transactions (higher).
      result.memory = await memory({ target, counts: q ? [10_000] : [10_000, 50_000], settleSeconds: q ? 1.5 : MEMORY_SETTLE_SECONDS, log });
    } finally {
      const stopped = await target.stop();
      result.memory.stopSeconds = stopped.seconds;
    }
  }
  return result;
}

/** @param {any} point */
const memTarget = (point) => ({ target: `< ${fmt(TARGETS.bytesPerSubscription)}`, pass: point ? point.bytesPerSubscription < TARGETS.bytesPerSubscription : undefined, scaled: 'same', fullRunOnly: true });

/**
 * Latency of both at the highest rate both sustained (the max-rate rows compare each at its
 * own limit).
 * @param {any} ours @param {any} kam @param {'udp' | 'tcp'} t
 */
function common(ours, kam, t) {
  if (!kam?.[t] || !ours?.[t]) return undefined;
  const passed = (/** @type {any} */ r) => new Map(r[t].steps.filter((/** @type {any} */ s) => s.pass && s.probe?.subscribeTo200).map((/** @type {any} */ s) => [s.offered, s]));
  const a = passed(ours);
  const b = passed(kam);
  const rate = Math.max(0, ...[...a.keys()].filter((r) => b.has(r)));
  if (!rate) return undefined;
  const show = (/** @type {any} */ s) => `${fmt(s.probe.subscribeTo200.p50, 1)} / ${fmt(s.probe.subscribeTo200.p99, 1)}`;
  return { rate, ours: show(a.get(rate)), kam: show(b.get(rate)) };
}

/** @param {any} r @param {number} size @param {'p50' | 'p99' | 'p100'} p */
const fan = (r, size, p) => r?.fanout?.[size]?.[p];
/** @param {any} r @param {number} held */
const mem = (r, held) => r?.memory?.points?.find((/** @type {any} */ x) => x.held >= held * 0.99);
/** @param {any} r "1,998 / 2,000": watchers whose last NOTIFY carries the last state set. */
const newest = (r) => (r?.storm?.watchersOnNewestState !== undefined ? `${fmt(r.storm.watchersOnNewestState)} / ${fmt(r.storm.watchers)}` : undefined);

/**
 * `quick`: the run stops at 2,000 cycles/s and reads memory before Timer J's transactions
 * are gone, so the UDP and memory rows get no verdict (a smoke run cannot fail a floor it
 * never tried).
 * @param {any} ours @param {any} kam @param {boolean} quick
 */
function report(ours, kam, quick) {
  const restNa = ours.restUnavailable ? 'n/a (REST API not available)' : undefined;
  /**
   * `scaled`: the target restated against Kamailio measured on this machine, with the same
   * ratio the issue's floor has to the issue's Kamailio figure.
   * `fullRunOnly`: a verdict a quick run cannot give.
   * @type {Array<{ metric: string, ours: number | string | undefined, kam?: number | string, ref?: string, target?: string, pass?: boolean, digits?: number, scaled?: string, scaledPass?: boolean, fullRunOnly?: boolean }>}
   */
  const rows = [
    { metric: 'subscribe cycles/s, UDP, sustained', ours: ours.udp?.sustained, kam: kam?.udp?.sustained, ref: fmt(REFERENCE.udpCycles), target: `>= ${fmt(TARGETS.udpCycles)}`, pass: ours.udp ? ours.udp.sustained >= TARGETS.udpCycles && ours.udp.failedAtSustained === 0 : undefined, fullRunOnly: true,
      ...(kam?.udp ? { scaled: `>= ${fmt((kam.udp.sustained * TARGETS.udpCycles) / REFERENCE.udpCycles)}`, scaledPass: ours.udp ? ours.udp.sustained >= (kam.udp.sustained * TARGETS.udpCycles) / REFERENCE.udpCycles && ours.udp.failedAtSustained === 0 : undefined } : {}) },
    { metric: 'subscribe cycles/s, TCP (one connection)', ours: ours.tcp?.sustained, kam: kam?.tcp?.sustained, ref: fmt(REFERENCE.tcpCycles) },
    { metric: 'CPU per cycle, UDP (µs)', ours: ours.udp?.cpuUsPerCycle, kam: kam?.udp?.cpuUsPerCycle, ref: `~${REFERENCE.cpuUsUdp}` },
    { metric: 'CPU per cycle, TCP (µs)', ours: ours.tcp?.cpuUsPerCycle, kam: kam?.tcp?.cpuUsPerCycle, ref: `~${REFERENCE.cpuUsTcp}` },
    { metric: 'SUBSCRIBE->200 p50, UDP (ms)', ours: ours.udp?.subscribeTo200?.p50, kam: kam?.udp?.subscribeTo200?.p50, digits: 1 },
    { metric: 'SUBSCRIBE->200 p99, UDP (ms)', ours: ours.udp?.subscribeTo200?.p99, kam: kam?.udp?.subscribeTo200?.p99, ref: REFERENCE.subscribeTo200P99, digits: 1 },
    { metric: 'SUBSCRIBE->NOTIFY p50, UDP (ms)', ours: ours.udp?.subscribeToNotify?.p50, kam: kam?.udp?.subscribeToNotify?.p50, digits: 1 },
    { metric: 'SUBSCRIBE->NOTIFY p99, UDP (ms)', ours: ours.udp?.subscribeToNotify?.p99, kam: kam?.udp?.subscribeToNotify?.p99, digits: 1 },
    { metric: 'SUBSCRIBE->200 p50, TCP (ms)', ours: ours.tcp?.subscribeTo200?.p50, kam: kam?.tcp?.subscribeTo200?.p50, digits: 1 },
    { metric: 'SUBSCRIBE->200 p99, TCP (ms)', ours: ours.tcp?.subscribeTo200?.p99, kam: kam?.tcp?.subscribeTo200?.p99, digits: 1 },
    { metric: 'SUBSCRIBE->NOTIFY p50, TCP (ms)', ours: ours.tcp?.subscribeToNotify?.p50, kam: kam?.tcp?.subscribeToNotify?.p50, digits: 1 },
    { metric: 'SUBSCRIBE->NOTIFY p99, TCP (ms)', ours: ours.tcp?.subscribeToNotify?.p99, kam: kam?.tcp?.subscribeToNotify?.p99, digits: 1 },
    ...(/** @type {const} */ (['udp', 'tcp']).flatMap((t) => {
      const c = common(ours, kam, t);
      return c ? [{ metric: `SUBSCRIBE->200 p50 / p99 at ${fmt(c.rate)}/s, ${t.toUpperCase()} (ms)`, ours: c.ours, kam: c.kam }] : [];
    })),
    { metric: 'fan-out 1,000 watchers, 50% (ms)', ours: fan(ours, 1000, 'p50'), kam: fan(kam, 1000, 'p50'), digits: 1 },
    { metric: 'fan-out 1,000 watchers, 99% (ms)', ours: fan(ours, 1000, 'p99'), kam: fan(kam, 1000, 'p99'), ref: `${REFERENCE.fanout1000P99}`, digits: 1 },
    { metric: 'fan-out 1,000 watchers, 100% (ms)', ours: fan(ours, 1000, 'p100'), kam: fan(kam, 1000, 'p100'), digits: 1 },
    { metric: 'fan-out 5,000 watchers, 50% (ms)', ours: fan(ours, 5000, 'p50'), kam: fan(kam, 5000, 'p50'), digits: 1 },
    { metric: 'fan-out 5,000 watchers, 99% (ms)', ours: fan(ours, 5000, 'p99'), kam: fan(kam, 5000, 'p99'), ref: `${REFERENCE.fanout5000P99}`, target: `< ${TARGETS.fanout5000P99}`, pass: fan(ours, 5000, 'p99') !== undefined ? fan(ours, 5000, 'p99') < TARGETS.fanout5000P99 && ours.fanout[5000].allReceived : undefined, digits: 1,
      ...(fan(kam, 5000, 'p99') !== undefined ? { scaled: `< ${fmt((fan(kam, 5000, 'p99') * TARGETS.fanout5000P99) / REFERENCE.fanout5000P99, 1)}`, scaledPass: fan(ours, 5000, 'p99') !== undefined ? fan(ours, 5000, 'p99') < (fan(kam, 5000, 'p99') * TARGETS.fanout5000P99) / REFERENCE.fanout5000P99 && ours.fanout[5000].allReceived : undefined } : {}) },
    { metric: 'fan-out 5,000 watchers, 100% (ms)', ours: fan(ours, 5000, 'p100'), kam: fan(kam, 5000, 'p100'), digits: 1 },
    { metric: 'resident memory, 10,000 held (MiB)', ours: mem(ours, 10_000)?.memKb / 1024, kam: mem(kam, 10_000)?.memKb / 1024, digits: 1 },
    { metric: 'resident memory, 50,000 held (MiB)', ours: mem(ours, 50_000)?.memKb / 1024, kam: mem(kam, 50_000)?.memKb / 1024, digits: 1 },
    { metric: `bytes per held subscription, 10,000${ours.memory?.points?.[0]?.settledSeconds < 30 ? ' (unsettled)' : ''}`, ours: mem(ours, 10_000)?.bytesPerSubscription, kam: mem(kam, 10_000)?.bytesPerSubscription, ...(mem(ours, 50_000) ? {} : memTarget(mem(ours, 10_000))) },
    { metric: 'bytes per held subscription, 50,000', ours: mem(ours, 50_000)?.bytesPerSubscription, kam: mem(kam, 50_000)?.bytesPerSubscription, ref: `~${fmt(REFERENCE.bytesPerSubscription50k)}`, ...(mem(ours, 50_000) ? memTarget(mem(ours, 50_000)) : {}) },
    { metric: 'SUBSCRIBEs/s while filling (held, UDP)', ours: ours.memory?.points?.at(-1)?.subscribesPerSecond, kam: kam?.memory?.points?.at(-1)?.subscribesPerSecond },
    {
      metric: 'REST set/s, 100 watchers each',
      ours: ours.storm && ours.storm.trigger === 'rest' ? ours.storm.changesPerSecond : (restNa ?? undefined),
      kam: kam?.storm ? `${fmt(kam.storm.changesPerSecond)} PUBLISH/s` : undefined,
    },
    { metric: `NOTIFYs/s under a state storm`, ours: ours.storm?.notifiesPerSecond, kam: kam?.storm?.notifiesPerSecond, ref: fmt(REFERENCE.stormNotifies) },
    { metric: 'watchers on the newest state after the storm', ours: newest(ours), kam: newest(kam) },
  ];
  if (quick) {
    for (const r of rows) {
      if (r.fullRunOnly && r.target !== undefined) {
        r.target = `${r.target} (no verdict: quick)`;
        r.pass = undefined;
        if (r.scaled !== undefined && r.scaled !== 'same') r.scaled = `${r.scaled} (no verdict: quick)`;
        r.scaledPass = undefined;
      }
    }
  }
  const header = ['metric', 'ours', ...(kam ? ['kamailio', 'ours/kam'] : []), 'issue #6 Kamailio', 'target', ...(kam ? ['target scaled to kam here'] : [])];
  const body = rows.map((r) => {
    const o = typeof r.ours === 'number' ? fmt(r.ours, r.digits ?? 0) : (r.ours ?? 'n/a');
    const k = typeof r.kam === 'number' ? fmt(r.kam, r.digits ?? 0) : (r.kam ?? 'n/a');
    const ratio = typeof r.ours === 'number' && typeof r.kam === 'number' && r.kam > 0 ? `${(r.ours / r.kam).toFixed(2)}x` : '';
    const target = r.target ? `${r.target} ${r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL'}`.trim() : '';
    const verdict = (/** @type {boolean | undefined} */ p) => (p === undefined ? '' : p ? 'PASS' : 'FAIL');
    const scaled = r.scaled === 'same' ? target : r.scaled ? `${r.scaled} ${verdict(r.scaledPass)}`.trim() : '';
    return [r.metric, o, ...(kam ? [k, ratio] : []), r.ref ?? '', target, ...(kam ? [scaled] : [])];
  });
  return { text: table([header, ...body]), rows };
}

/**
 * Profiles our server under the UDP cycle load and prints the top self-time functions.
 * @param {ReturnType<typeof parseArgs>} opts @param {string} workDir
 */
async function profile(opts, workDir) {
  const profDir = freshDir(path.join(workDir, 'profile'));
  const target = await startOurs({ dir: path.join(workDir, 'profile-server'), db: opts.db, cpuProfDir: profDir });
  log(`[profile] node --cpu-prof, UDP cycles at ${opts.profileRate}/s for ${opts.profileSeconds} s`);
  /** @type {{ fromUs?: number, toUs?: number }} */
  const window = {};
  try {
    await runCycles({ target: target.sip, transport: 'udp', rate: Math.min(200, opts.profileRate), seconds: 2, scenario: 'subscribe-cycle.xml', dir: path.join(workDir, 'profile-warmup'), extension: '1001', domain: DOMAIN });
    const cpu0 = target.cpuMs();
    // The profile's clock is CLOCK_MONOTONIC in µs, as process.hrtime: rank only the load.
    window.fromUs = Number(process.hrtime.bigint() / 1000n) + 1_000_000;
    const r = await runCycles({ target: target.sip, transport: 'udp', rate: opts.profileRate, seconds: opts.profileSeconds, scenario: 'subscribe-cycle.xml', dir: path.join(workDir, 'profile-sipp'), extension: '1001', domain: DOMAIN });
    window.toUs = Number(process.hrtime.bigint() / 1000n) - 500_000;
    log(`[profile] ${r.successful} cycles ok, ${r.failed} failed, ${fmt(((target.cpuMs() - cpu0) * 1000) / Math.max(1, r.successful))} µs CPU per cycle (with the profiler on)`);
  } finally {
    const stopped = await target.stop();
    if (stopped.killed) log('[profile] the server had to be killed: no profile written');
  }
  await sleep(200);
  const file = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f))[0];
  if (!file) throw new Error('no .cpuprofile written');
  const prof = readProfile(file);
  const hot = hotFunctions(prof, 15, window);
  const outFile = path.join(path.dirname(opts.out), 'profile-udp.cpuprofile');
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.copyFileSync(file, outFile);
  const busyMs = hot.totalMs - hot.idleMs;
  log(`\n[profile] top 15 by self time during the load (${fmt(busyMs / 1000, 1)} s busy of ${fmt(hot.totalMs / 1000, 1)} s); profile kept at ${path.relative(process.cwd(), outFile)}`);
  log(
    table([
      ['#', 'self %', 'self ms', 'function', 'where', 'hottest line'],
      ...hot.functions.map((f, i) => [String(i + 1), f.selfPct.toFixed(1), fmt(f.selfMs), f.name, f.location, f.hotLine ?? '']),
    ], [3, 4, 5]),
  );
  const areas = Object.entries(selfTimeByArea(prof, window)).sort((a, b) => b[1] - a[1]);
  log(`\n[profile] self time by area: ${areas.slice(0, 10).map(([a, ms]) => `${a} ${((100 * ms) / busyMs).toFixed(0)}%`).join(', ')}`);
  return { file: outFile, rate: opts.profileRate, seconds: opts.profileSeconds, busyMs, functions: hot.functions, areas: Object.fromEntries(areas) };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    log(fs.readFileSync(path.join(BENCH, 'README.md'), 'utf8'));
    return;
  }
  const began = now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'presence-bench-'));
  const m = machine();
  log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}; node ${m.node}; ${m.sipp}${m.kamailio ? `; ${m.kamailio}` : ''}`);
  log(`mode: ${opts.quick ? 'quick' : 'full'}; database: ${opts.db}; work dir ${workDir}`);
  const [load1] = os.loadavg();
  if (load1 > 0.5) log(`warning: load average ${load1.toFixed(2)} before starting: something else is running and will skew the figures`);
  if (opts.vsKamailio && !kamailioInstalled()) {
    throw new Error('--vs-kamailio: Kamailio is not installed (apt-get install -y kamailio kamailio-presence-modules; see bench/README.md)');
  }
  /** @type {Record<string, any>} */
  const out = { date: new Date().toISOString(), machine: m, loadAverageAtStart: os.loadavg()[0], mode: opts.quick ? 'quick' : 'full', db: opts.db, phases: opts.only };
  try {
    if (opts.profile) {
      out.profile = await profile(opts, workDir);
    } else {
      out.ours = await measure('ours', opts, workDir);
      if (opts.vsKamailio) out.kamailio = await measure('kamailio', opts, workDir);
      const { text, rows } = report(out.ours, out.kamailio, opts.quick);
      out.table = rows;
      log(`\n${m.cpu}, ${m.cores} cores, node ${m.node}, ${m.sipp}${opts.vsKamailio ? `, ${m.kamailio}` : ''} — ${opts.quick ? 'quick run' : 'full run'}${out.ours.trigger ? `, state changes: ${out.ours.trigger === 'rest' ? 'REST set' : out.ours.trigger}${out.kamailio ? ' (Kamailio: PUBLISH)' : ''}` : ''}`);
      log(text);
      if (out.ours.restUnavailable) log(`\nREST: ${out.ours.restUnavailable}; fan-out and storm used ${out.ours.trigger === 'in-process' ? 'an in-process PresenceService.set (bench/lib/server-harness.js)' : out.ours.trigger}.`);
    }
  } finally {
    out.seconds = (now() - began) / 1000;
    fs.mkdirSync(path.dirname(opts.out), { recursive: true });
    fs.writeFileSync(opts.out, `${JSON.stringify(out, null, 2)}\n`);
    log(`\nresults: ${path.relative(process.cwd(), opts.out)} (${fmt(out.seconds)} s)`);
    if (!process.env.BENCH_KEEP) fs.rmSync(workDir, { recursive: true, force: true });
  }
}

// Interrupted: stop what we started, by PID (SIGTERM; Kamailio's main process takes its
// children down), then SIGKILL whatever is left a few seconds later.
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, () => {
    log(`\nbench: ${signal}, stopping ${liveChildren.size} process(es) this run started`);
    for (const child of liveChildren.values()) child.kill('SIGTERM');
    setTimeout(() => {
      for (const child of liveChildren.values()) child.kill('SIGKILL');
      process.exit(130);
    }, 5000).unref();
    if (liveChildren.size === 0) process.exit(130);
    const check = setInterval(() => {
      if (liveChildren.size === 0) process.exit(130);
    }, 100);
    check.unref();
  });
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
