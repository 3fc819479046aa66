import type { SrfRequest, SrfRequestHandler, SrfResponse } from 'drachtio-srf';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/ports/logger.js';
import type { NotifyOutcome, NotifyRequest } from '../../src/ports/notifier.js';
import type { SipFront } from '../../src/ports/sip-front.js';
import type { SipReply } from '../../src/sip-reply.js';
import type { SubscribeRequest } from '../../src/subscribe-request.js';
import type { SubscriptionService } from '../../src/subscription-service.js';
import type { SubscriptionDialog } from '../../src/subscription.js';
import type { SipTransport, TransportBinding } from '../../src/transport-binding.js';
import { BadRequest, readSubscribe } from '../sip-request-reader.js';
import type { SipRequest } from '../stack/message.js';
import { DrachtioConnection } from './drachtio-connection.js';
import { formatHostPort, type SipEndpoint } from './drachtio-endpoints.js';
import { inDialogNotify, outOfDialogNotify, type DrachtioNotify } from './drachtio-notify.js';
import type { RequestAuthentication } from '../request-authentication.js';
import { readDrachtioRequest } from './drachtio-request-reader.js';
import type { ReconnectBackoff } from './reconnect-backoff.js';

/** A request handler for another method (PUBLISH is plugged in here), independent of drachtio. */
export type DrachtioMethodHandler = (req: SipRequest, reply: (r: SipReply) => void, binding: TransportBinding) => void;

export interface DrachtioSipFrontOptions {
  config: Pick<Config, 'drachtio'>;
  subscriptions: SubscriptionService;
  logger: Logger;
  /** Value of the User-Agent header of our NOTIFYs. */
  product?: string;
  /** Holds back an outgoing message until the writes it depends on are durable (group commit). */
  gate?: (send: () => void) => void;
  /** Digest authentication of SUBSCRIBE (PRESENCE_SIP_AUTH=digest); absent means none. */
  auth?: RequestAuthentication;
  /** Extra request handlers by method (PUBLISH is plugged in here). */
  handlers?: Record<string, DrachtioMethodHandler>;
  /** How long start() waits for the drachtio server before going on and retrying in the background. */
  connectWaitMs?: number;
  backoff?: ReconnectBackoff;
  /** Gives up on an answer to a NOTIFY after this long (drachtio itself reports 408 after Timer F, 32 s). */
  notifyTimeoutMs?: number;
}

/** Methods a drachtio application receives only if it registers for them; they get 405. */
const REFUSED_METHODS = ['invite', 'register', 'publish', 'notify', 'message', 'info', 'refer', 'update', 'bye'] as const;

const DEFAULT_CONNECT_WAIT_MS = 5000;
/** How long a NOTIFY waits for a lost connection to drachtio to come back. */
const RECONNECT_WAIT_MS = 5000;
/** How long a failed NOTIFY waits to learn whether the connection went with it. */
const CLOSE_SETTLE_MS = 20;
const DEFAULT_NOTIFY_TIMEOUT_MS = 40_000;

/** RFC 6665 4.1.2.2 / RFC 5057: answers after which the watcher no longer has the dialog. */
const DIALOG_GONE = new Set([404, 410, 481]);

function dialogKey(callId: string, remoteTag: string, localTag: string): string {
  return `${callId}\n${remoteTag}\n${localTag}`;
}

function keyOf(d: SubscriptionDialog): string {
  return dialogKey(d.callId, d.remoteTag, d.localTag);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The drachtio SIP front: a drachtio server owns the sockets and the transactions; this
 * adapter, connected to its admin port with drachtio-srf, hands each SUBSCRIBE to the domain
 * and sends exactly the answer and NOTIFYs the domain decides (sip-behaviour.md).
 *
 * srf's Dialog class is not used: it answers an unsubscribe with 202 by itself and cannot
 * answer 200 to a new SUBSCRIBE. Without srf dialogs, every SUBSCRIBE, in-dialog or not,
 * reaches the handler below, and our 2xx carries the domain's To tag (drachtio-server honours
 * a tag in the response's To header). The drachtio server keeps its own dialog per
 * subscription; NOTIFYs go inside it while this connection created it, and as stand-alone
 * requests with the stored dialog identifiers otherwise (see drachtio-notify.ts).
 */
export function createDrachtioSipFront(o: DrachtioSipFrontOptions): SipFront {
  const log = o.logger;
  const gate = o.gate ?? ((fn: () => void) => fn());
  const product = o.product ?? 'sip-presence-server';
  const notifyTimeoutMs = o.notifyTimeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;
  const handlers = o.handlers ?? {};
  const allow = ['SUBSCRIBE', 'OPTIONS', ...Object.keys(handlers).map((m) => m.toUpperCase())].join(', ');
  const connection = new DrachtioConnection({
    host: o.config.drachtio.host,
    port: o.config.drachtio.port,
    ...(o.config.drachtio.secret !== undefined ? { secret: o.config.drachtio.secret } : {}),
    logger: log,
    ...(o.backoff ? { backoff: o.backoff } : {}),
  });
  const srf = connection.srf;

  /** Subscription dialogs the drachtio server holds for this connection: our key -> stackDialogId. */
  const live = new Map<string, string>();
  /** NOTIFYs waiting for an answer; a lost connection fails them all. */
  const pending = new Set<(outcome: NotifyOutcome) => void>();

  connection.onDisconnected(() => {
    // The server answers 481 to in-dialog requests of dialogs whose connection is gone.
    live.clear();
    for (const settle of [...pending]) settle({ kind: 'transport-error', reason: 'drachtio connection lost' });
  });

  const contactFor = (transport: SipTransport, local?: { address: string; port: number }): string | undefined => {
    const endpoints = connection.endpoints();
    const at: SipEndpoint | undefined = local
      ? { transport, ...local }
      : (endpoints.find((e) => e.transport === transport) ?? endpoints[0]);
    if (!at) return undefined;
    return `<sip:presence@${formatHostPort(at)};transport=${at.transport}>`;
  };

  const respond = (res: SrfResponse, r: SipReply, extra: Record<string, string> = {}, onSent?: (stackDialogId?: string) => void): void => {
    const headers: Record<string, string> = { ...extra };
    for (const [name, value] of r.headers ?? []) headers[name] = headers[name] !== undefined ? `${headers[name]}, ${value}` : value;
    res.send(r.status, r.reason, { headers }, (err) => {
      if (err) log.warn({ err: errorText(err), status: r.status }, 'drachtio could not send a response');
      onSent?.(err ? undefined : res.stackDialogId);
    });
  };

  const subscribe: SrfRequestHandler = (req, res) => {
    const read = readDrachtioRequest({
      raw: req.raw,
      protocol: req.protocol,
      sourceAddress: req.source_address,
      sourcePort: req.source_port,
      ...(req.receivedOn !== undefined ? { receivedOn: req.receivedOn } : {}),
    });
    if (!read.ok) {
      respond(res, { status: read.status, reason: read.reason });
      return;
    }
    // RFC 3261 22: every SUBSCRIBE, in-dialog refreshes too, carries credentials when auth is on.
    const auth = o.auth?.check(read.request, read.binding.source.address);
    if (auth && !auth.ok) {
      respond(res, auth.reply);
      return;
    }
    let r: SipReply;
    let sub: SubscribeRequest;
    try {
      sub = readSubscribe(read.request, read.binding);
      if (auth?.accountRealm !== undefined) sub.authenticatedRealm = auth.accountRealm;
      r = o.subscriptions.subscribe(sub);
    } catch (err) {
      if (!(err instanceof BadRequest)) throw err;
      respond(res, { status: 400, reason: `Bad Request - ${err.message}` });
      return;
    }
    const extra: Record<string, string> = {};
    const is2xx = r.status >= 200 && r.status < 300;
    const localTag = r.toTag ?? sub.toTag;
    if (is2xx) {
      // RFC 6665 4.1.2.1 / RFC 3261 12.1.1: the 2xx carries our To tag (the domain's) and a Contact.
      if (r.toTag !== undefined) extra.To = `${req.get('To') ?? sub.to};tag=${r.toTag}`;
      const contact = contactFor(read.binding.transport, read.binding.local);
      if (contact) extra.Contact = contact;
    }
    gate(() =>
      respond(res, r, extra, (stackDialogId) => {
        if (is2xx && localTag !== undefined && sub.fromTag !== undefined && stackDialogId) {
          const key = dialogKey(sub.callId, sub.fromTag, localTag);
          // A new dialog, or a refresh of one this connection holds: NOTIFYs go inside it. A
          // refresh the server did not route as in-dialog (it lost the dialog) leaves the new
          // server dialog's CSeq out of step with ours, so that one keeps going outside.
          if (r.toTag !== undefined || live.has(key)) live.set(key, stackDialogId);
        }
        r.afterSent?.();
      }),
    );
  };

  const options: SrfRequestHandler = (_req, res) => {
    // Load balancers and phones use OPTIONS as a keepalive (sip-behaviour.md).
    res.send(200, { headers: { Allow: allow, Accept: 'application/sdp', 'Allow-Events': 'dialog, presence, message-summary' } });
  };

  const refuse: SrfRequestHandler = (_req, res) => {
    res.send(405, 'Method Not Allowed', { headers: { Allow: allow } });
  };

  const plugged = (method: string): SrfRequestHandler | undefined => {
    const handler = handlers[method.toUpperCase()];
    if (!handler) return undefined;
    return (req, res) => {
      const read = readDrachtioRequest({ raw: req.raw, protocol: req.protocol, sourceAddress: req.source_address, sourcePort: req.source_port });
      if (!read.ok) return respond(res, { status: read.status, reason: read.reason });
      handler(read.request, (r) => gate(() => respond(res, r)), read.binding);
    };
  };

  /** A final catch so that no request goes unanswered (STYLE.md: drachtio-srf / jambonz). */
  const guarded = (handler: SrfRequestHandler): SrfRequestHandler => (req: SrfRequest, res: SrfResponse) => {
    try {
      handler(req, res);
    } catch (err) {
      log.error({ err, method: req.method, callId: req.get('Call-ID'), source: `${req.source_address}:${req.source_port}` }, 'request handler failed');
      try {
        res.send(500, 'Server Internal Error');
      } catch {
        /* already answered */
      }
    }
  };

  srf.subscribe(guarded(subscribe));
  srf.options(guarded(options));
  for (const method of REFUSED_METHODS) srf[method](guarded(plugged(method) ?? refuse));

  const send = (m: DrachtioNotify): Promise<NotifyOutcome | 'no-dialog'> =>
    new Promise((resolve) => {
      let done = false;
      const settle = (outcome: NotifyOutcome | 'no-dialog') => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        pending.delete(settle);
        resolve(outcome);
      };
      const timer = setTimeout(() => settle({ kind: 'timeout' }), notifyTimeoutMs);
      timer.unref();
      pending.add(settle);
      try {
        srf.request(m.uri, m.opts, (err, sent) => {
          if (err) {
            if (err.code === 'ENODIALOG') return settle('no-dialog');
            return settle({ kind: 'transport-error', reason: err.message });
          }
          sent.on('response', (res) => {
            if (res.status >= 200) settle({ kind: 'response', status: res.status });
          });
        });
      } catch (err) {
        settle({ kind: 'transport-error', reason: errorText(err) });
      }
    });

  /** One NOTIFY: inside drachtio's dialog while it holds one, else built from the stored dialog. */
  const deliver = async (n: NotifyRequest): Promise<NotifyOutcome> => {
    const d = n.dialog;
    const key = keyOf(d);
    const contact = contactFor(d.binding.transport, d.binding.local);
    const terminated = n.subscriptionState.trim().toLowerCase().startsWith('terminated');
    const stackDialogId = live.get(key);
    if (stackDialogId !== undefined) {
      const outcome = await send(inDialogNotify(n, stackDialogId, contact, product));
      if (outcome !== 'no-dialog') {
        // The server clears its dialog once a terminated NOTIFY is answered.
        if (terminated) live.delete(key);
        else if (outcome.kind === 'response' && DIALOG_GONE.has(outcome.status)) {
          live.delete(key);
          forgetServerDialog(n, stackDialogId, contact);
        }
        return outcome;
      }
      live.delete(key);
      log.debug({ callId: d.callId }, 'drachtio no longer holds the dialog; sending the NOTIFY outside it');
    }
    const outcome = await send(outOfDialogNotify(n, contact, product));
    return outcome === 'no-dialog' ? { kind: 'transport-error', reason: 'drachtio refused the NOTIFY' } : outcome;
  };

  /** Best effort: ends the server's dialog after the watcher dropped it (the server keeps it otherwise). */
  const forgetServerDialog = (n: NotifyRequest, stackDialogId: string, contact: string | undefined): void => {
    const final = inDialogNotify({ dialog: n.dialog, event: n.event, subscriptionState: 'terminated;reason=noresource' }, stackDialogId, contact, product);
    void send(final);
  };

  return {
    async start() {
      const connected = await connection.start(o.connectWaitMs ?? DEFAULT_CONNECT_WAIT_MS);
      if (!connected) {
        log.warn({ host: o.config.drachtio.host, port: o.config.drachtio.port }, 'starting without the drachtio server; SIP is down until it is reachable');
      }
    },
    async stop() {
      connection.stop();
      for (const settle of [...pending]) settle({ kind: 'transport-error', reason: 'SIP front stopped' });
    },
    listening() {
      return connection.endpoints();
    },
    notify(n: NotifyRequest, done: (outcome: NotifyOutcome) => void): void {
      void notifyWhenConnected(n).then(done, (err: unknown) => done({ kind: 'transport-error', reason: String(err) }));
    },
  };

  async function notifyWhenConnected(n: NotifyRequest): Promise<NotifyOutcome> {
    await new Promise<void>((resolve) => gate(resolve));
    // A drachtio restart or a dropped connection comes back within seconds: a state change
    // in between waits for it instead of being lost until the next one. A NOTIFY whose
    // connection was lost under it most likely never left drachtio, so it is sent once more
    // (outside the dialog, which went with the connection) when the connection is back.
    for (let attempt = 1; ; attempt++) {
      if (!connection.isConnected && !(await connection.whenConnected(RECONNECT_WAIT_MS))) {
        return { kind: 'transport-error', reason: 'not connected to the drachtio server' };
      }
      const outcome = await deliver(n);
      if (attempt === 1 && outcome.kind === 'transport-error') {
        // The socket's close event can trail the failed write by a few milliseconds.
        await new Promise<void>((resolve) => setTimeout(resolve, CLOSE_SETTLE_MS));
        if (!connection.isConnected) continue;
      }
      return outcome;
    }
  }
}
