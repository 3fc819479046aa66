// @ts-check
/**
 * What the benchmark reads about processes and the machine: CPU time and memory from /proc,
 * free loopback ports, UDP drop counters, and small timing helpers. Linux only.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';

const CLK_TCK = 100;

/**
 * Processes this runner started and has not seen exit, so that an interrupted run (Ctrl-C,
 * SIGTERM) can stop them by PID instead of leaving servers and SIPp behind.
 * @type {Map<number, import('node:child_process').ChildProcess>}
 */
export const liveChildren = new Map();

/** @param {import('node:child_process').ChildProcess} child */
export function track(child) {
  if (child.pid === undefined) return child;
  const pid = child.pid;
  liveChildren.set(pid, child);
  child.once('exit', () => liveChildren.delete(pid));
  return child;
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Monotonic milliseconds (fractional). */
export const now = () => performance.now();

/**
 * User + system CPU time of a process (all its threads), milliseconds.
 * @param {number} pid
 */
export function cpuMsOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/**
 * Children of a process (one level), from /proc.
 * @param {number} pid
 * @returns {number[]}
 */
export function childrenOf(pid) {
  /** @type {number[]} */
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * A field of /proc/<pid>/status or smaps_rollup in KiB (VmRSS, VmHWM, Pss, ...); 0 when gone.
 * @param {number} pid @param {string} field @param {'status' | 'smaps_rollup'} [file]
 */
export function memKbOf(pid, field, file = 'status') {
  try {
    const text = fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** @param {number} pid */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Machine-wide CPU time from /proc/stat, milliseconds: `busy` (user, nice, system, irq,
 * softirq) and `steal` (taken by the hypervisor: on a VM, time nobody here used).
 */
export function machineCpuMs() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return { busy: ((user + nice + system + irq + softirq) * 1000) / CLK_TCK, steal: ((steal ?? 0) * 1000) / CLK_TCK };
}

/** This process's own CPU time, milliseconds. */
export function selfCpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Measures how much CPU went to processes other than the ones we know about (the target,
 * SIPp, this runner) while `fn` ran: another test suite on a shared machine skews every
 * figure, and this says so. Returns `fn`'s result and the others' share, % of one core.
 * @template T
 * @param {() => Promise<T>} fn
 * @param {(result: T) => number} knownMs CPU ms of the target and SIPp during fn
 */
export async function withForeignLoad(fn, knownMs) {
  const m0 = machineCpuMs();
  const s0 = selfCpuMs();
  const t0 = now();
  const result = await fn();
  const m1 = machineCpuMs();
  const seconds = (now() - t0) / 1000;
  const foreign = m1.busy - m0.busy - (selfCpuMs() - s0) - knownMs(result);
  return {
    result,
    otherCpuPct: Math.max(0, (foreign / 10) / seconds),
    stealPct: (m1.steal - m0.steal) / 10 / seconds,
  };
}

/** The kernel's UDP counters (InDatagrams, RcvbufErrors, SndbufErrors, ...) for the whole machine. */
export function udpCounters() {
  const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  /** @type {Record<string, number>} */
  const out = {};
  names.forEach((n, i) => (out[n] = values[i]));
  return out;
}

/** @param {number} port */
function portFree(port) {
  return new Promise((resolve) => {
    const tcp = net.createServer();
    tcp.once('error', () => resolve(false));
    tcp.listen(port, '127.0.0.1', () => {
      const udp = dgram.createSocket('udp4');
      udp.once('error', () => {
        udp.close();
        tcp.close(() => resolve(false));
      });
      udp.bind(port, '127.0.0.1', () => {
        udp.close();
        tcp.close(() => resolve(true));
      });
    });
  });
}

/**
 * A port free for both UDP and TCP on 127.0.0.1, from a range other test runs are unlikely
 * to use (they take ephemeral ports from the kernel).
 * @param {Set<number>} [taken]
 */
export async function freePort(taken = new Set()) {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (taken.has(port)) continue;
    if (await portFree(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port found in 20000-29999');
}

/** The machine the figures come from. */
export function machine() {
  const cpus = os.cpus();
  /** @param {string} cmd @param {string[]} args */
  const version = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.error) return undefined;
    return `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).find(Boolean);
  };
  let model = cpus[0]?.model ?? 'unknown';
  try {
    // os.cpus() shows only the marketing name on some VMs; lscpu adds the family when it knows it.
    const m = /^Model name:\s+(.+)$/m.exec(execFileSync('lscpu', [], { encoding: 'utf8' }));
    if (m && m[1].length > model.length) model = m[1].trim();
  } catch {
    /* no lscpu */
  }
  return {
    cpu: model,
    cores: cpus.length,
    mhz: cpus[0]?.speed ?? 0,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    sipp: /SIPp v?[\d.]+/i.exec(version('sipp', ['-v']) ?? '')?.[0] ?? 'not installed',
    kamailio: version('kamailio', ['-v'])?.replace(/^version:\s*/, ''),
  };
}
