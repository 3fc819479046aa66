import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { userDoc } from '../../documents.js';
import { responses } from '../../envelope.js';
import type { RouteDeps } from '../../route-deps.js';
import { AccountParams, Body, UserDoc, UserFields, UserParams } from '../../schemas.js';

/** Users of an account; `password` is write-only. */
export const userRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { directory, envelopes }) => {
  app.get('/v2/accounts/:accountId/users', { schema: { params: AccountParams, response: responses(Type.Array(UserDoc)) } }, async (request) =>
    envelopes.success(request, directory.listUsers(request.params.accountId).map(userDoc)),
  );

  app.put(
    '/v2/accounts/:accountId/users',
    { schema: { params: AccountParams, body: Body(UserFields), response: responses(UserDoc, 201) } },
    async (request, reply) => {
      const user = await directory.createUser(request.params.accountId, request.body.data);
      return reply.code(201).send(envelopes.success(request, userDoc(user), { revision: user.revision }));
    },
  );

  app.get('/v2/accounts/:accountId/users/:userId', { schema: { params: UserParams, response: responses(UserDoc) } }, async (request) => {
    const user = directory.getUser(request.params.accountId, request.params.userId);
    return envelopes.success(request, userDoc(user), { revision: user.revision });
  });

  app.post(
    '/v2/accounts/:accountId/users/:userId',
    { schema: { params: UserParams, body: Body(UserFields), response: responses(UserDoc) } },
    async (request) => {
      const user = await directory.replaceUser(request.params.accountId, request.params.userId, request.body.data);
      return envelopes.success(request, userDoc(user), { revision: user.revision });
    },
  );

  app.patch(
    '/v2/accounts/:accountId/users/:userId',
    { schema: { params: UserParams, body: Body(UserFields), response: responses(UserDoc) } },
    async (request) => {
      const user = await directory.patchUser(request.params.accountId, request.params.userId, request.body.data);
      return envelopes.success(request, userDoc(user), { revision: user.revision });
    },
  );

  app.delete('/v2/accounts/:accountId/users/:userId', { schema: { params: UserParams, response: responses(UserDoc) } }, async (request) =>
    envelopes.success(request, userDoc(directory.deleteUser(request.params.accountId, request.params.userId))),
  );
};
