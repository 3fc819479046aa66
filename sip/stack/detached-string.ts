/**
 * A copy of a string cut from a message. V8 keeps substrings (and strings joined from them)
 * as slices of their parent, so a key or address kept after the message is handled would
 * otherwise keep the whole message text alive with it: hundreds of bytes per subscription,
 * and per completed UDP transaction for the 32 s of Timer J.
 */
export function detachedString(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
