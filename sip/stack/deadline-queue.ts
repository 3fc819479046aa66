/**
 * A FIFO of items that all expire after the same delay, driven by a single timer. Timer J,
 * Timer K and the server guard have a fixed duration per configuration, so insertion order
 * is expiry order: adding is O(1) and no per-transaction Timeout object is created, which
 * matters with tens of thousands of completed transactions lingering for 32 s.
 * Items are not removed early; the callback decides whether an expiry is still relevant.
 */
export class DeadlineQueue<T> {
  private items: Array<{ at: number; item: T }> = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly onExpire: (item: T) => void,
  ) {}

  add(item: T): void {
    this.items.push({ at: performance.now() + this.delayMs, item });
    if (this.timer === undefined) this.schedule();
  }

  get size(): number {
    return this.items.length - this.head;
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.items = [];
    this.head = 0;
  }

  private schedule(): void {
    if (this.head >= this.items.length) {
      this.timer = undefined;
      return;
    }
    const wait = Math.max(0, this.items[this.head].at - performance.now());
    this.timer = setTimeout(() => this.fire(), Math.ceil(wait));
    this.timer.unref();
  }

  private fire(): void {
    const now = performance.now();
    while (this.head < this.items.length && this.items[this.head].at <= now + 1) {
      const { item } = this.items[this.head];
      this.head++;
      try {
        this.onExpire(item);
      } catch {
        // An expiry handler failing must not stop the other expiries.
      }
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.schedule();
  }
}
