import { parseXmlDocument, xmlChild } from './xml-document.js';

/** A PIDF body that cannot be used; the message names the problem. */
export class InvalidPidf extends Error {
  override readonly name = 'InvalidPidf';
}

/**
 * Checks an `application/pidf+xml` document (RFC 3863 4): well-formed XML whose root is
 * `presence`. The document is served to watchers as it came, so it is checked, not rebuilt.
 */
export function checkPidfDocument(xml: string): string {
  let doc;
  try {
    doc = parseXmlDocument(xml);
  } catch (e) {
    throw new InvalidPidf(e instanceof Error ? e.message : 'malformed XML');
  }
  if (!xmlChild(doc, 'presence')) throw new InvalidPidf('root element is not presence');
  return xml;
}
