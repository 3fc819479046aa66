import type { Account, Device, User } from '../src/directory/documents.js';
import type { AccountDoc, DeviceDoc, UserDoc } from './schemas.js';

/** Directory documents as the API shows them (Kazoo's field names; absent fields left out). */

export function accountDoc(a: Account): AccountDoc {
  return { id: a.id, name: a.name, realm: a.realm };
}

export function userDoc(u: User): UserDoc {
  const doc: UserDoc = { id: u.id, first_name: u.firstName, last_name: u.lastName };
  if (u.username !== undefined) doc.username = u.username;
  if (u.presenceId !== undefined) doc.presence_id = u.presenceId;
  return doc;
}

export function deviceDoc(d: Device): DeviceDoc {
  const doc: DeviceDoc = { id: d.id, name: d.name, sip: { ...d.sip } };
  if (d.ownerId !== undefined) doc.owner_id = d.ownerId;
  if (d.presenceId !== undefined) doc.presence_id = d.presenceId;
  return doc;
}
