import { Worker } from 'node:worker_threads';
import { microtask } from '../../../src/microtask.js';
import type { StackLogger } from '../transport-types.js';

/** Control words at the start of the shared buffer. */
const WRITE = 0; // byte offset of the next record (main thread)
const READ = 1; // byte offset of the next record to send (sender thread)
const SLEEPING = 2; // 1 while the sender thread waits for records
const STOP = 3; // 1 once the main thread wants the thread to end
const SENT = 4; // datagrams sent so far, wrapping at 2^31 (sender thread)
const CONTROL_WORDS = 5;
const CONTROL_BYTES = 32;
/** Record header: payload length (u32), port (u16), address length (u16). */
const HEADER_BYTES = 8;
/** A payload length no datagram has: the rest of the ring is unused, go on from 0. */
const WRAP = 0xffffffff;

/** How long a stopping thread gets to send what is queued before it is terminated. */
const STOP_WAIT_MS = 2000;

/**
 * The thread: a socket bound to the listener's address and port (SO_REUSEADDR, bound before
 * the listener's, so the kernel hands every datagram that arrives to the listener), sending
 * the records the main thread leaves in the shared ring. Kept as source text, like the
 * database's checkpointer, so it runs the same from the TypeScript sources and from dist/.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const dns = require('node:dns');
const net = require('node:net');
const os = require('node:os');
const { ring, type, host, port, sendBufferSize, nice } = workerData;
// As the database's writer thread does: Linux keeps a nice value per thread, and
// setpriority's 0 is the calling thread, so this lowers this one only.
if (nice > 0 && process.platform === 'linux') {
  try {
    os.setPriority(0, Math.min(19, os.getPriority(0) + nice));
  } catch {}
}
const ctl = new Int32Array(ring, 0, ${CONTROL_WORDS});
const bytes = Buffer.from(ring, ${CONTROL_BYTES});
const capacity = bytes.length;
// UdpTransport's lookupUnlessLiteral, restated: this source runs in the thread on its own.
// An address a packet came from goes straight to the socket.
const lookup = (hostname, options, callback) => {
  const family = net.isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, options, callback);
};
const socket = dgram.createSocket({ type, reuseAddr: true, sendBufferSize, recvBufferSize: 65536, lookup });
let read = 0;
let sent = 0;
socket.once('error', (err) => parentPort.postMessage({ kind: 'bind-failed', reason: err.code || err.message }));
socket.bind(port, host, () => {
  socket.removeAllListeners('error');
  socket.on('error', () => {});
  parentPort.postMessage({ kind: 'bound', port: socket.address().port });
  run();
});

function drain() {
  const write = Atomics.load(ctl, ${WRITE});
  while (read !== write) {
    const length = bytes.readUInt32LE(read);
    if (length === ${WRAP}) {
      read = 0;
      continue;
    }
    const to = bytes.readUInt16LE(read + 4);
    const start = read + ${HEADER_BYTES} + bytes.readUInt16LE(read + 6);
    const address = bytes.latin1Slice(read + ${HEADER_BYTES}, start);
    // A copy: a datagram the kernel cannot take at once waits in libuv's queue, and its
    // place in the ring is written over.
    const data = Buffer.allocUnsafe(length);
    bytes.copy(data, 0, start, start + length);
    try {
      socket.send(data, to, address);
    } catch {
      // A datagram dgram refuses (a closed socket) is lost, as UDP may lose it.
    }
    read = (start + length + 3) & ~3;
    if (read === capacity) read = 0;
    Atomics.store(ctl, ${READ}, read);
    sent = (sent + 1) | 0;
    Atomics.store(ctl, ${SENT}, sent);
  }
}

async function run() {
  while (Atomics.load(ctl, ${STOP}) === 0) {
    drain();
    Atomics.store(ctl, ${SLEEPING}, 1);
    if (Atomics.load(ctl, ${WRITE}) !== read || Atomics.load(ctl, ${STOP}) !== 0) {
      Atomics.store(ctl, ${SLEEPING}, 0);
      // Lets libuv flush a send queue the kernel pushed back on.
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    const waiting = Atomics.waitAsync(ctl, ${SLEEPING}, 1);
    if (waiting.async) await waiting.value;
  }
  drain();
  socket.close(() => parentPort.close());
}
`;

type FromThread = { kind: 'bound'; port: number } | { kind: 'bind-failed'; reason: string };

/**
 * Sends a UDP listener's datagrams from a thread of their own. On loopback and on a busy
 * server a sendmsg costs ~10 µs of kernel time (it runs the receiver's side of the stack
 * too), a seventh of the main thread's time under load; here the main thread only copies the
 * datagram into a shared ring and, when the thread sleeps, wakes it.
 *
 * The thread's socket shares the listener's address and port (SO_REUSEADDR on both), so
 * phones see every datagram come from the port they sent to (RFC 3581, NATs). Linux gives
 * unicast datagrams to the socket bound last, which is why the thread binds first and the
 * listener after it.
 */
export class UdpSenderThread {
  private readonly control: Int32Array;
  private readonly bytes: Buffer;
  private write = 0;
  private queued = 0;
  private publishing = false;
  private stopped = false;

  private constructor(
    private readonly worker: Worker,
    ring: SharedArrayBuffer,
    readonly port: number,
  ) {
    this.control = new Int32Array(ring, 0, CONTROL_WORDS);
    this.bytes = Buffer.from(ring, CONTROL_BYTES);
  }

  /**
   * Starts the thread and binds its socket to host:port (port 0: a free one, which the
   * listener then shares). Rejects with the bind error's code. `nice`: steps below the event
   * loop's priority the thread runs at (Linux; default 0, the same).
   */
  static start(o: { type: 'udp4' | 'udp6'; host: string; port: number; ringBytes: number; sendBufferSize: number; nice?: number; log: StackLogger }): Promise<UdpSenderThread> {
    const ring = new SharedArrayBuffer(CONTROL_BYTES + (o.ringBytes & ~3));
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { ring, type: o.type, host: o.host, port: o.port, sendBufferSize: o.sendBufferSize, nice: o.nice ?? 0 },
      // It keeps nothing but the datagram it is sending.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
    });
    worker.unref();
    return new Promise((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`udp sender thread exited with code ${code}`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (m: FromThread) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (m.kind === 'bind-failed') {
          void worker.terminate();
          reject(new Error(m.reason));
          return;
        }
        const sender = new UdpSenderThread(worker, ring, m.port);
        worker.on('error', (err) => o.log.error({ err, transport: 'udp' }, 'udp sender thread failed'));
        worker.on('exit', () => {
          if (!sender.stopped) o.log.error({ transport: 'udp' }, 'udp sender thread ended; sending from the event loop');
          sender.stopped = true;
        });
        resolve(sender);
      });
    });
  }

  /** Bytes queued and not yet sent. */
  get backlog(): number {
    const queued = this.write - Atomics.load(this.control, READ);
    return queued >= 0 ? queued : queued + this.bytes.length;
  }

  /** A mark for the datagram queued last: sent(mark) tells when the thread has sent it. */
  get mark(): number {
    return this.queued;
  }

  /** True once every datagram queued up to `mark` has been sent. */
  sent(mark: number): boolean {
    return ((Atomics.load(this.control, SENT) - mark) | 0) >= 0;
  }

  /** False once the thread has ended (stop(), or a crash): the caller sends on its own socket. */
  get running(): boolean {
    return !this.stopped;
  }

  /**
   * Queues a datagram. `address` is an IP literal or a host name (ASCII). Returns false if
   * the ring has no room for it; the caller then sends it on its own socket, and the two are
   * not kept in order (a subscription has one NOTIFY in flight at a time; a NOTIFY ahead of
   * its SUBSCRIBE's 200 is one the subscriber must be ready for, RFC 6665 4.1.2.4).
   */
  enqueue(address: string, port: number, data: Buffer): boolean {
    const bytes = this.bytes;
    const capacity = bytes.length;
    const need = (HEADER_BYTES + address.length + data.length + 3) & ~3;
    const read = Atomics.load(this.control, READ);
    let at = this.write;
    // The write offset never catches up with the read offset: equal means empty.
    if (at >= read) {
      if (capacity - at - (read === 0 ? 4 : 0) < need) {
        if (read - 4 < need) return false;
        bytes.writeUInt32LE(WRAP, at);
        at = 0;
      }
    } else if (read - at - 4 < need) {
      return false;
    }
    bytes.writeUInt32LE(data.length, at);
    bytes.writeUInt16LE(port, at + 4);
    bytes.writeUInt16LE(address.length, at + 6);
    bytes.write(address, at + HEADER_BYTES, 'latin1');
    data.copy(bytes, at + HEADER_BYTES + address.length);
    at += need;
    this.write = at === capacity ? 0 : at;
    this.queued = (this.queued + 1) | 0;
    if (!this.publishing) {
      this.publishing = true;
      microtask(this.publish);
    }
    return true;
  }

  /**
   * Hands the thread what was queued since it was last called. Once per task, not once per
   * datagram: waking the thread costs ~4 µs (a futex wake and an interrupt to the other
   * core), and what one task sends (a commit's 200s, a fan-out's NOTIFYs) goes in one wake.
   */
  private readonly publish = (): void => {
    this.publishing = false;
    const control = this.control;
    Atomics.store(control, WRITE, this.write);
    if (Atomics.load(control, SLEEPING) === 1) {
      Atomics.store(control, SLEEPING, 0);
      Atomics.notify(control, SLEEPING);
    }
  };

  /** Ends the thread the way a crash would (tests). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  /** Sends what is queued, closes the socket and ends the thread. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.ref();
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    Atomics.store(this.control, WRITE, this.write);
    Atomics.store(this.control, STOP, 1);
    Atomics.store(this.control, SLEEPING, 0);
    Atomics.notify(this.control, SLEEPING);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}
