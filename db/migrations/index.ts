import type { Migration } from '../migration.js';
import { migration001 } from './001-subscriptions-and-state.js';
import { migration002 } from './002-directory.js';
import { migration003 } from './003-lean-subscription-indexes.js';
import { migration004 } from './004-subscriptions-by-rowid.js';

/** Every migration, in order. Add new ones at the end; never edit a released one. */
export const migrations: readonly Migration[] = [migration001, migration002, migration003, migration004];
