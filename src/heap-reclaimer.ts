import type { Clock, TimerHandle } from './ports/clock.js';
import type { Logger } from './ports/logger.js';

/** The process's memory, bytes. */
export interface HeapReading {
  /**
   * Resident memory of the whole process: what a burst leaves behind and an operator sees.
   * Besides the JS heap it holds what only a full collection lets go of: the completed
   * transactions' 32 MiB chunks (Buffers, outside the JS heap) and a grown young generation.
   */
  resident: number;
  /** V8's JS heap as it reports itself: committed from the OS, and in use. */
  committed: number;
  used: number;
}

export interface HeapReclaimerOptions {
  clock: Clock;
  logger: Logger;
  readHeap(): HeapReading;
  /** Share of the time since the last call that the event loop was busy, 0 to 1. */
  busyShare(): number;
  /** A full collection that compacts every page (it pauses the event loop: ~100 ms at 100 MB). */
  compact(): void;
  /** How often to look, ms (default 5 s). */
  intervalMs?: number;
  /**
   * How long the server must have been quiet first, ms (default 35 s): longer than the 32 s
   * that completed UDP transactions linger (RFC 3261 Timer J), so that the burst's garbage
   * is dead by then.
   */
  quietMs?: number;
}

const MiB = 1024 * 1024;
/** Growth worth a pause: less than this is not worth stopping the event loop for. */
const MIN_GROWTH = 32 * MiB;
/** The event loop counts as quiet below this busy share. */
const QUIET = 0.05;

/**
 * Gives memory back after a burst. A burst of SUBSCRIBEs leaves the old generation full of
 * short-lived transactions interleaved with the subscriptions that stay; once they are dead
 * V8 does not compact on its own while the server is idle, so resident memory would stay at
 * the burst's peak (measured: 50,000 held subscriptions at ~4.3 KB each, against the ~1.4 KB
 * they occupy after compaction). When resident memory has grown by 32 MiB or more and the
 * server has been quiet for longer than Timer J, one compacting collection returns what is
 * free. The next waits until memory grows again, so a heap that cannot shrink is not
 * collected over and over.
 *
 * Growth is read from resident memory, not from V8's heap: after 10,000 SUBSCRIBEs the JS
 * heap had grown by 17 MiB, under the threshold, while the process held 54 MiB more than at
 * rest (the transaction store's dropped chunks, a grown young generation), which the
 * collection gives back (measured: 178 -> 133 MiB, 40-45 s after the burst).
 */
export class HeapReclaimer {
  private timer: TimerHandle | undefined;
  /** Resident bytes after the last compaction, or the least seen: growth is measured from here. */
  private floor: number;
  private quietSince: number | undefined;

  constructor(private readonly o: HeapReclaimerOptions) {
    this.floor = o.readHeap().resident;
  }

  start(): void {
    this.o.busyShare();
    this.schedule();
  }

  stop(): void {
    if (this.timer !== undefined) this.o.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** One look: compacts when it pays. Returns whether it did. */
  check(): boolean {
    const now = this.o.clock.now();
    if (this.o.busyShare() >= QUIET) {
      this.quietSince = undefined;
      return false;
    }
    this.quietSince ??= now;
    const before = this.o.readHeap();
    this.floor = Math.min(this.floor, before.resident);
    if (now - this.quietSince < (this.o.quietMs ?? 35_000) || before.resident < this.floor + MIN_GROWTH) return false;
    const started = performance.now();
    this.o.compact();
    const after = this.o.readHeap();
    // Resident memory falls over the next seconds, as V8's sweeper and the freed Buffers hand
    // pages back (the compaction itself first touches more); later looks lower the floor.
    this.floor = Math.min(before.resident, after.resident);
    this.o.logger.info(
      {
        residentMiB: Math.round(before.resident / MiB),
        heapMiB: Math.round(before.committed / MiB),
        heapAfterMiB: Math.round(after.committed / MiB),
        usedMiB: Math.round(after.used / MiB),
        ms: Math.round(performance.now() - started),
      },
      'heap compacted while quiet',
    );
    // The pause itself must not count as load at the next look.
    this.o.busyShare();
    return true;
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimer(() => {
      try {
        this.check();
      } catch (err) {
        this.o.logger.error({ err }, 'heap compaction failed');
      }
      this.schedule();
    }, this.o.intervalMs ?? 5_000);
  }
}
