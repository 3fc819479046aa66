import type { DialogInfo } from './dialog-info.js';
import type { StateKind } from './event-package.js';

/** The state a publication body carries, as stored in a state source. */
export type PublishedState = { kind: 'dialog'; dialogs: DialogInfo[] } | { kind: 'pidf'; pidf: string };

/**
 * How one event package accepts PUBLISH (RFC 3903 4: the package names what a body may be).
 * `parse` throws InvalidPublicationBody with a reason for the 400.
 */
export interface PublicationFormat {
  /** The Event token, e.g. `dialog`. */
  readonly event: string;
  /** Body media types accepted (RFC 3903 6, step 5: anything else is 415 with Accept). */
  readonly contentTypes: readonly string[];
  /** The kind of state source a publication of this package becomes. */
  readonly kind: StateKind;
  parse(body: string, contentType: string): PublishedState;
}

/** A PUBLISH body that cannot be used; the message becomes the 400's reason phrase. */
export class InvalidPublicationBody extends Error {
  override readonly name = 'InvalidPublicationBody';
}
