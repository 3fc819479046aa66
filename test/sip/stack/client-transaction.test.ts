import { afterEach, describe, expect, it } from 'vitest';
import { ClientTransaction, type ClientTransactionHost, type ClientTransactionResult } from '../../../sip/stack/client-transaction.js';
import type { SipResponse } from '../../../sip/stack/message.js';
import { SipHeaders } from '../../../sip/stack/headers.js';
import type { SendResult } from '../../../sip/stack/transport-types.js';

const dest = { transport: 'udp' as const, address: '127.0.0.1', port: 5060 };
const running: ClientTransaction[] = [];

function host(send: () => SendResult | Promise<SendResult>): ClientTransactionHost & { done: ClientTransaction[]; sends: number } {
  const h = {
    done: [] as ClientTransaction[],
    sends: 0,
    send: () => {
      h.sends++;
      return send();
    },
    onDone: (tx: ClientTransaction) => h.done.push(tx),
    timers: { t1: 500, t2: 4000 },
    firstInterval: () => 500,
    roundTrip: () => {},
  };
  return h;
}

function start(h: ClientTransactionHost): { tx: ClientTransaction; results: ClientTransactionResult[] } {
  const tx = new ClientTransaction('z9hG4bKct|NOTIFY', Buffer.from('NOTIFY'), dest, false, h);
  running.push(tx);
  const results: ClientTransactionResult[] = [];
  tx.run((r) => results.push(r));
  return { tx, results };
}

function ok200(): SipResponse {
  return { kind: 'response', status: 200, reason: 'OK', headers: new SipHeaders(), body: Buffer.alloc(0) };
}

afterEach(() => {
  for (const tx of running.splice(0)) tx.finish({ kind: 'transport-error', reason: 'test over' });
});

describe('ClientTransaction.run', () => {
  it('waits for the answer after a datagram queued at once, and hands the outcome to the callback', () => {
    const h = host(() => ({ ok: true }));
    const { tx, results } = start(h);
    expect(h.sends).toBe(1);
    expect(results).toEqual([]);
    tx.onResponse(ok200());
    expect(results.map((r) => r.kind)).toEqual(['response']);
    expect(tx.state).toBe('completed');
    expect(h.done).toEqual([tx]);
  });

  it('ends at once with a transport error when the send fails on the spot', () => {
    const h = host(() => ({ ok: false, reason: 'udp transport not running' }));
    const { tx, results } = start(h);
    expect(results).toEqual([{ kind: 'transport-error', reason: 'udp transport not running' }]);
    expect(tx.state).toBe('terminated');
    expect(h.done).toEqual([tx]);
  });

  it('ends with a transport error when a send reported later fails', async () => {
    const h = host(() => Promise.resolve({ ok: false, reason: 'connection closed' }));
    const { results } = start(h);
    expect(results).toEqual([]);
    await Promise.resolve();
    await Promise.resolve();
    expect(results).toEqual([{ kind: 'transport-error', reason: 'connection closed' }]);
  });
});
