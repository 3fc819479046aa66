import { describe, expect, it } from 'vitest';
import { digestResponse, parseDigestAlgorithm } from '../../../src/digest/digest-response.js';

describe('digest response', () => {
  it('matches the RFC 2617 3.5 example (MD5, qop=auth)', () => {
    expect(
      digestResponse({
        algorithm: 'MD5',
        username: 'Mufasa',
        realm: 'testrealm@host.com',
        password: 'Circle Of Life',
        method: 'GET',
        uri: '/dir/index.html',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('matches the RFC 7616 3.9.1 examples for MD5 and SHA-256', () => {
    const input = {
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      password: 'Circle of Life',
      method: 'GET',
      uri: '/dir/index.html',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      qop: 'auth' as const,
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    };
    expect(digestResponse({ ...input, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(digestResponse({ ...input, algorithm: 'SHA-256' })).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('computes the RFC 2069 form when the client sends no qop', () => {
    const r = digestResponse({ algorithm: 'MD5', username: 'u', realm: 'r', password: 'p', method: 'SUBSCRIBE', uri: 'sip:r', nonce: 'n' });
    expect(r).toMatch(/^[0-9a-f]{32}$/);
    expect(r).not.toBe(digestResponse({ algorithm: 'MD5', username: 'u', realm: 'r', password: 'p', method: 'SUBSCRIBE', uri: 'sip:r', nonce: 'n', qop: 'auth', nc: '00000001', cnonce: 'c' }));
  });

  it('reads a missing algorithm as MD5 and compares names case-insensitively', () => {
    expect(parseDigestAlgorithm(undefined)).toBe('MD5');
    expect(parseDigestAlgorithm('sha-256')).toBe('SHA-256');
    expect(parseDigestAlgorithm('MD5-sess')).toBeUndefined();
  });
});
