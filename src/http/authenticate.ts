import { UnauthenticatedError } from '../common/errors';
import type { Principal } from '../common/context';
import { authenticate, type AuthSource } from '../modules/auth/auth.service';
import { bearerToken } from '../modules/auth/tokens';

/** The message for an Authorization header that is not `Bearer <token>`. */
const MALFORMED = 'Malformed Authorization header: expected "Bearer <token>"';

/**
 * The bearer token of a request's Authorization header: undefined when none was sent, null when
 * the header is malformed. Read once per request, before the rate limit (which counts per token).
 */
export function requestBearer(authorization: string | undefined): string | null | undefined {
  return bearerToken(authorization);
}

/**
 * The one authentication of the HTTP edge, used by every route that needs a caller (GraphQL, the
 * CSV exports, /metrics): a bearer token as read by {@link requestBearer} to its principal, or
 * UnauthenticatedError saying why not (none sent, malformed header, unknown, revoked, expired,
 * user deactivated). At most one SELECT when a token was sent (none while the principal cache holds
 * it), none otherwise. `source`: see {@link AuthSource}; `bearerHash`: the token's hash when the edge has it already.
 */
export async function authenticateBearer(source: AuthSource, bearer: string | null | undefined, bearerHash?: string): Promise<Principal> {
  if (bearer === undefined) throw new UnauthenticatedError();
  if (bearer === null) throw new UnauthenticatedError(MALFORMED);
  return authenticate(source, bearer, undefined, bearerHash);
}
