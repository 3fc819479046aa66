import type { LightMyRequestResponse } from 'fastify';
import type { Harness } from './harness.js';

export interface Tenant {
  accountId: string;
  realm: string;
  apiKey: string;
  token: string;
}

/** Creates an account through the directory and logs in with its api key. */
export async function tenant(h: Harness, name: string, realm: string, superadmin = false): Promise<Tenant> {
  const { account, apiKey } = h.directory.createAccount({ name, realm }, { superadmin });
  const res = await h.app.inject({ method: 'PUT', url: '/v2/api_auth', payload: { data: { api_key: apiKey } } });
  if (res.statusCode !== 201) throw new Error(`api_auth failed: ${res.body}`);
  return { accountId: account.id, realm: account.realm, apiKey, token: res.json().auth_token };
}

type Method = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

/** A JSON request with the tenant's token. */
export function call(h: Harness, t: Pick<Tenant, 'token'> | undefined, method: Method, url: string, data?: unknown): Promise<LightMyRequestResponse> {
  return h.app.inject({
    method,
    url,
    headers: t ? { 'x-auth-token': t.token } : {},
    ...(data === undefined ? {} : { payload: { data } }),
  });
}

/** Exactly what `curl -v -X M -H "X-Auth-Token: T" -d 'BODY' URL` sends: the JSON as a form body. */
export function curl(h: Harness, token: string, method: Method, url: string, raw?: string): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { 'x-auth-token': token, 'user-agent': 'curl/8.5.0', accept: '*/*' };
  if (raw !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  return h.app.inject({ method, url, headers, ...(raw === undefined ? {} : { payload: raw }) });
}

/** Walks the response for `null` or `"undefined"` values (the envelope must never carry them). */
export function emptyValues(value: unknown, at = '$'): string[] {
  if (value === null || value === 'undefined') return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => emptyValues(v, `${at}[${i}]`));
  if (typeof value === 'object') return Object.entries(value as object).flatMap(([k, v]) => emptyValues(v, `${at}.${k}`));
  return [];
}
