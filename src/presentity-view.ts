import type { DialogInfo } from './dialog-info.js';
import type { MessageSummary } from './message-summary.js';
import type { Presentity } from './presentity.js';

/**
 * Everything an event package may render for one presentity: the aggregate of every live
 * state source (REST `set`, PUBLISHes from several PBXes) at one revision.
 */
export interface PresentityView {
  presentity: Presentity;
  /** Increments on every change of this presentity; body caches key on it. */
  revision: number;
  /** Live dialogs, newest first. Terminated dialogs are not listed. */
  dialogs: readonly DialogInfo[];
  mwi?: MessageSummary;
  /** The newest PIDF document PUBLISHed for the presentity, if any (RFC 3903). */
  pidf?: string;
}
