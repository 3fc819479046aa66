import type { DialogInfo, DialogParticipant } from '../dialog-info.js';
import type { EventPackage, RenderedBody } from '../event-package.js';
import { splitPresentity } from '../presentity.js';
import type { PresentityView } from '../presentity-view.js';
import { xmlText } from '../xml-text.js';

const CONTENT_TYPE = 'application/dialog-info+xml';

function participant(tag: 'local' | 'remote', p: DialogParticipant | undefined): string {
  if (!p) return '';
  const display = p.display ? ` display="${xmlText(p.display)}"` : '';
  const target = p.target ? `<target uri="${xmlText(p.target)}"/>` : '';
  return `<${tag}><identity${display}>${xmlText(p.identity)}</identity>${target}</${tag}>`;
}

function dialogElement(d: DialogInfo): string {
  // RFC 4235 4.1.2: id is mandatory; call-id and both tags go together when known
  // (Yealink and Polycom build a directed pickup INVITE with Replaces from them).
  let attrs = `id="${xmlText(d.id)}"`;
  if (d.callId) attrs += ` call-id="${xmlText(d.callId)}"`;
  if (d.localTag) attrs += ` local-tag="${xmlText(d.localTag)}"`;
  if (d.remoteTag) attrs += ` remote-tag="${xmlText(d.remoteTag)}"`;
  if (d.direction) attrs += ` direction="${d.direction}"`;
  // Outgoing calls must not blink a lamp: show an initiator's early dialog as confirmed.
  const state = d.direction === 'initiator' && d.state !== 'terminated' ? 'confirmed' : d.state;
  return `<dialog ${attrs}><state>${state}</state>${participant('local', d.local)}${participant('remote', d.remote)}</dialog>`;
}

/** An idle presentity still gets one terminated dialog: Bria and Astra ignore an empty document. */
function idleDialog(view: PresentityView): string {
  const { user } = splitPresentity(view.presentity);
  return `<dialog id="${xmlText(user)}"><state>terminated</state></dialog>`;
}

/** RFC 4235 dialog event package: what lights busy lamp field keys. */
export const dialogPackage: EventPackage = {
  name: 'dialog',
  contentType: CONTENT_TYPE,
  expires: { default: 3600, min: 60, max: 7200 },
  stateKinds: ['dialog'],
  render(view: PresentityView): RenderedBody {
    const dialogs = view.dialogs.length > 0 ? view.dialogs.map(dialogElement).join('') : idleDialog(view);
    // RFC 4235 4.1: version is per subscription, so the document is built around it once
    // and each watcher's copy only joins the three parts.
    const head = '<?xml version="1.0" encoding="UTF-8"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="';
    const tail = `" state="full" entity="sip:${xmlText(view.presentity)}">${dialogs}</dialog-info>\n`;
    return { contentType: CONTENT_TYPE, text: (version) => head + version + tail };
  },
};
