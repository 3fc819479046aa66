/** Tickets count modulo 2^30, so they stay small integers (V8 Smis) however long the server runs. */
const TICKET_MASK = 0x3fffffff;
const INITIAL_CAPACITY = 64;

/**
 * A FIFO of items that all expire after the same delay, driven by a single timer. Timer J's
 * guard and the like have a fixed duration per configuration, so insertion order is expiry
 * order: adding is O(1), and an item is held in a ring (times in a Float64Array, items in one
 * array), so no object is created per entry, which matters at thousands of entries a second.
 * add() returns a ticket; cancel(ticket) lets go of the item at once, so a cancelled entry
 * keeps nothing alive while it waits its turn to be dropped.
 */
export class DeadlineQueue<T> {
  private capacity = INITIAL_CAPACITY;
  private at = new Float64Array(INITIAL_CAPACITY);
  private items: Array<T | undefined> = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  /** Ticket of the oldest entry, and the ticket the next add() gets. */
  private head = 0;
  private tail = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly onExpire: (item: T) => void,
  ) {}

  /** Queues `item` to expire after the delay; the ticket cancels it. */
  add(item: T): number {
    if (this.count === this.capacity) this.grow();
    const ticket = this.tail;
    const slot = ticket & (this.capacity - 1);
    this.at[slot] = performance.now() + this.delayMs;
    this.items[slot] = item;
    this.tail = (ticket + 1) & TICKET_MASK;
    if (this.timer === undefined) this.schedule();
    return ticket;
  }

  /** Lets go of the item behind `ticket` without calling onExpire; a stale ticket is ignored. */
  cancel(ticket: number): void {
    if (((ticket - this.head) & TICKET_MASK) >= this.count) return;
    this.items[ticket & (this.capacity - 1)] = undefined;
  }

  /** Entries waiting, cancelled ones included until their time comes. */
  get size(): number {
    return this.count;
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.head = this.tail = 0;
    this.reset();
  }

  /** Back to the first size once empty, so that a burst's ring is not kept. */
  private reset(): void {
    if (this.capacity === INITIAL_CAPACITY) {
      this.items.fill(undefined);
      return;
    }
    this.capacity = INITIAL_CAPACITY;
    this.at = new Float64Array(INITIAL_CAPACITY);
    this.items = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  }

  private get count(): number {
    return (this.tail - this.head) & TICKET_MASK;
  }

  /** Doubles the ring. A ticket's slot is its low bits, so entries move to their new slots. */
  private grow(): void {
    const capacity = this.capacity * 2;
    const at = new Float64Array(capacity);
    const items = new Array<T | undefined>(capacity).fill(undefined);
    for (let t = this.head; t !== this.tail; t = (t + 1) & TICKET_MASK) {
      const from = t & (this.capacity - 1);
      const to = t & (capacity - 1);
      at[to] = this.at[from];
      items[to] = this.items[from];
    }
    this.capacity = capacity;
    this.at = at;
    this.items = items;
  }

  private schedule(): void {
    if (this.count === 0) {
      this.timer = undefined;
      return;
    }
    const wait = Math.max(0, this.at[this.head & (this.capacity - 1)] - performance.now());
    this.timer = setTimeout(() => this.fire(), Math.ceil(wait));
    this.timer.unref();
  }

  private fire(): void {
    const now = performance.now();
    while (this.count > 0) {
      const slot = this.head & (this.capacity - 1);
      if (this.at[slot] > now + 1) break;
      const item = this.items[slot];
      this.items[slot] = undefined;
      this.head = (this.head + 1) & TICKET_MASK;
      if (item === undefined) continue;
      try {
        this.onExpire(item);
      } catch {
        // An expiry handler failing must not stop the other expiries.
      }
    }
    if (this.count === 0 && this.capacity > INITIAL_CAPACITY) this.reset();
    this.schedule();
  }
}
