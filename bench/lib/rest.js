// @ts-check
/**
 * The REST side of the benchmark: an account made with the admin CLI on the server's
 * database, a token from `PUT /v2/api_auth`, and Kazoo's presence `set` on an extension.
 * `connectRest` says plainly why the REST figures are not available when they are not.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = path.join(ROOT, 'bin/presence-admin.js');

/**
 * @typedef {object} Rest
 * @property {string} accountId
 * @property {(extension: string, state: string) => Promise<number>} set  resolves with the HTTP status
 * @property {() => void} close
 */

/**
 * @param {http.Agent} agent @param {{ host: string, port: number }} to
 * @param {string} method @param {string} urlPath @param {unknown} body @param {Record<string, string>} [headers]
 * @returns {Promise<{ status: number, json: any }>}
 */
function call(agent, to, method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        agent,
        host: to.host,
        port: to.port,
        method,
        path: urlPath,
        headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Sets up REST access to our server, or says why it cannot.
 * @param {{ http?: { host: string, port: number }, dbPath: string, realm: string, sockets?: number }} o
 * @returns {Promise<{ rest: Rest } | { unavailable: string }>}
 */
export async function connectRest(o) {
  if (!o.http) return { unavailable: 'no HTTP listener configured' };
  if (!fs.existsSync(ADMIN)) return { unavailable: 'REST API not available: bin/presence-admin.js is not there yet' };
  if (o.dbPath === ':memory:') return { unavailable: 'REST needs the file database (the admin CLI writes the account there)' };
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.sockets ?? 16 });
  try {
    await call(agent, o.http, 'GET', '/', undefined);
  } catch (err) {
    agent.destroy();
    return { unavailable: `REST API not available: nothing listens on http://${o.http.host}:${o.http.port} (${/** @type {Error} */ (err).message})` };
  }
  const created = spawnSync(process.execPath, [ADMIN, 'account', 'create', '--name', `Bench ${process.pid}`, '--realm', o.realm], {
    cwd: ROOT,
    env: { ...process.env, PRESENCE_DB: o.dbPath },
    encoding: 'utf8',
    timeout: 30_000,
  });
  /** @type {any} */
  let account;
  try {
    account = JSON.parse(created.stdout);
  } catch {
    agent.destroy();
    return { unavailable: `admin CLI failed (exit ${created.status}): ${(created.stderr || created.stdout).trim().slice(0, 200)}` };
  }
  const apiKey = account.api_key ?? account.data?.api_key;
  if (!apiKey) {
    agent.destroy();
    return { unavailable: `admin CLI printed no api_key: ${created.stdout.slice(0, 200)}` };
  }
  const auth = await call(agent, o.http, 'PUT', '/v2/api_auth', { data: { api_key: apiKey } });
  const token = auth.json?.auth_token;
  const accountId = auth.json?.data?.account_id ?? account.account_id;
  if (auth.status !== 201 || !token || !accountId) {
    agent.destroy();
    return { unavailable: `PUT /v2/api_auth answered ${auth.status}: ${JSON.stringify(auth.json).slice(0, 200)}` };
  }
  const headers = { 'x-auth-token': token };
  /** @type {Rest} */
  const rest = {
    accountId,
    set: async (extension, state) =>
      (await call(agent, /** @type {{ host: string, port: number }} */ (o.http), 'POST', `/v2/accounts/${accountId}/presence/${extension}`, { data: { action: 'set', state } }, headers)).status,
    close: () => agent.destroy(),
  };
  return { rest };
}
