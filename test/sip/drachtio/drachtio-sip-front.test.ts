import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presentityOf } from '../../../src/presentity.js';
import { startTestServer, waitFor, type TestServer } from '../../support/test-server.js';
import { FakeDrachtioServer, type AppMessage } from './fake-drachtio-server.js';

const DOMAIN = 'acme.example.com';

function subscribe(ext: string, callId: string, opts: { toTag?: string; cseq?: number; expires?: string } = {}): string {
  return [
    `SUBSCRIBE sip:${ext}@${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK${callId}${opts.cseq ?? 1};rport`,
    `From: <sip:watcher@${DOMAIN}>;tag=w-${callId}`,
    `To: <sip:${ext}@${DOMAIN}>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${callId}`,
    `CSeq: ${opts.cseq ?? 1} SUBSCRIBE`,
    'Contact: <sip:watcher@127.0.0.1:5099>',
    'Max-Forwards: 70',
    'Event: dialog',
    `Expires: ${opts.expires ?? '600'}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function header(sip: string, name: string): string | undefined {
  return new RegExp(`^${name}: *(.*)$`, 'im').exec(sip)?.[1]?.trim();
}

const isResponse = (m: AppMessage) => m.tokens[0] === 'sip' && m.sip.startsWith('SIP/2.0');
const isNotify = (m: AppMessage) => m.tokens[0] === 'sip' && m.sip.startsWith('NOTIFY');

function ok(req: string): string {
  return ['SIP/2.0 200 OK', `Via: ${header(req, 'Via')}`, `From: ${header(req, 'From')}`, `To: ${header(req, 'To')}`, `Call-ID: ${header(req, 'Call-ID')}`, `CSeq: ${header(req, 'CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n');
}

describe('the drachtio SIP front, driven by a fake drachtio server', () => {
  let drachtio: FakeDrachtioServer;
  let t: TestServer;
  beforeAll(async () => {
    drachtio = new FakeDrachtioServer('s3cret');
    const port = await drachtio.listen();
    t = await startTestServer({ PRESENCE_SIP_BACKEND: 'drachtio', DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(port), DRACHTIO_SECRET: 's3cret' });
  });
  afterAll(async () => {
    await t?.stop();
    await drachtio?.close();
  });

  /** A watcher of `ext` subscribed through the fake drachtio, its first NOTIFY answered 200. */
  async function subscribedAndAnswered(ext: string, callId: string, cseq: number) {
    drachtio.sendRequest(subscribe(ext, callId, { cseq }));
    await drachtio.next(isResponse);
    const first = await drachtio.next(isNotify);
    drachtio.sendResponse(first.msgId, first.tokens[2]!, ok(first.sip.replace(/^NOTIFY .*$/m, '')));
    const presentity = presentityOf(ext, DOMAIN);
    const [sub] = t.server.presence.watchers(presentity);
    await waitFor(() => sub!.lastReply === 200, 2000, 'first NOTIFY answered');
    return { presentity, sub: sub! };
  }

  it('answers a new SUBSCRIBE with 200 carrying the To tag the domain chose, then NOTIFYs inside the server dialog', async () => {
    drachtio.sendRequest(subscribe('201', 'new1'));
    const answer = await drachtio.next(isResponse);
    expect(answer.sip).toMatch(/^SIP\/2\.0 200 OK/);
    const [sub] = t.server.presence.watchers(presentityOf('201', DOMAIN));
    expect(header(answer.sip, 'To')).toBe(`<sip:201@${DOMAIN}>;tag=${sub!.dialog.localTag}`);
    expect(header(answer.sip, 'Expires')).toBe('600');
    expect(header(answer.sip, 'Contact')).toBe('<sip:presence@127.0.0.1:5070;transport=udp>');

    const notify = await drachtio.next(isNotify);
    expect(notify.tokens[2]).toBe(`new1;from-tag=w-new1`);
    expect(header(notify.sip, 'Event')).toBe('dialog');
    expect(header(notify.sip, 'Subscription-State')).toMatch(/^active;expires=(600|599)$/);
    expect(header(notify.sip, 'Content-Type')).toBe('application/dialog-info+xml');
    expect(header(notify.sip, 'Contact')).toBe('<sip:presence@127.0.0.1:5070;transport=udp>');
    expect(notify.sip).toContain('version="0"');
    drachtio.sendResponse(notify.msgId, notify.tokens[2]!, ok(notify.sip.replace(/^NOTIFY .*$/m, '')));
    await waitFor(() => sub!.lastReply === 200, 2000, 'NOTIFY answered');
  });

  it('answers a SUBSCRIBE with a To tag for a dialog it does not know with 481', async () => {
    drachtio.sendRequest(subscribe('202', 'stale1', { toTag: 'nosuchdialog', cseq: 2 }));
    const answer = await drachtio.next(isResponse);
    expect(answer.sip).toMatch(/^SIP\/2\.0 481 /);
    expect(t.server.presence.watchers(presentityOf('202', DOMAIN))).toHaveLength(0);
  });

  it('answers a SUBSCRIBE our parser rejects with 400 naming the header', async () => {
    drachtio.sendRequest(subscribe('203', 'bad1', { expires: 'soon' }));
    const answer = await drachtio.next(isResponse);
    expect(answer.sip).toMatch(/^SIP\/2\.0 400 Bad Request - .*Expires/);
  });

  it('answers OPTIONS with 200 and other methods with 405 and the methods it does serve', async () => {
    const options = subscribe('204', 'opt1').replace(/SUBSCRIBE/g, 'OPTIONS');
    drachtio.sendRequest(options);
    expect((await drachtio.next(isResponse)).sip).toMatch(/^SIP\/2\.0 200 OK/);
    drachtio.sendRequest(subscribe('204', 'inv1').replace(/SUBSCRIBE/g, 'MESSAGE'));
    const refused = await drachtio.next(isResponse);
    expect(refused.sip).toMatch(/^SIP\/2\.0 405 /);
    // The server plugs PUBLISH (RFC 3903) into the drachtio front too.
    expect(header(refused.sip, 'Allow')).toBe('SUBSCRIBE, OPTIONS, PUBLISH');
  });

  it('a state change while the connection to drachtio is down is sent once it is back, not lost', async () => {
    const { presentity, sub } = await subscribedAndAnswered('206', 'down1', 2);

    drachtio.dropConnection();
    await waitFor(() => !drachtio.connected, 2000, 'dropped');
    t.server.presence.set(presentity, 'early');
    const later = await drachtio.next(isNotify, 8000);
    expect(header(later.sip, 'Call-ID')).toBe('down1');
    expect(later.sip).toContain('<state>early</state>');
    drachtio.sendResponse(later.msgId, '', ok(later.sip.replace(/^NOTIFY .*$/m, '')));
    await waitFor(() => sub.notifyCount === 2 && sub.lastReply === 200, 2000, 'NOTIFY after the reconnect answered');
  });

  it('after the connection to drachtio is lost, NOTIFYs carry the stored dialog outside the server dialog', async () => {
    const { presentity, sub } = await subscribedAndAnswered('205', 'keep1', 4);

    drachtio.dropConnection();
    await waitFor(() => drachtio.connected, 5000, 'reconnected');
    t.server.presence.set(presentity, 'confirmed');
    const later = await drachtio.next(isNotify, 5000);
    expect(later.tokens[2]).toBe(''); // not inside a server dialog
    expect(header(later.sip, 'Call-ID')).toBe('keep1');
    expect(header(later.sip, 'From')).toBe(`<sip:205@${DOMAIN}>;tag=${sub.dialog.localTag}`);
    expect(header(later.sip, 'To')).toBe(`<sip:watcher@${DOMAIN}>;tag=w-keep1`);
    // remote CSeq 4 + our second NOTIFY
    expect(header(later.sip, 'CSeq')).toBe('6 NOTIFY');
    expect(later.tokens.at(-1)).toBe('sip:127.0.0.1:5099;transport=udp'); // back to the source (rport)
    expect(later.sip).toContain('<state>confirmed</state>');
    drachtio.sendResponse(later.msgId, '', ok(later.sip.replace(/^NOTIFY .*$/m, '')));
    await waitFor(() => sub.notifyCount === 2 && sub.lastReply === 200, 2000, 'NOTIFY outside the dialog answered');
  });
});
