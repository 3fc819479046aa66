import { describe, expect, it } from 'vitest';
import { InvalidDialogInfo, parseDialogInfoDocument } from '../../src/dialog-info-document.js';

describe('dialog-info documents (RFC 4235 4.1)', () => {
  it('reads every dialog with its call id, tags, direction and both parties', () => {
    const doc = parseDialogInfoDocument(
      '<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="7" state="full" entity="sip:1001@acme.example.com">' +
        '<dialog id="as7d900as8" call-id="a84b4c76e66710&amp;x" local-tag="1928301774" remote-tag="456887766" direction="recipient">' +
        '<state event="remote-bye">confirmed</state>' +
        '<local><identity display="Alice">sip:1001@acme.example.com</identity><target uri="sip:1001@10.0.0.5"/></local>' +
        '<remote><identity>sip:2002@acme.example.com</identity></remote></dialog>' +
        '<dialog id="second"><state>early</state></dialog></dialog-info>',
    );
    expect(doc).toEqual({
      entity: 'sip:1001@acme.example.com',
      state: 'full',
      version: 7,
      dialogs: [
        {
          id: 'as7d900as8',
          callId: 'a84b4c76e66710&x',
          localTag: '1928301774',
          remoteTag: '456887766',
          direction: 'recipient',
          state: 'confirmed',
          local: { identity: 'sip:1001@acme.example.com', display: 'Alice', target: 'sip:1001@10.0.0.5' },
          remote: { identity: 'sip:2002@acme.example.com' },
        },
        { id: 'second', state: 'early' },
      ],
    });
  });

  it('accepts any namespace prefix, as pua_dialoginfo and phones vary', () => {
    const doc = parseDialogInfoDocument(
      '<d:dialog-info xmlns:d="urn:ietf:params:xml:ns:dialog-info" version="0" state="partial" entity="sip:x@y"><d:dialog id="1"><d:state>terminated</d:state></d:dialog></d:dialog-info>',
    );
    expect(doc.dialogs).toEqual([{ id: '1', state: 'terminated' }]);
    expect(doc.state).toBe('partial');
  });

  it('reads an empty document as no dialogs', () => {
    expect(parseDialogInfoDocument('<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:x@y"/>').dialogs).toEqual([]);
  });

  it.each([
    ['not XML', 'hello', /malformed XML/],
    ['unclosed element', '<dialog-info><dialog id="1"><state>early</dialog></dialog-info>', /malformed XML/],
    ['another root', '<presence/>', /root element is not dialog-info/],
    ['dialog without id', '<dialog-info><dialog><state>early</state></dialog></dialog-info>', /dialog without id/],
    ['dialog without state', '<dialog-info><dialog id="1"/></dialog-info>', /dialog 1 without state/],
    ['unknown state', '<dialog-info><dialog id="1"><state>ringing</state></dialog></dialog-info>', /unknown state ringing/],
    ['a DOCTYPE (entity expansion)', '<!DOCTYPE x [<!ENTITY a "aaaa">]><dialog-info/>', /DOCTYPE/],
  ])('refuses %s with a reason', (_what, xml, reason) => {
    expect(() => parseDialogInfoDocument(xml)).toThrow(InvalidDialogInfo);
    expect(() => parseDialogInfoDocument(xml)).toThrow(reason);
  });
});
