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

/**
 * Moves WAL checkpoints off the event loop. With SQLite's automatic checkpoint, every
 * thousand pages one commit also copies them into the database file and fsyncs both: a
 * 15-20 ms stall of everything the server does, dozens of times a minute under load. Here the
 * server's connections (its own and the writer thread's) stop checkpointing and a worker
 * thread, on the other core, does it. If the worker cannot run, they checkpoint again.
 */
export class BackgroundCheckpointer {
  private worker: Worker | undefined;

  constructor(
    private readonly db: Database,
    file: string,
    private readonly log?: CheckpointLogger,
    private readonly writers: readonly WalWriter[] = [],
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    db.pragma('wal_autocheckpoint = 0');
    for (const w of writers) w.setWalAutocheckpoint(0);
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs: CHECKPOINT_INTERVAL_MS } });
    worker.unref();
    worker.on('message', (m: { error?: string }) => {
      if (m.error !== undefined) this.log?.warn({ error: m.error }, 'background WAL checkpoint failed');
    });
    worker.on('error', (err) => this.fallBack(err));
    this.worker = worker;
  }

  /** Stops the worker; the connection checkpoints on its own again (and at close). */
  async stop(): Promise<void> {
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

  private fallBack(err: Error): void {
    this.log?.warn({ err }, 'background WAL checkpointer stopped; checkpointing on the main thread');
    this.worker = undefined;
    this.checkpointOnCommit();
  }

  private checkpointOnCommit(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    for (const w of this.writers) w.setWalAutocheckpoint(AUTOCHECKPOINT_PAGES);
  }
}
