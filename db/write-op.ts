import type { StateRow } from './state-row.js';
import type { AnswerValues, ProgressValues, SubscriptionValues } from './subscription-row.js';

/**
 * A repository write as plain data, so that it can be queued, copied to the writer thread
 * (structured clone) and run again on the main thread if that thread dies. Every op sets
 * rows to given values or deletes them, so running ops that were already committed once more,
 * in the same order, leaves the same rows.
 */
export type WriteOp =
  /** Inserts the subscription, or replaces its whole row. */
  | readonly ['sub.save', SubscriptionValues]
  /** Each subscription's NOTIFY progress, all rows or none. */
  | readonly ['sub.progress', readonly ProgressValues[]]
  | readonly ['sub.answers', readonly AnswerValues[]]
  | readonly ['sub.remove', id: string]
  /**
   * Rows were deleted outside the queue (the boot sweep): the key -> rowid map is dropped and
   * read again from the table by the next subscription write.
   */
  | readonly ['sub.reindex']
  | readonly ['state.put', StateRow]
  | readonly ['state.remove', presentity: string, sourceId: string]
  /** `kinds` is a JSON array, so that one prepared statement serves any list. */
  | readonly ['state.removeKinds', presentity: string, kinds: string];

/** Where a repository sends its writes: run at once, or queued on a group commit. */
export interface WriteSink {
  write(op: WriteOp): void;
}
