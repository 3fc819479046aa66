import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

/**
 * Request bodies are JSON. `curl -d` without `-H Content-Type` sends
 * `application/x-www-form-urlencoded` with the JSON as the body, and the API page's curl
 * lines do exactly that, so such a body is parsed as JSON too (Kazoo does). Any other type
 * is a 415.
 */
export const JSON_BODY_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

/** Keys that would reach an object's prototype through a later merge. */
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value: unknown) => (POISON_KEYS.has(key) ? undefined : value));
  } catch (err) {
    throw new ApiError('invalidRequest', {
      message: `request body is not valid JSON: ${err instanceof SyntaxError ? err.message : 'unreadable'}`,
    });
  }
  return parsed;
}

export function registerJsonBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_BODY_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8')));
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)), undefined);
    }
  });
}
