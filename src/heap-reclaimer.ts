import type { Clock, TimerHandle } from './ports/clock.js';
import type { Logger } from './ports/logger.js';

/** V8's heap as it reports itself: bytes committed from the OS and bytes in use. */
export interface HeapReading {
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
  /** How often to look, ms. */
  intervalMs?: number;
  /**
   * How long the server must have been quiet first, ms: longer than the 32 s that completed
   * UDP transactions linger (RFC 3261 Timer J), so that the burst's garbage is dead by then.
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
 * they occupy after compaction). When the heap has grown by 32 MiB or more and the server
 * has been quiet for longer than Timer J, one compacting collection returns what is free.
 * The next waits until the heap grows again, so a heap that cannot shrink is not collected
 * over and over.
 */
export class HeapReclaimer {
  private timer: TimerHandle | undefined;
  /** Committed bytes after the last compaction (or at start): growth is measured from here. */
  private floor: number;
  private quietSince: number | undefined;

  constructor(private readonly o: HeapReclaimerOptions) {
    this.floor = o.readHeap().committed;
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
    this.floor = Math.min(this.floor, before.committed);
    if (now - this.quietSince < (this.o.quietMs ?? 40_000) || before.committed < this.floor + MIN_GROWTH) return false;
    const started = performance.now();
    this.o.compact();
    const after = this.o.readHeap();
    this.floor = after.committed;
    this.o.logger.info(
      { committedMiB: Math.round(before.committed / MiB), afterMiB: Math.round(after.committed / MiB), usedMiB: Math.round(after.used / MiB), ms: Math.round(performance.now() - started) },
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
    }, this.o.intervalMs ?? 10_000);
  }
}
