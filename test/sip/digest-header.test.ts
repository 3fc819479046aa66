import { describe, expect, it } from 'vitest';
import { formatDigestChallenge, parseDigestCredentials } from '../../sip/digest-header.js';
import { SipParseError } from '../../sip/stack/sip-parse-error.js';

describe('Digest Authorization and WWW-Authenticate headers', () => {
  it('reads what SIPp and phones send, quoted and unquoted, in any order and case', () => {
    expect(
      parseDigestCredentials(
        'Digest username="phone1001",realm="acme.example.com",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:5060",nonce="abc-_",response="0123456789abcdef0123456789abcdef",algorithm=MD5',
      ),
    ).toEqual({
      username: 'phone1001',
      realm: 'acme.example.com',
      nonce: 'abc-_',
      uri: 'sip:127.0.0.1:5060',
      response: '0123456789abcdef0123456789abcdef',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: '6b8b4567',
    });
    expect(parseDigestCredentials('digest  USERNAME = "a, \\"b\\"" , realm="r", nonce="n", uri="sip:r", response="x"')?.username).toBe('a, "b"');
  });

  it('ignores another scheme', () => {
    expect(parseDigestCredentials('Bearer abc')).toBeUndefined();
  });

  it.each([
    ['a missing response', 'Digest username="a", realm="r", nonce="n", uri="sip:r"', /without response/],
    ['an unterminated quote', 'Digest username="a, realm="r"', /Malformed/],
    ['a parameter without value', 'Digest username', /Malformed/],
  ])('refuses %s', (_what, value, reason) => {
    expect(() => parseDigestCredentials(value)).toThrow(SipParseError);
    expect(() => parseDigestCredentials(value)).toThrow(reason);
  });

  it('formats a challenge with qop="auth", and stale=true only when stale', () => {
    expect(formatDigestChallenge({ realm: 'acme.example.com', nonce: 'n1', algorithm: 'MD5', qop: 'auth', stale: false })).toBe(
      'Digest realm="acme.example.com", nonce="n1", algorithm=MD5, qop="auth"',
    );
    expect(formatDigestChallenge({ realm: 'a', nonce: 'n', algorithm: 'SHA-256', qop: 'auth', stale: true })).toBe(
      'Digest realm="a", nonce="n", algorithm=SHA-256, qop="auth", stale=true',
    );
  });
});
