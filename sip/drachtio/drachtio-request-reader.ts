import type { TransportBinding } from '../../src/transport-binding.js';
import type { SipRequest } from '../stack/message.js';
import { parseMessage } from '../stack/parser.js';
import { topVia, type Via } from '../stack/via.js';
import { asTransport, parseHostPort } from './drachtio-endpoints.js';

/** What drachtio-srf tells about a received request besides its text. */
export interface DrachtioRequestMeta {
  /** The whole message as the drachtio server passed it on (`req.raw`). */
  raw: string;
  protocol: string;
  sourceAddress: string;
  sourcePort: number;
  /** The server's `address:port` the request arrived on (drachtio gives it for new requests). */
  receivedOn?: string;
}

export type ReadResult = { ok: true; request: SipRequest; binding: TransportBinding } | { ok: false; status: 400 | 505; reason: string };

/**
 * Parses the request drachtio relays with the embedded stack's parser, so that the same
 * reader (sip-request-reader.ts) and the same 400 reasons serve both SIP fronts, and records
 * how to reach the watcher again (RFC 3581: a UDP phone that asked for rport, or whose Via
 * does not match the packet's source, is answered at the source).
 */
export function readDrachtioRequest(meta: DrachtioRequestMeta): ReadResult {
  const parsed = parseMessage(Buffer.from(meta.raw, 'utf8'));
  if (!parsed.ok) return { ok: false, status: parsed.status, reason: `Bad Request - ${parsed.error}` };
  if (parsed.message.kind !== 'request') return { ok: false, status: 400, reason: 'Bad Request - not a request' };
  const request = parsed.message;
  const transport = asTransport(meta.protocol) ?? 'udp';
  const binding: TransportBinding = {
    transport,
    source: { address: meta.sourceAddress, port: meta.sourcePort },
    sendToSource: transport !== 'udp',
  };
  const local = meta.receivedOn !== undefined ? parseHostPort(meta.receivedOn) : undefined;
  if (local) binding.local = local;
  if (transport === 'udp') {
    const top = request.headers.get('Via');
    let via: Via | undefined;
    try {
      via = top !== undefined ? topVia(request) : undefined;
    } catch {
      via = undefined;
    }
    binding.sendToSource =
      via === undefined ||
      via.rport !== undefined ||
      via.host.replace(/^\[|\]$/g, '') !== meta.sourceAddress ||
      (via.port ?? 5060) !== meta.sourcePort;
  }
  return { ok: true, request, binding };
}
