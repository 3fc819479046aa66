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
