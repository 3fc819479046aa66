// @ts-check
/**
 * The measurements, each against a target the caller starts (and may restart): sustained
 * subscribe cycles stepped up to the failure point, fan-out of one state change, memory per
 * held subscription, and a storm of state changes. Every loop here is bounded in count and
 * in time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { now, sleep, udpCounters, withForeignLoad } from './proc.js';
import { runCycles, settle } from './sipp.js';
import { median, summary } from './stats.js';
import { WatcherPool } from './watchers.js';

export const DOMAIN = 'acme.example.com';
/**
 * The two lamp states a fan-out or storm moves between: busy and ringing. Both servers
 * accept this both ways on one dialog (REST set on ours, a PUBLISH modification on
 * Kamailio); `terminated` is final for a dialog (RFC 4235 3.7.1).
 */
const TOGGLE = /** @type {const} */ (['confirmed', 'early']);

/** Timed cycles per second the latency probe adds to SIPp's load. */
const PROBE_RATE = 50;

/** @typedef {import('./targets.js').Target} Target */
/** @typedef {import('./sipp.js').CycleResult} CycleResult */

/**
 * How a state change is made: REST `set` (ours), PUBLISH (Kamailio, or ours once it answers
 * PUBLISH), or PresenceService.set in-process through the harness (ours without REST).
 * @typedef {object} Trigger
 * @property {'rest' | 'publish' | 'in-process'} kind
 * @property {string} label
 * @property {(user: string, state: string) => Promise<boolean>} set  true when accepted
 */

/**
 * @param {(msg: string) => void} log
 * @param {CycleResult & { probe?: any, cpuUsPerCycle: number, otherCpuPct: number }} r
 */
function logStep(log, r) {
  const lat = r.probe?.subscribeTo200;
  log(
    `    ${String(r.offered).padStart(6)}/s offered  ${r.achieved.toFixed(0).padStart(6)}/s done  ` +
      `ok ${r.successful} failed ${r.failed} retrans ${r.retransmissions}  ` +
      `SUBSCRIBE->200 p50/p99 ${lat ? `${lat.p50.toFixed(1)}/${lat.p99.toFixed(1)} ms` : 'n/a'}  ` +
      `${r.cpuUsPerCycle.toFixed(0)} µs/cycle  sipp cpu ${r.sippCpuPct.toFixed(0)}%` +
      (r.otherCpuPct > 15 ? `  OTHER LOAD ${r.otherCpuPct.toFixed(0)}% of a core` : '') +
      (r.failed > 0 && r.firstError ? `\n      first error: ${r.firstError}` : ''),
  );
}

/**
 * Latency under load, measured by a light probe next to SIPp: `rate` timed subscribe cycles
 * per second of our own (bench/lib/watchers.js) on the same extension, each message stamped
 * when it arrives (SIPp's own timers tick in whole milliseconds, often 4 at a time).
 * @param {{ target: { host: string, port: number }, transport: 'udp' | 'tcp', rate: number, seconds: number }} o
 */
export async function latencyProbe(o) {
  const pool = new WatcherPool({ target: o.target, transport: o.transport, endpoints: 1, domain: DOMAIN });
  await pool.open();
  /** @type {Record<'subscribeTo200' | 'subscribeToNotify' | 'unsubscribeTo200' | 'unsubscribeToNotify', number[]>} */
  const samples = { subscribeTo200: [], subscribeToNotify: [], unsubscribeTo200: [], unsubscribeToNotify: [] };
  let failed = 0;
  try {
    const count = Math.max(1, Math.floor(o.rate * o.seconds));
    /** @type {Promise<void>[]} */
    const cycles = [];
    const t0 = now();
    for (let i = 0; i < count && now() - t0 < o.seconds * 1000 + 1000; i++) {
      cycles.push(
        pool.timedCycle('1001', 1_000_000 + i).then((r) => {
          if (!r) failed++;
          else for (const k of /** @type {(keyof typeof samples)[]} */ (Object.keys(samples))) samples[k].push(r[k]);
        }),
      );
      await sleep(Math.max(0, t0 + ((i + 1) * 1000) / o.rate - now()));
    }
    await Promise.all(cycles);
  } finally {
    pool.close();
  }
  return { failed, samples };
}

/**
 * @typedef {object} StepPlan
 * @property {number} start       first offered rate
 * @property {number} factor      next rate = rate * factor while steps pass
 * @property {number} seconds     per step
 * @property {number} maxSteps    including refinement steps
 * @property {number} refine      bisection steps between the last pass and the first failure
 * @property {number} maxRate
 * @property {number} budgetSeconds stop stepping after this long
 */

/**
 * Steps the subscribe-cycle rate up until more than 1% of cycles fail or fewer than 97% of
 * the offered cycles per second complete, then bisects. The target is restarted after a
 * failed step so that its backlog (NOTIFY retransmissions for 32 s) does not spill over.
 * @param {{ start: () => Promise<Target>, transport: 'udp' | 'tcp', plan: StepPlan, dir: string, log: (m: string) => void }} o
 */
export async function sustainedCycles(o) {
  const { plan, log } = o;
  let target = await o.start();
  const began = now();
  /** @type {Array<CycleResult & { cpuUsPerCycle: number, udpRcvbufErrors: number, otherCpuPct: number, pass: boolean, probe?: any }>} */
  const steps = [];
  let stepNo = 0;
  const run = async (/** @type {number} */ rate, /** @type {string} */ scenario, /** @type {number} */ seconds, probe = false) => {
    const cpu0 = target.cpuMs();
    const udp0 = udpCounters();
    const sipp = runCycles({
      target: target.sip,
      transport: o.transport,
      rate,
      seconds,
      scenario,
      dir: path.join(o.dir, `${o.transport}-${++stepNo}-${rate}`),
      extension: '1001',
      domain: DOMAIN,
    });
    // The probe starts once SIPp's load is on and ends before it stops.
    const probed = probe ? sleep(500).then(() => latencyProbe({ target: target.sip, transport: o.transport, rate: PROBE_RATE, seconds: Math.max(1, seconds - 1) })) : undefined;
    const measured = await withForeignLoad(
      () => Promise.all([sipp, probed]),
      ([r]) => target.cpuMs() - cpu0 + (r.sippCpuPct * r.wallSeconds * 1000) / 100,
    );
    const [r, p] = measured.result;
    const cpu = target.cpuMs() - cpu0;
    const udpRcvbufErrors = udpCounters().RcvbufErrors - udp0.RcvbufErrors;
    const pass = r.failed <= 0.01 * r.calls && r.achieved >= 0.97 * rate && r.successful > 0;
    const cycles = r.successful + (p ? p.samples.subscribeTo200.length : 0);
    return {
      ...r,
      cpuUsPerCycle: cycles > 0 ? (cpu * 1000) / cycles : NaN,
      udpRcvbufErrors,
      otherCpuPct: measured.otherCpuPct,
      stealPct: measured.stealPct,
      pass,
      probe: p ? { failed: p.failed, ...Object.fromEntries(Object.entries(p.samples).map(([k, v]) => [k, summary(v)])) } : undefined,
    };
  };
  let lastPass = 0;
  // A restarted target starts cold (a JIT compiles its hot paths again), which the steps
  // before it did not: it is warmed up at most of the best rate so far, uncounted, the way
  // the ramp up to that rate warmed the first one.
  const warmUp = async () => {
    if (lastPass > plan.start) await run(Math.round((lastPass * 0.6) / 50) * 50, 'subscribe-cycle.xml', 4);
    else await run(Math.min(200, plan.start), 'subscribe-cycle.xml', 1);
    await settle();
  };
  try {
    // Warm-up (JIT, caches, sockets): not counted.
    await run(Math.min(200, plan.start), 'subscribe-cycle.xml', 2);
    await settle();
    let rate = plan.start;
    let firstFail = Infinity;
    let bisections = 0;
    while (steps.length < plan.maxSteps && (now() - began) / 1000 < plan.budgetSeconds) {
      let r = await run(rate, 'subscribe-cycle.xml', plan.seconds, true);
      if (!r.pass && r.otherCpuPct > 25) {
        // Someone else's work took a good part of a core (a shared machine): once more, later.
        logStep(log, r);
        log(`    other processes used ${r.otherCpuPct.toFixed(0)}% of a core during that step; trying it again in 5 s`);
        await target.stop();
        await sleep(5000);
        target = await o.start();
        await warmUp();
        r = await run(rate, 'subscribe-cycle.xml', plan.seconds, true);
      }
      steps.push(r);
      logStep(log, r);
      if (r.pass) lastPass = Math.max(lastPass, rate);
      else {
        firstFail = Math.min(firstFail, rate);
        await target.stop();
        target = await o.start();
        await warmUp();
      }
      await settle();
      if (firstFail === Infinity) {
        if (rate >= plan.maxRate) break;
        rate = Math.min(plan.maxRate, Math.round(rate * plan.factor));
        continue;
      }
      // Bisect between the best pass and the first failure, to the nearest 50/s.
      if (bisections++ >= plan.refine) break;
      rate = Math.round((lastPass + firstFail) / 2 / 50) * 50;
      if (rate <= lastPass || rate >= firstFail) break;
    }
    const best = steps.filter((s) => s.pass).sort((a, b) => b.offered - a.offered)[0];
    return {
      transport: o.transport,
      sustained: best ? best.offered : 0,
      achieved: best?.achieved ?? 0,
      cpuUsPerCycle: best?.cpuUsPerCycle ?? NaN,
      failedAtSustained: best?.failed ?? NaN,
      retransmissionsAtSustained: best?.retransmissions ?? NaN,
      probeFailedAtSustained: best?.probe?.failed ?? NaN,
      // Our probe's figures (sub-millisecond); SIPp's whole-millisecond ones are in steps[].sippTimer*.
      subscribeTo200: best?.probe?.subscribeTo200,
      subscribeToNotify: best?.probe?.subscribeToNotify,
      unsubscribeTo200: best?.probe?.unsubscribeTo200,
      unsubscribeToNotify: best?.probe?.unsubscribeToNotify,
      steps: steps.map(({ rtd, ...s }) => ({ ...s, sippTimer1: summary(rtd['1'] ?? []), sippTimer2: summary(rtd['2'] ?? []) })),
    };
  } finally {
    await target.stop();
  }
}

/**
 * Fan-out: `sizes` watchers of one extension each, one state change, the time until 50%,
 * 99% and 100% of them received the NOTIFY carrying it. One warm-up change, then `trials`
 * measured ones (alternating busy / ringing); the median trial is reported.
 * @param {{ target: Target, trigger: Trigger, sizes: number[], trials: number, transport: 'udp' | 'tcp', log: (m: string) => void }} o
 */
export async function fanout(o) {
  /** @type {Record<string, any>} */
  const out = {};
  for (const [i, size] of o.sizes.entries()) {
    const user = `${3000 + i}`;
    const pool = new WatcherPool({ target: o.target.sip, transport: o.transport, endpoints: Math.max(2, Math.ceil(size / 250)), domain: DOMAIN });
    await pool.open();
    try {
      const sub = await pool.subscribeAll(Array(size).fill(user), { window: 200, timeoutMs: 120_000 });
      o.log(`    ${size} watchers of ${user}: ${sub.ok} subscribed in ${sub.subscribeSeconds.toFixed(1)} s${sub.failed ? `, ${sub.failed} failed` : ''}${sub.withoutNotify ? `, ${sub.withoutNotify} without a first NOTIFY` : ''}`);
      /** @type {any[]} */
      const trials = [];
      for (let t = 0; t <= o.trials; t++) {
        await sleep(300);
        const state = TOGGLE[t % 2];
        const udp0 = udpCounters().RcvbufErrors;
        const dup0 = pool.stats.duplicates;
        const exp = pool.expect(user, state);
        const cpu0 = o.target.cpuMs();
        const { result: [accepted, e], otherCpuPct } = await withForeignLoad(
          async () => {
            const ok = await o.trigger.set(user, state);
            return /** @type {const} */ ([ok, await exp.wait(15_000)]);
          },
          () => o.target.cpuMs() - cpu0,
        );
        const times = [...e.times].sort((a, b) => a - b);
        const pick = (/** @type {number} */ p) => (times.length >= Math.ceil((p / 100) * e.total) ? times[Math.ceil((p / 100) * e.total) - 1] : NaN);
        const trial = {
          state,
          accepted,
          received: e.seen.size,
          total: e.total,
          p50: pick(50),
          p99: pick(99),
          p100: pick(100),
          duplicates: pool.stats.duplicates - dup0,
          udpRcvbufErrors: udpCounters().RcvbufErrors - udp0,
          // The watchers (this process) are known; the rest is someone else's load.
          otherCpuPct,
        };
        if (t > 0) trials.push(trial);
        o.log(
          `    ${t === 0 ? 'warm-up' : `trial ${t}`} ${state}: ${trial.received}/${trial.total} got it; 50% ${trial.p50.toFixed(1)} ms, 99% ${trial.p99.toFixed(1)} ms, 100% ${trial.p100.toFixed(1)} ms` +
            (trial.duplicates ? `; ${trial.duplicates} retransmitted NOTIFYs` : '') +
            (trial.udpRcvbufErrors ? `; ${trial.udpRcvbufErrors} UDP drops (kernel)` : '') +
            (otherCpuPct > 15 ? `; OTHER LOAD ${otherCpuPct.toFixed(0)}% of a core` : ''),
        );
      }
      out[size] = {
        watchers: size,
        subscribed: sub.ok,
        trigger: o.trigger.kind,
        p50: median(trials.map((t) => t.p50)),
        p99: median(trials.map((t) => t.p99)),
        p100: median(trials.map((t) => t.p100)),
        allReceived: trials.every((t) => t.received === t.total),
        trials,
      };
      await pool.unsubscribeAll({ window: 200, timeoutMs: 30_000 });
    } finally {
      pool.close();
    }
  }
  return out;
}

/**
 * Memory per held subscription: resident memory before, and after holding each of `counts`
 * subscriptions (spread 50 watchers to an extension over 1,000 extensions, UDP, Expires 3600).
 * Read `settleSeconds` after the last SUBSCRIBE: RFC 3261 Timer J keeps each UDP server
 * transaction (and its message buffers) for 32 s, which is not the subscription's cost.
 * @param {{ target: Target, counts: number[], settleSeconds: number, log: (m: string) => void }} o
 */
export async function memory(o) {
  const read = async (settle = 1.5) => {
    // Median of five readings over a second, once the target has been quiet for a while.
    await sleep(settle * 1000);
    /** @type {number[]} */
    const kb = [];
    for (let i = 0; i < 5; i++) {
      kb.push(o.target.memKb());
      await sleep(200);
    }
    return median(kb);
  };
  const pool = new WatcherPool({ target: o.target.sip, transport: 'udp', endpoints: 50, domain: DOMAIN });
  await pool.open();
  try {
    const baseHeap = o.target.ipc ? (await o.target.ipc({ type: 'memory' })).usage : undefined;
    const baseKb = await read();
    o.log(`    at rest: ${(baseKb / 1024).toFixed(1)} MiB`);
    /** @type {any[]} */
    const points = [];
    let held = 0;
    for (const count of o.counts) {
      const users = Array.from({ length: count - held }, (_, i) => `${4000 + ((held + i) % 1000)}`);
      const sub = await pool.subscribeAll(users, { window: 300, timeoutMs: 180_000 });
      held += sub.ok;
      if (o.settleSeconds > 2) o.log(`    ${held} held; waiting ${o.settleSeconds} s for the SUBSCRIBE transactions to end (Timer J)`);
      const kb = await read(Math.max(1.5, o.settleSeconds));
      /** @type {Record<string, any>} */
      const point = {
        held,
        settledSeconds: o.settleSeconds,
        failed: sub.failed,
        memKb: kb,
        bytesPerSubscription: ((kb - baseKb) * 1024) / held,
        subscribesPerSecond: (count - (points.at(-1)?.held ?? 0)) / sub.subscribeSeconds,
      };
      if (baseHeap && o.target.ipc) {
        // Ours in the harness: the live JS heap after a full GC, and RSS after it.
        const m = await o.target.ipc({ type: 'memory' });
        point.heapUsedBytesPerSubscription = (m.usage.heapUsed - baseHeap.heapUsed) / held;
        point.externalBytesPerSubscription = (m.usage.external + m.usage.arrayBuffers - baseHeap.external - baseHeap.arrayBuffers) / held;
        point.memKbAfterGc = await read(1);
        point.bytesPerSubscriptionAfterGc = ((point.memKbAfterGc - baseKb) * 1024) / held;
        point.serverSubscriptions = m.subscriptions;
        point.usageAfterGc = m.usage;
      }
      points.push(point);
      o.log(
        `    ${held} held: ${(kb / 1024).toFixed(1)} MiB, ${point.bytesPerSubscription.toFixed(0)} B per subscription` +
          ` (subscribed at ${point.subscribesPerSecond.toFixed(0)}/s${sub.failed ? `, ${sub.failed} failed` : ''})` +
          (point.heapUsedBytesPerSubscription !== undefined
            ? `; after a full GC: RSS ${(point.memKbAfterGc / 1024).toFixed(1)} MiB = ${point.bytesPerSubscriptionAfterGc.toFixed(0)} B each, live JS heap ${point.heapUsedBytesPerSubscription.toFixed(0)} B each`
            : ''),
      );
      if (sub.ok < users.length) break;
    }
    return { baseKb, ...(baseHeap ? { baseHeapUsed: baseHeap.heapUsed } : {}), points };
  } finally {
    pool.close();
  }
}

/**
 * A storm of state changes: `presentities` extensions with `watchersEach` watchers each,
 * one worker per extension moving it between busy and ringing as fast as the trigger allows
 * (or, in-process, at a fixed offered rate), for `seconds`. Counts accepted changes and the
 * NOTIFYs the watchers received, until they stop coming (at most 5 s after the storm).
 * @param {{ target: Target, trigger: Trigger, presentities: number, watchersEach: number, seconds: number, maxChanges: number, log: (m: string) => void }} o
 */
export async function stateStorm(o) {
  const users = Array.from({ length: o.presentities }, (_, i) => `${5000 + i}`);
  const pool = new WatcherPool({ target: o.target.sip, transport: 'udp', endpoints: 20, domain: DOMAIN });
  await pool.open();
  try {
    const sub = await pool.subscribeAll(users.flatMap((u) => Array(o.watchersEach).fill(u)), { window: 200, timeoutMs: 120_000 });
    o.log(`    ${sub.ok} watchers on ${users.length} extensions`);
    await sleep(500);
    const notifies0 = pool.stats.notifies;
    const dup0 = pool.stats.duplicates;
    const udp0 = udpCounters().RcvbufErrors;
    const t0 = now();
    let accepted = 0;
    let rejected = 0;
    let changes = 0;
    /** The state each extension was last set to, as far as the trigger knows. @type {Map<string, string>} */
    const finalState = new Map();
    if (o.trigger.kind === 'in-process' && o.target.ipc) {
      const rate = 2000;
      const res = await o.target.ipc({ type: 'storm', presentities: users.map((u) => `${u}@${DOMAIN}`), states: TOGGLE, rate, seconds: o.seconds });
      accepted = res.sets;
      changes = res.sets;
    } else {
      const until = t0 + o.seconds * 1000;
      await Promise.all(
        users.map(async (user) => {
          for (let k = 0; now() < until && changes < o.maxChanges; k++) {
            changes++;
            if (await o.trigger.set(user, TOGGLE[k % 2])) {
              accepted++;
              finalState.set(user, TOGGLE[k % 2]);
            } else rejected++;
          }
        }),
      );
    }
    const tEnd = now();
    // Drain: NOTIFYs still on their way after the last change.
    let last = pool.stats.notifies;
    let lastChange = now();
    while (now() - tEnd < 5000 && now() - lastChange < 300) {
      await sleep(50);
      if (pool.stats.notifies !== last) {
        last = pool.stats.notifies;
        lastChange = now();
      }
    }
    const notifies = pool.stats.notifies - notifies0 - (pool.stats.duplicates - dup0);
    // Nothing lost, for a server that coalesces as for one that does not: every watcher's last
    // NOTIFY carries the state its extension was last set to (waiting up to 10 s more for it).
    const onNewest = () => pool.subs.filter((s) => s.lastState !== undefined && s.lastState === finalState.get(s.user)).length;
    let watchersOnNewestState;
    if (finalState.size > 0) {
      const until = now() + 10_000;
      while (onNewest() < pool.subs.length && now() < until) await sleep(100);
      watchersOnNewestState = onNewest();
    }
    const result = {
      trigger: o.trigger.kind,
      presentities: users.length,
      watchersEach: o.watchersEach,
      seconds: (tEnd - t0) / 1000,
      changesPerSecond: accepted / ((tEnd - t0) / 1000),
      rejected,
      notifies,
      notifiesPerSecond: notifies / ((lastChange - t0) / 1000),
      // Ours coalesces (a lamp needs only the newest state); Kamailio sends one per PUBLISH per watcher.
      notifiesPerChange: accepted > 0 ? notifies / accepted : NaN,
      duplicates: pool.stats.duplicates - dup0,
      udpRcvbufErrors: udpCounters().RcvbufErrors - udp0,
      watchers: pool.subs.length,
      watchersOnNewestState,
    };
    o.log(
      `    ${accepted} changes in ${result.seconds.toFixed(1)} s = ${result.changesPerSecond.toFixed(0)}/s${rejected ? ` (${rejected} rejected)` : ''}; ` +
        `${notifies} NOTIFYs = ${result.notifiesPerSecond.toFixed(0)}/s (${result.notifiesPerChange.toFixed(1)} per change)` +
        (result.duplicates ? `; ${result.duplicates} retransmitted` : '') +
        (watchersOnNewestState !== undefined ? `; ${watchersOnNewestState}/${pool.subs.length} watchers ended on the newest state` : ''),
    );
    await pool.unsubscribeAll({ window: 200, timeoutMs: 30_000 });
    return result;
  } finally {
    pool.close();
  }
}

/**
 * A PUBLISH trigger (RFC 3903): one publication per extension, one dialog in it, modified
 * with SIP-If-Match. The benchmark toggles confirmed <-> early (busy <-> ringing): Kamailio
 * does not notify a dialog that comes back from `terminated` (RFC 4235 3.7.1 makes it final)
 * and, when a publication is removed, notifies the removed body once more.
 * @param {Target} target
 * @returns {Promise<Trigger & { close: () => void }>}
 */
export async function publishTrigger(target) {
  const pool = new WatcherPool({ target: target.sip, transport: 'udp', endpoints: 1, domain: DOMAIN });
  await pool.open();
  /** @type {Map<string, string>} */
  const etags = new Map();
  return {
    kind: 'publish',
    label: 'PUBLISH (dialog-info)',
    set: async (user, state) => {
      let res = await pool.publish(user, state, etags.get(user));
      // 412: the publication expired or is unknown; start a new one.
      if (res.status === 412) res = await pool.publish(user, state);
      if (res.etag) etags.set(user, res.etag);
      return res.status >= 200 && res.status < 300;
    },
    close: () => pool.close(),
  };
}

/** Whether the target answers PUBLISH with a 2xx (ours did not when this was written). @param {Target} target */
export async function acceptsPublish(target) {
  const trigger = await publishTrigger(target);
  try {
    return await trigger.set('5999', 'terminated');
  } finally {
    trigger.close();
  }
}

/** @param {string} dir */
export function freshDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
