import type { SipResponse } from './message.js';
import type { Destination, SendResult } from './transport-types.js';

/** How a client transaction ended (RFC 3261 17.1.2, 17.1.4). */
export type ClientTransactionResult =
  | { kind: 'response'; response: SipResponse }
  | { kind: 'timeout' }
  | { kind: 'transport-error'; reason: string };

export type ClientTransactionState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface ClientTimers {
  t1: number;
  t2: number;
}

/** What a client transaction needs from the layer that owns it. */
export interface ClientTransactionHost {
  send(dest: Destination, data: Buffer): SendResult | Promise<SendResult>;
  /** Called once when the transaction leaves Trying/Proceeding, to forget it. */
  onDone(tx: ClientTransaction): void;
  readonly timers: ClientTimers;
  /** Timer E's first interval for a new UDP transaction: T1, or the measured RTT's bound if larger. */
  firstInterval(): number;
  /**
   * A round trip, from the request's first sending to its first answer, in ms. Unlike TCP's
   * (Karn's rule) a retransmitted request counts too, from its first sending: when answers
   * are late because this server is behind, the answer is most often to that first one, read
   * late, and counting only requests sent once would never let the estimate grow past T1.
   */
  roundTrip(ms: number): void;
}

/**
 * A non-INVITE client transaction (RFC 3261 17.1.2). One Timeout at a time serves both
 * Timer E (retransmit, UDP only) and Timer F (give up), whichever is due first.
 *
 * Once it has an outcome the layer lets go of it; a retransmitted response then matches
 * nothing and is discarded, which is what Timer K's Completed state is for (17.1.2.2).
 */
export class ClientTransaction {
  private stateValue: ClientTransactionState = 'trying';
  private timer: NodeJS.Timeout | undefined;
  private interval: number;
  private nextRetransmit = Infinity;
  private readonly deadline: number;
  private readonly sentAt: number;
  private settle: ((r: ClientTransactionResult) => void) | undefined;
  /** The request on the wire; undefined once the transaction has its outcome. */
  private data: Buffer | undefined;

  constructor(
    readonly key: string,
    data: Buffer,
    readonly destination: Destination,
    readonly reliable: boolean,
    private readonly host: ClientTransactionHost,
  ) {
    this.data = data;
    const { t1 } = host.timers;
    const now = performance.now();
    this.sentAt = now;
    // Timer F = 64*T1 on every transport (RFC 3261 17.1.2.2).
    this.deadline = now + 64 * t1;
    // Timer E only on unreliable transports (RFC 3261 17.1.2.2), starting at T1 or, when
    // answers have been taking longer than T1 allows for, at what they take (17.1.1.1).
    this.interval = reliable ? t1 : host.firstInterval();
    if (!reliable) this.nextRetransmit = now + this.interval;
  }

  get state(): ClientTransactionState {
    return this.stateValue;
  }

  /**
   * Sends the request, arms Timers E and F, and hands the outcome to `done` once. A callback
   * rather than a promise: NOTIFYs go out by the thousand, and every promise in their chain
   * is an allocation and a microtask (TransactionLayer.sendWire() wraps it in one).
   */
  run(done: (result: ClientTransactionResult) => void): void {
    this.settle = done;
    this.arm();
    this.transmit();
  }

  /** A response matched this transaction (RFC 3261 17.1.3). */
  onResponse(response: SipResponse): void {
    if (this.stateValue !== 'trying' && this.stateValue !== 'proceeding') return; // absorbed in Completed
    if (!this.reliable && this.stateValue === 'trying') this.host.roundTrip(performance.now() - this.sentAt);
    if (response.status < 200) {
      // RFC 3261 17.1.2.2: in Proceeding, Timer E fires at T2 intervals.
      this.stateValue = 'proceeding';
      this.interval = this.host.timers.t2;
      return;
    }
    this.finish({ kind: 'response', response });
  }

  /** Stops everything and resolves with `result` (used by timeouts, errors and shutdown). */
  finish(result: ClientTransactionResult): void {
    if (this.settle === undefined) return;
    const settle = this.settle;
    this.settle = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.stateValue = result.kind === 'response' ? 'completed' : 'terminated';
    this.data = undefined;
    settle(result);
    this.host.onDone(this);
  }

  terminate(): void {
    this.stateValue = 'terminated';
  }

  private transmit(): void {
    if (this.data === undefined) return;
    const sent = this.host.send(this.destination, this.data);
    // A datagram queued at once comes back as the result itself, with nothing to wait for.
    if (sent instanceof Promise) void sent.then((r) => this.sent(r));
    else this.sent(sent);
  }

  private sent(r: SendResult): void {
    if (!r.ok) this.finish({ kind: 'transport-error', reason: r.reason });
  }

  private arm(): void {
    const due = Math.min(this.deadline, this.nextRetransmit);
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.ceil(due - performance.now())));
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.settle === undefined) return;
    const now = performance.now();
    if (now >= this.deadline - 1) {
      // Timer F: RFC 3261 17.1.2.2 -> Terminated, report a timeout (408 equivalent) to the TU.
      this.finish({ kind: 'timeout' });
      return;
    }
    if (now >= this.nextRetransmit - 1) {
      // Timer E: retransmit, doubling up to T2 (RFC 3261 17.1.2.2).
      this.transmit();
      if (this.stateValue === 'trying') this.interval = Math.min(this.interval * 2, this.host.timers.t2);
      this.nextRetransmit = now + this.interval;
    }
    this.arm();
  }
}
