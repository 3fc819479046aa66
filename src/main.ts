/**
 * The composition root: the one module that may import the adapters (sip/, api/, db/) and
 * wire them to the domain. `startPresenceServer` is what tests start in-process; run as a
 * program it reads the configuration, starts, and stops cleanly on SIGTERM/SIGINT.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { buildApp } from '../api/app.js';
import { startHttpServer } from '../api/server.js';
import { SqliteDirectoryRepository } from '../db/directory-repository.js';
import { GroupCommit } from '../db/group-commit.js';
import { BackgroundCheckpointer } from '../db/background-checkpointer.js';
import { closeDatabase, isFileDatabase, openDatabase } from '../db/open.js';
import { SqliteStateStore } from '../db/state-repository.js';
import { SqliteSubscriptionStore } from '../db/subscription-repository.js';
import { createNativeSipFront } from '../sip/native/native-sip-front.js';
import { createPublishHandler } from '../sip/native/publish-handler.js';
import { answerPublish } from '../sip/publish-responder.js';
import { RequestAuthentication } from '../sip/request-authentication.js';
import { executeAdmin } from './admin-command.js';
import { argvToEnv, loadConfig, type Config } from './config.js';
import { ConfigError } from './config-error.js';
import { AuthService } from './directory/auth-service.js';
import { DirectoryService } from './directory/directory-service.js';
import { AuthFailureLimiter } from './digest/auth-failure-limiter.js';
import { NonceBook } from './digest/nonce-book.js';
import { SipDigestAuthenticator } from './digest/sip-digest-authenticator.js';
import { dialogPublication } from './packages/dialog-publication.js';
import { presencePublication } from './packages/presence-publication.js';
import { systemClock, type Clock } from './ports/clock.js';
import type { Logger } from './ports/logger.js';
import type { Notifier } from './ports/notifier.js';
import type { SipFront } from './ports/sip-front.js';
import { HeapReclaimer } from './heap-reclaimer.js';
import { createPresenceCore } from './presence-core.js';
import { v8Heap } from './v8-heap.js';
import type { PresenceService } from './presence-service.js';
import { PublicationService } from './publication-service.js';
import { ReceivePriority } from './receive-priority.js';
import type { SubscriptionService } from './subscription-service.js';

export interface RunningServer {
  config: Config;
  presence: PresenceService;
  subscriptions: SubscriptionService;
  directory: DirectoryService;
  sip: SipFront;
  /** Where the REST API listens (port 0 in the config becomes the real port). */
  http: { host: string; port: number };
  logger: Logger;
  /**
   * Stops taking requests, lets queued NOTIFYs finish (or, with `deactivate`, ends every
   * subscription with a final NOTIFY), and closes the database.
   */
  stop(opts?: { deactivate?: boolean }): Promise<void>;
}

/** How long a stop waits for answers to NOTIFYs already sent. */
const STOP_GRACE_MS = 5000;

export interface StartOptions {
  logger?: pino.Logger;
  clock?: Clock;
}

/** The package version, read from package.json beside src/ (or beside dist/ when built). */
export const SERVER_VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sip-presence-server' && pkg.version) return pkg.version;
    } catch {
      /* try the next place */
    }
  }
  return '0.0.0';
})();

export function createLogger(config: Pick<Config, 'logLevel'>): pino.Logger {
  return pino({
    level: config.logLevel,
    base: { service: 'presence' },
    redact: ['req.headers["x-auth-token"]', 'req.headers.authorization', 'password', 'api_key', 'token'],
  });
}

export async function startPresenceServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config);
  const clock = opts.clock ?? systemClock;
  const db = openDatabase(config.dbPath);
  const dbLogger = logger.child({ component: 'db' });
  // A file database commits the hot-path writes and checkpoints its WAL on the other core,
  // each on a connection of its own (':memory:' has no file to share and no WAL).
  const fileDb = isFileDatabase(config.dbPath);
  const commit = new GroupCommit(db, { log: dbLogger, ...(fileDb ? { file: config.dbPath, threadNice: config.helperThreadNice } : {}) });
  // Its worker runs while the server writes, not while it idles.
  const checkpointer = fileDb ? new BackgroundCheckpointer(db, config.dbPath, dbLogger, [commit], { activity: () => commit.batches }) : undefined;
  const closeStore = async (): Promise<void> => {
    // Every queued write committed and acknowledged, and the writer thread gone, before the
    // checkpointer and the connection close.
    await commit.close();
    await checkpointer?.stop();
    closeDatabase(db);
  };
  const subscriptionStore = new SqliteSubscriptionStore(db, commit);
  const stateStore = new SqliteStateStore(db, commit);

  // The front is built after the services that it calls; NOTIFYs reach it through this seam.
  let front: SipFront | undefined;
  const notifier: Notifier = {
    notify: (request, done) => {
      if (front) front.notify(request, done);
      else done({ kind: 'transport-error', reason: 'SIP front not started' });
    },
  };
  const { states, scheduler, subscriptions, presence } = createPresenceCore({
    subscriptionStore,
    stateStore,
    notifier,
    clock,
    logger,
    maxTimeouts: config.notifyMaxTimeouts,
    ringingTtl: config.ringingTtl,
    busyTtl: config.busyTtl,
  });
  states.restore();
  subscriptions.restore();

  const directoryRepo = new SqliteDirectoryRepository(db);
  const directory = new DirectoryService({ store: directoryRepo, tokens: directoryRepo, clock });
  const auth = new AuthService({ store: directoryRepo, tokens: directoryRepo, clock, tokenTtl: config.tokenTtl });

  // RFC 3903 PUBLISH for the packages that take it, and digest auth of SUBSCRIBE/PUBLISH.
  const publications = new PublicationService({
    states,
    formats: [dialogPublication, presencePublication],
    clock,
    logger: logger.child({ component: 'publish' }),
    expires: { default: 3600, min: Math.min(config.publishMinExpires, 3600), max: 7200 },
  });
  publications.restore();
  const sipAuth = config.sipAuth === 'digest' ? createSipAuthentication(config, directoryRepo, clock, logger.child({ component: 'sip-auth' })) : undefined;
  const publishHandler = createPublishHandler({ publications, auth: sipAuth, gate: (send) => commit.afterCommit(send), logger: logger.child({ component: 'publish' }) });

  // While the UDP listener falls behind on its reads, REST requests go ahead a few per turn.
  const receivePriority = new ReceivePriority();

  // PRESENCE_SIP_BACKEND: the embedded stack, or a drachtio server that owns the SIP sockets.
  // drachtio-srf is loaded only for the latter: on the embedded stack it would cost ~3.5 MiB
  // of resident memory and ~50 ms of start-up for nothing.
  front =
    config.sipBackend === 'drachtio'
      ? (await import('../sip/drachtio/drachtio-sip-front.js')).createDrachtioSipFront({
          config,
          subscriptions,
          logger: logger.child({ component: 'sip', backend: 'drachtio' }),
          gate: (send) => commit.afterCommit(send),
          ...(sipAuth ? { auth: sipAuth } : {}),
          handlers: { PUBLISH: (req, reply, binding) => reply(answerPublish({ publications, ...(sipAuth ? { auth: sipAuth } : {}) }, req, binding.source.address)) },
        })
      : createNativeSipFront({
          config,
          subscriptions,
          logger: logger.child({ component: 'sip' }),
          gate: (send) => commit.afterCommit(send),
          auth: sipAuth,
          handlers: { PUBLISH: publishHandler },
          udpReadTally: () => receivePriority.tally(),
        });
  try {
    await front.start();
  } catch (err) {
    subscriptions.stopTimers();
    await closeStore();
    throw err;
  }
  const sip = front;
  const app = buildApp({
    presence,
    directory,
    auth,
    config,
    // buildApp tags its lines component=api; a child here would write the key twice.
    logger,
    clock,
    version: SERVER_VERSION,
    admit: (go) => receivePriority.admit(go),
  });
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    http = await startHttpServer(app, config.httpListen);
  } catch (err) {
    await sip.stop();
    subscriptions.stopTimers();
    await closeStore();
    throw err;
  }
  logger.info({ sip: sip.listening(), http: http.address, db: config.dbPath, backend: config.sipBackend, sipAuth: config.sipAuth }, 'presence server listening');
  // The process's own memory, on the wall clock whatever clock the domain runs on.
  const heap = new HeapReclaimer({ clock: systemClock, logger: logger.child({ component: 'heap' }), ...v8Heap() });
  heap.start();

  let stopping: Promise<void> | undefined;
  const stop = (stopOpts: { deactivate?: boolean } = {}): Promise<void> => {
    stopping ??= (async () => {
      const deactivate = stopOpts.deactivate ?? config.deactivateOnStop;
      // Phones that subscribe now are told to come back (503, Retry-After) rather than
      // holding up the stop with new NOTIFYs.
      subscriptions.close();
      heap.stop();
      await http.close();
      subscriptions.stopTimers();
      if (deactivate) await subscriptions.terminateAll('deactivated');
      // Queued NOTIFYs go out and get a few seconds for their answers; a phone that has gone
      // silent must not hold the shutdown for Timer F's 32 s.
      await Promise.race([scheduler.idle(), new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
      await sip.stop();
      scheduler.close();
      await closeStore();
      logger.info({}, 'presence server stopped');
    })();
    return stopping;
  };
  return { config, presence, subscriptions, directory, sip, http: http.address, logger, stop };
}

/** Nonces live 5 minutes; 10 failures in 60 s from one address refuse it for 5 minutes. */
const NONCE_TTL_SECONDS = 300;
const AUTH_FAILURE_LIMIT = { maxFailures: 10, windowSeconds: 60, blockSeconds: 300 };

/** PRESENCE_SIP_AUTH=digest: devices' SIP credentials from the directory, trusted CIDRs pass. */
function createSipAuthentication(config: Config, directory: SqliteDirectoryRepository, clock: Clock, logger: Logger): RequestAuthentication {
  const authenticator = new SipDigestAuthenticator({
    nonces: new NonceBook({ clock, ttlSeconds: NONCE_TTL_SECONDS }),
    limiter: new AuthFailureLimiter({ clock, ...AUTH_FAILURE_LIMIT }),
    lookup: (realm, username) => {
      const found = directory.findDeviceBySipUsername(realm, username);
      const password = found?.device.sip.password;
      if (!found || !password) return undefined;
      return { password, accountRealm: found.account.realm, deviceId: found.device.id };
    },
    logger,
    algorithms: config.sipAuthAlgorithms,
  });
  return new RequestAuthentication({ authenticator, trusted: config.sipTrusted });
}

/** `node dist/src/main.js [--flag value ...]`: run the server until SIGTERM or SIGINT. */
export async function runServer(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  let config: Config;
  try {
    config = loadConfig({ ...env, ...argvToEnv(argv) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`presence: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config);
  const server = await startPresenceServer(config, { logger }).catch((err: unknown) => {
    logger.error({ err }, 'presence server failed to start');
    process.exit(1);
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** `presence-admin ...`: account bootstrap against PRESENCE_DB, safe while the server runs. */
export function runAdmin(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const db = openDatabase(env.PRESENCE_DB || './data/presence.db');
  try {
    const repo = new SqliteDirectoryRepository(db);
    const result = executeAdmin(argv, new DirectoryService({ store: repo, tokens: repo, clock: systemClock }));
    if (result.stdout) process.stdout.write(result.stdout);
    if (result.stderr) process.stderr.write(result.stderr);
    return result.exitCode;
  } finally {
    closeDatabase(db);
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  void runServer(process.argv.slice(2), process.env);
}
