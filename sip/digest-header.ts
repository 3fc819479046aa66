import type { DigestChallenge, DigestCredentials } from '../src/digest/sip-digest-authenticator.js';
import { isToken, splitOutside, unquote } from './stack/grammar.js';
import { SipParseError } from './stack/sip-parse-error.js';

const REQUIRED = ['username', 'realm', 'nonce', 'uri', 'response'] as const;

/**
 * Reads an `Authorization` value (RFC 3261 25.1 `credentials`, RFC 2617 3.2.2). Returns
 * undefined for a scheme other than Digest, which is not ours to check; throws SipParseError
 * for a malformed Digest value.
 */
export function parseDigestCredentials(value: string): DigestCredentials | undefined {
  const s = value.trim();
  const space = s.search(/\s/);
  const scheme = space < 0 ? s : s.slice(0, space);
  if (!isToken(scheme)) throw new SipParseError('Malformed Authorization header');
  if (scheme.toLowerCase() !== 'digest') return undefined;
  const parts = splitOutside(space < 0 ? '' : s.slice(space + 1), 44 /* , */);
  if (parts === null) throw new SipParseError('Malformed Authorization header');
  const params = new Map<string, string>();
  for (const part of parts) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (eq < 0 || !isToken(name)) throw new SipParseError('Malformed Authorization parameter');
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = unquote(v.slice(1, -1));
    else if (v.includes('"')) throw new SipParseError(`Malformed Authorization parameter ${name}`);
    params.set(name, v);
  }
  for (const name of REQUIRED) {
    if (!params.has(name)) throw new SipParseError(`Authorization without ${name}`);
  }
  const c: DigestCredentials = {
    username: params.get('username')!,
    realm: params.get('realm')!,
    nonce: params.get('nonce')!,
    uri: params.get('uri')!,
    response: params.get('response')!,
  };
  for (const name of ['algorithm', 'qop', 'nc', 'cnonce', 'opaque'] as const) {
    const v = params.get(name);
    if (v !== undefined) c[name] = v;
  }
  return c;
}

function quoted(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** A `WWW-Authenticate` value (RFC 3261 25.1 `challenge`, RFC 2617 3.2.1, RFC 8760 2.3). */
export function formatDigestChallenge(c: DigestChallenge): string {
  return `Digest realm=${quoted(c.realm)}, nonce=${quoted(c.nonce)}, algorithm=${c.algorithm}, qop="${c.qop}"${c.stale ? ', stale=true' : ''}`;
}
