import type { HostPort, SipTransport } from '../transport-binding.js';
import type { Notifier } from './notifier.js';

/**
 * A SIP front: the embedded Node stack or the drachtio-srf adapter. It receives requests,
 * hands them to the domain, and sends the domain's NOTIFYs.
 */
export interface SipFront extends Notifier {
  start(): Promise<void>;
  /** Stops taking requests and closes sockets; in-flight transactions are abandoned. */
  stop(): Promise<void>;
  /** Where each transport listens, once started (port 0 in the config becomes the real port). */
  listening(): Array<{ transport: SipTransport } & HostPort>;
}
