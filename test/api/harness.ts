import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildApp } from '../../api/app.js';
import { SqliteDirectoryRepository } from '../../db/directory-repository.js';
import { closeDatabase, openDatabase } from '../../db/open.js';
import { SqliteStateStore } from '../../db/state-repository.js';
import { SqliteSubscriptionStore } from '../../db/subscription-repository.js';
import { AuthService } from '../../src/directory/auth-service.js';
import { DirectoryService } from '../../src/directory/directory-service.js';
import { systemClock, type Clock } from '../../src/ports/clock.js';
import { silentLogger } from '../../src/ports/logger.js';
import type { Notifier, NotifyRequest } from '../../src/ports/notifier.js';
import type { PresenceService } from '../../src/presence-service.js';
import type { SubscribeRequest } from '../../src/subscribe-request.js';
import type { SubscriptionService } from '../../src/subscription-service.js';
import type { Subscription } from '../../src/subscription.js';
import { createPresenceCore } from '../../src/presence-core.js';

/** The wall clock, shifted by `advance()`: token expiry without waiting. */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return systemClock.now() + this.offsetMs;
  }
  setTimer(callback: () => void, delayMs: number) {
    return systemClock.setTimer(callback, delayMs);
  }
  clearTimer(handle: ReturnType<Clock['setTimer']>): void {
    systemClock.clearTimer(handle);
  }
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}

export const NODE_ID = 'test-node-1';

export interface Harness {
  app: FastifyInstance;
  db: Database;
  file: string;
  directory: DirectoryService;
  auth: AuthService;
  presence: PresenceService;
  subscriptions: SubscriptionService;
  /** Every NOTIFY the server would have sent. */
  sent: NotifyRequest[];
  clock: ShiftedClock;
  close(): Promise<void>;
}

/** The real app on a real SQLite file in a temp dir, with the real domain and a recording notifier. */
export async function startHarness(
  opts: { tokenTtl?: number; file?: string; logger?: FastifyBaseLogger; admit?: (go: () => void) => void } = {},
): Promise<Harness> {
  const dir = opts.file ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'presence-api-'));
  const file = opts.file ?? path.join(dir!, 'presence.db');
  const db = openDatabase(file);
  const subStore = new SqliteSubscriptionStore(db);
  const stateStore = new SqliteStateStore(db);
  const repo = new SqliteDirectoryRepository(db);
  const clock = new ShiftedClock();
  const sent: NotifyRequest[] = [];
  const notifier: Notifier = {
    notify: (req, done) => {
      sent.push(req);
      queueMicrotask(() => done({ kind: 'response', status: 200 }));
    },
  };

  const { scheduler, subscriptions, presence } = createPresenceCore({
    subscriptionStore: subStore,
    stateStore,
    notifier,
    clock: systemClock,
    logger: silentLogger,
    maxTimeouts: 3,
    ringingTtl: 300,
    busyTtl: 14400,
  });

  const directory = new DirectoryService({ store: repo, tokens: repo, clock });
  const auth = new AuthService({ store: repo, tokens: repo, clock, tokenTtl: opts.tokenTtl ?? 3600 });
  const app = buildApp({ presence, directory, auth, config: { nodeId: NODE_ID }, clock, version: '9.9.9', logger: opts.logger, ...(opts.admit ? { admit: opts.admit } : {}) });
  await app.ready();

  return {
    app,
    db,
    file,
    directory,
    auth,
    presence,
    subscriptions,
    sent,
    clock,
    async close() {
      await app.close();
      subscriptions.stopTimers();
      scheduler.close();
      closeDatabase(db);
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function md5hex(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

let callCounter = 0;

/** A phone's SUBSCRIBE for `user@realm` from `watcher@realm`, as a SIP adapter would hand it over. */
export function subscribeRequest(
  user: string,
  realm: string,
  opts: { watcher?: string; event?: string; eventId?: string; expires?: number; callId?: string } = {},
): SubscribeRequest {
  const watcher = opts.watcher ?? '2001';
  const callId = opts.callId ?? `call-${++callCounter}@10.0.0.9`;
  const req: SubscribeRequest = {
    callId,
    fromTag: `ft-${callCounter}`,
    from: `<sip:${watcher}@${realm}>`,
    fromUri: { user: watcher, host: realm },
    to: `<sip:${user}@${realm}>`,
    toUri: { user, host: realm },
    requestUri: { user, host: realm },
    event: opts.eventId !== undefined ? { package: opts.event ?? 'dialog', id: opts.eventId } : { package: opts.event ?? 'dialog' },
    expires: opts.expires ?? 1800,
    contact: `sip:${watcher}@10.0.0.9:5060`,
    recordRoute: [],
    cseq: 1,
    binding: { transport: 'udp', source: { address: '10.0.0.9', port: 5060 }, sendToSource: true },
  };
  return req;
}

/** Subscribes like a phone and lets the first NOTIFY go out; returns the subscription. */
export async function subscribe(h: Harness, user: string, realm: string, opts: Parameters<typeof subscribeRequest>[2] = {}): Promise<Subscription> {
  const req = subscribeRequest(user, realm, opts);
  const reply = h.subscriptions.subscribe(req);
  if (reply.status !== 200) throw new Error(`SUBSCRIBE refused: ${reply.status} ${reply.reason}`);
  reply.afterSent?.();
  await settle();
  const sub = h.subscriptions.list({ realm }).find((s) => s.dialog.callId === req.callId);
  if (!sub) throw new Error('subscription not stored');
  return sub;
}

/** Lets queued NOTIFYs (microtasks and their answers) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
