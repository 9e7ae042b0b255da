import { GraphQLError } from 'graphql';

/**
 * Thrown errors of the API (DESIGN §7). Each has a fixed `extensions.code`; anything thrown that
 * is not one of these (or a GraphQL validation/parse error) is masked as INTERNAL by the server's
 * `formatError` and logged in full.
 */
export type ThrownErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'TRANSIENT_CONFLICT' | 'INTERNAL';

/** Base class: a GraphQLError with a fixed code, so the masking filter can trust it. */
export abstract class ApiError extends GraphQLError {
  abstract readonly code: ThrownErrorCode;
  constructor(message: string, code: ThrownErrorCode, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
}

/** No credentials, or credentials that are unknown, expired or revoked. */
export class UnauthenticatedError extends ApiError {
  readonly code = 'UNAUTHENTICATED' as const;
  constructor(message = 'Authentication required: send Authorization: Bearer <token>') {
    super(message, 'UNAUTHENTICATED');
  }
}

/** Authenticated, but this principal may not do this. */
export class ForbiddenError extends ApiError {
  readonly code = 'FORBIDDEN' as const;
  constructor(message = 'Not allowed for this principal') {
    super(message, 'FORBIDDEN');
  }
}

/** A lookup by id or key found nothing. */
export class NotFoundError extends ApiError {
  readonly code = 'NOT_FOUND' as const;
  constructor(what: string, key: string) {
    super(`${what} ${key} was not found`, 'NOT_FOUND');
  }
}

/** An argument is malformed in a way the schema could not express (a bad cursor, both id and code). */
export class BadUserInputError extends ApiError {
  readonly code = 'BAD_USER_INPUT' as const;
  constructor(message: string, field?: string) {
    super(message, 'BAD_USER_INPUT', field ? { field } : {});
  }
}

/**
 * A write lost to concurrent writers (deadlock or serialization failure) again and again, after
 * the bounded retries of `src/common/retry.ts`: nothing was written, and sending the same request
 * again later is safe. HTTP 503 with `Retry-After` (seconds), through Apollo's `extensions.http`.
 */
export class TransientConflictError extends ApiError {
  readonly code = 'TRANSIENT_CONFLICT' as const;
  constructor(retryAfterSeconds = 1, message = `Concurrent writes kept conflicting with this one; nothing was written. Retry in ${retryAfterSeconds} s`) {
    super(message, 'TRANSIENT_CONFLICT', { retryAfterSeconds, http: { status: 503, headers: new Map([['retry-after', String(retryAfterSeconds)]]) } });
  }
}

/** A filter's id argument must look like an id: BAD_USER_INPUT otherwise (never a driver error). */
export function assertIdArgument(field: string, value: string | null | undefined): void {
  if (value !== null && value !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
    throw new BadUserInputError(`${field}: expected an id (UUID), received ${JSON.stringify(value)}`, field);
  }
}

/** Codes that pass through the masking filter unchanged: ours, and graphql-js/Apollo's own. */
export const PUBLIC_ERROR_CODES = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'TRANSIENT_CONFLICT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'QUERY_TOO_COMPLEX',
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'TOO_MANY_TOKENS',
]);
