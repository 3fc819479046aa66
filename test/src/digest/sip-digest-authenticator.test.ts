import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from '../../../src/digest/auth-failure-limiter.js';
import { digestResponse, type DigestAlgorithm } from '../../../src/digest/digest-response.js';
import { NonceBook } from '../../../src/digest/nonce-book.js';
import {
  SipDigestAuthenticator,
  type DigestChallenge,
  type DigestCredentials,
  type DigestOutcome,
} from '../../../src/digest/sip-digest-authenticator.js';
import type { Logger } from '../../../src/ports/logger.js';
import { FakeClock } from '../fake-clock.js';

const REALM = 'acme.example.com';

function recordingLogger(lines: Array<{ level: string; obj: object; msg?: string }>): Logger {
  const log: Logger = {
    debug: (obj, msg) => lines.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
    child: () => log,
  };
  return log;
}

function setup(opts: { algorithms?: DigestAlgorithm[] } = {}) {
  const clock = new FakeClock();
  const logs: Array<{ level: string; obj: object; msg?: string }> = [];
  const nonces = new NonceBook({ clock, ttlSeconds: 300 });
  const auth = new SipDigestAuthenticator({
    nonces,
    limiter: new AuthFailureLimiter({ clock, maxFailures: 10, windowSeconds: 60, blockSeconds: 300 }),
    lookup: (realm, username) =>
      realm === REALM && username === 'phone1001' ? { password: 'secret', accountRealm: REALM, deviceId: 'dev1' } : undefined,
    logger: recordingLogger(logs),
    ...(opts.algorithms ? { algorithms: opts.algorithms } : {}),
  });
  const attempt = (credentials: DigestCredentials[], source = '192.0.2.7', method = 'SUBSCRIBE') =>
    auth.authenticate({ method, realm: REALM, credentials, source });
  return { clock, logs, nonces, auth, attempt };
}

function challengeOf(outcome: DigestOutcome): DigestChallenge {
  if (outcome.kind !== 'challenge') throw new Error(`expected a challenge, got ${outcome.kind}`);
  return outcome.challenges[0]!;
}

/** What a phone answers to `challenge` with `password`, nonce count `nc`. */
function answer(challenge: DigestChallenge, password: string, nc = 1, username = 'phone1001', method = 'SUBSCRIBE'): DigestCredentials {
  const ncHex = nc.toString(16).padStart(8, '0');
  const c = { username, realm: challenge.realm, nonce: challenge.nonce, uri: `sip:${REALM}`, qop: 'auth', nc: ncHex, cnonce: 'c0ffee', algorithm: challenge.algorithm };
  return {
    ...c,
    response: digestResponse({ algorithm: challenge.algorithm, username, realm: c.realm, password, method, uri: c.uri, nonce: c.nonce, qop: 'auth', nc: ncHex, cnonce: c.cnonce }),
  };
}

describe('SIP digest authentication', () => {
  it('challenges a request without credentials in the realm it names, MD5 with qop=auth, not stale', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    expect(c).toMatchObject({ realm: REALM, algorithm: 'MD5', qop: 'auth', stale: false });
    expect(c.nonce).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(t.logs.filter((l) => l.level === 'warn')).toHaveLength(0);
  });

  it("accepts the device's right answer and names its account realm", () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    expect(t.attempt([answer(c, 'secret')])).toEqual({ kind: 'authenticated', username: 'phone1001', realm: REALM, accountRealm: REALM, deviceId: 'dev1' });
  });

  it('accepts the same nonce again with a higher nonce count, as a phone refreshing does', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    expect(t.attempt([answer(c, 'secret', 1)]).kind).toBe('authenticated');
    expect(t.attempt([answer(c, 'secret', 2)]).kind).toBe('authenticated');
  });

  it('refuses a replayed nonce count with a stale challenge, and logs it', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    const first = answer(c, 'secret', 3);
    expect(t.attempt([first]).kind).toBe('authenticated');
    expect(challengeOf(t.attempt([first])).stale).toBe(true);
    expect(challengeOf(t.attempt([answer(c, 'secret', 2)])).stale).toBe(true);
    expect(t.logs.some((l) => l.level === 'warn' && l.msg === 'digest nonce replayed')).toBe(true);
  });

  it('lets a client without qop use a nonce once', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    const uri = `sip:${REALM}`;
    const creds: DigestCredentials = {
      username: 'phone1001',
      realm: REALM,
      nonce: c.nonce,
      uri,
      response: digestResponse({ algorithm: 'MD5', username: 'phone1001', realm: REALM, password: 'secret', method: 'SUBSCRIBE', uri, nonce: c.nonce }),
    };
    expect(t.attempt([creds]).kind).toBe('authenticated');
    expect(challengeOf(t.attempt([creds])).stale).toBe(true);
  });

  it('challenges a wrong password again (not stale) and logs the source address', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    const again = challengeOf(t.attempt([answer(c, 'guess')]));
    expect(again.stale).toBe(false);
    expect(again.nonce).not.toBe(c.nonce);
    expect(t.logs).toContainEqual(expect.objectContaining({ level: 'warn', obj: expect.objectContaining({ source: '192.0.2.7', username: 'phone1001', reason: 'wrong response (password)' }) }));
  });

  it('challenges an unknown user the same way as a wrong password', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    expect(challengeOf(t.attempt([answer(c, 'secret', 1, 'intruder')])).stale).toBe(false);
  });

  it('answers a right password with an expired nonce with a stale challenge, after 300 s', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    t.clock.advance(301_000);
    const again = challengeOf(t.attempt([answer(c, 'secret')]));
    expect(again.stale).toBe(true);
    expect(t.attempt([answer(again, 'secret')]).kind).toBe('authenticated');
  });

  it('refuses a nonce this server did not issue, or one that was tampered with', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    const forged = { ...c, nonce: c.nonce.slice(0, -2) + (c.nonce.endsWith('AA') ? 'BB' : 'AA') };
    expect(challengeOf(t.attempt([answer(forged, 'secret')])).stale).toBe(false);
    const other = new NonceBook({ clock: t.clock, ttlSeconds: 300 });
    expect(challengeOf(t.attempt([answer({ ...c, nonce: other.issue() }, 'secret')])).stale).toBe(false);
  });

  it('ignores credentials for another realm (a proxy in front) and challenges for its own', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    const foreign = { ...answer(c, 'secret'), realm: 'proxy.example.net' };
    expect(challengeOf(t.attempt([foreign])).realm).toBe(REALM);
  });

  it('binds the response to the method: a SUBSCRIBE answer does not authenticate a PUBLISH', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    expect(t.attempt([answer(c, 'secret')], '192.0.2.7', 'PUBLISH').kind).toBe('challenge');
  });

  it('refuses a source after 10 failures within a minute for 5 minutes, without a challenge', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    for (let i = 0; i < 9; i++) expect(t.attempt([answer(c, `guess${i}`)]).kind).toBe('challenge');
    expect(t.attempt([answer(c, 'guess9')]).kind).toBe('blocked');
    expect(t.attempt([]).kind).toBe('blocked');
    expect(t.attempt([answer(c, 'secret')]).kind).toBe('blocked');
    // Other addresses are not affected.
    expect(t.attempt([], '192.0.2.8').kind).toBe('challenge');
    expect(t.logs.some((l) => l.msg?.includes('source blocked'))).toBe(true);
    t.clock.advance(301_000);
    const fresh = challengeOf(t.attempt([]));
    expect(t.attempt([answer(fresh, 'secret')]).kind).toBe('authenticated');
  });

  it('forgets failures older than the window', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    for (let i = 0; i < 9; i++) t.attempt([answer(c, 'guess')]);
    t.clock.advance(61_000);
    expect(t.attempt([answer(c, 'guess')]).kind).toBe('challenge');
  });

  it('offers SHA-256 first and MD5 second when both are configured, and verifies either (RFC 8760)', () => {
    const t = setup({ algorithms: ['SHA-256', 'MD5'] });
    const outcome = t.attempt([]);
    if (outcome.kind !== 'challenge') throw new Error('expected a challenge');
    expect(outcome.challenges.map((c) => c.algorithm)).toEqual(['SHA-256', 'MD5']);
    expect(t.attempt([answer(outcome.challenges[0]!, 'secret', 1)]).kind).toBe('authenticated');
    expect(t.attempt([answer(outcome.challenges[1]!, 'secret', 2)]).kind).toBe('authenticated');
  });

  it('does not accept an algorithm it did not offer', () => {
    const t = setup();
    const c = challengeOf(t.attempt([]));
    expect(t.attempt([answer({ ...c, algorithm: 'SHA-256' }, 'secret')]).kind).toBe('challenge');
  });

  it('remembers only nonces that authenticated something, and forgets them when they expire', () => {
    const t = setup();
    for (let i = 0; i < 50; i++) t.attempt([]);
    expect(t.nonces.remembered).toBe(0);
    const c = challengeOf(t.attempt([]));
    t.attempt([answer(c, 'secret')]);
    expect(t.nonces.remembered).toBe(1);
    t.clock.advance(301_000);
    const next = challengeOf(t.attempt([]));
    t.attempt([answer(next, 'secret')]);
    expect(t.nonces.remembered).toBe(1);
  });
});
