import { LAMP_STATES, type PresenceLampState } from '../src/dialog-state.js';
import type { MessageSummary } from '../src/message-summary.js';
import { validationError } from './errors.js';
import type { PresenceCommandBody } from './schemas.js';

/** What a `POST .../presence` asks for. */
export type PresenceCommand =
  | { action: 'reset' }
  | { action: 'set'; state: PresenceLampState }
  | { action: 'mwi'; counts: Omit<MessageSummary, 'account'> };

/**
 * Reads Kazoo's presence command: `{"action":"reset"}`, `{"action":"set","state":...}`, the
 * old `{"reset":true}` (Kazoo validates it and then crashes; we reset), and our `mwi`.
 * Throws the 400 with Kazoo's `data.action.invalid` / `data.state.invalid`.
 */
export function parsePresenceCommand(data: PresenceCommandBody['data']): PresenceCommand {
  const action = data.action ?? (data.reset === true ? 'reset' : undefined);
  switch (action) {
    case 'reset':
      return { action: 'reset' };
    case 'set': {
      const state = data.state;
      // States are case-sensitive (kazoo-presence.md): `Early` is not a state.
      if (state === undefined || !(LAMP_STATES as readonly string[]).includes(state)) {
        throw validationError({
          state: { invalid: { message: 'Field must be set to a valid state', target: [...LAMP_STATES] } },
        });
      }
      return { action: 'set', state: state as PresenceLampState };
    }
    case 'mwi':
      return {
        action: 'mwi',
        counts: {
          newMessages: data.messages_new ?? 0,
          oldMessages: data.messages_saved ?? 0,
          urgentNew: data.messages_urgent ?? 0,
          urgentOld: data.messages_urgent_saved ?? 0,
        },
      };
    default:
      throw validationError({
        action: { invalid: { message: 'Field must be set to a valid action', target: ['reset', 'set', 'mwi'] } },
      });
  }
}
