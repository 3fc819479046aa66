/** One broken rule of one field, in Kazoo's shape: `data.{field}.{rule}` = this. */
export interface FieldRuleError {
  message: string;
  /** The rule's parameter (a pattern, a length, the allowed values). */
  target?: unknown;
  /** The offending value, for `unique`. */
  cause?: string;
}

/** `{field: {rule: error}}`; nested fields are dotted (`sip.username`). */
export type FieldErrors = Record<string, Record<string, FieldRuleError>>;

/** A document failed validation; the API answers 400 `validation error` with `data` = fields. */
export class DirectoryValidationError extends Error {
  override readonly name = 'DirectoryValidationError';
  constructor(readonly fields: FieldErrors) {
    super(`validation failed: ${Object.keys(fields).join(', ')}`);
  }
}

/** No document with this id (in this account); the API answers 404 `bad_identifier`. */
export class UnknownIdentifierError extends Error {
  override readonly name = 'UnknownIdentifierError';
  constructor(readonly id: string) {
    super(`bad identifier ${id}`);
  }
}

/** Collects field errors; throws them all at once so a client fixes everything in one go. */
export class FieldErrorCollector {
  private readonly fields: FieldErrors = {};

  add(field: string, rule: string, error: FieldRuleError): void {
    (this.fields[field] ??= {})[rule] = error;
  }

  has(field: string): boolean {
    return field in this.fields;
  }

  throwIfAny(): void {
    if (Object.keys(this.fields).length > 0) throw new DirectoryValidationError(this.fields);
  }
}
