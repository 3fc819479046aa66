import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from './ports/clock.js';
import type { Logger } from './ports/logger.js';
import { splitPresentity, type Presentity } from './presentity.js';
import type { PresentityStates } from './presentity-states.js';
import { InvalidPublicationBody, type PublicationFormat } from './publication-format.js';
import type { PublishRequest } from './publish-request.js';
import { reply, type SipReply } from './sip-reply.js';
import type { StateSource } from './state-source.js';
import { presentityForRequest } from './subscription-service.js';

/** Publications are state sources named `publish:<entity-tag>`. */
export const PUBLISH_SOURCE_PREFIX = 'publish:';

export interface PublicationServiceOptions {
  states: PresentityStates;
  /** The packages that accept PUBLISH; the core never names one. */
  formats: readonly PublicationFormat[];
  clock: Clock;
  logger: Logger;
  /** RFC 3903 4.2 / 6 step 4: missing -> default, below min -> 423, above max -> max. Seconds. */
  expires: { default: number; min: number; max: number };
}

interface Publication {
  etag: string;
  presentity: Presentity;
  event: string;
  expiresAt: number;
  timer?: TimerHandle;
}

function newEntityTag(): string {
  // A token (RFC 3903 11.3.1); 96 random bits cannot be guessed to hijack a publication.
  return randomBytes(12).toString('base64url');
}

/**
 * The event state compositor of RFC 3903: takes PUBLISHes for the packages that accept them,
 * keeps each publication as a state source `publish:<etag>` that expires by itself, and lets
 * the presentity's state be the aggregate of its live publications (PresentityStates applies
 * RFC 4235's dialog state machine across them). Every successful PUBLISH gets a new etag.
 */
export class PublicationService {
  private readonly byEtag = new Map<string, Publication>();
  private readonly formats = new Map<string, PublicationFormat>();

  constructor(private readonly o: PublicationServiceOptions) {
    for (const f of o.formats) this.formats.set(f.event, f);
  }

  /** Rebuilds the etag index from the stored (already restored) state sources. Sends nothing. */
  restore(): number {
    const byKind = new Map(this.o.formats.map((f) => [f.kind, f.event]));
    let restored = 0;
    for (const source of this.o.states.list((s) => s.id.startsWith(PUBLISH_SOURCE_PREFIX))) {
      const event = byKind.get(source.kind);
      if (!event || source.expiresAt === undefined) continue;
      this.track({ etag: source.id.slice(PUBLISH_SOURCE_PREFIX.length), presentity: source.presentity, event, expiresAt: source.expiresAt });
      restored++;
    }
    this.o.logger.info({ restored }, 'publications restored');
    return restored;
  }

  /** Live publications (tests, metrics). */
  get size(): number {
    return this.byEtag.size;
  }

  /** RFC 3903 6: processing a PUBLISH request, step by step. */
  publish(req: PublishRequest): SipReply {
    // Step 2: the Event package must be one we accept publications for.
    const format = req.event !== undefined ? this.formats.get(req.event) : undefined;
    if (!format) return reply(489, 'Bad Event', [['Allow-Events', [...this.formats.keys()].join(', ')]]);
    const presentity = presentityForRequest(req.requestUri, req.toUri);
    if (!presentity) return reply(400, 'Missing user part in Request-URI');
    if (req.authenticatedRealm !== undefined && splitPresentity(presentity).realm !== req.authenticatedRealm.toLowerCase()) {
      return reply(403, 'Forbidden - presentity outside your account');
    }

    // Step 3: SIP-If-Match names the publication this request refreshes, modifies or removes.
    let current: Publication | undefined;
    if (req.ifMatch !== undefined) {
      current = this.live(req.ifMatch);
      if (!current || current.presentity !== presentity || current.event !== format.event) {
        return reply(412, 'Conditional Request Failed');
      }
    }

    // Step 4: the expiry.
    const requested = req.expires ?? this.o.expires.default;
    if (requested === 0) {
      if (!current) return reply(400, 'Bad Request - Expires 0 without SIP-If-Match');
      this.drop(current);
      this.o.states.remove(presentity, sourceId(current.etag));
      this.o.logger.debug({ presentity, event: format.event, etag: current.etag }, 'publication removed');
      return reply(200, 'OK', [['SIP-ETag', current.etag], ['Expires', '0']]);
    }
    if (requested < this.o.expires.min) return reply(423, 'Interval Too Brief', [['Min-Expires', String(this.o.expires.min)]]);
    const expires = Math.min(requested, this.o.expires.max);
    const now = this.o.clock.now();
    const expiresAt = now + expires * 1000;
    const etag = newEntityTag();

    if (req.body.trim() === '') {
      // RFC 3903 4.2: a refresh carries no body and only extends the publication.
      if (!current) return reply(400, 'Bad Request - PUBLISH without a body needs SIP-If-Match');
      this.drop(current);
      if (!this.o.states.rekey(presentity, sourceId(current.etag), sourceId(etag), expiresAt)) return reply(412, 'Conditional Request Failed');
      this.track({ etag, presentity, event: format.event, expiresAt });
      this.o.logger.debug({ presentity, event: format.event, etag, expires }, 'publication refreshed');
      return reply(200, 'OK', [['SIP-ETag', etag], ['Expires', String(expires)]]);
    }

    // Step 5: a body of a type the package does not take.
    if (req.contentType === undefined || !format.contentTypes.includes(req.contentType)) {
      return reply(415, 'Unsupported Media Type', [['Accept', format.contentTypes.join(', ')]]);
    }
    let state;
    try {
      state = format.parse(req.body, req.contentType);
    } catch (e) {
      if (e instanceof InvalidPublicationBody) return reply(400, `Bad Request - ${e.message}`);
      throw e;
    }
    const source: StateSource =
      state.kind === 'dialog'
        ? { presentity, id: sourceId(etag), kind: 'dialog', dialogs: state.dialogs.map((d) => ({ ...d, updatedAt: now })), updatedAt: now, expiresAt }
        : { presentity, id: sourceId(etag), kind: 'pidf', pidf: state.pidf, updatedAt: now, expiresAt };
    if (current) {
      // A modification replaces the publication's state (RFC 3903 4.3).
      this.drop(current);
      this.o.states.replace(sourceId(current.etag), source);
    } else {
      this.o.states.put(source);
    }
    this.track({ etag, presentity, event: format.event, expiresAt });
    this.o.logger.debug({ presentity, event: format.event, etag, expires, modified: current?.etag }, 'publication stored');
    return reply(200, 'OK', [['SIP-ETag', etag], ['Expires', String(expires)]]);
  }

  /** Stops all expiry timers (shutdown); the sources stay stored and expire by their own timers. */
  stopTimers(): void {
    for (const p of this.byEtag.values()) if (p.timer !== undefined) this.o.clock.clearTimer(p.timer);
  }

  /** The publication with this etag if it is still live (not expired, not flushed by a REST reset). */
  private live(etag: string): Publication | undefined {
    const p = this.byEtag.get(etag);
    if (!p) return undefined;
    if (p.expiresAt <= this.o.clock.now() || !this.o.states.source(p.presentity, sourceId(etag))) {
      this.drop(p);
      return undefined;
    }
    return p;
  }

  private track(p: Publication): void {
    this.byEtag.set(p.etag, p);
    // The state source expires in PresentityStates; this only forgets the etag with it.
    p.timer = this.o.clock.setTimer(() => {
      if (this.byEtag.get(p.etag) === p) this.byEtag.delete(p.etag);
    }, p.expiresAt - this.o.clock.now());
  }

  private drop(p: Publication): void {
    if (p.timer !== undefined) this.o.clock.clearTimer(p.timer);
    if (this.byEtag.get(p.etag) === p) this.byEtag.delete(p.etag);
  }
}

function sourceId(etag: string): string {
  return `${PUBLISH_SOURCE_PREFIX}${etag}`;
}
