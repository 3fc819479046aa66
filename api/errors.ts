import { DirectoryValidationError, UnknownIdentifierError, type FieldErrors } from '../src/directory/directory-error.js';

/**
 * Every error the API answers with, in one place. `message` is Kazoo's (the envelope's
 * `message`); the HTTP status is also sent as the envelope's `error`, as a string.
 */
export const API_ERRORS = {
  validation: { status: 400, message: 'validation error' },
  invalidRequest: { status: 400, message: 'invalid request' },
  invalidCredentials: { status: 401, message: 'invalid_credentials' },
  forbidden: { status: 403, message: 'forbidden' },
  badIdentifier: { status: 404, message: 'bad_identifier' },
  notFound: { status: 404, message: 'not_found' },
  invalidMethod: { status: 405, message: 'invalid_method' },
  payloadTooLarge: { status: 413, message: 'payload_too_large' },
  unsupportedMediaType: { status: 415, message: 'unsupported_media_type' },
  internal: { status: 500, message: 'internal_server_error' },
  unavailable: { status: 503, message: 'service_unavailable' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorKind = keyof typeof API_ERRORS;

/** The `data` of an error envelope. */
export type ErrorData = Record<string, unknown>;

/** An error the API answers as-is. Anything else becomes a 500 that says nothing more. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(
    readonly kind: ApiErrorKind,
    readonly data: ErrorData = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(API_ERRORS[kind].message);
    this.status = API_ERRORS[kind].status;
  }
}

export function validationError(fields: FieldErrors): ApiError {
  return new ApiError('validation', fields);
}

export function badIdentifier(id: string): ApiError {
  return new ApiError('badIdentifier', { cause: id, message: 'bad identifier' });
}

export function invalidCredentials(): ApiError {
  return new ApiError('invalidCredentials', { message: 'invalid credentials' });
}

export function forbidden(message = 'this token cannot access that account'): ApiError {
  return new ApiError('forbidden', { message });
}

/** One ajv error, as Fastify reports a schema validation failure. */
interface SchemaIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Kazoo's wording for the JSON-schema rules it reports. */
function ruleMessage(issue: SchemaIssue): { rule: string; message: string; target?: unknown } {
  const p = issue.params;
  switch (issue.keyword) {
    case 'required':
      return { rule: 'required', message: 'Field is required but missing' };
    case 'type':
      return { rule: 'type', message: `Value is not of type ${String(p.type)}`, target: p.type };
    case 'minLength':
      return { rule: 'minLength', message: `Value must be at least ${String(p.limit)} characters`, target: p.limit };
    case 'maxLength':
      return { rule: 'maxLength', message: `String must not be more than ${String(p.limit)} characters`, target: p.limit };
    case 'pattern':
      return { rule: 'pattern', message: `Failed to match pattern '${String(p.pattern)}'`, target: p.pattern };
    case 'enum':
      return { rule: 'enum', message: 'Value not found in enumerated list of values', target: p.allowedValues };
    case 'minimum':
      return { rule: 'minimum', message: `Value must be at least ${String(p.limit)}`, target: p.limit };
    case 'maximum':
      return { rule: 'maximum', message: `Value must be at most ${String(p.limit)}`, target: p.limit };
    default:
      return { rule: issue.keyword, message: issue.message ?? 'Value is invalid' };
  }
}

/**
 * Turns Fastify's schema validation failure into Kazoo's `data.{field}.{rule}`. Body fields
 * are named below the request's `data` (`/data/sip/username` -> `sip.username`); a missing
 * body or `data` is reported as the field `data`.
 */
export function schemaValidationError(issues: readonly SchemaIssue[], context: string | undefined): ApiError {
  const fields: FieldErrors = {};
  for (const issue of issues) {
    let segments = issue.instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (issue.keyword === 'required' && typeof issue.params.missingProperty === 'string') {
      segments = [...segments, issue.params.missingProperty];
    }
    if (context === 'body' && segments[0] === 'data' && segments.length > 1) segments = segments.slice(1);
    if (segments.length === 0 && context === 'body') {
      // No body, or not an object: Kazoo reports the missing `data`.
      (fields.data ??= {}).required = { message: 'Field is required but missing' };
      continue;
    }
    const field = segments.length === 0 ? (context ?? 'request') : segments.join('.');
    const { rule, ...detail } = ruleMessage(issue);
    (fields[field] ??= {})[rule] = detail;
  }
  return validationError(fields);
}

/** The directory's errors in API terms; undefined for anything the API does not know. */
export function fromDomainError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof DirectoryValidationError) return validationError(err.fields);
  if (err instanceof UnknownIdentifierError) return badIdentifier(err.id);
  return undefined;
}
