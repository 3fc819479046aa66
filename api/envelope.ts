import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../src/ports/clock.js';
import { API_ERRORS, type ApiError } from './errors.js';
import { authTokenOf } from './request-auth.js';

/**
 * Kazoo's response envelope. Every answer carries `request_id` (also the X-Request-ID
 * header), `node`, `timestamp` and `version`; `auth_token` when the caller used one and
 * `revision` when the object has one. Absent values are left out, never `null`.
 */
const base = {
  request_id: Type.String(),
  auth_token: Type.Optional(Type.String()),
  node: Type.String(),
  timestamp: Type.String({ description: 'ISO 8601, UTC, seconds, ending in Z' }),
  version: Type.String(),
};

export function SuccessEnvelope<T extends TSchema>(data: T) {
  return Type.Object({
    ...base,
    data,
    status: Type.Literal('success'),
    revision: Type.Optional(Type.String()),
  });
}

export const ErrorEnvelope = Type.Object({
  ...base,
  data: Type.Record(Type.String(), Type.Unknown()),
  status: Type.Literal('error'),
  error: Type.String({ description: 'the HTTP status, as a string' }),
  message: Type.String(),
});
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;

/** The response schemas of a route whose success answer is `data` with HTTP `status`. */
export function responses<T extends TSchema, S extends 200 | 201 = 200>(data: T, status?: S) {
  return {
    [status ?? 200]: SuccessEnvelope(data),
    '4xx': ErrorEnvelope,
    '5xx': ErrorEnvelope,
  } as { [K in S]: ReturnType<typeof SuccessEnvelope<T>> } & { '4xx': typeof ErrorEnvelope; '5xx': typeof ErrorEnvelope };
}

export interface SuccessFields<T> {
  data: T;
  status: 'success';
  request_id: string;
  auth_token?: string;
  node: string;
  timestamp: string;
  version: string;
  revision?: string;
}

export interface EnvelopeOptions {
  node: string;
  version: string;
  clock: Clock;
}

/** ISO 8601 in UTC to the second, `2024-05-01T12:00:00Z`. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Builds envelopes for one app. */
export class Envelopes {
  constructor(private readonly o: EnvelopeOptions) {}

  success<T>(request: FastifyRequest, data: T, extra: { revision?: number; authToken?: string } = {}): SuccessFields<T> {
    const out: SuccessFields<T> = { ...this.base(request, extra.authToken), data, status: 'success' };
    if (extra.revision !== undefined) out.revision = String(extra.revision);
    return out;
  }

  error(request: FastifyRequest, err: ApiError): ErrorEnvelope {
    return {
      ...this.base(request),
      data: err.data,
      status: 'error',
      error: String(err.status),
      message: API_ERRORS[err.kind].message,
    };
  }

  private base(request: FastifyRequest, authToken = authTokenOf(request)) {
    const out: { request_id: string; auth_token?: string; node: string; timestamp: string; version: string } = {
      request_id: request.id,
      node: this.o.node,
      timestamp: isoSeconds(this.o.clock.now()),
      version: this.o.version,
    };
    if (authToken !== undefined) out.auth_token = authToken;
    return out;
  }
}
