import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

/** How often the worker copies committed WAL pages back into the database file. */
const CHECKPOINT_INTERVAL_MS = 250;

/**
 * The worker: its own connection to the same file, running a PASSIVE checkpoint on an
 * interval. PASSIVE never waits for or blocks the server's writes. Kept as source text so it
 * runs the same from the TypeScript sources (tests) and from dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface CheckpointLogger {
  warn(obj: object, msg?: string): void;
}

/** Another connection that writes the file (the group commit's writer thread). */
export interface WalWriter {
  setWalAutocheckpoint(pages: number): void;
}

/** SQLite's default: a commit that leaves the WAL this many pages long checkpoints it. */
const AUTOCHECKPOINT_PAGES = 1000;

export interface CheckpointerOptions {
  /**
   * A count that grows with the writes (the group commit's batches). Given, the worker runs
   * only while they come at `busyPerSecond` or more, and stops after `idleStopMs` below
   * that: an idle server keeps no thread for it (~8 MiB), and its few commits checkpoint
   * themselves every thousand pages, as SQLite does by default. Without it the worker runs
   * from start to stop.
   */
  activity?: () => number;
  /** How often the count is read, ms (default 1000). */
  sampleMs?: number;
  /** Default 20 batches a second. */
  busyPerSecond?: number;
  /** Default 30 s. */
  idleStopMs?: number;
}

/**
 * Moves WAL checkpoints off the event loop. With SQLite's automatic checkpoint, every
 * thousand pages one commit also copies them into the database file and fsyncs both: a
 * 15-20 ms stall of everything the server does, dozens of times a minute under load. Here,
 * while the server writes, the server's connections (its own and the writer thread's) stop
 * checkpointing and a worker thread, on the other core, does it. Once writes are rare again
 * the worker goes and the connections checkpoint on their own, which then happens seldom.
 * If the worker cannot run, they checkpoint again.
 */
export class BackgroundCheckpointer {
  private worker: Worker | undefined;
  /** A worker winding down: no new one starts until it has gone. */
  private stopping: Promise<void> | undefined;
  private failed = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private lastCount = 0;
  private lastBusyAt = 0;
  private readonly driver: string;
  private readonly busyPerSecond: number;
  private readonly idleStopMs: number;

  constructor(
    private readonly db: Database,
    private readonly file: string,
    private readonly log?: CheckpointLogger,
    private readonly writers: readonly WalWriter[] = [],
    opts: CheckpointerOptions = {},
  ) {
    this.driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.busyPerSecond = opts.busyPerSecond ?? 20;
    this.idleStopMs = opts.idleStopMs ?? 30_000;
    const activity = opts.activity;
    if (activity === undefined) {
      this.startWorker();
      return;
    }
    this.lastCount = activity();
    const sampleMs = opts.sampleMs ?? 1000;
    this.timer = setInterval(() => this.sample(activity, sampleMs), sampleMs);
    this.timer.unref();
  }

  /** True while the worker runs (the connections leave checkpoints to it). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Stops the worker; the connection checkpoints on its own again (and at close). */
  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.stopping;
    await this.stopWorker();
  }

  private sample(activity: () => number, sampleMs: number): void {
    const count = activity();
    const perSecond = ((count - this.lastCount) * 1000) / sampleMs;
    this.lastCount = count;
    const now = performance.now();
    if (perSecond >= this.busyPerSecond) {
      this.lastBusyAt = now;
      if (this.worker === undefined && this.stopping === undefined && !this.failed && !this.closed) this.startWorker();
    } else if (this.worker !== undefined && now - this.lastBusyAt >= this.idleStopMs) {
      this.stopping = this.stopWorker().finally(() => (this.stopping = undefined));
    }
  }

  private startWorker(): void {
    this.db.pragma('wal_autocheckpoint = 0');
    for (const w of this.writers) w.setWalAutocheckpoint(0);
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver: this.driver, intervalMs: CHECKPOINT_INTERVAL_MS } });
    worker.unref();
    worker.on('message', (m: { error?: string }) => {
      if (m.error !== undefined) this.log?.warn({ error: m.error }, 'background WAL checkpoint failed');
    });
    worker.on('error', (err) => this.fallBack(worker, err));
    this.worker = worker;
  }

  /** Lets the worker run its last checkpoint and end; the connections checkpoint again. */
  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker === undefined) return;
    // Held while it winds down (it is unref'd so that it never keeps a server alive).
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    await worker.terminate();
    this.checkpointOnCommit();
  }

  private fallBack(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.log?.warn({ err }, 'background WAL checkpointer stopped; checkpointing on the main thread');
    this.worker = undefined;
    this.failed = true;
    this.checkpointOnCommit();
  }

  private checkpointOnCommit(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    for (const w of this.writers) w.setWalAutocheckpoint(AUTOCHECKPOINT_PAGES);
  }
}
