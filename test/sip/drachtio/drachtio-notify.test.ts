import { describe, expect, it } from 'vitest';
import type { NotifyRequest } from '../../../src/ports/notifier.js';
import type { SubscriptionDialog } from '../../../src/subscription.js';
import { inDialogNotify, outOfDialogCseq, outOfDialogNotify } from '../../../sip/drachtio/drachtio-notify.js';

function dialog(over: Partial<SubscriptionDialog> = {}): SubscriptionDialog {
  return {
    callId: 'c1@phone',
    localTag: 'ours',
    remoteTag: 'theirs',
    localUri: '<sip:201@acme.example.com>',
    remoteUri: '"Desk" <sip:watcher@acme.example.com>',
    remoteTarget: 'sip:watcher@192.0.2.7:5062',
    routeSet: [],
    localCseq: 3,
    remoteCseq: 10,
    binding: { transport: 'udp', source: { address: '192.0.2.7', port: 5062 }, sendToSource: false },
    ...over,
  };
}

function notify(d: SubscriptionDialog, state = 'active;expires=300'): NotifyRequest {
  return { dialog: d, event: 'dialog', subscriptionState: state, contentType: 'application/dialog-info+xml', body: '<dialog-info/>' };
}

const CONTACT = '<sip:presence@127.0.0.1:5060;transport=udp>';

describe('NOTIFYs through drachtio', () => {
  it('inside the server dialog carry only the package headers, the Contact and the body', () => {
    const m = inDialogNotify(notify(dialog()), 'c1@phone;from-tag=theirs', CONTACT, 'test-agent');
    expect(m.opts).toEqual({
      method: 'NOTIFY',
      stackDialogId: 'c1@phone;from-tag=theirs',
      headers: {
        Event: 'dialog',
        'Subscription-State': 'active;expires=300',
        'User-Agent': 'test-agent',
        Contact: CONTACT,
        'Content-Type': 'application/dialog-info+xml',
      },
      body: '<dialog-info/>',
    });
  });

  it('outside the server dialog carry the stored Call-ID, both tags and the route set', () => {
    const d = dialog({ routeSet: ['<sip:proxy1.example.com;lr>', '<sip:proxy2.example.com;lr>'] });
    const m = outOfDialogNotify(notify(d), CONTACT, 'test-agent');
    expect(m.uri).toBe('sip:watcher@192.0.2.7:5062');
    expect(m.opts.headers).toMatchObject({
      'Call-ID': 'c1@phone',
      From: '<sip:201@acme.example.com>;tag=ours',
      To: '"Desk" <sip:watcher@acme.example.com>;tag=theirs',
      CSeq: '13 NOTIFY',
      Route: '<sip:proxy1.example.com;lr>, <sip:proxy2.example.com;lr>',
      Event: 'dialog',
      'Subscription-State': 'active;expires=300',
      Contact: CONTACT,
    });
    expect(m.opts.stackDialogId).toBeUndefined();
    expect(m.opts.proxy).toBeUndefined();
  });

  it('outside the server dialog use a CSeq above any the server used, rising by one per NOTIFY', () => {
    // The server numbered NOTIFYs from the first SUBSCRIBE's CSeq (<= remoteCseq), one per NOTIFY sent.
    const firstSubscribeCseq = 7;
    const sentInDialog = 4;
    const d = dialog({ remoteCseq: 9, localCseq: sentInDialog + 1 });
    expect(outOfDialogCseq(d)).toBeGreaterThan(firstSubscribeCseq + sentInDialog);
    expect(outOfDialogCseq({ ...d, localCseq: d.localCseq + 1 })).toBe(outOfDialogCseq(d) + 1);
  });

  it('go back to the source address of a UDP phone behind NAT and of a TCP phone', () => {
    const nat = outOfDialogNotify(notify(dialog({ binding: { transport: 'udp', source: { address: '198.51.100.4', port: 40000 }, sendToSource: true } })), CONTACT, 'x');
    expect(nat.opts.proxy).toBe('sip:198.51.100.4:40000;transport=udp');
    const tcp = outOfDialogNotify(notify(dialog({ binding: { transport: 'tcp', source: { address: '2001:db8::5', port: 50123 }, sendToSource: true } })), CONTACT, 'x');
    expect(tcp.opts.proxy).toBe('sip:[2001:db8::5]:50123;transport=tcp');
  });

  it('without a body send no Content-Type and no body', () => {
    const m = outOfDialogNotify({ dialog: dialog(), event: 'presence', subscriptionState: 'terminated;reason=timeout' }, undefined, 'x');
    expect(m.opts.body).toBeUndefined();
    expect(m.opts.headers).not.toHaveProperty('Content-Type');
    expect(m.opts.headers).not.toHaveProperty('Contact');
  });
});
