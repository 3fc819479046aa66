import type { HeaderInit } from './headers.js';
import type { SipRequest } from './message.js';
import { responseHead } from './response-builder.js';
import { newTag } from './branch.js';
import { wireBytes } from './serialize.js';
import type { Destination, MessageSource, StackLogger } from './transport-types.js';

/** RFC 3261 17.2.2 non-INVITE server transaction states. */
export type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface RespondOptions {
  /** Tag for the To header when the request has none; generated if omitted (RFC 3261 8.2.6.2). */
  toTag?: string;
}

/** What a server transaction needs from the layer that owns it. */
export interface ServerTransactionHost {
  /** Sends a response; nothing waits on the outcome (a client that misses it retransmits). */
  send(dest: Destination, data: Buffer): void;
  /**
   * Called once with the final response's bytes as it is sent: the layer lets go of the
   * transaction, keeping only what Timer J needs to answer retransmissions.
   */
  onFinal(tx: ServerTransaction, data: Buffer): void;
  readonly serverHeader: string | undefined;
  readonly log: StackLogger;
}

/**
 * A non-INVITE server transaction (RFC 3261 17.2.2). The application answers through
 * respond(); retransmissions of the request never reach the application. While the
 * transaction is open they are answered here (with the last provisional response, if any);
 * once it has its final response the layer keeps only that response for Timer J
 * (CompletedTransactions) and this object is let go.
 */
export class ServerTransaction {
  private stateValue: ServerTransactionState = 'trying';
  private request: SipRequest | undefined;
  /**
   * The last provisional response, for a retransmission that arrives before the final one
   * (RFC 3261 17.2.2). The final response goes to the layer instead (onFinal).
   */
  private lastProvisional: Buffer | undefined;
  private tag: string | undefined;
  /** The layer's ticket for the guard that drops a transaction never answered. */
  guardTicket = -1;

  constructor(
    readonly key: string,
    request: SipRequest,
    readonly source: MessageSource,
    /** Where responses go (RFC 3261 18.2.2), fixed when the request arrived. */
    readonly destination: Destination,
    private readonly host: ServerTransactionHost,
  ) {
    this.request = request;
  }

  get state(): ServerTransactionState {
    return this.stateValue;
  }

  get method(): string {
    return this.key.slice(this.key.lastIndexOf('|') + 1);
  }

  /** True once a final (>= 200) response has been sent. */
  get answered(): boolean {
    return this.stateValue === 'completed' || this.stateValue === 'terminated';
  }

  /** The To tag used in this transaction's responses (the dialog's local tag for a 2xx to SUBSCRIBE). */
  get toTag(): string | undefined {
    return this.tag;
  }

  /**
   * Sends a response built from the request (RFC 3261 8.2.6). A final response moves the
   * transaction to Completed; responding again after that is refused. Returns whether the
   * response went to the transport (a transport that then fails to send it logs that).
   */
  respond(
    status: number,
    reason?: string,
    extraHeaders?: HeaderInit,
    body?: Buffer | string,
    opts: RespondOptions = {},
  ): boolean {
    const req = this.request;
    if (req === undefined || this.answered) {
      this.host.log.warn({ key: this.key, status }, 'response after the final response ignored');
      return false;
    }
    if (!Number.isInteger(status) || status < 100 || status > 699) {
      this.host.log.warn({ key: this.key, status }, 'response with an invalid status code not sent');
      return false;
    }
    if (status > 100 && this.tag === undefined) this.tag = opts.toTag ?? existingToTag(req) ?? newTag();
    const bodyBytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const head = responseHead(req, status, reason, extraHeaders, bodyBytes?.length ?? 0, {
      toTag: this.tag,
      server: this.host.serverHeader,
    });
    const data = wireBytes(head, bodyBytes);
    if (status >= 200) {
      // RFC 3261 17.2.2: Trying/Proceeding -> Completed on a final response.
      this.stateValue = 'completed';
      this.request = undefined;
      this.lastProvisional = undefined;
      this.host.onFinal(this, data);
    } else {
      this.stateValue = 'proceeding';
      this.lastProvisional = data;
    }
    this.host.send(this.destination, data);
    return true;
  }

  /**
   * RFC 3261 17.2.2: a retransmitted request gets the last provisional response again, or
   * nothing in Trying. (Once completed, the layer answers retransmissions itself.)
   */
  onRetransmission(): void {
    if (this.lastProvisional === undefined || this.stateValue !== 'proceeding') return;
    this.host.send(this.destination, this.lastProvisional);
  }

  terminate(): void {
    this.stateValue = 'terminated';
    this.request = undefined;
    this.lastProvisional = undefined;
  }
}

function existingToTag(req: SipRequest): string | undefined {
  const to = req.headers.get('to');
  if (to === undefined) return undefined;
  const m = /;\s*tag\s*=\s*([^;\s>]+)/i.exec(to.slice(Math.max(0, to.lastIndexOf('>'))));
  return m === null ? undefined : m[1];
}
