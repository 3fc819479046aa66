/**
 * The composition root: the one module that may import the adapters (sip/, api/, db/) and
 * wire them to the domain. `startPresenceServer` is what tests start in-process; run as a
 * program it reads the configuration, starts, and stops cleanly on SIGTERM/SIGINT.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { closeDatabase, openDatabase } from '../db/open.js';
import { SqliteStateStore } from '../db/state-repository.js';
import { SqliteSubscriptionStore } from '../db/subscription-repository.js';
import { createNativeSipFront } from '../sip/native/native-sip-front.js';
import { argvToEnv, loadConfig, type Config } from './config.js';
import { ConfigError } from './config-error.js';
import { EventPackageRegistry } from './event-package-registry.js';
import { NotifyScheduler } from './notify-scheduler.js';
import { dialogPackage } from './packages/dialog-package.js';
import { messageSummaryPackage } from './packages/message-summary-package.js';
import { presencePackage } from './packages/presence-package.js';
import { systemClock, type Clock } from './ports/clock.js';
import type { Logger } from './ports/logger.js';
import type { Notifier } from './ports/notifier.js';
import type { SipFront } from './ports/sip-front.js';
import { PresenceService } from './presence-service.js';
import { PresentityStates } from './presentity-states.js';
import { SubscriptionService } from './subscription-service.js';

export interface RunningServer {
  config: Config;
  presence: PresenceService;
  subscriptions: SubscriptionService;
  sip: SipFront;
  logger: Logger;
  /**
   * Stops taking requests, lets queued NOTIFYs finish (or, with `deactivate`, ends every
   * subscription with a final NOTIFY), and closes the database.
   */
  stop(opts?: { deactivate?: boolean }): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
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

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
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
  const subscriptionStore = new SqliteSubscriptionStore(db);
  const stateStore = new SqliteStateStore(db);

  const registry = new EventPackageRegistry().register(dialogPackage).register(presencePackage).register(messageSummaryPackage);
  const states = new PresentityStates(stateStore, clock);
  // The front is built after the services that it calls; NOTIFYs reach it through this seam.
  let front: SipFront | undefined;
  const notifier: Notifier = {
    notify: (request) => (front ? front.notify(request) : Promise.resolve({ kind: 'transport-error', reason: 'SIP front not started' })),
  };
  let subscriptions: SubscriptionService;
  const scheduler = new NotifyScheduler({
    notifier,
    store: subscriptionStore,
    registry,
    view: (p) => states.view(p),
    clock,
    logger: logger.child({ component: 'notifier' }),
    maxTimeouts: config.notifyMaxTimeouts,
    onEnded: (sub, cause) => subscriptions.ended(sub, cause),
  });
  subscriptions = new SubscriptionService({ registry, store: subscriptionStore, scheduler, clock, logger: logger.child({ component: 'subscriptions' }) });
  const presence = new PresenceService({
    states,
    subscriptions,
    clock,
    logger: logger.child({ component: 'presence' }),
    ringingTtl: config.ringingTtl,
    busyTtl: config.busyTtl,
  });
  states.restore();
  subscriptions.restore();

  front = createNativeSipFront({ config, subscriptions, logger: logger.child({ component: 'sip' }) });
  try {
    await front.start();
  } catch (err) {
    subscriptions.stopTimers();
    closeDatabase(db);
    throw err;
  }
  const sip = front;
  logger.info({ sip: sip.listening(), db: config.dbPath, backend: config.sipBackend }, 'presence server listening');

  let stopping: Promise<void> | undefined;
  const stop = (stopOpts: { deactivate?: boolean } = {}): Promise<void> => {
    stopping ??= (async () => {
      const deactivate = stopOpts.deactivate ?? config.deactivateOnStop;
      subscriptions.stopTimers();
      if (deactivate) await subscriptions.terminateAll('deactivated');
      // Let NOTIFYs already on their way get their answers (bounded by Timer F).
      await scheduler.idle();
      scheduler.flushAnswered();
      await sip.stop();
      closeDatabase(db);
      logger.info({}, 'presence server stopped');
    })();
    return stopping;
  };
  return { config, presence, subscriptions, sip, logger, stop };
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
