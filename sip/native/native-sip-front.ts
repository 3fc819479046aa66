import { readFileSync } from 'node:fs';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/ports/logger.js';
import type { NotifyOutcome, NotifyRequest } from '../../src/ports/notifier.js';
import type { SipFront } from '../../src/ports/sip-front.js';
import type { SipReply } from '../../src/sip-reply.js';
import type { SubscriptionService } from '../../src/subscription-service.js';
import type { TransportBinding } from '../../src/transport-binding.js';
import { ALLOW_HEADER } from '../allowed-methods.js';
import { notifyDestination } from '../notify-destination.js';
import type { RequestAuthentication } from '../request-authentication.js';
import { BadRequest, readSubscribe } from '../sip-request-reader.js';
import { newBranch } from '../stack/branch.js';
import { requestBytes } from '../stack/serialize.js';
import type { SipRequest } from '../stack/message.js';
import type { ServerTransaction } from '../stack/server-transaction.js';
import { TransactionLayer, type TransactionTimers } from '../stack/transaction-layer.js';
import { TransportLayer } from '../stack/transport-layer.js';
import type { ListenSpec, MessageSource, TransportProtocol } from '../stack/transport-types.js';
import { topVia } from '../stack/via.js';
import type { ReadTally } from '../../src/receive-priority.js';

export interface NativeSipFrontOptions {
  config: Pick<Config, 'sipListen' | 'tls' | 'udpSendThread' | 'helperThreadNice'>;
  subscriptions: SubscriptionService;
  logger: Logger;
  /** Value of the Server / User-Agent headers. */
  product?: string;
  /** Shorter RFC 3261 timers for tests. */
  timers?: Partial<TransactionTimers>;
  /**
   * Holds back an outgoing message until the writes it depends on are durable (the
   * database's group commit); runs it at once when absent.
   */
  gate?: (send: () => void) => void;
  /**
   * Digest authentication of SUBSCRIBE (PRESENCE_SIP_AUTH=digest); absent means none. PUBLISH
   * handlers get it from main along with the publication service.
   */
  auth?: RequestAuthentication;
  /** Extra request handlers by method (PUBLISH is plugged in here). */
  handlers?: Record<string, (req: SipRequest, tx: ServerTransaction, source: MessageSource) => void>;
  /** Gives each UDP listener a tally to count its reads in (ReceivePriority). */
  udpReadTally?: () => ReadTally;
}

function listenSpecs(config: NativeSipFrontOptions['config']): ListenSpec[] {
  const tls = config.tls ? { cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) } : undefined;
  return config.sipListen.map((l): ListenSpec => {
    if (l.transport === 'tls' || l.transport === 'wss') {
      if (!tls) throw new Error(`${l.transport} listener needs PRESENCE_TLS_CERT and PRESENCE_TLS_KEY`);
      return { transport: l.transport, host: l.host, port: l.port, ...tls };
    }
    return { transport: l.transport, host: l.host, port: l.port };
  });
}

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/**
 * RFC 3581 and sip-behaviour.md: a UDP phone is answered at the address its packets came
 * from when it asked (rport) or when its Via does not match that address (NAT).
 */
export function bindingFor(req: SipRequest, source: MessageSource): TransportBinding {
  // The listener's own address object: never changed once bound, so every subscription that
  // came in on it can share it.
  const binding: TransportBinding = {
    transport: source.transport,
    source: { address: source.address, port: source.port },
    local: source.local,
    sendToSource: source.transport !== 'udp',
  };
  if (source.connectionId !== undefined) binding.connectionId = source.connectionId;
  if (source.transport === 'udp') {
    const via = req.headers.get('Via') !== undefined ? topVia(req) : undefined;
    binding.sendToSource =
      via === undefined ||
      via.rport !== undefined ||
      via.host.replace(/^\[|\]$/g, '') !== source.address ||
      (via.port ?? 5060) !== source.port;
  }
  return binding;
}

/**
 * The embedded SIP front: the Node stack's transports and transactions, with one handler
 * per method and a final catch so that no request goes unanswered.
 */
export function createNativeSipFront(o: NativeSipFrontOptions): SipFront {
  const log = o.logger;
  const gate = o.gate ?? ((fn: () => void) => fn());
  const product = o.product ?? 'sip-presence-server';
  // Linux gives a shared port's datagrams to the socket bound last, which the thread relies
  // on; elsewhere that is not promised, so there it is asked for by name only.
  const udpSenderThread = o.config.udpSendThread ?? process.platform === 'linux';
  const transports = new TransportLayer({
    listen: listenSpecs(o.config),
    logger: log,
    udpSenderThread,
    udpSendThreadNice: o.config.helperThreadNice,
    ...(o.udpReadTally ? { udpReadTally: o.udpReadTally } : {}),
  });
  const transactions = new TransactionLayer(transports, { serverHeader: product, logger: log, ...(o.timers ? { timers: o.timers } : {}) });

  // Every 2xx to a SUBSCRIBE and every NOTIFY carries one; a listener's address is fixed once bound.
  const contacts = new Map<TransportProtocol, string>();
  const contactFor = (transport: TransportProtocol): string | undefined => {
    const known = contacts.get(transport);
    if (known !== undefined) return known;
    const local = transports.localAddress(transport);
    if (!local) return undefined;
    const contact = `<sip:presence@${hostPort(local.address, local.port)};transport=${transport}>`;
    if (transports.isRunning) contacts.set(transport, contact);
    return contact;
  };

  const send = (tx: ServerTransaction, source: MessageSource, r: SipReply): void => {
    const headers: Array<[string, string]> = r.headers !== undefined ? r.headers.slice() : [];
    if (r.status >= 200 && r.status < 300 && r.toTag !== undefined) {
      const contact = contactFor(source.transport);
      if (contact) headers.push(['Contact', contact]);
    }
    gate(() => {
      void tx.respond(r.status, r.reason, headers, undefined, r.toTag !== undefined ? { toTag: r.toTag } : {});
      r.afterSent?.();
    });
  };

  const subscribe = (req: SipRequest, tx: ServerTransaction, source: MessageSource): void => {
    let r: SipReply;
    // RFC 3261 22: every SUBSCRIBE, in-dialog refreshes too, carries credentials when auth is on.
    const auth = o.auth?.check(req, source.address);
    if (auth && !auth.ok) return send(tx, source, auth.reply);
    try {
      const request = readSubscribe(req, bindingFor(req, source));
      if (auth?.accountRealm !== undefined) request.authenticatedRealm = auth.accountRealm;
      r = o.subscriptions.subscribe(request);
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      r = { status: 400, reason: `Bad Request - ${err.message}` };
    }
    send(tx, source, r);
  };

  const options = (_req: SipRequest, tx: ServerTransaction): void => {
    // Load balancers and phones use OPTIONS as a keepalive (sip-behaviour.md).
    void tx.respond(200, 'OK', [['Allow', ALLOW_HEADER], ['Accept', 'application/sdp'], ['Allow-Events', 'dialog, presence, message-summary']]);
  };

  const handlers: Record<string, (req: SipRequest, tx: ServerTransaction, source: MessageSource) => void> = {
    SUBSCRIBE: subscribe,
    OPTIONS: options,
    ...o.handlers,
  };

  transactions.onRequest((req, tx, source) => {
    const handler = handlers[req.method];
    if (!handler) {
      void tx.respond(405, 'Method Not Allowed', [['Allow', ALLOW_HEADER]]);
      return;
    }
    try {
      handler(req, tx, source);
    } catch (err) {
      log.error({ err, method: req.method, callId: req.headers.get('Call-ID'), source: hostPort(source.address, source.port) }, 'request handler failed');
      if (!tx.answered) void tx.respond(500, 'Server Internal Error');
    }
  });

  return {
    async start() {
      await transports.start();
    },
    async stop() {
      transactions.stop();
      await transports.stop();
    },
    listening() {
      return o.config.sipListen.flatMap((l) => {
        const local = transports.localAddress(l.transport);
        return local ? [{ transport: l.transport, address: local.address, port: local.port }] : [];
      });
    },
    notify(n: NotifyRequest, done: (outcome: NotifyOutcome) => void): void {
      const d = n.dialog;
      const dest = notifyDestination(d);
      const branch = newBranch();
      const via = transactions.viaFor(dest.transport, branch);
      if (via === undefined) {
        done({ kind: 'transport-error', reason: `no ${dest.transport} listener` });
        return;
      }
      // Written straight to wire text: a fan-out sends thousands of these at once.
      let head = `NOTIFY ${d.remoteTarget} SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\n`;
      // RFC 3261 12.2.1.1: the route set, in order, as Route headers (loose routing).
      for (const route of d.routeSet) head += `Route: ${route}\r\n`;
      head += `From: ${d.localUri};tag=${d.localTag}\r\nTo: ${d.remoteUri};tag=${d.remoteTag}\r\nCall-ID: ${d.callId}\r\nCSeq: ${d.localCseq} NOTIFY\r\n`;
      const contact = contactFor(dest.transport);
      if (contact) head += `Contact: ${contact}\r\n`;
      head += `Event: ${n.event}\r\nSubscription-State: ${n.subscriptionState}\r\nUser-Agent: ${product}\r\n`;
      if (n.contentType) head += `Content-Type: ${n.contentType}\r\n`;
      const data = requestBytes(head, n.body);
      gate(() => {
        transactions.runWire('NOTIFY', branch, data, dest, (result) => {
          done(result.kind === 'response' ? { kind: 'response', status: result.response.status } : result);
        });
      });
    },
  };
}

