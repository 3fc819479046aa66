import dgram from 'node:dgram';
import { TransportLayer } from '../../../sip/stack/transport-layer.js';
import { TransactionLayer, type TransactionLayerOptions } from '../../../sip/stack/transaction-layer.js';
import type { ListenSpec } from '../../../sip/stack/transport-types.js';
import { parseMessage } from '../../../sip/stack/parser.js';
import type { SipMessage } from '../../../sip/stack/message.js';

export interface Stack {
  transport: TransportLayer;
  transactions: TransactionLayer;
  stop(): Promise<void>;
}

export async function startStack(listen: ListenSpec[], opts: TransactionLayerOptions = {}, udpSenderThread = false): Promise<Stack> {
  // With the thread, always through it (however idle the test), so that it is what is tested.
  const transport = new TransportLayer({ listen, udpSenderThread, udpSendThreadAbove: 0, ...(opts.logger ? { logger: opts.logger } : {}) });
  const transactions = new TransactionLayer(transport, { timers: { t1: 20, t2: 80 }, ...opts });
  await transport.start();
  return {
    transport,
    transactions,
    async stop() {
      transactions.stop();
      await transport.stop();
    },
  };
}

/** A UDP peer on 127.0.0.1 that records every datagram it receives. */
export class UdpPeer {
  readonly received: Buffer[] = [];
  /** The port each datagram came from. */
  readonly sourcePorts: number[] = [];
  private waiters: Array<() => void> = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (m, rinfo) => {
      this.received.push(m);
      this.sourcePorts.push(rinfo.port);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(): Promise<UdpPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Buffer | string, port: number): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, port, '127.0.0.1');
  }

  /** Waits until `count` datagrams have arrived in total. */
  async waitFor(count: number, timeoutMs = 2000): Promise<SipMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} datagrams, got ${this.received.length}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.received.map((b) => {
      const r = parseMessage(b);
      if (!r.ok) throw new Error(`peer got an unparseable message: ${r.error}`);
      return r.message;
    });
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
