import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** A parsed XML element: attributes under `@_name`, text under `#text`, children by local name. */
export type XmlNode = { readonly [key: string]: unknown };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Namespace prefixes vary by sender (`<d:dialog>`, `<dialog>`); the local name is what counts.
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
});

/**
 * Parses an XML body into plain nodes where every child is an array (so one and many look
 * alike). Throws an Error with a short, single-line reason for a body that is not well-formed
 * or carries a DOCTYPE (entity expansion is a denial-of-service vector; no SIP XML body needs one).
 */
export function parseXmlDocument(xml: string): XmlNode {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new Error('XML with a DOCTYPE is not accepted');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`malformed XML: ${valid.err.msg.replace(/\s+/g, ' ').slice(0, 120)} (line ${valid.err.line})`);
  const doc: unknown = parser.parse(xml);
  if (!isXmlNode(doc)) throw new Error('malformed XML');
  return doc;
}

export function isXmlNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The child elements of `node` named `name` (local name). */
export function xmlChildren(node: XmlNode, name: string): XmlNode[] {
  const value = node[name];
  if (!Array.isArray(value)) return [];
  return value.map((v: unknown) => (isXmlNode(v) ? v : { '#text': typeof v === 'string' ? v : String(v) }));
}

export function xmlChild(node: XmlNode, name: string): XmlNode | undefined {
  return xmlChildren(node, name)[0];
}

export function xmlAttr(node: XmlNode, name: string): string | undefined {
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

export function xmlTextOf(node: XmlNode | undefined): string | undefined {
  if (!node) return undefined;
  const v = node['#text'];
  if (Array.isArray(v)) return v.map(String).join('');
  return typeof v === 'string' ? v : v === undefined ? undefined : String(v);
}
