/**
 * Runs inside the writer thread (see writer-thread.ts): its own connection to the database
 * file, opened as the server's (WAL, NORMAL sync, busy timeout, ...), and a WriteExecutor.
 */
import os from 'node:os';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { closeDatabase, openDatabase } from './open.js';
import { WriteExecutor } from './write-executor.js';
import type { WriteOp } from './write-op.js';
import type { FromWriter, ToWriter, WriteError, WriterData } from './writer-protocol.js';

const port = parentPort;
if (port === null) throw new Error('writer-thread-entry runs only as a worker thread');
const data = workerData as WriterData;
const post = (m: FromWriter): void => port.postMessage(m);

// Linux keeps a nice value per thread, and setpriority's 0 is the calling thread: this lowers
// this thread only. Its commits can wait a little for a busy event loop; the reverse stalls
// everything. Elsewhere 0 would be the whole process, so it is left alone there.
if (data.nice > 0 && process.platform === 'linux') {
  try {
    os.setPriority(0, Math.min(19, os.getPriority(0) + data.nice));
  } catch {
    // Not allowed here (a sandbox): the thread runs at the event loop's priority.
  }
}

// The same per-connection pragmas as the main connection; the main thread has already
// migrated the schema, so here migrate only checks its version.
const db = openDatabase(data.file);
setWalAutocheckpoint(data.walAutocheckpoint);
const executor = new WriteExecutor(db, {
  error: ({ err, op }) => post({ kind: 'write-failed', op, error: describeError(err) }),
});

port.on('message', (first: ToWriter) => {
  const batches: Array<readonly WriteOp[]> = [];
  let seq = 0;
  let stop = false;
  const take = (m: ToWriter): void => {
    switch (m.kind) {
      case 'batch':
        batches.push(m.ops);
        seq = m.seq;
        return;
      case 'wal-autocheckpoint':
        setWalAutocheckpoint(m.pages);
        return;
      case 'stop':
        stop = true;
        return;
    }
  };
  take(first);
  // Batches that arrived while the last transaction ran share the next one: under load the
  // commits stay few however short the main thread's turns are.
  for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) take(next.message as ToWriter);
  if (batches.length > 0) {
    // A failure to begin or commit throws out of here and ends the thread: the main thread
    // then runs every batch not acknowledged, on its own connection.
    executor.commit(batches);
    post({ kind: 'committed', seq });
  }
  if (stop) {
    closeDatabase(db);
    port.close();
  }
});

function setWalAutocheckpoint(pages: number): void {
  // PRAGMA takes no bound parameters; the value is checked to be an integer.
  if (Number.isSafeInteger(pages) && pages >= 0) db.pragma(`wal_autocheckpoint = ${pages}`);
}

function describeError(err: unknown): WriteError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? { name: err.name, message: err.message, code } : { name: err.name, message: err.message };
}
