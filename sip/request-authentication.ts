import { BlockList, isIP } from 'node:net';
import type { DigestCredentials, SipDigestAuthenticator } from '../src/digest/sip-digest-authenticator.js';
import { reply, type SipReply } from '../src/sip-reply.js';
import { formatDigestChallenge, parseDigestCredentials } from './digest-header.js';
import type { IncomingRequest } from './sip-request-reader.js';
import { parseNameAddr } from './stack/name-addr.js';
import { SipParseError } from './stack/sip-parse-error.js';
import { parseUri } from './stack/uri.js';

export interface RequestAuthenticationOptions {
  authenticator: SipDigestAuthenticator;
  /** Addresses or CIDRs (a proxy or PBX in front) whose requests are not challenged. */
  trusted: readonly string[];
}

/**
 * The outcome for a request: go on (with the account realm a digest-authenticated device
 * belongs to; undefined for a trusted source), or send `reply` (401, 403 or 400).
 */
export type AuthCheck = { ok: true; accountRealm?: string; username?: string } | { ok: false; reply: SipReply };

function ipFamily(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is checked as `10.0.0.1`. */
function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || isIP(host) !== 0;
}

/**
 * The realm a request is challenged in: the From URI's domain (the account the phone is
 * configured with). A phone whose From names the server by IP address falls back to the
 * To, then the Request-URI domain.
 */
export function challengeRealm(req: IncomingRequest): string {
  const hosts: string[] = [];
  for (const name of ['From', 'To'] as const) {
    const value = req.headers.get(name);
    if (value === undefined) continue;
    try {
      hosts.push(parseUri(parseNameAddr(value, name).uri, `${name} URI`).host.toLowerCase());
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
    }
  }
  try {
    hosts.push(parseUri(req.uri, 'Request-URI').host.toLowerCase());
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
  }
  return hosts.find((h) => !isIpLiteral(h)) ?? hosts[0] ?? '';
}

/**
 * Digest authentication of SUBSCRIBE and PUBLISH for any SIP front: reads the Authorization
 * headers, lets the domain's authenticator decide, and turns its answer into a 401 with
 * WWW-Authenticate challenges, a 403, or a go-ahead. Sources in PRESENCE_SIP_TRUSTED pass.
 */
export class RequestAuthentication {
  private readonly trusted = new BlockList();

  constructor(private readonly o: RequestAuthenticationOptions) {
    for (const entry of o.trusted) {
      const [address, prefix] = entry.split('/');
      const family = ipFamily(address!);
      if (isIP(address!) === 0) throw new Error(`PRESENCE_SIP_TRUSTED: "${entry}" is not an address or CIDR`);
      if (prefix === undefined) this.trusted.addAddress(address!, family);
      else this.trusted.addSubnet(address!, Number(prefix), family);
    }
  }

  isTrusted(sourceAddress: string): boolean {
    const address = plainAddress(sourceAddress);
    if (isIP(address) === 0) return false;
    return this.trusted.check(address, ipFamily(address));
  }

  check(req: IncomingRequest, sourceAddress: string): AuthCheck {
    if (this.isTrusted(sourceAddress)) return { ok: true };
    const credentials: DigestCredentials[] = [];
    try {
      for (const line of req.headers.getLines('Authorization')) {
        const c = parseDigestCredentials(line);
        if (c) credentials.push(c);
      }
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
      return { ok: false, reply: reply(400, `Bad Request - ${e.message}`) };
    }
    const outcome = this.o.authenticator.authenticate({
      method: req.method,
      realm: challengeRealm(req),
      credentials,
      source: plainAddress(sourceAddress),
    });
    switch (outcome.kind) {
      case 'authenticated':
        return { ok: true, accountRealm: outcome.accountRealm, username: outcome.username };
      case 'blocked':
        return { ok: false, reply: reply(403, 'Forbidden - too many failed authentications') };
      case 'challenge':
        // RFC 3261 22.2 / RFC 8760 2.4: one WWW-Authenticate per algorithm, preferred first.
        return {
          ok: false,
          reply: reply(401, 'Unauthorized', outcome.challenges.map((c): [string, string] => ['WWW-Authenticate', formatDigestChallenge(c)])),
        };
    }
  }
}
