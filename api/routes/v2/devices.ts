import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { deviceDoc } from '../../documents.js';
import { responses } from '../../envelope.js';
import type { RouteDeps } from '../../route-deps.js';
import { AccountParams, Body, DeviceDoc, DeviceFields, DeviceParams } from '../../schemas.js';

/** Devices of an account; their SIP credentials serve digest authentication. */
export const deviceRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { directory, envelopes }) => {
  app.get('/v2/accounts/:accountId/devices', { schema: { params: AccountParams, response: responses(Type.Array(DeviceDoc)) } }, async (request) =>
    envelopes.success(request, directory.listDevices(request.params.accountId).map(deviceDoc)),
  );

  app.put(
    '/v2/accounts/:accountId/devices',
    { schema: { params: AccountParams, body: Body(DeviceFields), response: responses(DeviceDoc, 201) } },
    async (request, reply) => {
      const device = directory.createDevice(request.params.accountId, request.body.data);
      return reply.code(201).send(envelopes.success(request, deviceDoc(device), { revision: device.revision }));
    },
  );

  app.get('/v2/accounts/:accountId/devices/:deviceId', { schema: { params: DeviceParams, response: responses(DeviceDoc) } }, async (request) => {
    const device = directory.getDevice(request.params.accountId, request.params.deviceId);
    return envelopes.success(request, deviceDoc(device), { revision: device.revision });
  });

  app.post(
    '/v2/accounts/:accountId/devices/:deviceId',
    { schema: { params: DeviceParams, body: Body(DeviceFields), response: responses(DeviceDoc) } },
    async (request) => {
      const device = directory.replaceDevice(request.params.accountId, request.params.deviceId, request.body.data);
      return envelopes.success(request, deviceDoc(device), { revision: device.revision });
    },
  );

  app.patch(
    '/v2/accounts/:accountId/devices/:deviceId',
    { schema: { params: DeviceParams, body: Body(DeviceFields), response: responses(DeviceDoc) } },
    async (request) => {
      const device = directory.patchDevice(request.params.accountId, request.params.deviceId, request.body.data);
      return envelopes.success(request, deviceDoc(device), { revision: device.revision });
    },
  );

  app.delete('/v2/accounts/:accountId/devices/:deviceId', { schema: { params: DeviceParams, response: responses(DeviceDoc) } }, async (request) =>
    envelopes.success(request, deviceDoc(directory.deleteDevice(request.params.accountId, request.params.deviceId))),
  );
};
