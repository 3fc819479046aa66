import { describe, expect, it } from 'vitest';
import { readPublish } from '../../sip/publish-request-reader.js';
import { challengeRealm, RequestAuthentication } from '../../sip/request-authentication.js';
import { BadRequest } from '../../sip/sip-request-reader.js';
import { SipHeaders } from '../../sip/stack/headers.js';
import { AuthFailureLimiter } from '../../src/digest/auth-failure-limiter.js';
import { NonceBook } from '../../src/digest/nonce-book.js';
import { SipDigestAuthenticator } from '../../src/digest/sip-digest-authenticator.js';
import { silentLogger } from '../../src/ports/logger.js';
import { FakeClock } from '../src/fake-clock.js';

function request(method: string, headers: Record<string, string>, uri = 'sip:1001@acme.example.com', body = '') {
  return { method, uri, headers: new SipHeaders(headers), body: Buffer.from(body) };
}

function auth(trusted: string[]) {
  const clock = new FakeClock();
  return new RequestAuthentication({
    authenticator: new SipDigestAuthenticator({
      nonces: new NonceBook({ clock, ttlSeconds: 300 }),
      limiter: new AuthFailureLimiter({ clock, maxFailures: 10, windowSeconds: 60, blockSeconds: 300 }),
      lookup: () => undefined,
      logger: silentLogger,
    }),
    trusted,
  });
}

const SUBSCRIBE = { From: '<sip:2001@acme.example.com>;tag=a', To: '<sip:1001@acme.example.com>', 'Call-ID': 'c', CSeq: '1 SUBSCRIBE' };

describe('request authentication in the SIP adapters', () => {
  it('challenges in the From domain, falling back to To when From names the server by IP', () => {
    expect(challengeRealm(request('SUBSCRIBE', SUBSCRIBE))).toBe('acme.example.com');
    expect(challengeRealm(request('SUBSCRIBE', { ...SUBSCRIBE, From: '<sip:2001@10.0.0.1>;tag=a' }))).toBe('acme.example.com');
  });

  it('answers 401 with a WWW-Authenticate challenge', () => {
    const r = auth([]).check(request('SUBSCRIBE', SUBSCRIBE), '192.0.2.1');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reply.status).toBe(401);
    expect(r.reply.headers?.[0]?.[0]).toBe('WWW-Authenticate');
    expect(r.reply.headers?.[0]?.[1]).toMatch(/^Digest realm="acme\.example\.com", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
  });

  it('lets trusted addresses and CIDRs through without a challenge (IPv4, IPv4-mapped, IPv6)', () => {
    const a = auth(['10.1.0.0/16', '192.0.2.9', 'fd00::/8']);
    expect(a.check(request('SUBSCRIBE', SUBSCRIBE), '10.1.200.3')).toEqual({ ok: true });
    expect(a.check(request('SUBSCRIBE', SUBSCRIBE), '::ffff:192.0.2.9')).toEqual({ ok: true });
    expect(a.check(request('SUBSCRIBE', SUBSCRIBE), 'fd00::1')).toEqual({ ok: true });
    expect(a.check(request('SUBSCRIBE', SUBSCRIBE), '10.2.0.1').ok).toBe(false);
  });

  it('answers 400 to a malformed Authorization header', () => {
    const r = auth([]).check(request('SUBSCRIBE', { ...SUBSCRIBE, Authorization: 'Digest username="x' }), '192.0.2.1');
    expect(r.ok ? 0 : r.reply.status).toBe(400);
  });

  it('refuses a trusted list entry that is not an address', () => {
    expect(() => auth(['proxy.example.com'])).toThrow(/PRESENCE_SIP_TRUSTED/);
  });
});

describe('readPublish', () => {
  const PUBLISH = { From: '<sip:1001@acme.example.com>;tag=a', To: '<sip:1001@acme.example.com>', 'Call-ID': 'p1', CSeq: '1 PUBLISH' };

  it('reads the event, expiry, entity-tag and the body type without parameters', () => {
    const p = readPublish(
      request('PUBLISH', { ...PUBLISH, Event: 'dialog', Expires: '300', 'SIP-If-Match': 'abc_1', 'Content-Type': 'Application/Dialog-Info+XML; charset=utf-8' }, 'sip:1001@acme.example.com', '<x/>'),
    );
    expect(p).toMatchObject({ event: 'dialog', expires: 300, ifMatch: 'abc_1', contentType: 'application/dialog-info+xml', body: '<x/>', requestUri: { user: '1001', host: 'acme.example.com' } });
  });

  it('throws BadRequest naming the header at fault', () => {
    expect(() => readPublish(request('PUBLISH', { ...PUBLISH, Expires: 'soon' }))).toThrow(BadRequest);
    expect(() => readPublish(request('PUBLISH', { ...PUBLISH, 'Content-Type': 'dialog' }))).toThrow(/Content-Type/);
    expect(() => readPublish(request('PUBLISH', { ...PUBLISH, 'SIP-If-Match': 'a b' }))).toThrow(/SIP-If-Match/);
    expect(() => readPublish(request('PUBLISH', { To: PUBLISH.To, 'Call-ID': 'x' }))).toThrow(/Missing From/);
  });
});
