import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Account } from '../../../src/directory/documents.js';
import { devicePresenceTargets, extensionPresenceTarget, userPresenceTargets } from '../../../src/directory/presence-targets.js';
import type { PresenceService } from '../../../src/presence-service.js';
import { splitPresentity, type Presentity } from '../../../src/presentity.js';
import { lastBodyOf, type Subscription } from '../../../src/subscription.js';
import { responses } from '../../envelope.js';
import { ApiError, forbidden } from '../../errors.js';
import { parsePresenceCommand, type PresenceCommand } from '../../presence-command.js';
import type { RouteDeps } from '../../route-deps.js';
import {
  AccountParams,
  CommandResult,
  DeviceParams,
  ExtensionParams,
  PresenceCommandBody,
  PresenceQuery,
  SubscriptionListing,
  UserParams,
  type SubscriptionEntry,
} from '../../schemas.js';

/** Seconds from 0000-01-01 to 1970-01-01 (Erlang's calendar:datetime_to_gregorian_seconds). */
const GREGORIAN_EPOCH_OFFSET = 62_167_219_200;

function listingEntry(sub: Subscription, stalker: string): SubscriptionEntry {
  const notify: SubscriptionEntry['notify'] = { reply: sub.lastReply, sequence: sub.notifyCount };
  const body = lastBodyOf(sub);
  if (body !== undefined) notify.body = body;
  return {
    expires: sub.expires,
    from: sub.watcher,
    notify,
    stalker,
    timestamp: Math.floor(sub.lastSubscribeAt / 1000) + GREGORIAN_EPOCH_OFFSET,
    // Kazoo's version 2 is a SUBSCRIBE with an Event id (RFC 6665 8.2.1).
    version: sub.eventId !== undefined ? 2 : 1,
  };
}

/** `subscriptions.{presence id}.{event}.{Call-ID}` */
function listing(subs: readonly Subscription[], stalker: string): SubscriptionListing {
  const out: SubscriptionListing = { subscriptions: {} };
  for (const sub of subs) {
    const byEvent = (out.subscriptions[splitPresentity(sub.presentity).user] ??= {});
    (byEvent[sub.event] ??= {})[sub.dialog.callId] = listingEntry(sub, stalker);
  }
  return out;
}

function extensionTarget(extension: string, account: Account): Presentity {
  const presentity = extensionPresenceTarget(extension, account);
  if (!presentity) throw forbidden(`presence id ${extension} is outside the account realm ${account.realm}`);
  return presentity;
}

/** Runs the command on every target; Kazoo's answer text. */
function apply(presence: PresenceService, command: PresenceCommand, targets: readonly Presentity[]): string {
  if (targets.length === 0) return 'nothing to send command to';
  for (const presentity of targets) {
    switch (command.action) {
      case 'set':
        presence.set(presentity, command.state);
        break;
      case 'reset':
        presence.reset(presentity);
        break;
      case 'mwi':
        presence.setMessageSummary(presentity, { account: `sip:${presentity}`, ...command.counts });
        break;
    }
  }
  return 'command sent';
}

/** Kazoo's presence module: list subscriptions, and set or flush the lamps of extensions, devices and users. */
export const presenceRoutes: FastifyPluginAsyncTypebox<RouteDeps> = async (app, { directory, presence, envelopes, nodeId }) => {
  const stalker = `BLF-${nodeId}`;
  const commandSchema = { body: PresenceCommandBody, response: responses(CommandResult) };

  app.get(
    '/v2/accounts/:accountId/presence',
    { schema: { params: AccountParams, querystring: PresenceQuery, response: responses(SubscriptionListing) } },
    async (request) => {
      const account = directory.getAccount(request.params.accountId);
      const subs = presence.subscriptions({ realm: account.realm, event: request.query.event });
      return envelopes.success(request, listing(subs, stalker));
    },
  );

  app.get(
    '/v2/accounts/:accountId/presence/:extension',
    { schema: { params: ExtensionParams, querystring: PresenceQuery, response: responses(SubscriptionListing) } },
    async (request) => {
      const account = directory.getAccount(request.params.accountId);
      const presentity = extensionTarget(request.params.extension, account);
      const subs = presence.subscriptions({ realm: account.realm, presentity, event: request.query.event });
      return envelopes.success(request, listing(subs, stalker));
    },
  );

  // Kazoo answers 404 here: a command needs an extension, device or user.
  app.post('/v2/accounts/:accountId/presence', { schema: { params: AccountParams, response: responses(CommandResult) } }, async () => {
    throw new ApiError('notFound', { message: 'a presence command needs a target: POST .../presence/{EXTENSION}' });
  });

  app.post('/v2/accounts/:accountId/presence/:extension', { schema: { params: ExtensionParams, ...commandSchema } }, async (request) => {
    const command = parsePresenceCommand(request.body.data);
    const account = directory.getAccount(request.params.accountId);
    const target = extensionTarget(request.params.extension, account);
    request.log.info({ presentity: target, action: command.action }, 'presence command');
    return envelopes.success(request, apply(presence, command, [target]));
  });

  app.post('/v2/accounts/:accountId/devices/:deviceId/presence', { schema: { params: DeviceParams, ...commandSchema } }, async (request) => {
    const command = parsePresenceCommand(request.body.data);
    const account = directory.getAccount(request.params.accountId);
    const device = directory.getDevice(account.id, request.params.deviceId);
    const targets = devicePresenceTargets(device, account);
    request.log.info({ deviceId: device.id, presentities: targets, action: command.action }, 'presence command');
    return envelopes.success(request, apply(presence, command, targets));
  });

  app.post('/v2/accounts/:accountId/users/:userId/presence', { schema: { params: UserParams, ...commandSchema } }, async (request) => {
    const command = parsePresenceCommand(request.body.data);
    const account = directory.getAccount(request.params.accountId);
    const user = directory.getUser(account.id, request.params.userId);
    const targets = userPresenceTargets(user, directory.devicesOwnedBy(account.id, user.id), account);
    request.log.info({ userId: user.id, presentities: targets, action: command.action }, 'presence command');
    return envelopes.success(request, apply(presence, command, targets));
  });
};
