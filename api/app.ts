import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest, type HTTPMethods } from 'fastify';
import type { Config } from '../src/config.js';
import type { AuthService } from '../src/directory/auth-service.js';
import type { DirectoryService } from '../src/directory/directory-service.js';
import { systemClock, type Clock } from '../src/ports/clock.js';
import type { PresenceService } from '../src/presence-service.js';
import { Envelopes } from './envelope.js';
import { ApiError, fromDomainError, schemaValidationError } from './errors.js';
import { registerJsonBodyParsers } from './json-body.js';
import { packageVersion } from './package-version.js';
import { authenticateRequest } from './request-auth.js';
import type { RouteDeps } from './route-deps.js';
import { accountRoutes } from './routes/v2/accounts.js';
import { authRoutes } from './routes/v2/auth.js';
import { deviceRoutes } from './routes/v2/devices.js';
import { presenceRoutes } from './routes/v2/presence.js';
import { userRoutes } from './routes/v2/users.js';

export interface AppOptions {
  presence: PresenceService;
  directory: DirectoryService;
  auth: AuthService;
  config: Pick<Config, 'nodeId'>;
  /** A pino logger; the app logs through a child that redacts credentials. Omitted: no logs. */
  logger?: FastifyBaseLogger;
  /** Log every request and response (method, url, status, time; never headers or bodies). Default true. */
  requestLogging?: boolean;
  /** Time for envelope timestamps (token expiry uses the AuthService's clock). */
  clock?: Clock;
  /** The envelope's `version`; defaults to package.json's. */
  version?: string;
  /** Largest accepted request body, bytes. */
  bodyLimit?: number;
  /**
   * Lets a request go ahead, at once or in a later event-loop turn (ReceivePriority: while
   * the SIP listener is behind on its reads). Absent: every request goes at once.
   */
  admit?: (go: () => void) => void;
}

/** The verbs the v2 API answers; a known path with another of these gets 405. */
const VERBS: readonly HTTPMethods[] = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'];

/** Anything that could authenticate, wherever a future serializer might put it. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-auth-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-auth-token"]',
  'api_key',
  'password',
  'credentials',
  'token',
];

/** A client's X-Request-ID is kept when it is a plain token; otherwise we make one (32 hex, like Kazoo). */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function requestId(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id'];
  const id = Array.isArray(given) ? given[0] : given;
  return id && CLIENT_REQUEST_ID.test(id) ? id : randomBytes(16).toString('hex');
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && ('code' in err || 'statusCode' in err || 'validation' in err);
}

/** Fastify's own failures (before any handler runs) in API terms. */
function fromFastifyError(err: FastifyError): ApiError | undefined {
  if (err.validation) return schemaValidationError(err.validation, err.validationContext);
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupportedMediaType', { message: 'send the body as application/json' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payloadTooLarge', { message: 'request body too large' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('invalidRequest', { message: 'request body is not valid JSON' });
    default:
      break;
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return new ApiError('invalidRequest', { message: 'the request could not be read' });
  return undefined;
}

/**
 * The REST API as a Fastify instance that never listens (api/server.ts listens). Services come
 * in as options; every answer is a Kazoo envelope, every failure Kazoo's error envelope.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const clock = options.clock ?? systemClock;
  const envelopes = new Envelopes({ node: options.config.nodeId, version: options.version ?? packageVersion(), clock });

  const app = Fastify({
    ...(options.logger
      ? { loggerInstance: options.logger.child({ component: 'api' }, { redact: { paths: REDACT_PATHS, censor: '[redacted]' } }) }
      : { logger: false }),
    logController: new LogController({ disableRequestLogging: options.requestLogging === false, requestIdLogLabel: 'requestId' }),
    genReqId: requestId,
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    // Kazoo's ids and extensions are short; a longer path segment is not one of ours.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 256 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  registerJsonBodyParsers(app);

  // First, so that a request that waits has cost nothing but its parse.
  const admit = options.admit;
  if (admit) app.addHook('onRequest', (_request, _reply, done) => admit(() => done()));
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onRequest', authenticateRequest(options.auth));

  app.setErrorHandler((err: unknown, request, reply) => {
    const known = fromDomainError(err) ?? (isFastifyError(err) ? fromFastifyError(err) : undefined);
    if (known) {
      if (known.status >= 500) request.log.error({ err }, 'request failed');
      return reply.code(known.status).headers(known.headers).send(envelopes.error(request, known));
    }
    // 5xx never tell the client why: the log does.
    request.log.error({ err }, 'request failed');
    return reply.code(500).send(envelopes.error(request, new ApiError('internal', { message: 'internal server error' })));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(envelopes.error(request, new ApiError('notFound', { message: `no such endpoint: ${request.method} ${request.url.split('?')[0]}` }))),
  );

  // Remember each path's verbs, so the other verbs can answer 405 instead of 404.
  const verbsByPath = new Map<string, Set<HTTPMethods>>();
  app.addHook('onRoute', (route) => {
    if (route.config?.access === 'public' && route.handler === methodNotAllowed) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const known = verbsByPath.get(route.url) ?? new Set<HTTPMethods>();
    for (const m of methods) known.add(m);
    verbsByPath.set(route.url, known);
  });

  const deps: RouteDeps = {
    directory: options.directory,
    auth: options.auth,
    presence: options.presence,
    envelopes,
    nodeId: options.config.nodeId,
  };
  app.register(authRoutes, deps);
  app.register(accountRoutes, deps);
  app.register(userRoutes, deps);
  app.register(deviceRoutes, deps);
  app.register(presenceRoutes, deps);

  app.register(async (scope) => {
    for (const [url, known] of verbsByPath) {
      const missing = VERBS.filter((v) => !known.has(v));
      if (missing.length === 0) continue;
      const allow = VERBS.filter((v) => known.has(v)).join(', ');
      scope.route({ method: missing, url, config: { access: 'public', allow }, handler: methodNotAllowed });
    }
  });

  return app;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The verbs a path answers, for the 405's Allow header. */
    allow?: string;
  }
}

/** A known path, a verb it does not answer: 405 with Allow (RFC 9110 15.5.6). */
async function methodNotAllowed(request: FastifyRequest): Promise<never> {
  const allow = request.routeOptions.config.allow ?? '';
  throw new ApiError('invalidMethod', { message: `${request.method} is not allowed here; use ${allow}` }, { allow });
}
