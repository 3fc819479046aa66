import type { PublicationService } from '../src/publication-service.js';
import type { SipReply } from '../src/sip-reply.js';
import { readPublish } from './publish-request-reader.js';
import type { RequestAuthentication } from './request-authentication.js';
import { BadRequest } from './sip-request-reader.js';
import type { SipRequest } from './stack/message.js';

export interface PublishResponderOptions {
  publications: PublicationService;
  /** Digest authentication; absent with PRESENCE_SIP_AUTH=none. */
  auth?: RequestAuthentication;
}

/**
 * Answers a PUBLISH (RFC 3903): authentication, reading, then the domain. Shared by every SIP
 * front; the front sends the reply (through its durability gate).
 */
export function answerPublish(o: PublishResponderOptions, req: SipRequest, sourceAddress: string): SipReply {
  const auth = o.auth?.check(req, sourceAddress);
  if (auth && !auth.ok) return auth.reply;
  try {
    const publish = readPublish(req);
    if (auth?.accountRealm !== undefined) publish.authenticatedRealm = auth.accountRealm;
    return o.publications.publish(publish);
  } catch (err) {
    if (!(err instanceof BadRequest)) throw err;
    return { status: 400, reason: `Bad Request - ${err.message}` };
  }
}

