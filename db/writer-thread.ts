import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WriteOp } from './write-op.js';
import type { FromWriter, ToWriter, WriteError, WriterData } from './writer-protocol.js';

/**
 * Loads the thread's module. Kept as source text, like the checkpointer's worker, so that it
 * runs the same from dist/ and from the TypeScript sources (vitest, tsx). From the sources the
 * thread first registers tsx's require hook, which compiles them on this thread: a worker does
 * not inherit its parent's loader, and tsx's ESM loader would start a thread of its own,
 * several times slower to come up.
 */
const BOOTSTRAP_SOURCE = `
const { workerData } = require('node:worker_threads');
if (workerData.tsLoader) {
  require(workerData.tsLoader).register();
  require(workerData.entry);
} else {
  import(require('node:url').pathToFileURL(workerData.entry).href).catch((err) => setImmediate(() => { throw err; }));
}
`;

/** How long a stopping thread gets to close its connection before it is terminated. */
const STOP_WAIT_MS = 2000;

export interface WriterThreadEvents {
  /** Every batch up to `seq` is committed. */
  committed(seq: number): void;
  /** One op failed and was skipped; the rest of its batch was committed. */
  writeFailed(err: Error, op: WriteOp[0]): void;
  /** The thread ended, or never started, without being asked to stop. */
  died(err: Error): void;
}

/** The main thread's handle on the writer thread (writer-thread-entry.ts). */
export class WriterThread {
  private readonly worker: Worker;
  private stopping = false;
  private failure: Error | undefined;

  /** `nice`: steps below the event loop's priority the thread runs at (Linux; 0: the same). */
  constructor(file: string, walAutocheckpoint: number, nice: number, events: WriterThreadEvents) {
    const typescript = import.meta.url.endsWith('.ts');
    const data: WriterData = {
      entry: fileURLToPath(new URL(typescript ? './writer-thread-entry.ts' : './writer-thread-entry.js', import.meta.url)),
      file,
      walAutocheckpoint,
      nice,
    };
    // Resolved here: in the thread a bare specifier would resolve from the working directory.
    if (typescript) data.tsLoader = createRequire(import.meta.url).resolve('tsx/cjs/api');
    // A small young generation: the thread keeps nothing between batches, and a burst of
    // 50,000 SUBSCRIBEs otherwise leaves it holding tens of MB of empty semi-space.
    this.worker = new Worker(BOOTSTRAP_SOURCE, { eval: true, workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    // Held only while batches wait for it (hold), so it never keeps an idle process alive.
    this.worker.unref();
    this.worker.on('message', (m: FromWriter) => {
      if (m.kind === 'committed') events.committed(m.seq);
      else events.writeFailed(toError(m.error), m.op);
    });
    this.worker.on('error', (err) => {
      this.failure = err;
    });
    this.worker.on('exit', (code) => {
      if (!this.stopping) events.died(this.failure ?? new Error(`writer thread exited with code ${code}`));
    });
  }

  post(seq: number, ops: readonly WriteOp[]): void {
    this.send({ kind: 'batch', seq, ops });
  }

  setWalAutocheckpoint(pages: number): void {
    this.send({ kind: 'wal-autocheckpoint', pages });
  }

  /** While held, the thread keeps the process alive: it has writes to commit. */
  hold(held: boolean): void {
    if (held) this.worker.ref();
    else this.worker.unref();
  }

  /** Lets the thread close its connection and end; call once nothing is pending. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.worker.ref();
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.send({ kind: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }

  /** Ends the thread the way a crash would (tests). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private send(m: ToWriter): void {
    this.worker.postMessage(m);
  }
}

function toError(e: WriteError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.code !== undefined) Object.assign(err, { code: e.code });
  return err;
}
