import { DeadlineQueue } from './deadline-queue.js';
import type { Destination, TransportProtocol } from './transport-types.js';

/** Sequence numbers count modulo 2^30, so they stay small integers (V8 Smis). */
const SEQ_MASK = 0x3fffffff;
const INITIAL_SLOTS = 4096;
/**
 * Bytes are kept in chunks of 32 MiB: glibc's largest dynamic mmap threshold, so a chunk is
 * always mmapped on its own and unmapped when let go. Smaller chunks came from the brk heap
 * once a freed block had raised the threshold, and that heap never shrinks: 50,000 SUBSCRIBEs
 * left 30 MB in it after their Timer J had run out (1 MiB chunks). A chunk is written from
 * its start, and pages never written take no memory, so a lightly used chunk costs little.
 * An empty store starts with a small chunk: every stack has two stores, and V8 counts a
 * chunk's whole size as external memory when it decides to collect.
 */
const CHUNK_BYTES = 32 * 1024 * 1024;
const FIRST_CHUNK_BYTES = 64 * 1024;
const NONE = -1;
const PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];
const PROTOCOL_INDEX = Object.fromEntries(PROTOCOLS.map((p, i) => [p, i])) as Readonly<Record<TransportProtocol, number>>;

/** What a retransmitted request gets again: the final response and where it went. */
export interface CompletedAnswer {
  destination: Destination;
  data: Buffer;
}

/**
 * Completed non-INVITE server transactions that linger only to meet retransmissions (RFC 3261
 * 17.2.2 Timer J, 64*T1, on UDP). At thousands of transactions a second that is hundreds of
 * thousands held at once. As objects (a transaction, its key, destination and response text)
 * every one of them outlived two scavenges, was copied into V8's old generation and then
 * traced by every full collection: at 4,000 subscribe cycles a second over UDP that GC work
 * alone took the server past its CPU. So they are held off the JS heap:
 *
 * - the key, the destination's address and the response bytes of each entry, back to back
 *   in 32 MiB chunks, appended at the tail and let go from the head as entries expire (no
 *   entry is ever moved, so growing costs no copy);
 * - its key hash, place and sizes in typed arrays indexed by sequence number (a ring that
 *   doubles when full), its expiry in a DeadlineQueue of sequence numbers;
 * - a hash table of its own (an Int32Array of buckets, twice as many as slots, each holding
 *   the newest entry whose key hash falls in it, with older ones chained behind); a lookup
 *   compares the hash, then the key bytes. A Map did the same at several times the cost.
 *
 * All entries wait the same delay, so they expire in the order they came.
 */
export class CompletedTransactions {
  private slots = INITIAL_SLOTS;
  private hashOf = new Int32Array(INITIAL_SLOTS);
  /** Sequence number of the next older entry in the same bucket, or NONE. */
  private older = new Int32Array(INITIAL_SLOTS);
  /** Newest entry per bucket (hash & (2 * slots - 1)), or NONE. */
  private buckets = new Int32Array(2 * INITIAL_SLOTS).fill(NONE);
  /** The entry's chunk (its number since the store began, modulo 2^30) and offset in it. */
  private chunkOf = new Int32Array(INITIAL_SLOTS);
  private offset = new Int32Array(INITIAL_SLOTS);
  private keyBytes = new Int32Array(INITIAL_SLOTS);
  private addressBytes = new Int32Array(INITIAL_SLOTS);
  private dataBytes = new Int32Array(INITIAL_SLOTS);
  private port = new Int32Array(INITIAL_SLOTS);
  private protocol = new Uint8Array(INITIAL_SLOTS);
  /** Chunks in use, oldest first; chunks[0] is chunk number firstChunk. */
  private chunks: Buffer[];
  private firstChunk = 0;
  /** A chunk let go, kept for the next one needed (a steady load recycles two). */
  private spare: Buffer | undefined;
  /** Where the next entry's bytes go in the last chunk. */
  private writeAt = 0;
  /** Sequence number of the oldest entry, and the one the next add() takes. */
  private head = 0;
  private tail = 0;
  /** Sequence numbers in the order they expire (the order they came). */
  private readonly expiry: DeadlineQueue<number>;

  /** `chunkBytes` is for tests, to see chunks come and go with little data. */
  constructor(
    delayMs: number,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {
    this.chunks = [Buffer.allocUnsafeSlow(Math.min(chunkBytes, FIRST_CHUNK_BYTES))];
    this.expiry = new DeadlineQueue(delayMs, (seq) => this.expire(seq));
  }

  get size(): number {
    return (this.tail - this.head) & SEQ_MASK;
  }

  /** Holds `key` for the delay, with the response to resend and where it went. */
  add(key: string, answer: CompletedAnswer): void {
    const { destination, data } = answer;
    const address = destination.address;
    // An upper bound first (UTF-8 takes at most 3 bytes per UTF-16 unit), the exact sizes
    // after writing.
    const need = (key.length + address.length) * 3 + data.length;
    if (this.size === this.slots) this.resize(this.slots * 2);
    let chunk = this.chunks[this.chunks.length - 1];
    if (this.writeAt + need > chunk.length) {
      chunk = this.newChunk(need);
      this.chunks.push(chunk);
      this.writeAt = 0;
    }
    const at = this.writeAt;
    const seq = this.tail;
    const slot = seq & (this.slots - 1);
    const keyLength = chunk.write(key, at, 'utf8');
    const addressLength = chunk.write(address, at + keyLength, 'utf8');
    chunk.set(data, at + keyLength + addressLength);
    const dataLength = data.length;
    const hash = hashKey(key);
    const bucket = hash & (this.buckets.length - 1);
    this.hashOf[slot] = hash;
    this.older[slot] = this.buckets[bucket];
    this.buckets[bucket] = seq;
    this.chunkOf[slot] = (this.firstChunk + this.chunks.length - 1) & SEQ_MASK;
    this.offset[slot] = at;
    this.keyBytes[slot] = keyLength;
    this.addressBytes[slot] = addressLength;
    this.dataBytes[slot] = dataLength;
    this.port[slot] = destination.port;
    this.protocol[slot] = PROTOCOL_INDEX[destination.transport] ?? 0;
    this.writeAt = at + keyLength + addressLength + dataLength;
    this.tail = (seq + 1) & SEQ_MASK;
    this.expiry.add(seq);
  }

  /** The response a server transaction answered `key` with (a copy), while it lingers. */
  answer(key: string): CompletedAnswer | undefined {
    const seq = this.find(key);
    if (seq === NONE) return undefined;
    const slot = seq & (this.slots - 1);
    const chunk = this.chunkFor(slot);
    const start = this.offset[slot] + this.keyBytes[slot];
    const dataStart = start + this.addressBytes[slot];
    return {
      destination: {
        transport: PROTOCOLS[this.protocol[slot]],
        address: chunk.toString('utf8', start, dataStart),
        port: this.port[slot],
      },
      data: Buffer.from(chunk.subarray(dataStart, dataStart + this.dataBytes[slot])),
    };
  }

  clear(): void {
    this.expiry.clear();
    this.head = this.tail = 0;
    this.dropChunks();
    if (this.slots > INITIAL_SLOTS) this.resize(INITIAL_SLOTS);
    this.buckets.fill(NONE);
  }

  private chunkFor(slot: number): Buffer {
    return this.chunks[(this.chunkOf[slot] - this.firstChunk) & SEQ_MASK];
  }

  private find(key: string): number {
    const hash = hashKey(key);
    let seq = this.buckets[hash & (this.buckets.length - 1)];
    while (seq !== NONE) {
      const slot = seq & (this.slots - 1);
      if (this.hashOf[slot] === hash) {
        const start = this.offset[slot];
        if (this.chunkFor(slot).toString('utf8', start, start + this.keyBytes[slot]) === key) return seq;
      }
      seq = this.older[slot];
    }
    return NONE;
  }

  private newChunk(need: number): Buffer {
    if (need > this.chunkBytes) return Buffer.allocUnsafeSlow(need);
    const spare = this.spare;
    this.spare = undefined;
    return spare ?? Buffer.allocUnsafeSlow(this.chunkBytes);
  }

  /**
   * Once empty: one small fresh chunk, so that the pages the last ones had written go back to
   * the system with them.
   */
  private dropChunks(): void {
    this.chunks = [Buffer.allocUnsafeSlow(Math.min(this.chunkBytes, FIRST_CHUNK_BYTES))];
    this.spare = undefined;
    this.firstChunk = 0;
    this.writeAt = 0;
  }

  /**
   * Moves the slots to rings of `slots` entries (to grow or to shrink) and builds the buckets
   * again for that size. A sequence number's slot is its low bits, so the live entries move
   * in at most a few runs. The bytes stay where they are.
   */
  private resize(slots: number): void {
    const oldSlots = this.slots;
    const size = this.size;
    const move = <T extends Float64Array | Int32Array | Uint8Array>(from: T, to: T): T => {
      let seq = this.head;
      for (let left = size; left > 0; ) {
        const a = seq & (oldSlots - 1);
        const b = seq & (slots - 1);
        const n = Math.min(left, oldSlots - a, slots - b);
        to.set(from.subarray(a, a + n), b);
        seq = (seq + n) & SEQ_MASK;
        left -= n;
      }
      return to;
    };
    this.hashOf = move(this.hashOf, new Int32Array(slots));
    this.chunkOf = move(this.chunkOf, new Int32Array(slots));
    this.offset = move(this.offset, new Int32Array(slots));
    this.keyBytes = move(this.keyBytes, new Int32Array(slots));
    this.addressBytes = move(this.addressBytes, new Int32Array(slots));
    this.dataBytes = move(this.dataBytes, new Int32Array(slots));
    this.port = move(this.port, new Int32Array(slots));
    this.protocol = move(this.protocol, new Uint8Array(slots));
    this.slots = slots;
    this.older = new Int32Array(slots);
    this.buckets = new Int32Array(2 * slots).fill(NONE);
    for (let seq = this.head; seq !== this.tail; seq = (seq + 1) & SEQ_MASK) {
      const slot = seq & (slots - 1);
      const bucket = this.hashOf[slot] & (this.buckets.length - 1);
      this.older[slot] = this.buckets[bucket];
      this.buckets[bucket] = seq;
    }
  }

  /** The oldest entry's time is up (entries expire in the order they came). */
  private expire(seq: number): void {
    if (seq !== this.head || this.size === 0) return;
    const slot = seq & (this.slots - 1);
    this.unlink(seq, this.hashOf[slot] & (this.buckets.length - 1));
    this.head = (seq + 1) & SEQ_MASK;
    if (this.size === 0) {
      this.dropChunks();
      if (this.slots > INITIAL_SLOTS) this.resize(INITIAL_SLOTS);
      return;
    }
    // Chunks older than the oldest entry's are free; one is kept for reuse.
    const oldest = this.chunkOf[this.head & (this.slots - 1)];
    const free = (oldest - this.firstChunk) & SEQ_MASK;
    if (free > 0) {
      for (const chunk of this.chunks.splice(0, free)) if (chunk.length === this.chunkBytes) this.spare = chunk;
      this.firstChunk = oldest;
    }
    // Give memory back after a burst: slots at most an eighth in use shrink by half.
    if (this.slots > INITIAL_SLOTS && this.size * 8 < this.slots) this.resize(this.slots / 2);
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
