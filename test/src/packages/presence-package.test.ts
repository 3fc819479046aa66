import { describe, expect, it } from 'vitest';
import type { DialogInfo } from '../../../src/dialog-info.js';
import { presencePackage } from '../../../src/packages/presence-package.js';
import type { PresentityView } from '../../../src/presentity-view.js';
import { parseXmlDocument, xmlAttr, xmlChild, xmlChildren, xmlTextOf } from '../../../src/xml-document.js';

function pidf(dialogs: DialogInfo[], extra: Partial<PresentityView> = {}): string {
  return presencePackage.render({ presentity: '1001@acme.example.com', revision: 1, dialogs, ...extra }).text(0);
}

/** The parts of a PIDF document a phone's lamp depends on. */
function lamp(xml: string) {
  const presence = xmlChild(parseXmlDocument(xml), 'presence')!;
  const tuple = xmlChild(presence, 'tuple')!;
  const person = xmlChild(presence, 'person')!;
  const activities = xmlChild(person, 'activities');
  return {
    entity: xmlAttr(presence, 'entity'),
    basic: xmlTextOf(xmlChild(xmlChild(tuple, 'status')!, 'basic')),
    note: xmlTextOf(xmlChild(tuple, 'note')),
    activities: activities ? Object.keys(activities).filter((k) => !k.startsWith('@_') && k !== '#text') : [],
    tuples: xmlChildren(presence, 'tuple').length,
  };
}

describe('presence package', () => {
  it('declares the PIDF body type and listens to dialog and PIDF changes', () => {
    expect(presencePackage.name).toBe('presence');
    expect(presencePackage.contentType).toBe('application/pidf+xml');
    expect(presencePackage.stateKinds).toEqual(['dialog', 'pidf']);
  });

  it('shows an idle presentity as open and Available, with no activity', () => {
    expect(lamp(pidf([]))).toEqual({ entity: 'sip:1001@acme.example.com', basic: 'open', note: 'Available', activities: [], tuples: 1 });
  });

  it('shows a ringing presentity as open, Busy, with the rpid busy activity', () => {
    expect(lamp(pidf([{ id: 'a', state: 'early', direction: 'recipient' }]))).toMatchObject({ basic: 'open', note: 'Busy', activities: ['busy'] });
  });

  it('shows a presentity in a call as open, On the Phone, with the rpid on-the-phone activity', () => {
    expect(lamp(pidf([{ id: 'a', state: 'confirmed' }]))).toMatchObject({ basic: 'open', note: 'On the Phone', activities: ['on-the-phone'] });
  });

  it('shows an outgoing call that is still ringing as On the Phone', () => {
    expect(lamp(pidf([{ id: 'a', state: 'early', direction: 'initiator' }])).note).toBe('On the Phone');
  });

  it('prefers On the Phone when one call is up and another is ringing', () => {
    expect(lamp(pidf([{ id: 'r', state: 'early' }, { id: 'c', state: 'confirmed' }])).note).toBe('On the Phone');
  });

  it('serves a published PIDF document as it came while the presentity has no call', () => {
    const published = '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:1001@acme.example.com"><tuple id="x"><status><basic>closed</basic></status></tuple></presence>';
    expect(pidf([], { pidf: published })).toBe(published);
  });

  it('lets a live call outrank a published PIDF document', () => {
    const published = '<presence xmlns="urn:ietf:params:xml:ns:pidf"><tuple id="x"><status><basic>closed</basic></status></tuple></presence>';
    expect(lamp(pidf([{ id: 'a', state: 'confirmed' }], { pidf: published })).note).toBe('On the Phone');
  });

  it('produces a well-formed document for a presentity with XML special characters', () => {
    expect(lamp(presencePackage.render({ presentity: `a&b'<@acme.example.com`, revision: 1, dialogs: [] }).text(0)).entity).toBe(
      `sip:a&b'<@acme.example.com`,
    );
  });
});
