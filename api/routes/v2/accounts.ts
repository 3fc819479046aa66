import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { accountDoc } from '../../documents.js';
import { responses } from '../../envelope.js';
import { forbidden } from '../../errors.js';
import { grantOf } from '../../request-auth.js';
import type { RouteDeps } from '../../route-deps.js';
import { AccountDoc, AccountFields, AccountParams, ApiKeyData, Body, CreatedAccountDoc } from '../../schemas.js';

/** Accounts: PUT creates (super-admin only), GET reads, POST replaces, PATCH merges, DELETE removes. */
export const accountRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { directory, envelopes }) => {
  app.put(
    '/v2/accounts',
    { config: { access: 'superadmin' }, schema: { body: Body(AccountFields), response: responses(CreatedAccountDoc, 201) } },
    async (request, reply) => {
      const { account, apiKey } = directory.createAccount(request.body.data);
      request.log.info({ accountId: account.id, realm: account.realm }, 'account created');
      return reply.code(201).send(envelopes.success(request, { ...accountDoc(account), api_key: apiKey }, { revision: account.revision }));
    },
  );

  app.get('/v2/accounts/:accountId', { schema: { params: AccountParams, response: responses(AccountDoc) } }, async (request) => {
    const account = directory.getAccount(request.params.accountId);
    return envelopes.success(request, accountDoc(account), { revision: account.revision });
  });

  app.post(
    '/v2/accounts/:accountId',
    { schema: { params: AccountParams, body: Body(AccountFields), response: responses(AccountDoc) } },
    async (request) => {
      const account = directory.replaceAccount(request.params.accountId, request.body.data);
      return envelopes.success(request, accountDoc(account), { revision: account.revision });
    },
  );

  app.patch(
    '/v2/accounts/:accountId',
    { schema: { params: AccountParams, body: Body(AccountFields), response: responses(AccountDoc) } },
    async (request) => {
      const account = directory.patchAccount(request.params.accountId, request.body.data);
      return envelopes.success(request, accountDoc(account), { revision: account.revision });
    },
  );

  app.delete(
    '/v2/accounts/:accountId',
    { config: { access: 'superadmin' }, schema: { params: AccountParams, response: responses(AccountDoc) } },
    async (request) => {
      if (grantOf(request).account.id === request.params.accountId) throw forbidden('an account cannot delete itself');
      const account = directory.deleteAccount(request.params.accountId);
      request.log.info({ accountId: account.id }, 'account deleted');
      return envelopes.success(request, accountDoc(account));
    },
  );

  /** Kazoo's api key regeneration: the old key, and tokens obtained with it, stop working. */
  app.put('/v2/accounts/:accountId/api_key', { schema: { params: AccountParams, response: responses(ApiKeyData) } }, async (request) => {
    const apiKey = directory.rotateApiKey(request.params.accountId);
    request.log.info({ accountId: request.params.accountId }, 'api key rotated');
    return envelopes.success(request, { api_key: apiKey });
  });
};
