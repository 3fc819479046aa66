import { describe, expect, it } from 'vitest';
import { presentityFromId, presentityOf, splitPresentity } from '../../src/presentity.js';

describe('presentityFromId', () => {
  it('puts a bare presence id in the account realm', () => {
    expect(presentityFromId('1001', 'acme.example.com')).toBe('1001@acme.example.com');
  });

  it('strips a realm that matches the account, whatever its case, instead of appending it twice', () => {
    expect(presentityFromId('1001@ACME.example.com', 'acme.example.com')).toBe('1001@acme.example.com');
  });

  it('keeps a foreign realm', () => {
    expect(presentityFromId('1001@other.example.org', 'acme.example.com')).toBe('1001@other.example.org');
  });

  it('lower-cases the realm but keeps the user as dialled', () => {
    expect(presentityFromId('Alice', 'ACME.Example.COM')).toBe('Alice@acme.example.com');
    expect(presentityFromId('*3101', 'acme.example.com')).toBe('*3101@acme.example.com');
  });

  it('treats a trailing @ as no realm', () => {
    expect(presentityFromId('1001@', 'acme.example.com')).toBe('1001@acme.example.com');
  });
});

describe('presentityOf and splitPresentity', () => {
  it('round-trip a user whose name holds an @ by splitting at the last one', () => {
    const p = presentityOf('a@b', 'Acme.example.com');
    expect(p).toBe('a@b@acme.example.com');
    expect(splitPresentity(p)).toEqual({ user: 'a@b', realm: 'acme.example.com' });
  });
});
