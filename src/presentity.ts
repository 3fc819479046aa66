/**
 * A presentity is named `user@realm` (realm lower-cased, user kept as dialled: `*3101` and
 * `Alice` are different extensions on most PBXes).
 */
export type Presentity = string;

export function presentityOf(user: string, realm: string): Presentity {
  return `${user}@${realm.toLowerCase()}`;
}

export function splitPresentity(presentity: Presentity): { user: string; realm: string } {
  const at = presentity.lastIndexOf('@');
  if (at < 0) return { user: presentity, realm: '' };
  return { user: presentity.slice(0, at), realm: presentity.slice(at + 1) };
}

/**
 * A presence id as Kazoo documents carry it, maybe already holding `@realm`. A matching realm
 * is stripped (Kazoo appends the realm a second time and breaks); a foreign realm is kept.
 */
export function presentityFromId(presenceId: string, realm: string): Presentity {
  const at = presenceId.lastIndexOf('@');
  if (at >= 0) {
    const idRealm = presenceId.slice(at + 1).toLowerCase();
    return presentityOf(presenceId.slice(0, at), idRealm === '' ? realm : idRealm);
  }
  return presentityOf(presenceId, realm);
}
