import type { DialogInfo } from './dialog-info.js';
import type { StateKind } from './event-package.js';
import type { MessageSummary } from './message-summary.js';
import type { Presentity } from './presentity.js';

/**
 * One origin of presentity state: the REST API (`api`), one PUBLISH publication
 * (`publish:<etag>`, RFC 3903), or a mailbox (`mwi`). A presentity's view is the aggregate
 * of its live sources.
 */
export interface StateSource {
  presentity: Presentity;
  id: string;
  kind: StateKind;
  dialogs?: DialogInfo[];
  mwi?: MessageSummary;
  pidf?: string;
  /** Epoch ms after which the source is stale and dropped; absent = kept until changed. */
  expiresAt?: number;
  updatedAt: number;
}
