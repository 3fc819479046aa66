import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import type { Destination, LocalAddress, SendResult, StackLogger } from '../transport-types.js';
import { errorReason, normalizeAddress, type Transport, type TransportSink } from './transport.js';
import { UdpSenderThread } from './udp-sender-thread.js';
import type { ReadTally } from '../../../src/receive-priority.js';

const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/** What send() answers for a datagram handed to the send thread: one object for all. */
const QUEUED: SendResult = Object.freeze({ ok: true });

/**
 * The send thread's ring: what the event loop has queued and the thread not yet sent. Sized
 * for a 5,000-watcher fan-out (~800 bytes a NOTIFY), which the event loop prepares faster than
 * one thread sends; every page of it is touched once the ring has gone round.
 */
const SEND_RING_BYTES = 4 * 1024 * 1024;

/**
 * A request (a NOTIFY) goes from the event loop instead of the send thread when the thread is
 * this far behind and holds no response: a fan-out prepares NOTIFYs faster than one thread
 * sends them, and both then send. A response still queued keeps the requests behind it in the
 * ring, so that a NOTIFY never overtakes the 200 to its SUBSCRIBE (strict clients, SIPp among
 * them, fail on that). Requests among themselves need no order: a subscription has one
 * NOTIFY in flight at a time.
 */
const SEND_BACKLOG_BYTES = 32 * 1024;

/**
 * The send thread is used while the event loop is busier than this (its utilization over the
 * last LOAD_SAMPLE_MS). A lightly loaded server sends from the event loop: waking a thread
 * for each of a few datagrams costs more CPU than sending them, and adds latency.
 */
const SEND_THREAD_ABOVE = 0.5;
const LOAD_SAMPLE_MS = 100;

/** Largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP). */
const MAX_DATAGRAM = 65507;

/**
 * dgram resolves every destination before sending, even an IP literal, through dns.lookup
 * and a process.nextTick. Nearly every destination here is an address a packet came from:
 * those are handed straight back, names still go to dns.lookup.
 */
function lookupUnlessLiteral(
  hostname: string,
  options: dns.LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = net.isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, options, callback);
}

/** A Destination's address as dgram takes it: an IPv6 literal without its brackets. */
function unbracketed(address: string): string {
  return address.startsWith('[') ? address.slice(1, -1) : address;
}

/** What dgram's send() takes as a port. */
function isPort(port: number): boolean {
  return Number.isInteger(port) && port > 0 && port < 65536;
}

export interface UdpTransportOptions {
  /** Send from a thread of its own (UdpSenderThread); the listener only receives. */
  senderThread?: boolean;
  /** Size of the send thread's ring (tests). */
  sendRingBytes?: number;
  /** Event loop utilization above which the send thread is used (default 0.5; tests: 0). */
  sendThreadAbove?: number;
  /** Nice steps below the event loop for the send thread (Linux; default 0, the same). */
  sendThreadNice?: number;
  /** Counts every datagram read (ReceivePriority looks at it once per event-loop turn). */
  readTally?: ReadTally;
}

/** SIP over UDP (RFC 3261 18): one datagram, one message. */
export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  private socket: dgram.Socket | undefined;
  private sender: UdpSenderThread | undefined;
  /** The send thread's mark for the response queued last. */
  private lastResponse = 0;
  /** Whether new datagrams go to the send thread (the event loop is busy). */
  private busy = false;
  private loadTimer: NodeJS.Timeout | undefined;
  private bound: LocalAddress = { address: '', port: 0 };

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly sink: TransportSink,
    private readonly log: StackLogger,
    private readonly opts: UdpTransportOptions = {},
  ) {}

  async start(): Promise<void> {
    const type = net.isIPv6(this.host) ? 'udp6' : 'udp4';
    if (this.opts.senderThread !== true) return this.listen(type, this.port, false);
    // Bound alone first, as the listener alone would be: a port another process holds (or
    // another instance of this server, whose sockets allow sharing) fails here, not later.
    const port = await probe(type, this.host, this.port).catch((err: unknown) => {
      throw new Error(`cannot listen on udp ${this.host}:${this.port}: ${errorReason(err)}`);
    });
    try {
      this.sender = await UdpSenderThread.start({
        type,
        host: this.host,
        port,
        ringBytes: this.opts.sendRingBytes ?? SEND_RING_BYTES,
        sendBufferSize: UDP_BUFFER_BYTES,
        nice: this.opts.sendThreadNice ?? 0,
        log: this.log,
      });
    } catch (err) {
      throw new Error(`cannot listen on udp ${this.host}:${port}: ${errorReason(err)}`);
    }
    try {
      await this.listen(type, port, true);
    } catch (err) {
      await this.sender.stop();
      this.sender = undefined;
      throw err;
    }
    const above = this.opts.sendThreadAbove ?? SEND_THREAD_ABOVE;
    this.busy = above <= 0;
    if (above > 0) {
      let last = performance.eventLoopUtilization();
      this.loadTimer = setInterval(() => {
        const now = performance.eventLoopUtilization();
        this.busy = performance.eventLoopUtilization(now, last).utilization > above;
        last = now;
      }, LOAD_SAMPLE_MS);
      this.loadTimer.unref();
    }
  }

  private listen(type: 'udp4' | 'udp6', port: number, shared: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      // A fan-out sends thousands of NOTIFYs at once and their 200s come back in a burst; the
      // kernel's default 208 KiB buffer holds only ~90 small datagrams and drops the rest,
      // which then cost a 500 ms retransmission each. Ask for 4 MiB (capped by
      // net.core.rmem_max / wmem_max; raise those with sysctl for bigger bursts).
      const socket = dgram.createSocket({
        type,
        reuseAddr: shared,
        recvBufferSize: UDP_BUFFER_BYTES,
        sendBufferSize: UDP_BUFFER_BYTES,
        lookup: lookupUnlessLiteral,
      });
      const onStartError = (err: Error): void => {
        socket.close();
        reject(new Error(`cannot listen on udp ${this.host}:${port}: ${errorReason(err)}`));
      };
      socket.once('error', onStartError);
      socket.bind(port, this.host, () => {
        socket.off('error', onStartError);
        socket.on('error', (err) => this.log.error({ err, transport: 'udp' }, 'udp socket error'));
        const a = socket.address();
        this.bound = { address: a.address, port: a.port };
        this.socket = socket;
        const tally = this.opts.readTally;
        socket.on('message', (msg, rinfo) => {
          if (tally !== undefined) tally.reads++;
          this.sink.onData(
            msg,
            { transport: 'udp', address: normalizeAddress(rinfo.address), port: rinfo.port, local: this.bound },
            false,
          );
        });
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.loadTimer);
    this.loadTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
    const sender = this.sender;
    this.sender = undefined;
    await sender?.stop();
  }

  /**
   * A datagram handed to the send thread is only queued here: a send error the kernel reports
   * later is not seen, and the transaction learns of it from its timers instead.
   */
  send(dest: Destination, data: Buffer): SendResult | Promise<SendResult> {
    const socket = this.socket;
    if (socket === undefined) return Promise.resolve({ ok: false, reason: 'udp transport not running' });
    if (data.length > MAX_DATAGRAM) return Promise.resolve({ ok: false, reason: 'message too large for UDP' });
    const address = unbracketed(dest.address);
    const sender = this.sender;
    // A response still in the ring keeps the requests behind it, busy or not.
    if (sender?.running === true && ((this.busy && sender.backlog < SEND_BACKLOG_BYTES) || !sender.sent(this.lastResponse))) {
      if (!isPort(dest.port)) return Promise.resolve({ ok: false, reason: `bad port ${dest.port}` });
      if (sender.enqueue(address, dest.port, data)) return QUEUED;
    }
    return new Promise((resolve) => {
      try {
        socket.send(data, dest.port, address, (err) => {
          resolve(err ? { ok: false, reason: errorReason(err) } : { ok: true });
        });
      } catch (err) {
        // dgram throws synchronously for a bad port or a closed socket.
        resolve({ ok: false, reason: errorReason(err) });
      }
    });
  }

  /**
   * A datagram with no completion callback: dgram then makes no promise, closure or tick for
   * it. Responses come this way, and keep their place ahead of the requests sent after them.
   */
  post(dest: Destination, data: Buffer): void {
    const socket = this.socket;
    if (socket === undefined || data.length > MAX_DATAGRAM) {
      this.log.debug({ transport: 'udp', address: dest.address, port: dest.port, bytes: data.length }, 'udp datagram not sent');
      return;
    }
    const address = unbracketed(dest.address);
    const sender = this.sender;
    if (this.busy && sender?.running === true && isPort(dest.port) && sender.enqueue(address, dest.port, data)) {
      this.lastResponse = sender.mark;
      return;
    }
    try {
      socket.send(data, dest.port, address);
    } catch (err) {
      this.log.debug({ transport: 'udp', address, port: dest.port, err: errorReason(err) }, 'udp datagram not sent');
    }
  }

  localAddress(): LocalAddress {
    return this.bound;
  }

  hasConnection(): boolean {
    return false;
  }
}

/** Binds a socket that does not share its port, and closes it again: the port it got. */
function probe(type: 'udp4' | 'udp6', host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(type);
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, host, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}
