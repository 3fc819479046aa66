import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthGrant, AuthService } from '../src/directory/auth-service.js';
import { forbidden, invalidCredentials } from './errors.js';

/**
 * Who may call a route: anyone (`public`: the login routes and 405 answers), any valid token
 * for its own account (`account`, the default), or only a super-admin account's token.
 */
export type RouteAccess = 'public' | 'account' | 'superadmin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

interface RequestAuth {
  token: string;
  grant?: AuthGrant;
}

const authOf = new WeakMap<FastifyRequest, RequestAuth>();

/** The token the caller sent, once it has been checked (echoed as the envelope's `auth_token`). */
export function authTokenOf(request: FastifyRequest): string | undefined {
  const auth = authOf.get(request);
  return auth?.grant ? auth.token : undefined;
}

/** The grant of an authenticated request (routes with access `account` or `superadmin`). */
export function grantOf(request: FastifyRequest): AuthGrant {
  const grant = authOf.get(request)?.grant;
  if (!grant) throw invalidCredentials();
  return grant;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Kazoo's X-Auth-Token, or `Authorization: Bearer <token>`. */
function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers['x-auth-token'];
  const xAuth = Array.isArray(header) ? header[0] : header;
  if (xAuth && xAuth.trim() !== '') return xAuth.trim();
  const authorization = request.headers.authorization;
  return authorization ? BEARER.exec(authorization)?.[1] : undefined;
}

function accountIdParam(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null || !('accountId' in params)) return undefined;
  const id = (params as { accountId: unknown }).accountId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The onRequest hook: runs before the body is read, so an unauthenticated caller learns
 * nothing about validation. A token opens its own account only, unless its account is a
 * super-admin.
 */
export function authenticateRequest(auth: AuthService) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (request.is404) return;
    const access = request.routeOptions.config.access ?? 'account';
    if (access === 'public') return;
    const token = presentedToken(request);
    if (token === undefined) throw invalidCredentials();
    const grant = auth.verify(token);
    if (!grant) throw invalidCredentials();
    authOf.set(request, { token, grant });
    if (access === 'superadmin' && !grant.account.superadmin) throw forbidden('only a super-admin account may do this');
    const accountId = accountIdParam(request.params);
    if (accountId !== undefined && accountId !== grant.account.id && !grant.account.superadmin) throw forbidden();
  };
}
