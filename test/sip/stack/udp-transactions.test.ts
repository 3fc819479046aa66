import { afterEach, describe, expect, it } from 'vitest';
import { parseVia } from '../../../sip/stack/via.js';
import { parseNameAddr } from '../../../sip/stack/name-addr.js';
import { SipHeaders } from '../../../sip/stack/headers.js';
import type { SipRequest, SipResponse } from '../../../sip/stack/message.js';
import { serialize } from '../../../sip/stack/serialize.js';
import { parseMessage } from '../../../sip/stack/parser.js';
import { TransportLayer } from '../../../sip/stack/transport-layer.js';
import { sleep, startStack, UdpPeer, type Stack } from './harness.js';
import { subscribe, wire } from './messages.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function udpStack(): Promise<{ stack: Stack; port: number; peer: UdpPeer }> {
  const stack = await startStack([{ transport: 'udp', host: '127.0.0.1', port: 0 }]);
  cleanups.push(() => stack.stop());
  const peer = await UdpPeer.open();
  cleanups.push(() => peer.close());
  return { stack, port: stack.transport.localAddress('udp')?.port ?? 0, peer };
}

function asResponse(m: unknown): SipResponse {
  const r = m as SipResponse;
  expect(r.kind).toBe('response');
  return r;
}

function notify(branch: string, port: number): SipRequest {
  return {
    kind: 'request',
    method: 'NOTIFY',
    uri: `sip:alice@127.0.0.1:${port}`,
    headers: new SipHeaders([
      ['Via', `SIP/2.0/UDP 127.0.0.1:5060;branch=${branch};rport`],
      ['Max-Forwards', '70'],
      ['From', '<sip:100@example.com>;tag=srv'],
      ['To', '<sip:alice@example.com>;tag=a1'],
      ['Call-ID', `n-${branch}`],
      ['CSeq', '1 NOTIFY'],
      ['Event', 'dialog'],
      ['Subscription-State', 'active;expires=3600'],
    ]),
    body: Buffer.alloc(0),
  };
}

describe('UDP server transactions', () => {
  it('answers a SUBSCRIBE through the transaction layer, with received/rport stamped in the Via', async () => {
    const { stack, port, peer } = await udpStack();
    stack.transactions.onRequest((req, tx) => {
      void tx.respond(200, 'OK', [['Expires', '600'], ['Contact', '<sip:srv@127.0.0.1>']], undefined, { toTag: 'our-tag' });
    });
    peer.send(subscribe({ Via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKudp1;rport' }), port);
    const [m] = await peer.waitFor(1);
    const res = asResponse(m);
    expect(res.status).toBe(200);
    expect(parseNameAddr(res.headers.get('to') ?? '').tag).toBe('our-tag');
    expect(res.headers.get('expires')).toBe('600');
    expect(res.headers.get('call-id')).toBe('c1@192.0.2.10');
    expect(res.headers.get('cseq')).toBe('1 SUBSCRIBE');
    // RFC 3581: the Via says 192.0.2.10:5060 but the packet came from 127.0.0.1:<peer>,
    // and the response went to the packet's source, or the peer would not have it.
    const via = parseVia(res.headers.get('via') ?? '');
    expect(via.received).toBe('127.0.0.1');
    expect(via.rport).toBe(peer.port);
  });

  it('returns the phone\'s Via as written, with received added and its empty rport filled in (RFC 3581 4)', async () => {
    const { stack, port, peer } = await udpStack();
    stack.transactions.onRequest((_req, tx) => {
      void tx.respond(200, 'OK');
    });
    // Without rport a response goes to sent-by's port: the peer's, in those two cases.
    const p = peer.port;
    const cases: Array<[sent: string, expected: string]> = [
      // The phone's spelling and order stay; the empty rport is filled where it stands.
      ['SIP/2.0/UDP 192.0.2.10:5060;RPort;branch=z9hG4bKv1;X-Keep=Yes', `SIP/2.0/UDP 192.0.2.10:5060;received=127.0.0.1;rport=${p};branch=z9hG4bKv1;X-Keep=Yes`],
      ['SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKv2;rport', `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKv2;received=127.0.0.1;rport=${p}`],
      // No rport: received only where sent-by is not where the packet came from.
      [`SIP/2.0/UDP 192.0.2.10:${p};branch=z9hG4bKv3`, `SIP/2.0/UDP 192.0.2.10:${p};branch=z9hG4bKv3;received=127.0.0.1`],
      [`SIP/2.0/UDP 127.0.0.1:${p};branch=z9hG4bKv4`, `SIP/2.0/UDP 127.0.0.1:${p};branch=z9hG4bKv4`],
      // More than a stamp to do: written again from its parts, an old received replaced.
      ['SIP/2.0/UDP 192.0.2.10;received=198.51.100.1;rport;branch=z9hG4bKv5', `SIP/2.0/UDP 192.0.2.10;received=127.0.0.1;rport=${p};branch=z9hG4bKv5`],
      ['SIP/2.0/UDP 192.0.2.10;rport ;branch=z9hG4bKv6', `SIP/2.0/UDP 192.0.2.10;rport=${p};branch=z9hG4bKv6;received=127.0.0.1`],
      // Two Vias on one line: the top one stamped, the one below untouched.
      ['SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKv7;rport, SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1', `SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKv7;received=127.0.0.1;rport=${p}, SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1`],
    ];
    for (const [i, [sent]] of cases.entries()) peer.send(subscribe({ Via: sent, 'Call-ID': `via-${i}` }), port);
    const answers = (await peer.waitFor(cases.length)).map(asResponse);
    for (const [i, [, expected]] of cases.entries()) {
      const res = answers.find((r) => r.headers.get('call-id') === `via-${i}`);
      expect(res?.headers.getAll('via').join(', ')).toBe(expected);
    }
  });

  it('absorbs a retransmitted request: the handler runs once and the final response is resent', async () => {
    const { stack, port, peer } = await udpStack();
    let calls = 0;
    stack.transactions.onRequest((req, tx) => {
      calls++;
      // Answer late, so the first retransmission arrives while the transaction is Trying.
      setTimeout(() => void tx.respond(200, 'OK', { Expires: 60 }), 50);
    });
    const msg = subscribe({ Via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKretrans;rport' });
    peer.send(msg, port);
    await sleep(10);
    peer.send(msg, port); // in Trying: absorbed, no answer yet
    await peer.waitFor(1);
    await sleep(20);
    expect(peer.received).toHaveLength(1);
    peer.send(msg, port); // in Completed: the same final response again
    const all = await peer.waitFor(2);
    expect(calls).toBe(1);
    expect(peer.received[1].equals(peer.received[0])).toBe(true);
    expect(asResponse(all[1]).status).toBe(200);
  });

  it('answers a malformed request with 400 and a reason phrase naming the problem', async () => {
    const { stack, port, peer } = await udpStack();
    let calls = 0;
    stack.transactions.onRequest(() => {
      calls++;
    });
    peer.send(subscribe({ CSeq: '1 PUBLISH' }), port);
    const [m] = await peer.waitFor(1);
    const res = asResponse(m);
    expect(res.status).toBe(400);
    expect(res.reason).toBe('Bad Request - CSeq method does not match the request method');
    expect(res.headers.get('call-id')).toBe('c1@192.0.2.10');
    expect(calls).toBe(0);
  });

  it('answers an unknown SIP version with 505', async () => {
    const { port, peer } = await udpStack();
    peer.send(subscribe({}, 'SUBSCRIBE sip:100@example.com SIP/7.0'), port);
    const [m] = await peer.waitFor(1);
    expect(asResponse(m).status).toBe(505);
  });

  it('survives garbage datagrams and never answers a response or an ACK', async () => {
    const { stack, port, peer } = await udpStack();
    stack.transactions.onRequest((req, tx) => void tx.respond(200));
    peer.send(Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]), port);
    peer.send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKstray\r\n\r\n', port);
    peer.send(wire(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKstray', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>;tag=2', 'Call-ID: stray', 'CSeq: 1 NOTIFY', 'Content-Length: 0']), port);
    peer.send(subscribe({ CSeq: '1 ACK' }, 'ACK sip:100@example.com SIP/2.0'), port);
    peer.send('\r\n\r\n', port);
    peer.send(subscribe({ CSeq: '2 OPTIONS', Via: 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKafter;rport' }, 'OPTIONS sip:100@example.com SIP/2.0'), port);
    const msgs = await peer.waitFor(1);
    await sleep(50);
    expect(msgs).toHaveLength(1);
    expect(asResponse(msgs[0]).status).toBe(200);
  });

  it('answers 500 when the application handler throws, so no request goes unanswered', async () => {
    const { stack, port, peer } = await udpStack();
    stack.transactions.onRequest(() => {
      throw new Error('boom');
    });
    peer.send(subscribe(), port);
    const [m] = await peer.waitFor(1);
    expect(asResponse(m).status).toBe(500);
  });

  it('adds a generated To tag to a final response when the application gives none', async () => {
    const { stack, port, peer } = await udpStack();
    let tag: string | undefined;
    stack.transactions.onRequest((req, tx) => {
      void tx.respond(200);
      tag = tx.toTag;
    });
    peer.send(subscribe({ CSeq: '1 OPTIONS' }, 'OPTIONS sip:100@example.com SIP/2.0'), port);
    const [m] = await peer.waitFor(1);
    expect(tag).toMatch(/^[0-9a-f]{16}$/);
    expect(parseNameAddr(asResponse(m).headers.get('to') ?? '').tag).toBe(tag);
  });
});

describe('UDP client transactions', () => {
  it('retransmits with Timer E doubling up to T2 and times out after Timer F', async () => {
    const { stack, peer } = await udpStack();
    const started = Date.now();
    const result = await stack.transactions.sendRequest(notify(stack.transactions.newBranch(), peer.port), {
      transport: 'udp',
      address: '127.0.0.1',
      port: peer.port,
    });
    const elapsed = Date.now() - started;
    expect(result.kind).toBe('timeout');
    // T1 = 20 ms: F = 1280 ms; sends at 0, 20, 60, 140, 220, ... (interval capped at T2 = 80 ms).
    expect(elapsed).toBeGreaterThanOrEqual(1200);
    expect(peer.received.length).toBeGreaterThanOrEqual(10);
    expect(peer.received.length).toBeLessThanOrEqual(20);
    for (const b of peer.received) expect(b.equals(peer.received[0])).toBe(true);
    expect(stack.transactions.stats.client).toBe(0);
  });

  it('resolves with the final response, ignoring 1xx, and stops retransmitting', async () => {
    const { stack, peer } = await udpStack();
    peer.socket.on('message', (buf, rinfo) => {
      const r = parseMessage(buf);
      if (!r.ok || r.message.kind !== 'request') return;
      const answer = (status: number): void => {
        const h = r.message.headers;
        const lines = [`SIP/2.0 ${status} X`, `Via: ${h.get('via') ?? ''}`, `From: ${h.get('from') ?? ''}`, `To: ${h.get('to') ?? ''}`, `Call-ID: ${h.get('call-id') ?? ''}`, `CSeq: ${h.get('cseq') ?? ''}`, 'Content-Length: 0'];
        peer.socket.send(wire(lines), rinfo.port, rinfo.address);
      };
      // First copy: 100 only. The retransmission gets the 200, twice.
      if (peer.received.length === 1) answer(100);
      else {
        answer(200);
        answer(200);
      }
    });
    const result = await stack.transactions.sendRequest(notify(stack.transactions.newBranch(), peer.port), {
      transport: 'udp',
      address: '127.0.0.1',
      port: peer.port,
    });
    expect(result.kind).toBe('response');
    if (result.kind === 'response') expect(result.response.status).toBe(200);
    const count = peer.received.length;
    await sleep(300);
    expect(peer.received.length).toBe(count);
    // The 200's copy found nothing to match and was dropped (the Completed state's job).
    expect(stack.transactions.stats.client).toBe(0);
  });

  it('stretches Timer E to the round trip it measures when answers come slower than T1 allows', async () => {
    // T1 = 20 ms, T2 = 400 ms: a peer answering after ~100 ms makes T1 too short to wait for it.
    const stack = await startStack([{ transport: 'udp', host: '127.0.0.1', port: 0 }], { timers: { t1: 20, t2: 400 } });
    cleanups.push(() => stack.stop());
    const slow = await UdpPeer.open();
    cleanups.push(() => slow.close());
    const answered = new Set<string>();
    slow.socket.on('message', (buf, rinfo) => {
      const r = parseMessage(buf);
      if (!r.ok || r.message.kind !== 'request') return;
      const h = r.message.headers;
      const branch = h.get('via') ?? '';
      if (answered.has(branch)) return;
      answered.add(branch);
      const lines = ['SIP/2.0 200 OK', `Via: ${branch}`, `From: ${h.get('from') ?? ''}`, `To: ${h.get('to') ?? ''}`, `Call-ID: ${h.get('call-id') ?? ''}`, `CSeq: ${h.get('cseq') ?? ''}`, 'Content-Length: 0'];
      setTimeout(() => slow.socket.send(wire(lines), rinfo.port, rinfo.address), 100);
    });
    const dest = { transport: 'udp' as const, address: '127.0.0.1', port: slow.port };
    // The first ones, on T1, are resent before their answers come; once answers have been
    // measured at ~100 ms, a request waits for its answer and is sent once.
    for (let i = 0; i < 6; i++) expect((await stack.transactions.sendRequest(notify(stack.transactions.newBranch(), slow.port), dest)).kind).toBe('response');
    const before = slow.received.length;
    expect((await stack.transactions.sendRequest(notify(stack.transactions.newBranch(), slow.port), dest)).kind).toBe('response');
    expect(slow.received.length - before).toBe(1);
    // A peer that never answers still gets its retransmissions, from the stretched interval.
    const silent = await UdpPeer.open();
    cleanups.push(() => silent.close());
    const started = Date.now();
    const pending = stack.transactions.sendRequest(notify(stack.transactions.newBranch(), silent.port), { transport: 'udp', address: '127.0.0.1', port: silent.port });
    await silent.waitFor(2, 1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect((await pending).kind).toBe('timeout');
  });

  it('reports a transport error instead of throwing when the destination is unusable', async () => {
    const { stack } = await udpStack();
    const r1 = await stack.transactions.sendRequest(notify(stack.transactions.newBranch(), 1), { transport: 'ws', address: '127.0.0.1', port: 1, connectionId: 'ws-999' });
    expect(r1.kind).toBe('transport-error');
    const r2 = await stack.transactions.sendRequest(notify(stack.transactions.newBranch(), 1), { transport: 'udp', address: '127.0.0.1', port: 0 });
    expect(r2.kind).toBe('transport-error');
  });

  it('refuses a request without a z9hG4bK branch as a programming error', async () => {
    const { stack } = await udpStack();
    const req = notify('nocookie', 1);
    expect(() => stack.transactions.sendRequest(req, { transport: 'udp', address: '127.0.0.1', port: 9 })).toThrow(/z9hG4bK/);
  });

  it('builds a Via for outgoing requests from the local address', async () => {
    const { stack } = await udpStack();
    const via = parseVia(stack.transactions.viaFor('udp') ?? '');
    expect(via.host).toBe('127.0.0.1');
    expect(via.port).toBe(stack.transport.localAddress('udp')?.port);
    expect(via.branch).toMatch(/^z9hG4bK[0-9a-f]{32}$/);
    expect(via.rport).toBe(true);
  });
});

describe('TransportLayer start and stop', () => {
  it('rejects start() with a clear error when the port is taken', async () => {
    const first = new TransportLayer({ listen: [{ transport: 'tcp', host: '127.0.0.1', port: 0 }] });
    await first.start();
    cleanups.push(() => first.stop());
    const port = first.localAddress('tcp')?.port ?? 0;
    const second = new TransportLayer({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }, { transport: 'tcp', host: '127.0.0.1', port }] });
    await expect(second.start()).rejects.toThrow(/cannot listen on tcp 127\.0\.0\.1:\d+: EADDRINUSE/);
  });

  it('serializes messages handed to send()', async () => {
    const { stack, peer } = await udpStack();
    const req = notify('z9hG4bKraw', peer.port);
    expect(await stack.transport.send({ transport: 'udp', address: '127.0.0.1', port: peer.port }, req)).toEqual({ ok: true });
    const [m] = await peer.waitFor(1);
    expect(m.kind).toBe('request');
    expect(peer.received[0].equals(serialize(req))).toBe(true);
  });
});
