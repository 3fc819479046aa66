import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

export const SIPP_DIR = fileURLToPath(new URL('../sipp/', import.meta.url));

/** Whether SIPp is installed. Under CI=true a missing SIPp is a failure, not a skip. */
export function sippAvailable(): boolean {
  const found = spawnSync('sipp', ['-v'], { encoding: 'utf8' }).error === undefined;
  if (!found && process.env.CI === 'true') throw new Error('sipp is not installed (apt-get install -y sip-tester) and CI=true');
  return found;
}

export interface SippRun {
  scenario: string;
  /** `u1` (one UDP socket), `t1` (one TCP connection) or `tn` (one per call). */
  transport: 'u1' | 't1' | 'tn' | 'un';
  target: string;
  service: string;
  domain: string;
  calls?: number;
  rate?: number;
  concurrent?: number;
  timeoutSeconds?: number;
  extraArgs?: string[];
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Successful and failed call counts from the final statistics. */
  successful: number;
  failed: number;
}

/** Runs one SIPp scenario from test/sipp/ to completion (bounded by its own -timeout). */
export async function runSipp(run: SippRun): Promise<SippResult> {
  const localPort = await freePort();
  const calls = run.calls ?? 1;
  const args = [
    run.target,
    '-sf', `${SIPP_DIR}${run.scenario}`,
    '-s', run.service,
    '-key', 'domain', run.domain,
    '-i', '127.0.0.1',
    '-p', String(localPort),
    '-t', run.transport,
    '-m', String(calls),
    '-r', String(run.rate ?? 50),
    '-l', String(run.concurrent ?? calls),
    '-timeout', `${run.timeoutSeconds ?? 30}s`,
    '-timeout_error',
    '-recv_timeout', '10000',
    '-max_socket', '2000',
    // SIPp's default 64 KiB socket buffers drop bursts of NOTIFYs (a fan-out to 1,000 phones).
    '-buff_size', '4194304',
    '-nostdin',
    '-trace_stat', '-stf', `/tmp/sipp-${process.pid}-${localPort}.csv`,
    '-trace_err', '-error_file', `/tmp/sipp-${process.pid}-${localPort}-errors.log`,
    ...(run.extraArgs ?? []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let errors = '';
      try {
        errors = spawnSync('cat', [`/tmp/sipp-${process.pid}-${localPort}-errors.log`], { encoding: 'utf8' }).stdout ?? '';
      } catch {
        /* no error file */
      }
      const successful = Number(/Successful call\s*\|[^|]*\|\s*(\d+)/.exec(stdout)?.[1] ?? 'NaN');
      const failed = Number(/Failed call\s*\|[^|]*\|\s*(\d+)/.exec(stdout)?.[1] ?? 'NaN');
      resolve({ code, stdout, stderr: stderr + errors, successful, failed });
    });
  });
}
