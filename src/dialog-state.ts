/**
 * RFC 4235 section 3.7.1: the dialog state machine. `trying` and `proceeding` come before
 * `early`, `confirmed` follows, and every state may move to `terminated`, which is final.
 */
export type DialogState = 'trying' | 'proceeding' | 'early' | 'confirmed' | 'terminated';

export const DIALOG_STATES: readonly DialogState[] = ['trying', 'proceeding', 'early', 'confirmed', 'terminated'];

/** The states a REST client may set (Kazoo's vocabulary). */
export type PresenceLampState = 'early' | 'confirmed' | 'terminated';

export const LAMP_STATES: readonly PresenceLampState[] = ['early', 'confirmed', 'terminated'];

const RANK: Record<DialogState, number> = { trying: 0, proceeding: 1, early: 2, confirmed: 3, terminated: 4 };

/**
 * Whether a dialog may move from `from` to `to`. RFC 4235 3.7.1: the machine only moves
 * forward and never leaves `terminated`; a late `early` after `confirmed` is ignored too.
 */
export function isDialogTransitionAllowed(from: DialogState, to: DialogState): boolean {
  if (from === 'terminated') return false;
  return RANK[to] >= RANK[from];
}

export function isDialogState(value: unknown): value is DialogState {
  return typeof value === 'string' && (DIALOG_STATES as readonly string[]).includes(value);
}
