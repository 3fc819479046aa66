import { checkPidfDocument, InvalidPidf } from '../pidf-document.js';
import { InvalidPublicationBody, type PublicationFormat, type PublishedState } from '../publication-format.js';

/** PUBLISH for the presence package (RFC 3856, RFC 3903): a PIDF document, served as it came. */
export const presencePublication: PublicationFormat = {
  event: 'presence',
  contentTypes: ['application/pidf+xml'],
  kind: 'pidf',
  parse(body: string): PublishedState {
    try {
      return { kind: 'pidf', pidf: checkPidfDocument(body) };
    } catch (e) {
      if (e instanceof InvalidPidf) throw new InvalidPublicationBody(`pidf: ${e.message}`);
      throw e;
    }
  },
};
