import type { PresentityView } from './presentity-view.js';

/** Which kind of presentity state a package renders; a change of that kind notifies its watchers. */
export type StateKind = 'dialog' | 'mwi' | 'pidf';

/**
 * A rendered NOTIFY body for one state revision. Built once per state change and shared by
 * every watcher; only the per-subscription `version` (RFC 4235 4.1) varies, so `text` must be
 * cheap (a concatenation, no re-rendering).
 */
export interface RenderedBody {
  contentType: string;
  text(version: number): string;
}

/**
 * An event package (RFC 6665 section 7.2). Packages register themselves with the registry;
 * the core never names one.
 */
export interface EventPackage {
  /** The `Event` token, e.g. `dialog`. */
  readonly name: string;
  /** The body type of its NOTIFYs; an `Accept` header must allow it (RFC 6665 4.1.2). */
  readonly contentType: string;
  /** Expiry bounds in seconds (RFC 6665 4.2.1.1): missing -> default, below min -> 423, above max -> max. */
  readonly expires: { readonly default: number; readonly min: number; readonly max: number };
  /** The state kinds whose changes this package's watchers are told about. */
  readonly stateKinds: readonly StateKind[];
  /** Renders the full state (RFC 6665 4.2.2: every NOTIFY of these packages is full state). */
  render(view: PresentityView): RenderedBody;
}
