import { describe, expect, it } from 'vitest';
import { parseDrachtioEndpoints, parseHostPort } from '../../../sip/drachtio/drachtio-endpoints.js';
import { reconnectDelay } from '../../../sip/drachtio/reconnect-backoff.js';
import { readDrachtioRequest } from '../../../sip/drachtio/drachtio-request-reader.js';

describe('what a drachtio server announces', () => {
  it('its SIP endpoints are read per transport, IPv6 included, unknown ones skipped', () => {
    expect(parseDrachtioEndpoints('tcp/127.0.0.1:5060,udp/127.0.0.1:5060,ws/[::1]:5066,sctp/1.2.3.4:9')).toEqual([
      { transport: 'tcp', address: '127.0.0.1', port: 5060 },
      { transport: 'udp', address: '127.0.0.1', port: 5060 },
      { transport: 'ws', address: '::1', port: 5066 },
    ]);
    expect(parseHostPort('nonsense')).toBeUndefined();
  });
});

describe('reconnecting to the drachtio server', () => {
  it('waits twice as long after each failure, up to the cap', () => {
    const b = { initialMs: 250, maxMs: 10_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => reconnectDelay(b, n))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });
});

const SUBSCRIBE = [
  'SUBSCRIBE sip:201@acme.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK1;rport',
  'From: <sip:w@acme.example.com>;tag=a',
  'To: <sip:201@acme.example.com>',
  'Call-ID: x1',
  'CSeq: 1 SUBSCRIBE',
  'Contact: <sip:w@10.0.0.9:5060>',
  'Event: dialog',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('a request relayed by drachtio', () => {
  it('is parsed by our own parser and remembers how to reach the phone (RFC 3581 rport)', () => {
    const r = readDrachtioRequest({ raw: SUBSCRIBE, protocol: 'udp', sourceAddress: '198.51.100.4', sourcePort: 40000, receivedOn: '127.0.0.1:5060' });
    if (!r.ok) throw new Error(r.reason);
    expect(r.request.method).toBe('SUBSCRIBE');
    expect(r.request.headers.get('Event')).toBe('dialog');
    expect(r.binding).toEqual({
      transport: 'udp',
      source: { address: '198.51.100.4', port: 40000 },
      local: { address: '127.0.0.1', port: 5060 },
      sendToSource: true,
    });
  });

  it('a UDP phone whose Via matches its source and asks no rport is answered at its Contact', () => {
    const raw = SUBSCRIBE.replace(';rport', '');
    const r = readDrachtioRequest({ raw, protocol: 'UDP', sourceAddress: '10.0.0.9', sourcePort: 5060 });
    expect(r.ok && r.binding.sendToSource).toBe(false);
  });

  it('a message our parser rejects gets a 400 naming the problem', () => {
    const r = readDrachtioRequest({ raw: SUBSCRIBE.replace('CSeq: 1 SUBSCRIBE', 'CSeq: one SUBSCRIBE'), protocol: 'tcp', sourceAddress: '10.0.0.9', sourcePort: 5060 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(400);
      expect(r.reason).toMatch(/^Bad Request - .*CSeq/i);
    }
  });
});
