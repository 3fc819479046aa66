/** Lookups per check of the hit rate. */
const WINDOW = 1024;
/** A window with fewer hits than this is a poor one. */
const MIN_HITS = 64;
/**
 * After this many poor windows in a row the pool stops looking for a while. As many lookups
 * as the pool holds strings: a set of strings that fits in it repeats within that many.
 */
const POOR_WINDOWS = 4;
/** Strings handed back without looking, once stopped, before it looks again. */
const DORMANT = 64 * WINDOW;

/**
 * One copy of a string many subscriptions hold alike. A phone with 50 BLF keys holds 50
 * subscriptions with the same From, Contact and User-Agent, and an extension watched by 50
 * phones has 50 with the same To and presentity; each SUBSCRIBE brings its own copies of them.
 * Taken from a pool, the subscriptions share one copy and the request's copies die young.
 * One pool per kind of string (From, To, ...), because kinds repeat differently.
 *
 * Bounded: strings go into a young table; once it holds `capacity`, it becomes the old table
 * and the previous old one is dropped. A string found in the old table moves back to the
 * young one, so strings in use stay and strings seen once are forgotten after two turns.
 *
 * A pool whose strings do not repeat (a load generator's From, new for every SUBSCRIBE) would
 * only cost a lookup and an insert for each; when fewer than one lookup in sixteen has found
 * its string over the last 4,096, the pool empties itself and hands strings back as they are
 * for the next 65,536, then looks again.
 */
export class StringPool {
  private young = new Map<string, string>();
  private old = new Map<string, string>();
  private lookups = 0;
  private hits = 0;
  private poorWindows = 0;
  private dormant = 0;

  constructor(private readonly capacity = POOR_WINDOWS * WINDOW) {}

  /**
   * The pool's copy of `s`, or `copy(s)` (default: `s`), now kept in the pool. `copy` makes
   * the string the pool keeps: a copy of a slice, so that it does not keep the message it was
   * cut from alive.
   */
  intern<S extends string>(s: S, copy?: (s: string) => string): S {
    if (this.dormant > 0) {
      this.dormant--;
      return (copy === undefined ? s : copy(s)) as S;
    }
    if (++this.lookups === WINDOW) this.checkHits();
    const young = this.young.get(s);
    if (young !== undefined) {
      this.hits++;
      return young as S;
    }
    let kept = this.old.get(s);
    if (kept !== undefined) this.hits++;
    else kept = copy === undefined ? s : copy(s);
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(kept, kept);
    return kept as S;
  }

  private checkHits(): void {
    this.poorWindows = this.hits < MIN_HITS ? this.poorWindows + 1 : 0;
    if (this.poorWindows === POOR_WINDOWS) {
      this.poorWindows = 0;
      this.dormant = DORMANT;
      this.young = new Map();
      this.old = new Map();
    }
    this.lookups = 0;
    this.hits = 0;
  }
}
