import type { TestServer } from './test-server.js';

/** An account created like the admin CLI does, with a REST token for it. */
export interface ProvisionedAccount {
  accountId: string;
  realm: string;
  token: string;
}

/** Calls the REST API of a running test server; returns the parsed envelope. */
export async function rest(
  t: TestServer,
  token: string | undefined,
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  data?: unknown,
): Promise<{ status: number; body: { data?: unknown; auth_token?: string; [k: string]: unknown } }> {
  const headers: Record<string, string> = {};
  if (token) headers['x-auth-token'] = token;
  if (data !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${t.httpPort}${path}`, {
    method,
    headers,
    body: data !== undefined ? JSON.stringify({ data }) : undefined,
  });
  return { status: res.status, body: (await res.json()) as { data?: unknown; auth_token?: string } };
}

/** Creates an account in-process (as `presence-admin` would) and logs in with its api key over REST. */
export async function provisionAccount(t: TestServer, realm: string): Promise<ProvisionedAccount> {
  const { account, apiKey } = t.server.directory.createAccount({ name: realm, realm });
  const r = await rest(t, undefined, 'PUT', '/v2/api_auth', { api_key: apiKey });
  if (r.status !== 201 || !r.body.auth_token) throw new Error(`api_auth failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { accountId: account.id, realm, token: r.body.auth_token };
}

/** Creates a device with SIP credentials over REST (`PUT /v2/accounts/{A}/devices`). */
export async function createDevice(
  t: TestServer,
  account: ProvisionedAccount,
  sip: { username: string; password: string; realm?: string },
): Promise<string> {
  const r = await rest(t, account.token, 'PUT', `/v2/accounts/${account.accountId}/devices`, { name: `phone ${sip.username}`, sip });
  if (r.status !== 201 && r.status !== 200) throw new Error(`device create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body.data as { id: string }).id;
}

/** A presence command over REST (`POST /v2/accounts/{A}/presence/{EXT}`). */
export async function presenceCommand(t: TestServer, account: ProvisionedAccount, extension: string, data: Record<string, unknown>): Promise<void> {
  const r = await rest(t, account.token, 'POST', `/v2/accounts/${account.accountId}/presence/${encodeURIComponent(extension)}`, data);
  if (r.status !== 200) throw new Error(`presence command failed: ${r.status} ${JSON.stringify(r.body)}`);
}
