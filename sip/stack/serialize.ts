import type { SipMessage } from './message.js';

/**
 * Serializes a message to wire bytes in one allocation. Content-Length is always computed
 * from the body's byte length (RFC 3261 20.14: it counts octets, not characters) and any
 * Content-Length header already in the message is ignored, so callers cannot get it wrong.
 */
export function serialize(msg: SipMessage): Buffer {
  let head =
    msg.kind === 'request'
      ? `${msg.method} ${msg.uri} SIP/2.0\r\n`
      : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  // SipHeaders keeps the canonical spelling for Content-Length (and its compact "l").
  head += msg.headers.wireText('Content-Length');
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  const headLen = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headLen + msg.body.length);
  out.write(head, 0, headLen, 'utf8');
  msg.body.copy(out, headLen);
  return out;
}

/**
 * A message from its wire head (start line and headers through the blank line, as
 * responseHead() writes it) and its body, in one allocation.
 */
export function wireBytes(head: string, body?: Buffer): Buffer {
  const headLen = Buffer.byteLength(head);
  if (body === undefined || body.length === 0) {
    const out = Buffer.allocUnsafe(headLen);
    out.write(head, 0, headLen, 'utf8');
    return out;
  }
  const out = Buffer.allocUnsafe(headLen + body.length);
  out.write(head, 0, headLen, 'utf8');
  body.copy(out, headLen);
  return out;
}

/**
 * A request from its start line and headers as text (each line ending in CRLF, without
 * Content-Length) and a text body: Content-Length counts the body's UTF-8 octets
 * (RFC 3261 20.14). One allocation, no intermediate body Buffer.
 */
export function requestBytes(headLines: string, body?: string): Buffer {
  const bodyLen = body === undefined ? 0 : Buffer.byteLength(body, 'utf8');
  const head = `${headLines}Content-Length: ${bodyLen}\r\n\r\n`;
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + bodyLen);
  out.write(head, 0, headLen, 'utf8');
  if (body !== undefined && bodyLen > 0) out.write(body, headLen, bodyLen, 'utf8');
  return out;
}
