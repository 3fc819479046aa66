/**
 * Thrown by the typed header parsers. The message is meant for humans and ends up in the
 * reason phrase of a 400 (e.g. "Malformed Via header"), so it must be short and single-line.
 */
export class SipParseError extends Error {
  override readonly name = 'SipParseError';
}
