/** V8 copies a substring or a concatenation shorter than this (SlicedString/ConsString::kMinLength). */
const V8_MIN_SLICE_LENGTH = 13;

/**
 * A copy of a string cut from a message. V8 keeps substrings (and strings joined from them)
 * as slices of their parent, so a key or address kept after the message is handled would
 * otherwise keep the whole message text alive with it: hundreds of bytes per subscription,
 * and per completed UDP transaction for the 32 s of Timer J. Shorter strings are already
 * copies and are returned as they are (a copy costs ~80 ns, a dozen times per SUBSCRIBE).
 */
export function detachedString(s: string): string {
  if (s.length < V8_MIN_SLICE_LENGTH) return s;
  // A concatenation, flattened where it stands: V8 copies the text into a new flat string and
  // points the concatenation at it alone, and the next scavenge puts the flat string in its
  // place. What is kept is the bare copy, not a slice of a copy (32 bytes more, and the
  // copy's spare character).
  const copy = s.slice(0, 1) + s.slice(1);
  copy.charCodeAt(0);
  return copy;
}
