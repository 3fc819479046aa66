import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/**
 * Inserts between fresh Maps, for tables that grew old without a full collection (they
 * outlived two scavenges); also at least as many as the Map holds, so that copying stays
 * O(1) per insert.
 */
const FRESH_AFTER = 128;

/** Full collections so far: a GC observer counts them once the first ChurnMap exists. */
let fullCollections = 0;
let watching = false;

function watchFullCollections(): void {
  if (watching) return;
  watching = true;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullCollections++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** When a Map or Set starts over: at its first insert after a full collection, or after FRESH_AFTER. */
class Freshness {
  private inserts = 0;
  private epoch = fullCollections;

  constructor() {
    watchFullCollections();
  }

  /** Counts an insert into a table holding `size`; true when the table is to start over now. */
  stale(size: number): boolean {
    if (this.epoch === fullCollections && (++this.inserts < FRESH_AFTER || this.inserts < size)) return false;
    this.inserts = 0;
    this.epoch = fullCollections;
    return true;
  }

  reset(): void {
    this.inserts = 0;
  }
}

/**
 * A Map for entries that come and go by the thousand: transactions, NOTIFYs in flight,
 * subscriptions that last a few milliseconds under load.
 *
 * V8 keeps a Map's entries in a hash table, which it replaces with a new one whenever the
 * old one has filled up with deleted entries, and the replaced table points at its
 * successor. A replaced table in the old generation is garbage only a full collection
 * finds; until then the scavenger treats what it points at as live: its successor and its
 * entries. Every full collection moves a Map's current table to the old generation (V8
 * promotes whatever young object is live then), so after each one, everything that passed
 * through a busy Map (and everything its values reached: requests, their text) survived
 * the scavenges and was promoted, to die in the old generation. A small test (a long-lived
 * Map, 2,000 entries a second, each deleted 5 ms later, a full GC every 2 s) promoted 4,994
 * KB in 8 s; with a fresh Map every 100 inserts, 457 KB.
 *
 * So this one starts over on a fresh Map (the live entries copied, in order) at its first
 * insert after a full collection, and after FRESH_AFTER inserts. On the server at 1,125
 * subscribe cycles/s over TCP, with the transactions', NOTIFYs' and subscriptions' Maps and
 * Sets made these: ~600 -> ~180 KB promoted per scavenge, a scavenge's pause 4.2 -> 1.6 ms
 * on average (every 1,024 inserts alone: 355 KB; every 128: 181 KB, 2.0-2.2 ms).
 *
 * Do not insert while iterating: the iteration would go on over the old Map.
 */
export class ChurnMap<K, V> implements Iterable<[K, V]> {
  private map = new Map<K, V>();
  private readonly age = new Freshness();

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): this {
    if (this.age.stale(this.map.size)) {
      // forEach, not `new Map(map)`: the constructor iterates entries, an array per entry.
      const fresh = new Map<K, V>();
      this.map.forEach((v, k) => fresh.set(k, v));
      this.map = fresh;
    }
    this.map.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map = new Map();
    this.age.reset();
  }

  keys(): MapIterator<K> {
    return this.map.keys();
  }

  values(): MapIterator<V> {
    return this.map.values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.map[Symbol.iterator]();
  }
}

/** ChurnMap's Set: the same reason, the same rule. */
export class ChurnSet<T> implements Iterable<T> {
  private set = new Set<T>();
  private readonly age = new Freshness();

  get size(): number {
    return this.set.size;
  }

  has(value: T): boolean {
    return this.set.has(value);
  }

  add(value: T): this {
    if (this.age.stale(this.set.size)) {
      const fresh = new Set<T>();
      this.set.forEach((v) => fresh.add(v));
      this.set = fresh;
    }
    this.set.add(value);
    return this;
  }

  delete(value: T): boolean {
    return this.set.delete(value);
  }

  clear(): void {
    this.set = new Set();
    this.age.reset();
  }

  values(): SetIterator<T> {
    return this.set.values();
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.set[Symbol.iterator]();
  }
}
