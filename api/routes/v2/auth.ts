import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { IssuedToken } from '../../../src/directory/auth-service.js';
import { isoSeconds, responses } from '../../envelope.js';
import { invalidCredentials, validationError } from '../../errors.js';
import { authTokenOf } from '../../request-auth.js';
import type { RouteDeps } from '../../route-deps.js';
import { ApiAuthBody, AuthData, UserAuthBody } from '../../schemas.js';

function authData(issued: IssuedToken) {
  const data: { account_id: string; account_name: string; owner_id?: string; expires_at: string } = {
    account_id: issued.account.id,
    account_name: issued.account.name,
    expires_at: isoSeconds(issued.expiresAt),
  };
  if (issued.ownerId !== undefined) data.owner_id = issued.ownerId;
  return data;
}

/** Kazoo's token endpoints: api_auth and user_auth trade a secret for a token that expires. */
export const authRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { auth, envelopes }) => {
  app.put(
    '/v2/api_auth',
    { config: { access: 'public' }, schema: { body: ApiAuthBody, response: responses(AuthData, 201) } },
    async (request, reply) => {
      // Kazoo answers an unknown key with 404; 401 says less about which keys exist.
      const issued = auth.authenticateApiKey(request.body.data.api_key);
      if (!issued) throw invalidCredentials();
      request.log.info({ accountId: issued.account.id }, 'api key authenticated');
      return reply.code(201).send(envelopes.success(request, authData(issued), { authToken: issued.token }));
    },
  );

  app.put(
    '/v2/user_auth',
    { config: { access: 'public' }, schema: { body: UserAuthBody, response: responses(AuthData, 201) } },
    async (request, reply) => {
      const { credentials, account_name, account_realm } = request.body.data;
      if (account_name === undefined && account_realm === undefined) {
        throw validationError({ account_name: { required: { message: 'account_name or account_realm is required' } } });
      }
      const selector = account_realm !== undefined ? { accountRealm: account_realm } : { accountName: account_name! };
      const issued = await auth.authenticateUser(credentials, selector);
      if (!issued) throw invalidCredentials();
      request.log.info({ accountId: issued.account.id, userId: issued.ownerId }, 'user authenticated');
      return reply.code(201).send(envelopes.success(request, authData(issued), { authToken: issued.token }));
    },
  );

  /** Logs the presented token out. */
  app.delete('/v2/token_auth', { schema: { response: responses(Type.Object({})) } }, async (request) => {
    const token = authTokenOf(request);
    const envelope = envelopes.success(request, {});
    if (token !== undefined) auth.revoke(token);
    return envelope;
  });
};
