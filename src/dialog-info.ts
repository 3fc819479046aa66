import type { DialogState } from './dialog-state.js';

/** One end of a dialog as RFC 4235 describes it (<local> or <remote>). */
export interface DialogParticipant {
  /** URI of the party, e.g. `sip:1001@acme.example.com`. */
  identity: string;
  display?: string;
  /** Contact / target URI, when known. */
  target?: string;
}

/** A dialog of a presentity, as carried in an RFC 4235 `<dialog>` element. */
export interface DialogInfo {
  id: string;
  state: DialogState;
  callId?: string;
  localTag?: string;
  remoteTag?: string;
  /** `initiator`: the presentity placed the call; `recipient`: it is being called. */
  direction?: 'initiator' | 'recipient';
  local?: DialogParticipant;
  remote?: DialogParticipant;
  /** Epoch ms of the last change (drives expiry of stale call state). */
  updatedAt?: number;
}
