import { InvalidDialogInfo, parseDialogInfoDocument } from '../dialog-info-document.js';
import { InvalidPublicationBody, type PublicationFormat, type PublishedState } from '../publication-format.js';

/**
 * PUBLISH for the dialog package (RFC 4235 with RFC 3903), as a PBX or Kamailio's
 * pua_dialoginfo sends it. Each PUBLISH carries the publisher's full view of its dialogs
 * (a `partial` document is taken as full: RFC 5264 partial publication is not supported).
 */
export const dialogPublication: PublicationFormat = {
  event: 'dialog',
  contentTypes: ['application/dialog-info+xml'],
  kind: 'dialog',
  parse(body: string): PublishedState {
    try {
      return { kind: 'dialog', dialogs: parseDialogInfoDocument(body).dialogs };
    } catch (e) {
      if (e instanceof InvalidDialogInfo) throw new InvalidPublicationBody(`dialog-info: ${e.message}`);
      throw e;
    }
  },
};
