import type { StateKind } from '../event-package.js';
import type { Presentity } from '../presentity.js';
import type { StateSource } from '../state-source.js';

/** Durable home of presentity state sources (REST-set state, publications, mailboxes). */
export interface StateStore {
  loadAll(): StateSource[];
  /** Inserts or replaces the source (key: presentity + id). */
  put(source: StateSource): void;
  remove(presentity: Presentity, sourceId: string): void;
  /** Deletes every source of the presentity whose kind is listed. */
  removeKinds(presentity: Presentity, kinds: readonly StateKind[]): void;
}
