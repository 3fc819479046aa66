import type { DialogInfo, DialogParticipant } from './dialog-info.js';
import { isDialogState } from './dialog-state.js';
import { parseXmlDocument, xmlAttr, xmlChild, xmlChildren, xmlTextOf, type XmlNode } from './xml-document.js';

/** An RFC 4235 dialog-info document as a publisher sent it. */
export interface DialogInfoDocument {
  entity?: string;
  state: 'full' | 'partial';
  version?: number;
  dialogs: DialogInfo[];
}

/** A dialog-info body that cannot be used; the message names the problem. */
export class InvalidDialogInfo extends Error {
  override readonly name = 'InvalidDialogInfo';
}

function participant(node: XmlNode | undefined): DialogParticipant | undefined {
  if (!node) return undefined;
  const identityNode = xmlChild(node, 'identity');
  const identity = xmlTextOf(identityNode);
  if (!identity) return undefined;
  const p: DialogParticipant = { identity };
  const display = identityNode && xmlAttr(identityNode, 'display');
  if (display) p.display = display;
  const targetNode = xmlChild(node, 'target');
  const target = targetNode && xmlAttr(targetNode, 'uri');
  if (target) p.target = target;
  return p;
}

function dialogOf(node: XmlNode): DialogInfo {
  // RFC 4235 4.1.2: id is mandatory, and so is the state element.
  const id = xmlAttr(node, 'id');
  if (!id) throw new InvalidDialogInfo('dialog without id');
  const state = xmlTextOf(xmlChild(node, 'state'));
  if (state === undefined) throw new InvalidDialogInfo(`dialog ${id} without state`);
  if (!isDialogState(state)) throw new InvalidDialogInfo(`dialog ${id} has unknown state ${state.slice(0, 20)}`);
  const d: DialogInfo = { id, state };
  const callId = xmlAttr(node, 'call-id');
  const localTag = xmlAttr(node, 'local-tag');
  const remoteTag = xmlAttr(node, 'remote-tag');
  const direction = xmlAttr(node, 'direction');
  if (callId) d.callId = callId;
  if (localTag) d.localTag = localTag;
  if (remoteTag) d.remoteTag = remoteTag;
  if (direction === 'initiator' || direction === 'recipient') d.direction = direction;
  const local = participant(xmlChild(node, 'local'));
  const remote = participant(xmlChild(node, 'remote'));
  if (local) d.local = local;
  if (remote) d.remote = remote;
  return d;
}

/**
 * Reads an `application/dialog-info+xml` document (RFC 4235 4.1) with a real XML parser:
 * the root `dialog-info` with its `dialog` elements, whatever namespace prefix the sender used.
 * Throws InvalidDialogInfo naming what is wrong.
 */
export function parseDialogInfoDocument(xml: string): DialogInfoDocument {
  let doc: XmlNode;
  try {
    doc = parseXmlDocument(xml);
  } catch (e) {
    throw new InvalidDialogInfo(e instanceof Error ? e.message : 'malformed XML');
  }
  const root = xmlChild(doc, 'dialog-info');
  if (!root) throw new InvalidDialogInfo('root element is not dialog-info');
  const state = xmlAttr(root, 'state') ?? 'full';
  if (state !== 'full' && state !== 'partial') throw new InvalidDialogInfo(`dialog-info state must be full or partial, not ${state.slice(0, 20)}`);
  const out: DialogInfoDocument = { state, dialogs: xmlChildren(root, 'dialog').map(dialogOf) };
  const entity = xmlAttr(root, 'entity');
  if (entity) out.entity = entity;
  const version = xmlAttr(root, 'version');
  if (version !== undefined && /^\d+$/.test(version)) out.version = Number(version);
  return out;
}
