import type { StateKind } from '../src/event-package.js';

/** One `presentity_state` row; keys are the column names, so it binds as named parameters. */
export interface StateRow {
  presentity: string;
  source_id: string;
  kind: StateKind;
  data: string;
  expires_at: number | null;
  updated_at: number;
}
