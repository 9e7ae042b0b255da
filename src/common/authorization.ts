import type { AuthCheckerFn } from 'type-graphql';
import { ForbiddenError, UnauthenticatedError } from './errors';
import type { Context, Principal } from './context';
import { Role } from './role';

/**
 * The single auth checker of the schema (`@Authorized(...)`): an authenticated principal is
 * required; roles, when listed, must include the principal's. Object-level rules (which
 * department a HEAD may act for) are the policy's (./policy.ts), asked by the services.
 */
export const authChecker: AuthCheckerFn<Context, Role> = ({ context }, roles) => {
  const principal = context.principal;
  if (!principal) throw new UnauthenticatedError();
  if (roles.length === 0 || roles.includes(principal.role)) return true;
  throw new ForbiddenError(`This needs the role ${roles.join(' or ')}; the token's user is ${principal.role}`);
};

/** The principal of a request whose resolver is `@Authorized`: present by construction. */
export function principalOf(ctx: Context): Principal {
  if (!ctx.principal) throw new UnauthenticatedError();
  return ctx.principal;
}
