import { describe, expect, it } from 'vitest';
import { StreamFramer, type FramerEvent } from '../../../sip/stack/stream-framer.js';
import { parseMessage } from '../../../sip/stack/parser.js';
import { subscribe, wire } from './messages.js';

function messages(events: FramerEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'message' ? [e.data.toString('utf8')] : []));
}

// The body holds a CRLFCRLF and a two-byte character: only a byte count frames it right.
const body = 'h\u00e9llo\r\n\r\nx';
const withBody = wire(
  ['NOTIFY sip:a@192.0.2.1 SIP/2.0', 'Via: SIP/2.0/TCP h;branch=z9hG4bKn', 'From: <sip:b@x>;tag=1', 'To: <sip:a@x>;tag=2', 'Call-ID: f1', 'CSeq: 2 NOTIFY', `l: ${Buffer.byteLength(body)}`],
  body,
);

describe('StreamFramer', () => {
  it('frames a message split at every possible byte offset', () => {
    for (let cut = 1; cut < withBody.length; cut++) {
      const f = new StreamFramer();
      const events = [...f.push(withBody.subarray(0, cut)), ...f.push(withBody.subarray(cut))];
      expect(messages(events)).toEqual([withBody.toString('utf8')]);
      expect(f.buffered).toBe(0);
    }
  });

  it('frames a message fed one byte at a time', () => {
    const f = new StreamFramer();
    const events: FramerEvent[] = [];
    for (const b of withBody) events.push(...f.push(Buffer.from([b])));
    expect(messages(events)).toEqual([withBody.toString('utf8')]);
  });

  it('frames many pipelined messages in one chunk, with the body counted in bytes', () => {
    const f = new StreamFramer();
    const chunk = Buffer.concat([subscribe(), withBody, subscribe(), withBody]);
    const out = messages(f.push(chunk));
    expect(out).toHaveLength(4);
    for (const m of out) expect(parseMessage(Buffer.from(m), { stream: true }).ok).toBe(true);
  });

  it('reports a CRLFCRLF ping as a keepalive and skips lone CRLF pongs, even split across chunks', () => {
    const f = new StreamFramer();
    expect(f.push(Buffer.from('\r\n\r\n'))).toEqual([{ kind: 'keepalive' }]);
    expect(f.push(Buffer.from('\r\n\r'))).toEqual([]);
    expect(f.push(Buffer.from('\n'))).toEqual([{ kind: 'keepalive' }]);
    const events = f.push(Buffer.concat([Buffer.from('\r\n'), subscribe(), Buffer.from('\r\n\r\n')]));
    expect(events.map((e) => e.kind)).toEqual(['message', 'keepalive']);
  });

  it('fails the stream on a missing Content-Length and hands back the headers for a 400', () => {
    const f = new StreamFramer();
    const events = f.push(subscribe({ 'Content-Length': null }));
    expect(events).toHaveLength(1);
    const ev = events[0];
    expect(ev.kind).toBe('error');
    if (ev.kind !== 'error') return;
    expect(ev.error).toMatch(/Missing Content-Length/);
    const partial = parseMessage(ev.head ?? Buffer.alloc(0));
    expect(partial.ok && partial.message.kind === 'request' && partial.message.method).toBe('SUBSCRIBE');
    // Nothing more is framed after the error: the connection must be closed.
    expect(f.push(subscribe())).toEqual([]);
  });

  it('fails on a negative Content-Length and on messages above the size limit', () => {
    expect(new StreamFramer().push(subscribe({ 'Content-Length': '-1' }))[0]).toMatchObject({ kind: 'error', error: 'Malformed Content-Length header' });
    expect(new StreamFramer({ maxMessageSize: 1000 }).push(subscribe({ 'Content-Length': '5000' }))[0]).toMatchObject({ kind: 'error', error: 'Message too large' });
    const f = new StreamFramer({ maxMessageSize: 1000 });
    expect(f.push(Buffer.alloc(1500, 0x41))[0]).toMatchObject({ kind: 'error', error: 'Message too large' });
  });

  it('finds the compact Content-Length form and tolerates spaces before the colon', () => {
    const msg = wire(['OPTIONS sip:a@b SIP/2.0', 'Via: SIP/2.0/TCP h;branch=z9hG4bK1', 'From: <sip:b@x>;tag=1', 'To: <sip:a@x>', 'Call-ID: c', 'CSeq: 1 OPTIONS', 'CONTENT-LENGTH  :  3'], 'abc');
    expect(messages(new StreamFramer().push(Buffer.concat([msg, msg])))).toHaveLength(2);
  });
});
