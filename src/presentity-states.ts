import type { DialogInfo } from './dialog-info.js';
import { isDialogTransitionAllowed } from './dialog-state.js';
import type { StateKind } from './event-package.js';
import type { Presentity } from './presentity.js';
import type { PresentityView } from './presentity-view.js';
import type { Clock, TimerHandle } from './ports/clock.js';
import type { StateStore } from './ports/state-store.js';
import type { StateSource } from './state-source.js';

interface Entry {
  sources: Map<string, StateSource>;
  revision: number;
  view?: PresentityView;
  /** Dialog ids seen terminated, with when to forget them (RFC 4235 3.7.1: terminated is final). */
  ended: Map<string, number>;
}

export type StateChangeListener = (presentity: Presentity, kinds: ReadonlySet<StateKind>) => void;

/** How long a terminated dialog id is remembered, so a late `early` cannot revive it. */
const ENDED_MEMORY_MS = 3_600_000;

/**
 * The state of every presentity: its live sources in memory, written through to the store,
 * aggregated into one view per revision. Stale sources expire by themselves so that a lost
 * hang-up cannot keep a lamp lit for ever.
 */
export class PresentityStates {
  private readonly entries = new Map<Presentity, Entry>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly listeners: StateChangeListener[] = [];

  constructor(
    private readonly store: StateStore,
    private readonly clock: Clock,
  ) {}

  onChange(listener: StateChangeListener): void {
    this.listeners.push(listener);
  }

  /** Loads the stored sources; expired ones are dropped. Emits nothing. */
  restore(): void {
    const now = this.clock.now();
    for (const source of this.store.loadAll()) {
      if (source.expiresAt !== undefined && source.expiresAt <= now) {
        this.store.remove(source.presentity, source.id);
        continue;
      }
      this.entry(source.presentity).sources.set(source.id, source);
      this.armExpiry(source);
    }
  }

  view(presentity: Presentity): PresentityView {
    const entry = this.entries.get(presentity);
    if (!entry) return { presentity, revision: 0, dialogs: [] };
    entry.view ??= aggregate(presentity, entry, this.clock.now());
    return entry.view;
  }

  source(presentity: Presentity, id: string): StateSource | undefined {
    return this.entries.get(presentity)?.sources.get(id);
  }

  /**
   * Stores a source (replacing one with the same id) and tells listeners. Dialogs are checked
   * against RFC 4235's state machine: a dialog never leaves `terminated` and never goes back.
   */
  put(source: StateSource): void {
    this.replace(source.id, source);
  }

  /**
   * Puts `source` in place of the source `replacedId` (a modified publication gets a new
   * entity-tag, RFC 3903 4.3) and tells listeners once.
   */
  replace(replacedId: string, source: StateSource): void {
    const entry = this.entry(source.presentity);
    // Admitted against every source, the replaced one included: its dialogs' states are
    // where the state machine stands for those calls.
    if (source.dialogs) source = { ...source, dialogs: this.admitDialogs(entry, source.dialogs) };
    if (replacedId !== source.id && entry.sources.delete(replacedId)) {
      this.disarm(source.presentity, replacedId);
      this.store.remove(source.presentity, replacedId);
    }
    entry.sources.set(source.id, source);
    this.store.put(source);
    this.armExpiry(source);
    this.changed(source.presentity, entry, new Set([source.kind]));
  }

  /**
   * Renames a source and gives it a new expiry without changing its state, so watchers are
   * not told anything (a publication refresh, RFC 3903 4.2). False when there is no such source.
   */
  rekey(presentity: Presentity, id: string, newId: string, expiresAt: number): boolean {
    const entry = this.entries.get(presentity);
    const source = entry?.sources.get(id);
    if (!entry || !source) return false;
    const next: StateSource = { ...source, id: newId, expiresAt };
    entry.sources.delete(id);
    this.disarm(presentity, id);
    this.store.remove(presentity, id);
    entry.sources.set(newId, next);
    this.store.put(next);
    this.armExpiry(next);
    return true;
  }

  /** Every live source that `match` accepts (startup: who published what). */
  list(match: (source: StateSource) => boolean): StateSource[] {
    const out: StateSource[] = [];
    for (const entry of this.entries.values()) for (const s of entry.sources.values()) if (match(s)) out.push(s);
    return out;
  }

  remove(presentity: Presentity, id: string): boolean {
    const entry = this.entries.get(presentity);
    const source = entry?.sources.get(id);
    if (!entry || !source) return false;
    entry.sources.delete(id);
    this.disarm(presentity, id);
    this.store.remove(presentity, id);
    this.changed(presentity, entry, new Set([source.kind]));
    return true;
  }

  /** Forgets every source of the listed kinds (the REST `reset` flush). Always tells listeners. */
  flush(presentity: Presentity, kinds: readonly StateKind[]): void {
    const entry = this.entry(presentity);
    for (const [id, source] of entry.sources) {
      if (!kinds.includes(source.kind)) continue;
      entry.sources.delete(id);
      this.disarm(presentity, id);
    }
    this.store.removeKinds(presentity, kinds);
    this.changed(presentity, entry, new Set(kinds));
  }

  /** Tells watchers of `kinds` about the presentity again, without changing any source. */
  touch(presentity: Presentity, kinds: readonly StateKind[]): void {
    this.changed(presentity, this.entry(presentity), new Set(kinds));
  }

  private entry(presentity: Presentity): Entry {
    let entry = this.entries.get(presentity);
    if (!entry) {
      entry = { sources: new Map(), revision: 0, ended: new Map() };
      this.entries.set(presentity, entry);
    }
    return entry;
  }

  private admitDialogs(entry: Entry, dialogs: readonly DialogInfo[]): DialogInfo[] {
    const now = this.clock.now();
    for (const [id, until] of entry.ended) if (until <= now) entry.ended.delete(id);
    const known = new Map<string, DialogInfo>();
    for (const s of entry.sources.values()) for (const d of s.dialogs ?? []) known.set(dialogKey(d), d);
    const admitted: DialogInfo[] = [];
    for (const d of dialogs) {
      const key = dialogKey(d);
      if (entry.ended.has(key)) continue;
      if (d.state === 'terminated') {
        entry.ended.set(key, now + ENDED_MEMORY_MS);
        continue;
      }
      // The state machine is about calls: a lamp set over REST without a Call-ID is not one,
      // and goes to whatever state it is set to (a parked call that rings back: confirmed -> early).
      const before = d.callId !== undefined ? known.get(key) : undefined;
      admitted.push(before && !isDialogTransitionAllowed(before.state, d.state) ? { ...d, state: before.state } : d);
    }
    return admitted;
  }

  private changed(presentity: Presentity, entry: Entry, kinds: ReadonlySet<StateKind>): void {
    entry.revision++;
    entry.view = undefined;
    for (const listener of this.listeners) listener(presentity, kinds);
  }

  private armExpiry(source: StateSource): void {
    const key = timerKey(source.presentity, source.id);
    this.disarm(source.presentity, source.id);
    if (source.expiresAt === undefined) return;
    const handle = this.clock.setTimer(() => {
      this.timers.delete(key);
      const current = this.entries.get(source.presentity)?.sources.get(source.id);
      if (current === source) this.remove(source.presentity, source.id);
    }, source.expiresAt - this.clock.now());
    this.timers.set(key, handle);
  }

  private disarm(presentity: Presentity, id: string): void {
    const key = timerKey(presentity, id);
    const handle = this.timers.get(key);
    if (handle !== undefined) {
      this.clock.clearTimer(handle);
      this.timers.delete(key);
    }
  }
}

function timerKey(presentity: Presentity, id: string): string {
  return `${presentity}\n${id}`;
}

/** A call is the same call whichever source reports it: key on Call-ID when known. */
function dialogKey(d: DialogInfo): string {
  return d.callId ? `call:${d.callId}` : `id:${d.id}`;
}

function aggregate(presentity: Presentity, entry: Entry, now: number): PresentityView {
  const byKey = new Map<string, DialogInfo>();
  let mwi: PresentityView['mwi'];
  let pidf: { text: string; at: number } | undefined;
  for (const source of entry.sources.values()) {
    for (const d of source.dialogs ?? []) {
      const key = dialogKey(d);
      // RFC 4235 3.7.1: a dialog one source saw end is over, whatever another source last said.
      const endedUntil = entry.ended.get(key);
      if (endedUntil !== undefined && endedUntil > now) continue;
      const seen = byKey.get(key);
      if (!seen || (d.updatedAt ?? source.updatedAt) >= (seen.updatedAt ?? 0)) {
        byKey.set(key, d.updatedAt === undefined ? { ...d, updatedAt: source.updatedAt } : d);
      }
    }
    if (source.mwi) mwi = source.mwi;
    if (source.pidf !== undefined && (!pidf || source.updatedAt >= pidf.at)) pidf = { text: source.pidf, at: source.updatedAt };
  }
  const dialogs = [...byKey.values()].sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0));
  const view: PresentityView = { presentity, revision: entry.revision, dialogs };
  if (mwi) view.mwi = mwi;
  if (pidf) view.pidf = pidf.text;
  return view;
}
