import { describe, expect, it } from 'vitest';
import type { DialogInfo } from '../../../src/dialog-info.js';
import { parseDialogInfoDocument } from '../../../src/dialog-info-document.js';
import { dialogPackage } from '../../../src/packages/dialog-package.js';
import type { PresentityView } from '../../../src/presentity-view.js';
import { parseXmlDocument, xmlAttr, xmlChild, xmlChildren } from '../../../src/xml-document.js';

function view(dialogs: DialogInfo[], presentity = '1001@acme.example.com'): PresentityView {
  return { presentity, revision: 1, dialogs };
}

function root(xml: string) {
  const node = xmlChild(parseXmlDocument(xml), 'dialog-info');
  if (!node) throw new Error('no dialog-info root');
  return node;
}

describe('dialog package', () => {
  it('declares the RFC 4235 body type and the dialog state kind', () => {
    expect(dialogPackage.name).toBe('dialog');
    expect(dialogPackage.contentType).toBe('application/dialog-info+xml');
    expect(dialogPackage.stateKinds).toEqual(['dialog']);
    expect(dialogPackage.render(view([])).contentType).toBe('application/dialog-info+xml');
  });

  it('renders an idle presentity as a full document with exactly one terminated dialog', () => {
    const xml = dialogPackage.render(view([])).text(0);
    const info = root(xml);
    // The parser drops namespace declarations, so the default namespace is checked in the text.
    expect(xml).toContain('<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info"');
    expect(xmlAttr(info, 'state')).toBe('full');
    expect(xmlAttr(info, 'entity')).toBe('sip:1001@acme.example.com');
    const dialogs = xmlChildren(info, 'dialog');
    expect(dialogs).toHaveLength(1);
    expect(xmlAttr(dialogs[0]!, 'id')).toBe('1001');
    expect(xml).toContain('<state>terminated</state>');
  });

  it('puts the version it is given into the version attribute, and nothing else changes', () => {
    const body = dialogPackage.render(view([{ id: 'a', state: 'early' }]));
    expect(xmlAttr(root(body.text(0)), 'version')).toBe('0');
    expect(xmlAttr(root(body.text(42)), 'version')).toBe('42');
    expect(body.text(42).replace('version="42"', 'version="0"')).toBe(body.text(0));
  });

  it('carries call-id, both tags, direction and both parties for directed pickup', () => {
    const xml = dialogPackage.render(
      view([
        {
          id: 'd1',
          state: 'early',
          callId: 'abc123@pbx.example.com',
          localTag: 'lt-1',
          remoteTag: 'rt-2',
          direction: 'recipient',
          local: { identity: 'sip:1001@acme.example.com', display: 'Alice', target: 'sip:1001@192.0.2.20:5060' },
          remote: { identity: 'sip:2000@acme.example.com', display: 'Bob', target: 'sip:2000@192.0.2.30' },
        },
      ]),
    ).text(3);
    const doc = parseDialogInfoDocument(xml);
    expect(doc).toMatchObject({ state: 'full', version: 3, entity: 'sip:1001@acme.example.com' });
    expect(doc.dialogs).toEqual([
      {
        id: 'd1',
        state: 'early',
        callId: 'abc123@pbx.example.com',
        localTag: 'lt-1',
        remoteTag: 'rt-2',
        direction: 'recipient',
        local: { identity: 'sip:1001@acme.example.com', display: 'Alice', target: 'sip:1001@192.0.2.20:5060' },
        remote: { identity: 'sip:2000@acme.example.com', display: 'Bob', target: 'sip:2000@192.0.2.30' },
      },
    ]);
  });

  it('leaves out the attributes and parties it does not know', () => {
    const xml = dialogPackage.render(view([{ id: 'd1', state: 'confirmed' }])).text(0);
    expect(xml).toContain('<dialog id="d1"><state>confirmed</state></dialog>');
  });

  it('escapes XML special characters in every value it copies', () => {
    const nasty = `a&b<c>"d'`;
    const xml = dialogPackage.render(
      view([
        {
          id: nasty,
          state: 'early',
          callId: nasty,
          localTag: nasty,
          remoteTag: nasty,
          local: { identity: `sip:${nasty}@acme.example.com`, display: nasty, target: `sip:${nasty}@host` },
        },
      ]),
    ).text(0);
    expect(xml).not.toContain(nasty);
    const [d] = parseDialogInfoDocument(xml).dialogs;
    expect(d).toMatchObject({ id: nasty, callId: nasty, localTag: nasty, remoteTag: nasty });
    expect(d!.local).toEqual({ identity: `sip:${nasty}@acme.example.com`, display: nasty, target: `sip:${nasty}@host` });
  });

  it('escapes the presentity in the entity and in the idle dialog id', () => {
    const xml = dialogPackage.render(view([], 'a&b@acme.example.com')).text(0);
    const doc = parseDialogInfoDocument(xml);
    expect(doc.entity).toBe('sip:a&b@acme.example.com');
    expect(doc.dialogs[0]!.id).toBe('a&b');
  });

  it('shows an outgoing call that is still ringing as confirmed, so the lamp does not blink', () => {
    const xml = dialogPackage.render(view([{ id: 'out', state: 'early', direction: 'initiator' }])).text(0);
    expect(parseDialogInfoDocument(xml).dialogs[0]!.state).toBe('confirmed');
  });

  it('shows an incoming ringing call as early', () => {
    const xml = dialogPackage.render(view([{ id: 'in', state: 'early', direction: 'recipient' }])).text(0);
    expect(parseDialogInfoDocument(xml).dialogs[0]!.state).toBe('early');
  });

  it('lists every live dialog in the order of the view', () => {
    const xml = dialogPackage.render(
      view([
        { id: 'newest', state: 'early' },
        { id: 'older', state: 'confirmed' },
      ]),
    ).text(0);
    expect(parseDialogInfoDocument(xml).dialogs.map((d) => d.id)).toEqual(['newest', 'older']);
  });
});
