/** Where a UDP listener counts the datagrams it reads. */
export interface ReadTally {
  reads: number;
}

/** The most datagrams libuv reads from one UDP socket in an event-loop turn. */
const READS_PER_TURN = 32;

/**
 * Keeps REST work from crowding SIP's answers out of the event loop.
 *
 * libuv reads at most 32 datagrams from a UDP socket per event-loop turn, and the same turn
 * handles every HTTP request that has arrived. Under a storm of REST sets (20 clients, each
 * set fanned out to 100 watchers) a turn took 6-14 ms and read 32 datagrams, every turn: the
 * watchers' 200s to NOTIFYs waited in the kernel past T1, so the NOTIFYs went again (a third
 * of what the watchers received was retransmissions), and each repeat brought one more 200
 * to wait in line.
 *
 * So while a listener's reads come back full, REST requests go ahead a few per turn and the
 * others wait, in the order they came; a turn whose reads were not full lets them all go.
 * The turns are looked at only while requests come: a request that finds none being watched
 * goes at once, and the watch ends after a turn with no request. A front that reads no
 * datagrams itself (drachtio) asks for no tally, and then nothing waits.
 */
export class ReceivePriority {
  private readonly tallies: ReadTally[] = [];
  private readonly waiting: Array<() => void> = [];
  private head = 0;
  private watching = false;
  private backlogged = false;
  /** Requests admitted since the last turn was looked at. */
  private arrived = 0;

  /** `perTurn`: requests let through per event-loop turn while a listener is behind. */
  constructor(private readonly perTurn = 2) {}

  /** A tally for one UDP listener to count its reads in (`reads++` per datagram). */
  tally(): ReadTally {
    const tally = { reads: 0 };
    this.tallies.push(tally);
    return tally;
  }

  /** Whether a listener's read was full in the last turn looked at. */
  get behind(): boolean {
    return this.backlogged;
  }

  /** Requests waiting for their turn. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** Runs `go` now, or in a later turn while a listener is behind. */
  admit(go: () => void): void {
    if (this.tallies.length === 0) {
      go();
      return;
    }
    this.arrived++;
    if (!this.watching) {
      this.watching = true;
      for (const t of this.tallies) t.reads = 0;
      setImmediate(this.turn);
    } else if (this.backlogged || this.head !== this.waiting.length) {
      this.waiting.push(go);
      return;
    }
    go();
  }

  /** Once per turn while watching, after the turn's reads (the check phase follows the poll). */
  private readonly turn = (): void => {
    let full = false;
    for (const t of this.tallies) {
      if (t.reads >= READS_PER_TURN) full = true;
      t.reads = 0;
    }
    this.backlogged = full;
    const waiting = this.waiting;
    const until = full ? Math.min(waiting.length, this.head + this.perTurn) : waiting.length;
    while (this.head < until) {
      const go = waiting[this.head]!;
      waiting[this.head++] = noop;
      go();
    }
    if (this.head === waiting.length) {
      waiting.length = 0;
      this.head = 0;
      if (this.arrived === 0) {
        // A pending immediate keeps the event loop from sleeping: stop looking once idle.
        this.watching = false;
        this.backlogged = false;
        return;
      }
    }
    this.arrived = 0;
    setImmediate(this.turn);
  };
}

function noop(): void {}
