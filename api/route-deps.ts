import type { AuthService } from '../src/directory/auth-service.js';
import type { DirectoryService } from '../src/directory/directory-service.js';
import type { PresenceService } from '../src/presence-service.js';
import type { Envelopes } from './envelope.js';

/** What the v2 route plugins are given (passed as plugin options, so dependencies stay visible). */
export interface RouteDeps {
  directory: DirectoryService;
  auth: AuthService;
  presence: PresenceService;
  envelopes: Envelopes;
  /** Names this instance in the listing's `stalker`. */
  nodeId: string;
}
