import { MAGIC_COOKIE, newBranch } from './branch.js';
import { ClientTransaction, type ClientTransactionHost, type ClientTransactionResult } from './client-transaction.js';
import { parseCSeq } from './cseq.js';
import { CompletedTransactions } from './completed-transactions.js';
import { DeadlineQueue } from './deadline-queue.js';
import type { SipMessage, SipRequest, SipResponse } from './message.js';
import { parseNameAddr } from './name-addr.js';
import { buildResponse } from './response-builder.js';
import { responseDestination } from './response-destination.js';
import { serialize } from './serialize.js';
import { ServerTransaction, type ServerTransactionHost } from './server-transaction.js';
import type { MalformedMessage } from './transport-layer.js';
import {
  SILENT_LOGGER,
  isReliable,
  type Destination,
  type LocalAddress,
  type MessageSource,
  type SendResult,
  type StackLogger,
  type TransportProtocol,
} from './transport-types.js';
import { errorReason } from './transports/transport.js';
import { parseVia, topVia, type Via } from './via.js';
import { ChurnMap } from '../../src/churn-map.js';

/** RFC 3261 17.1.1.1 timer base values, in milliseconds. Tests shrink T1. */
export interface TransactionTimers {
  /** RTT estimate, default 500. */
  t1: number;
  /** Maximum retransmit interval for non-INVITE requests, default 4000. */
  t2: number;
}

/** The part of TransportLayer the transaction layer uses, so tests can substitute a fake. */
export interface TransactionTransport {
  on(event: 'message', listener: (message: SipMessage, source: MessageSource) => void): unknown;
  on(event: 'malformed', listener: (malformed: MalformedMessage, source: MessageSource) => void): unknown;
  off(event: 'message', listener: (message: SipMessage, source: MessageSource) => void): unknown;
  off(event: 'malformed', listener: (malformed: MalformedMessage, source: MessageSource) => void): unknown;
  send(dest: Destination, message: SipMessage | Buffer): SendResult | Promise<SendResult>;
  /** Sends bytes nothing waits on (responses); failures are the transport's to log. */
  post(dest: Destination, data: Buffer): void;
  localAddress(transport: TransportProtocol): LocalAddress | undefined;
}

/** Called once per new request (never for retransmissions, never for ACK). */
export type RequestHandler = (request: SipRequest, tx: ServerTransaction, source: MessageSource) => void | Promise<void>;

export interface TransactionLayerOptions {
  timers?: Partial<TransactionTimers>;
  /** Value of the Server header on every response, e.g. "presence-server/0.1". */
  serverHeader?: string;
  logger?: StackLogger;
}

/**
 * Non-INVITE transactions (RFC 3261 17) between the transport layer and the application.
 * Server side: dedupes retransmissions and builds responses. Client side: sendRequest()
 * retransmits over UDP and resolves with the final response, a timeout or a transport error.
 * INVITE is passed up like any request (the application answers 405); ACK is dropped.
 */
export class TransactionLayer {
  readonly timers: TransactionTimers;
  private readonly log: StackLogger;
  private readonly serverHeader: string | undefined;
  private readonly servers = new ChurnMap<string, ServerTransaction>();
  private readonly clients = new ChurnMap<string, ClientTransaction>();
  private handler: RequestHandler | undefined;
  /** Drops a server transaction the application never answers, after 64*T1. */
  private readonly unanswered: DeadlineQueue<ServerTransaction>;
  /** Completed UDP server transactions, for Timer J (64*T1), by key. */
  private readonly timerJ: CompletedTransactions;
  /** Smoothed round trip of UDP client transactions and its variation (RFC 6298's estimator), ms. */
  private srtt = 0;
  private rttvar = 0;
  private readonly serverHost: ServerTransactionHost;
  private readonly clientHost: ClientTransactionHost;
  private readonly onMessage = (m: SipMessage, s: MessageSource): void => this.receive(m, s);
  private readonly onMalformed = (m: MalformedMessage, s: MessageSource): void => this.answerMalformed(m, s);

  constructor(
    private readonly transport: TransactionTransport,
    opts: TransactionLayerOptions = {},
  ) {
    this.timers = { t1: 500, t2: 4000, ...opts.timers };
    this.log = opts.logger ?? SILENT_LOGGER;
    this.serverHeader = opts.serverHeader;
    this.unanswered = new DeadlineQueue(64 * this.timers.t1, (tx) => {
      this.log.warn({ key: tx.key }, 'request never answered; transaction dropped');
      this.forgetServer(tx);
    });
    this.timerJ = new CompletedTransactions(64 * this.timers.t1);
    this.serverHost = {
      send: (dest, data) => this.transport.post(dest, data),
      serverHeader: this.serverHeader,
      log: this.log,
      onFinal: (tx, data) => {
        this.unanswered.cancel(tx.guardTicket);
        this.unlist(tx);
        // Timer J: 64*T1 on UDP to answer retransmissions, zero on reliable transports (17.2.2).
        if (isReliable(tx.source.transport)) tx.terminate();
        else this.timerJ.add(tx.key, { destination: tx.destination, data });
      },
    };
    this.clientHost = {
      send: (dest: Destination, data: Buffer) => this.transport.send(dest, data),
      timers: this.timers,
      firstInterval: () => this.firstInterval(),
      roundTrip: (ms) => this.roundTrip(ms),
      onDone: (tx) => {
        if (this.clients.get(tx.key) === tx) this.clients.delete(tx.key);
        // RFC 3261 17.1.2.2 keeps a completed UDP transaction for Timer K (T4) only to absorb
        // retransmissions of its response. A response matching no transaction is discarded
        // (receiveResponse), so a retransmission is absorbed just the same without holding
        // two keys a subscribe cycle for 5 s: that store cost ~1.9% of the event loop.
        tx.terminate();
      },
    };
    transport.on('message', this.onMessage);
    transport.on('malformed', this.onMalformed);
  }

  /** Sets the application's request handler. */
  onRequest(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** A fresh RFC 3261 branch (z9hG4bK + 128 random bits). */
  newBranch(): string {
    return newBranch();
  }

  /**
   * A Via value for an outgoing request on `transport` with a fresh branch and rport
   * (RFC 3581 3), from the transport's local/advertised address. Undefined if that
   * transport is not configured.
   */
  viaFor(transport: TransportProtocol, branch: string = newBranch()): string | undefined {
    const local = this.transport.localAddress(transport);
    if (local === undefined) return undefined;
    const host = local.address.includes(':') ? `[${local.address}]` : local.address;
    return `SIP/2.0/${transport.toUpperCase()} ${host}:${local.port};branch=${branch};rport`;
  }

  /**
   * Sends a request in a new client transaction. The request must carry a top Via with a
   * z9hG4bK branch (see viaFor()); that is a programming error and throws synchronously.
   * The promise never rejects.
   */
  sendRequest(request: SipRequest, dest: Destination, viaBranch?: string): Promise<ClientTransactionResult> {
    // The caller that built the top Via with viaFor(transport, branch) may pass the branch
    // and spare a parse of it.
    let branch = viaBranch;
    if (branch === undefined) {
      const top = request.headers.get('via');
      branch = top === undefined ? undefined : parseVia(top).branch;
    }
    if (branch === undefined || !branch.startsWith(MAGIC_COOKIE)) {
      throw new TypeError('sendRequest: the top Via needs a branch starting with z9hG4bK');
    }
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new TypeError('sendRequest: INVITE/ACK client transactions are not supported');
    }
    let data: Buffer;
    try {
      data = serialize(request);
    } catch (err) {
      return Promise.resolve({ kind: 'transport-error', reason: `cannot serialize request: ${errorReason(err)}` });
    }
    return this.sendWire(request.method, branch, data, dest);
  }

  /**
   * Sends a request already written to wire bytes, in a new client transaction: the NOTIFY
   * path writes its few headers straight to text. `branch` must be the top Via's, with the
   * z9hG4bK cookie (as viaFor() makes it); `method` is the request's. Never rejects.
   */
  sendWire(method: string, branch: string, data: Buffer, dest: Destination): Promise<ClientTransactionResult> {
    return new Promise((resolve) => this.runWire(method, branch, data, dest, resolve));
  }

  /**
   * sendWire(), with the outcome handed to `done` rather than a promise (a NOTIFY's chain of
   * promises cost an allocation and a microtask each). `done` runs once, maybe before this returns.
   */
  runWire(method: string, branch: string, data: Buffer, dest: Destination, done: (result: ClientTransactionResult) => void): void {
    const key = `${branch}|${method}`;
    if (this.clients.has(key)) {
      done({ kind: 'transport-error', reason: 'a transaction with this branch is already running' });
      return;
    }
    const tx = new ClientTransaction(key, data, dest, isReliable(dest.transport), this.clientHost);
    this.clients.set(key, tx);
    tx.run(done);
  }

  /**
   * Timer E's first interval: T1, unless the answers to this stack's UDP requests have lately
   * been taking longer than T1 allows for. RFC 3261 17.1.1.1 makes T1 an estimate of the round
   * trip and recommends a larger one where the round trip is known to be larger; this one
   * measures it, as TCP does (RFC 6298: smoothed RTT + 4 x its variation), capped at T2.
   * Under load most of a long round trip is the server's own backlog: the answer is sitting
   * in this socket's receive buffer, and resending the request would only add to the backlog
   * (and to the peer's), turning a burst into a storm of retransmissions. Timer F is unchanged.
   */
  private firstInterval(): number {
    if (this.srtt === 0) return this.timers.t1;
    return Math.min(this.timers.t2, Math.max(this.timers.t1, Math.ceil(this.srtt + 4 * this.rttvar)));
  }

  private roundTrip(ms: number): void {
    if (this.srtt === 0) {
      this.srtt = Math.max(ms, 0.001);
      this.rttvar = ms / 2;
      return;
    }
    this.rttvar += (Math.abs(this.srtt - ms) - this.rttvar) / 4;
    this.srtt += (ms - this.srtt) / 8;
  }

  /** Live transaction counts (completed server ones waiting for Timer J included), for metrics and tests. */
  get stats(): { server: number; client: number } {
    return { server: this.servers.size + this.timerJ.size, client: this.clients.size };
  }

  /** Stops all timers, fails pending client transactions, forgets everything, detaches. */
  stop(): void {
    this.transport.off('message', this.onMessage);
    this.transport.off('malformed', this.onMalformed);
    for (const tx of [...this.clients.values()]) tx.finish({ kind: 'transport-error', reason: 'stack stopped' });
    for (const tx of this.servers.values()) tx.terminate();
    this.servers.clear();
    this.clients.clear();
    this.unanswered.clear();
    this.timerJ.clear();
  }

  private receive(message: SipMessage, source: MessageSource): void {
    if (message.kind === 'response') this.receiveResponse(message);
    else this.receiveRequest(message, source);
  }

  private receiveResponse(response: SipResponse): void {
    // RFC 3261 17.1.3: match on the top Via branch and the CSeq method.
    const top = response.headers.get('via');
    const cseq = response.headers.get('cseq');
    if (top === undefined || cseq === undefined) return;
    let key: string;
    try {
      const branch = topVia(response).branch;
      if (branch === undefined) return;
      key = `${branch}|${parseCSeq(cseq).method}`;
    } catch {
      return;
    }
    const tx = this.clients.get(key);
    if (tx === undefined) {
      // A response retransmitted after its transaction completed (what Timer K absorbs,
      // 17.1.2.2), or one matching no transaction at all: discarded (18.1.2).
      this.log.debug({ key, status: response.status }, 'response matching no transaction dropped');
      return;
    }
    tx.onResponse(response);
  }

  private receiveRequest(request: SipRequest, source: MessageSource): void {
    // This server never sends 2xx to INVITE, so an ACK only acknowledges a non-2xx final
    // and needs no answer (RFC 3261 17.1.1.3, 17.2.1).
    if (request.method === 'ACK') return;
    let via: Via;
    try {
      via = topVia(request);
    } catch {
      return; // The parser validated the top Via; unreachable in practice.
    }
    const key = serverKey(request, via);
    const existing = this.servers.get(key);
    if (existing !== undefined) {
      existing.onRetransmission();
      return;
    }
    if (!isReliable(source.transport)) {
      // RFC 3261 17.2.2: in Completed, a retransmission gets the final response again.
      const completed = this.timerJ.answer(key);
      if (completed !== undefined) {
        this.transport.post(completed.destination, completed.data);
        return;
      }
    }
    // The transaction lives until it is answered, so its key and destination may stay slices
    // of the request's text: Timer J keeps copies of its own.
    const tx = new ServerTransaction(key, request, source, responseDestination(via, source), this.serverHost);
    this.servers.set(key, tx);
    tx.guardTicket = this.unanswered.add(tx);
    const handler = this.handler;
    if (handler === undefined) {
      void tx.respond(503, 'Service Unavailable');
      return;
    }
    try {
      const pending = handler(request, tx, source);
      if (pending instanceof Promise) pending.catch((err: unknown) => this.handlerFailed(tx, err));
    } catch (err) {
      this.handlerFailed(tx, err);
    }
  }

  private handlerFailed(tx: ServerTransaction, err: unknown): void {
    this.log.error({ key: tx.key, err: errorReason(err) }, 'request handler failed');
    // A final error handler, so no request goes unanswered.
    if (!tx.answered) void tx.respond(500, 'Server Internal Error');
  }

  /**
   * Answers a request that could not be parsed with 400 (or 505) and a reason naming the
   * problem. Needs at least a Via to build a response; never answers a response or an ACK.
   */
  private answerMalformed(m: MalformedMessage, source: MessageSource): void {
    const req = m.request;
    if (req === undefined || req.method === 'ACK' || !req.headers.has('via')) {
      this.log.debug({ source, error: m.error }, 'unanswerable malformed message dropped');
      return;
    }
    const reason = m.status === 505 ? 'Version Not Supported' : `Bad Request - ${m.error}`.slice(0, 200);
    const response = buildResponse(req, m.status, reason, undefined, undefined, { server: this.serverHeader });
    // The Via may be the broken part, so answer where the bytes came from: on the same
    // connection, or to the datagram's source (as RFC 3581 would).
    const dest: Destination = {
      transport: source.transport,
      address: source.address,
      port: source.port,
      connectionId: source.connectionId,
    };
    try {
      this.transport.post(dest, serialize(response));
    } catch (err) {
      this.log.debug({ source, err: errorReason(err) }, 'could not write the 400');
    }
  }

  private forgetServer(tx: ServerTransaction): void {
    tx.terminate();
    this.unlist(tx);
  }

  /** Takes an open server transaction out of the map, unless a newer one holds its key. */
  private unlist(tx: ServerTransaction): void {
    if (this.servers.get(tx.key) === tx) this.servers.delete(tx.key);
  }
}

/**
 * RFC 3261 17.2.3: with a z9hG4bK branch the key is branch + sent-by + method; otherwise
 * (RFC 2543 peers) Request-URI, tags, Call-ID, CSeq and the top Via identify it.
 */
function serverKey(request: SipRequest, via: Via): string {
  const sentBy = `${via.host}:${via.port ?? ''}`;
  if (via.branch !== undefined && via.branch.startsWith(MAGIC_COOKIE)) {
    return `${via.branch}|${sentBy}|${request.method}`;
  }
  const h = request.headers;
  let fromTag = '';
  let toTag = '';
  try {
    fromTag = parseNameAddr(h.get('from') ?? '', 'From').tag ?? '';
    toTag = parseNameAddr(h.get('to') ?? '', 'To').tag ?? '';
  } catch {
    // Validated by the parser already.
  }
  return `2543|${request.uri}|${fromTag}|${toTag}|${h.get('call-id') ?? ''}|${h.get('cseq') ?? ''}|${sentBy}|${via.branch ?? ''}|${request.method}`;
}
