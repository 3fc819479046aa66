import type { Destination, TransportProtocol } from './transport-types.js';

/** Sequence numbers count modulo 2^30, so they stay small integers (V8 Smis). */
const SEQ_MASK = 0x3fffffff;
const INITIAL_SLOTS = 4096;
const INITIAL_BYTES = 1024 * 1024;
const NONE = -1;
const PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];
const PROTOCOL_INDEX: Readonly<Record<TransportProtocol, number>> = { udp: 0, tcp: 1, tls: 2, ws: 3, wss: 4 };

/** What a retransmitted request gets again: the final response and where it went. */
export interface CompletedAnswer {
  destination: Destination;
  data: Buffer;
}

/**
 * Completed non-INVITE transactions that linger only to meet retransmissions (RFC 3261
 * 17.2.2 Timer J, 64*T1, for a server transaction on UDP; 17.1.2.2 Timer K, T4, for a client
 * one). At thousands of transactions a second that is hundreds of thousands held at once. As
 * objects (a transaction, its key, destination and response text) every one of them outlived
 * two scavenges, was copied into V8's old generation and then traced by every full
 * collection: at 4,000 subscribe cycles a second over UDP that GC work alone took the server
 * past its CPU. So they are held off the JS heap:
 *
 * - the key, the destination's address and the response bytes of each entry, back to back
 *   in one byte ring;
 * - its expiry time, key hash, sizes and port in typed arrays indexed by sequence number;
 * - a hash table of its own (an Int32Array of buckets, twice as many as slots, each holding
 *   the newest entry whose key hash falls in it, with older ones chained behind); a lookup
 *   compares the hash, then the key bytes. A Map did the same at several times the cost.
 *
 * All entries wait the same delay, so they expire in the order they came, from one timer.
 * The rings double when full and shrink back once mostly empty.
 */
export class CompletedTransactions {
  private slots = INITIAL_SLOTS;
  private at = new Float64Array(INITIAL_SLOTS);
  private hashOf = new Int32Array(INITIAL_SLOTS);
  /** Sequence number of the next older entry in the same bucket, or NONE. */
  private older = new Int32Array(INITIAL_SLOTS);
  /** Newest entry per bucket (hash & (2 * slots - 1)), or NONE. */
  private buckets = new Int32Array(2 * INITIAL_SLOTS).fill(NONE);
  private offset = new Int32Array(INITIAL_SLOTS);
  private keyBytes = new Int32Array(INITIAL_SLOTS);
  private addressBytes = new Int32Array(INITIAL_SLOTS);
  private dataBytes = new Int32Array(INITIAL_SLOTS);
  private port = new Int32Array(INITIAL_SLOTS);
  private protocol = new Uint8Array(INITIAL_SLOTS);
  private bytes = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  /** Where the next entry's bytes go. The oldest entry's offset is where live bytes start. */
  private writeAt = 0;
  private liveBytes = 0;
  /** Sequence number of the oldest entry, and the one the next add() takes. */
  private head = 0;
  private tail = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly delayMs: number) {}

  get size(): number {
    return (this.tail - this.head) & SEQ_MASK;
  }

  /** Holds `key` for the delay: with the response to resend, for a server transaction. */
  add(key: string, answer?: { destination: Destination; data: Buffer }): void {
    const address = answer?.destination.address ?? '';
    const data = answer?.data;
    // An upper bound first (UTF-8 takes at most 3 bytes per UTF-16 unit), the exact sizes
    // after writing.
    const need = (key.length + address.length) * 3 + (data?.length ?? 0);
    if (this.size === this.slots) this.relayout(this.slots * 2, this.bytes.length);
    let at = this.reserve(need);
    if (at < 0) {
      this.relayout(this.slots, Math.max(this.bytes.length * 2, (this.liveBytes + need) * 2));
      at = this.reserve(need);
    }
    const seq = this.tail;
    const slot = seq & (this.slots - 1);
    const keyLength = this.bytes.write(key, at, 'utf8');
    const addressLength = address.length === 0 ? 0 : this.bytes.write(address, at + keyLength, 'utf8');
    let dataLength = 0;
    if (data !== undefined) {
      this.bytes.set(data, at + keyLength + addressLength);
      dataLength = data.length;
    }
    const hash = hashKey(key);
    const bucket = hash & (this.buckets.length - 1);
    this.at[slot] = performance.now() + this.delayMs;
    this.hashOf[slot] = hash;
    this.older[slot] = this.buckets[bucket];
    this.buckets[bucket] = seq;
    this.offset[slot] = at;
    this.keyBytes[slot] = keyLength;
    this.addressBytes[slot] = addressLength;
    this.dataBytes[slot] = dataLength;
    this.port[slot] = answer?.destination.port ?? 0;
    this.protocol[slot] = answer === undefined ? 0 : (PROTOCOL_INDEX[answer.destination.transport] ?? 0);
    const used = keyLength + addressLength + dataLength;
    this.writeAt = at + used;
    this.liveBytes += used;
    this.tail = (seq + 1) & SEQ_MASK;
    if (this.timer === undefined) this.schedule();
  }

  has(key: string): boolean {
    return this.find(key) !== NONE;
  }

  /** The response a server transaction answered `key` with (a copy), while it lingers. */
  answer(key: string): CompletedAnswer | undefined {
    const seq = this.find(key);
    if (seq === NONE) return undefined;
    const slot = seq & (this.slots - 1);
    const start = this.offset[slot] + this.keyBytes[slot];
    const dataStart = start + this.addressBytes[slot];
    return {
      destination: {
        transport: PROTOCOLS[this.protocol[slot]],
        address: this.bytes.toString('utf8', start, dataStart),
        port: this.port[slot],
      },
      data: Buffer.from(this.bytes.subarray(dataStart, dataStart + this.dataBytes[slot])),
    };
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.buckets.fill(NONE);
    this.head = this.tail = 0;
    this.writeAt = this.liveBytes = 0;
    if (this.slots > INITIAL_SLOTS || this.bytes.length > INITIAL_BYTES) this.relayout(INITIAL_SLOTS, INITIAL_BYTES);
  }

  private find(key: string): number {
    const hash = hashKey(key);
    let seq = this.buckets[hash & (this.buckets.length - 1)];
    while (seq !== NONE) {
      const slot = seq & (this.slots - 1);
      const start = this.offset[slot];
      if (this.hashOf[slot] === hash && this.bytes.toString('utf8', start, start + this.keyBytes[slot]) === key) return seq;
      seq = this.older[slot];
    }
    return NONE;
  }

  /**
   * A place for `need` bytes in the ring, or -1 if there is none. Live bytes run from the
   * oldest entry's offset to writeAt, possibly wrapping past the end of the buffer.
   */
  private reserve(need: number): number {
    if (this.size === 0) {
      this.writeAt = 0;
      return need <= this.bytes.length ? 0 : -1;
    }
    const start = this.offset[this.head & (this.slots - 1)];
    if (this.writeAt > start || (this.writeAt === start && this.liveBytes === 0)) {
      if (this.writeAt + need <= this.bytes.length) return this.writeAt;
      return need < start ? 0 : -1;
    }
    return this.writeAt + need <= start ? this.writeAt : -1;
  }

  /**
   * Copies the live entries, oldest first, into rings of the given sizes (to grow or to
   * shrink). A sequence number's slot is its low bits, so each entry moves to its new slot;
   * their bytes move in at most a few runs (the ring wraps once), and the buckets are built
   * again for the new size.
   */
  private relayout(slots: number, byteLength: number): void {
    const from = { at: this.at, hashOf: this.hashOf, offset: this.offset, keyBytes: this.keyBytes, addressBytes: this.addressBytes, dataBytes: this.dataBytes, port: this.port, protocol: this.protocol };
    const oldSlots = this.slots;
    const oldBytes = this.bytes;
    this.slots = slots;
    this.at = new Float64Array(slots);
    this.hashOf = new Int32Array(slots);
    this.older = new Int32Array(slots);
    this.buckets = new Int32Array(2 * slots).fill(NONE);
    this.offset = new Int32Array(slots);
    this.keyBytes = new Int32Array(slots);
    this.addressBytes = new Int32Array(slots);
    this.dataBytes = new Int32Array(slots);
    this.port = new Int32Array(slots);
    this.protocol = new Uint8Array(slots);
    this.bytes = Buffer.allocUnsafeSlow(byteLength);
    let write = 0;
    // A run of entries that lie back to back in the old ring: [runFrom, runTo) moves to runAt.
    let runFrom = 0;
    let runTo = 0;
    let runAt = 0;
    for (let seq = this.head; seq !== this.tail; seq = (seq + 1) & SEQ_MASK) {
      const a = seq & (oldSlots - 1);
      const b = seq & (slots - 1);
      const length = from.keyBytes[a] + from.addressBytes[a] + from.dataBytes[a];
      if (from.offset[a] !== runTo) {
        oldBytes.copy(this.bytes, runAt, runFrom, runTo);
        runFrom = runTo = from.offset[a];
        runAt = write;
      }
      runTo += length;
      const hash = from.hashOf[a];
      const bucket = hash & (this.buckets.length - 1);
      this.at[b] = from.at[a];
      this.hashOf[b] = hash;
      this.older[b] = this.buckets[bucket];
      this.buckets[bucket] = seq;
      this.offset[b] = write;
      this.keyBytes[b] = from.keyBytes[a];
      this.addressBytes[b] = from.addressBytes[a];
      this.dataBytes[b] = from.dataBytes[a];
      this.port[b] = from.port[a];
      this.protocol[b] = from.protocol[a];
      write += length;
    }
    oldBytes.copy(this.bytes, runAt, runFrom, runTo);
    this.writeAt = write;
  }

  private schedule(): void {
    if (this.size === 0) {
      this.timer = undefined;
      return;
    }
    const wait = Math.max(0, this.at[this.head & (this.slots - 1)] - performance.now());
    this.timer = setTimeout(() => this.expire(), Math.ceil(wait));
    this.timer.unref();
  }

  private expire(): void {
    const now = performance.now();
    while (this.size > 0) {
      const seq = this.head;
      const slot = seq & (this.slots - 1);
      if (this.at[slot] > now + 1) break;
      this.unlink(seq, this.hashOf[slot] & (this.buckets.length - 1));
      this.liveBytes -= this.keyBytes[slot] + this.addressBytes[slot] + this.dataBytes[slot];
      this.head = (seq + 1) & SEQ_MASK;
    }
    // Give memory back after a burst: at most a quarter in use, and above the start size.
    const size = this.size;
    if (size === 0) this.writeAt = 0;
    const slots = this.slots > INITIAL_SLOTS && size * 4 < this.slots ? this.slots / 2 : this.slots;
    const bytes = this.bytes.length > INITIAL_BYTES && this.liveBytes * 4 < this.bytes.length ? this.bytes.length / 2 : this.bytes.length;
    if (slots !== this.slots || bytes !== this.bytes.length) this.relayout(slots, bytes);
    this.schedule();
  }

  /** Drops the oldest entry from its bucket's chain: it is the chain's last link. */
  private unlink(seq: number, bucket: number): void {
    let at = this.buckets[bucket];
    if (at === seq) {
      this.buckets[bucket] = NONE;
      return;
    }
    while (at !== NONE) {
      const slot = at & (this.slots - 1);
      if (this.older[slot] === seq) {
        this.older[slot] = NONE;
        return;
      }
      at = this.older[slot];
    }
  }
}

/** FNV-1a over the key's UTF-16 units, folded to 30 bits. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 30)) & SEQ_MASK;
}
