import type { Logger } from '../../src/ports/logger.js';
import type { PublicationService } from '../../src/publication-service.js';
import type { RequestAuthentication } from '../request-authentication.js';
import { answerPublish } from '../publish-responder.js';
import type { SipRequest } from '../stack/message.js';
import type { ServerTransaction } from '../stack/server-transaction.js';
import type { MessageSource } from '../stack/transport-types.js';

export interface PublishHandlerOptions {
  publications: PublicationService;
  /** Digest authentication; absent with PRESENCE_SIP_AUTH=none. */
  auth?: RequestAuthentication;
  /** Holds the response until the publication is durable (the database's group commit). */
  gate: (send: () => void) => void;
  logger: Logger;
}

/** The native front's PUBLISH handler (RFC 3903), plugged in through `handlers`. */
export function createPublishHandler(o: PublishHandlerOptions): (req: SipRequest, tx: ServerTransaction, source: MessageSource) => void {
  return (req, tx, source) => {
    const r = answerPublish(o, req, source.address);
    if (r.status >= 300) o.logger.debug({ status: r.status, reason: r.reason, callId: req.headers.get('Call-ID'), source: source.address }, 'PUBLISH refused');
    o.gate(() => {
      void tx.respond(r.status, r.reason, r.headers ?? []);
    });
  };
}
