import type { Migration } from '../migration.js';

/**
 * Every SUBSCRIBE inserts a row and every NOTIFY updates one, and each secondary index costs
 * those writes a B-tree update (together 40-50% of an insert here). The server lists and looks
 * up subscriptions from memory and sweeps expired rows only at boot, so the indexes on
 * presentity, realm and expiry bought nothing on the hot path.
 */
export const migration003: Migration = {
  version: 3,
  name: 'lean-subscription-indexes',
  up(db) {
    db.exec(`
      DROP INDEX IF EXISTS subscriptions_presentity;
      DROP INDEX IF EXISTS subscriptions_realm;
      DROP INDEX IF EXISTS subscriptions_expires_at;
    `);
  },
};
