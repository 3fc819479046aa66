import { presentityFromId, splitPresentity, type Presentity } from '../presentity.js';
import type { Account, Device, User } from './documents.js';

/**
 * Which presentities a REST presence command acts on. Presence ids live in the account's
 * realm; one that names another realm is left out (it would let one account light another's
 * lamps).
 */

function inRealm(presenceId: string, account: Account): Presentity | undefined {
  const presentity = presentityFromId(presenceId, account.realm);
  const { user, realm } = splitPresentity(presentity);
  return user !== '' && realm === account.realm ? presentity : undefined;
}

/** A device: its `presence_id`, else its SIP username (the API page's rule; Kazoo's code forgot the fallback). */
export function devicePresenceTargets(device: Device, account: Account): Presentity[] {
  const id = device.presenceId ?? device.sip.username;
  const presentity = id === undefined ? undefined : inRealm(id, account);
  return presentity ? [presentity] : [];
}

/** A user: its `presence_id`, else every device it owns (each device's own presence id). */
export function userPresenceTargets(user: User, ownedDevices: readonly Device[], account: Account): Presentity[] {
  if (user.presenceId !== undefined) {
    const presentity = inRealm(user.presenceId, account);
    return presentity ? [presentity] : [];
  }
  return [...new Set(ownedDevices.flatMap((d) => devicePresenceTargets(d, account)))];
}

/** An extension named in a URL (`*3101`, `1001`, `1001@realm`); undefined when outside the account's realm. */
export function extensionPresenceTarget(extension: string, account: Account): Presentity | undefined {
  return inRealm(extension, account);
}
