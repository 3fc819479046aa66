#!/usr/bin/env node
// presence-admin: bootstrap accounts on the server's database (PRESENCE_DB, default
// ./data/presence.db). Runs the compiled code in dist/ (built by `npm install` / `npm start`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('presence-admin: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
const { runAdmin } = await import(entry.href);
process.exitCode = runAdmin(process.argv.slice(2), process.env);
