// @ts-check
/**
 * Runs one bounded SIPp load (a number of calls at a rate, with a hard timeout) and reads
 * what it measured: completed and failed cycles, retransmissions, the response-time samples
 * that `-trace_rtt` writes, and the rate at which cycles actually completed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMsOf, freePort, now, sleep, track } from './proc.js';
import { percentile } from './stats.js';

export const SIPP_DIR = fileURLToPath(new URL('../sipp/', import.meta.url));

/**
 * @typedef {object} CycleRun
 * @property {{ host: string, port: number }} target
 * @property {'udp' | 'tcp'} transport
 * @property {number} rate            cycles started per second
 * @property {number} seconds         how long to offer that rate
 * @property {string} scenario        file name in bench/sipp/
 * @property {string} dir             a fresh directory for SIPp's files
 * @property {string} extension
 * @property {string} domain
 */

/**
 * @typedef {object} CycleResult
 * @property {number} offered         cycles/s asked for
 * @property {number} achieved        cycles/s completed (1st..99th percentile of completions)
 * @property {number} calls
 * @property {number} successful
 * @property {number} failed
 * @property {number} retransmissions SIPp's own retransmissions (its requests or answers lost/late)
 * @property {number} unexpected      messages SIPp did not expect (e.g. a retransmitted NOTIFY)
 * @property {number} wallSeconds
 * @property {number} sippCpuPct      SIPp's CPU use, % of one core (near 100: the client is the limit)
 * @property {Record<string, number[]>} rtd  response-time samples per timer, ms
 * @property {Record<string, number>} failures non-zero FailedXxx counters from SIPp
 * @property {string} [firstError]
 */

/**
 * Reads SIPp's -trace_stat CSV (semicolon separated, one row per -fd period) into its last row.
 * @param {string} file
 * @returns {Record<string, string>}
 */
function lastStatRow(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  if (lines.length < 2) return {};
  const names = lines[0].split(';');
  const values = lines[lines.length - 1].split(';');
  /** @type {Record<string, string>} */
  const out = {};
  names.forEach((n, i) => (out[n] = values[i] ?? ''));
  return out;
}

/**
 * -trace_rtt rows: "Date_ms;response_time_ms;rtd_no" (ms resolution: SIPp's clock ticks in ms).
 * @param {string} dir
 * @returns {{ rtd: Record<string, number[]>, at: Record<string, number[]> }}
 */
function readRtt(dir) {
  /** @type {Record<string, number[]>} */
  const rtd = {};
  /** @type {Record<string, number[]>} */
  const at = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('_rtt.csv'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const [date, ms, no] = line.split(';');
      if (!no || !/^\d+$/.test(no.trim())) continue;
      (rtd[no.trim()] ??= []).push(Number(ms));
      (at[no.trim()] ??= []).push(Number(date));
    }
  }
  return { rtd, at };
}

/**
 * Runs SIPp once. Bounded: `-m` calls at most, `-timeout` seconds at most, and a kill after that.
 * @param {CycleRun} run
 * @returns {Promise<CycleResult>}
 */
export async function runCycles(run) {
  fs.mkdirSync(run.dir, { recursive: true });
  const calls = Math.max(1, Math.round(run.rate * run.seconds));
  const localPort = await freePort();
  const statFile = path.join(run.dir, 'stat.csv');
  const errFile = path.join(run.dir, 'errors.log');
  // Enough concurrent calls for 2 s of lag; past that SIPp stops opening calls and the
  // achieved rate shows the server is behind.
  const limit = Math.max(200, Math.round(run.rate * 2));
  const hardTimeout = run.seconds + 45;
  const args = [
    `${run.target.host}:${run.target.port}`,
    '-sf', path.join(SIPP_DIR, run.scenario),
    '-s', run.extension,
    '-key', 'domain', run.domain,
    '-i', '127.0.0.1',
    '-p', String(localPort),
    '-t', run.transport === 'udp' ? 'u1' : 't1',
    '-m', String(calls),
    '-r', String(run.rate),
    '-rp', '1000',
    '-l', String(limit),
    '-nostdin',
    '-timeout', `${hardTimeout}s`,
    // A cycle whose answer never comes fails after 10 s instead of hanging the run.
    '-recv_timeout', '10000',
    '-buff_size', String(4 * 1024 * 1024),
    '-max_socket', '100',
    '-trace_rtt', '-rtt_freq', '1000',
    '-trace_stat', '-fd', '1', '-stf', statFile,
    '-trace_err', '-error_file', errFile,
  ];
  const started = now();
  const child = track(spawn('sipp', args, { cwd: run.dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d.toString()));
  child.stderr?.on('data', (d) => (stderr += d.toString()));
  let sippCpu = 0;
  const sampler = setInterval(() => {
    if (child.pid) sippCpu = Math.max(sippCpu, cpuMsOf(child.pid));
  }, 100);
  const killer = setTimeout(() => child.kill('SIGKILL'), (hardTimeout + 15) * 1000);
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  clearTimeout(killer);
  const wallSeconds = (now() - started) / 1000;
  if (!fs.existsSync(statFile)) throw new Error(`sipp did not run (exit ${code}): ${stderr.trim() || stdout.trim().slice(-500)}`);

  const stat = lastStatRow(statFile);
  const successful = Number(stat['SuccessfulCall(C)'] ?? 0);
  const failed = Number(stat['FailedCall(C)'] ?? 0);
  /** @type {Record<string, number>} */
  const failures = {};
  for (const [k, v] of Object.entries(stat)) {
    if (k.startsWith('Failed') && k.endsWith('(C)') && k !== 'FailedCall(C)' && Number(v) > 0) failures[k.slice(6, -3)] = Number(v);
  }
  const { rtd, at } = readRtt(run.dir);
  // Completion times: the last timer of the scenario ends a cycle (only its 200 to the final
  // NOTIFY follows). The middle 98% of completions over their time span is the sustained rate;
  // a straggler retransmitted at the very end does not decide it, a server falling behind does.
  const timers = Object.keys(at).sort();
  const ends = timers.length ? [...at[timers[timers.length - 1]]].sort((a, b) => a - b) : [];
  let achieved = 0;
  if (ends.length >= 10) {
    const t1 = percentile(ends, 1);
    const t99 = percentile(ends, 99);
    achieved = t99 > t1 ? (0.98 * ends.length * 1000) / (t99 - t1) : 0;
  }
  let firstError;
  try {
    const text = fs.readFileSync(errFile, 'utf8');
    const m = /\d+\.\d+: ([^\n]+)/.exec(text);
    firstError = m?.[1]?.slice(0, 200);
  } catch {
    /* no errors */
  }
  return {
    offered: run.rate,
    achieved: Math.min(achieved, run.rate * 1.05),
    calls,
    successful,
    failed,
    retransmissions: Number(stat['Retransmissions(C)'] ?? 0),
    unexpected: Number(stat['FailedUnexpectedMessage(C)'] ?? 0) + Number(stat['DeadCallMsgs(C)'] ?? 0) + Number(stat['OutOfCallMsgs(C)'] ?? 0),
    wallSeconds,
    sippCpuPct: (100 * sippCpu) / 1000 / Math.max(0.001, wallSeconds),
    rtd,
    failures,
    ...(firstError ? { firstError } : {}),
  };
}

/** Waits for a short while so SIPp's sockets are gone before the next run. */
export const settle = () => sleep(300);
