/** Public API of the embedded SIP stack; see README.md beside this file. */
export { SipParseError } from './sip-parse-error.js';
export { SipHeaders, canonicalHeaderName, headerKey, isListHeader, type HeaderInit } from './headers.js';
export { EMPTY_BODY, type SipMessage, type SipRequest, type SipResponse } from './message.js';
export { parseUri, formatUri, type SipUri } from './uri.js';
export { parseNameAddr, formatNameAddr, type NameAddr } from './name-addr.js';
export { parseVia, parseViaList, formatVia, type Via } from './via.js';
export { parseCSeq, type CSeq } from './cseq.js';
export { parseIntegerHeader } from './integer-header.js';
export { parseEvent, type EventHeader } from './event.js';
export { parseAccept, acceptsMediaType, type MediaRange } from './accept.js';
export { serialize } from './serialize.js';
export { parseMessage, type ParseResult, type ParseOptions, type PartialRequest } from './parser.js';
export { StreamFramer, type FramerEvent, type StreamFramerOptions } from './stream-framer.js';
export { buildResponse, reasonPhrase, type BuildResponseOptions } from './response-builder.js';
export { responseDestination } from './response-destination.js';
export { newBranch, newTag, MAGIC_COOKIE } from './branch.js';
export {
  TransportLayer,
  type MalformedMessage,
  type TransportLayerEvents,
  type TransportLayerOptions,
} from './transport-layer.js';
export {
  SILENT_LOGGER,
  isReliable,
  type AdvertisedAddress,
  type Destination,
  type ListenSpec,
  type LocalAddress,
  type MessageSource,
  type SendResult,
  type StackLogger,
  type TransportProtocol,
} from './transport-types.js';
export {
  TransactionLayer,
  type RequestHandler,
  type TransactionLayerOptions,
  type TransactionTimers,
  type TransactionTransport,
} from './transaction-layer.js';
export { ServerTransaction, type RespondOptions, type ServerTransactionState } from './server-transaction.js';
export { type ClientTransactionResult, type ClientTransactionState } from './client-transaction.js';
