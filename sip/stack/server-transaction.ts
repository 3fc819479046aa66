import type { HeaderInit } from './headers.js';
import type { SipRequest } from './message.js';
import { responseHead } from './response-builder.js';
import { newTag } from './branch.js';
import { wireBytes } from './serialize.js';
import type { Destination, MessageSource, SendResult, StackLogger } from './transport-types.js';

/** RFC 3261 17.2.2 non-INVITE server transaction states. */
export type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface RespondOptions {
  /** Tag for the To header when the request has none; generated if omitted (RFC 3261 8.2.6.2). */
  toTag?: string;
}

/** What a server transaction needs from the layer that owns it. */
export interface ServerTransactionHost {
  send(dest: Destination, data: Buffer): Promise<SendResult>;
  /** Called once when a final response was sent, to start Timer J or terminate. */
  onFinal(tx: ServerTransaction): void;
  readonly serverHeader: string | undefined;
  readonly log: StackLogger;
}

/**
 * A non-INVITE server transaction (RFC 3261 17.2.2). The application answers through
 * respond(); retransmissions of the request never reach the application, they are answered
 * here with the last response sent.
 */
export class ServerTransaction {
  private stateValue: ServerTransactionState = 'trying';
  private request: SipRequest | undefined;
  /**
   * The last response, for retransmissions: its head as the text it was written from, and a
   * non-empty body as a latin1 string (one char per byte, so exact). Strings live in the
   * compacting JS heap; a Buffer would be a slice of an 8 KiB malloc'd pool slab, and tens of
   * thousands of them kept for Timer J fragment the C heap, which then never shrinks back.
   * The head is flattened when first written, so it keeps no part of the request's text.
   */
  private lastHead: string | undefined;
  private lastBody: string | undefined;
  private tag: string | undefined;
  /** Bumped whenever the pending timer changes meaning, so stale expiries are ignored. */
  timerGeneration = 0;

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
   * transaction to Completed; responding again after that is refused (returns ok:false).
   */
  respond(
    status: number,
    reason?: string,
    extraHeaders?: HeaderInit,
    body?: Buffer | string,
    opts: RespondOptions = {},
  ): Promise<SendResult> {
    const req = this.request;
    if (req === undefined || this.answered) {
      this.host.log.warn({ key: this.key, status }, 'response after the final response ignored');
      return Promise.resolve({ ok: false, reason: 'transaction already answered' });
    }
    if (!Number.isInteger(status) || status < 100 || status > 699) {
      return Promise.resolve({ ok: false, reason: `invalid status code ${status}` });
    }
    if (status > 100 && this.tag === undefined) this.tag = opts.toTag ?? existingToTag(req) ?? newTag();
    const bodyBytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const head = responseHead(req, status, reason, extraHeaders, bodyBytes?.length ?? 0, {
      toTag: this.tag,
      server: this.host.serverHeader,
    });
    const data = wireBytes(head, bodyBytes);
    this.lastHead = head;
    this.lastBody = bodyBytes !== undefined && bodyBytes.length > 0 ? bodyBytes.toString('latin1') : undefined;
    if (status >= 200) {
      // RFC 3261 17.2.2: Trying/Proceeding -> Completed on a final response. The request is
      // dropped now: thousands of completed transactions may linger for Timer J.
      this.stateValue = 'completed';
      this.request = undefined;
      this.host.onFinal(this);
    } else this.stateValue = 'proceeding';
    return this.host.send(this.destination, data);
  }

  /** RFC 3261 17.2.2: a retransmitted request gets the last response again, or nothing in Trying. */
  onRetransmission(): void {
    if (this.lastHead === undefined || this.stateValue === 'terminated') return;
    const body = this.lastBody === undefined ? undefined : Buffer.from(this.lastBody, 'latin1');
    void this.host.send(this.destination, wireBytes(this.lastHead, body));
  }

  terminate(): void {
    this.stateValue = 'terminated';
    this.request = undefined;
    this.lastHead = undefined;
    this.lastBody = undefined;
    this.timerGeneration++;
  }
}

function existingToTag(req: SipRequest): string | undefined {
  const to = req.headers.get('to');
  if (to === undefined) return undefined;
  const m = /;\s*tag\s*=\s*([^;\s>]+)/i.exec(to.slice(Math.max(0, to.lastIndexOf('>'))));
  return m === null ? undefined : m[1];
}
