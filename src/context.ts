import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { createLoaders, type Loaders } from './loaders';

/** Roles of DESIGN §7. */
export type Role = 'ADMIN' | 'HEAD' | 'ANALYST' | 'INTEGRATION';

/** Who is calling: filled from the bearer token by the access-control layer. */
export interface Principal {
  userId: string;
  role: Role;
  /** The departments a HEAD or INTEGRATION principal acts for; empty for the others. */
  departmentIds: string[];
}

/** Per-request facts the HTTP layer reads back for logs and metrics. */
export interface RequestInfo {
  requestId: string;
  operationName: string | null;
  errorCodes: string[];
}

/** What every resolver receives. Born only in {@link createContext}. */
export interface Context {
  /** A fork of the ORM's EntityManager: an identity map private to this request. */
  em: EntityManager;
  loaders: Loaders;
  principal: Principal | null;
  request: RequestInfo;
}

/**
 * The only place request state is created: a fresh EntityManager fork, fresh loaders over it, the
 * principal (null until access control authenticates the request) and the request's id.
 */
export function createContext(orm: MikroORM, requestId: string, principal: Principal | null = null): Context {
  const em = orm.em.fork();
  return {
    em,
    loaders: createLoaders(em),
    principal,
    request: { requestId, operationName: null, errorCodes: [] },
  } satisfies Context;
}

/** The scope of idempotency keys for a request's principal. */
export function idempotencyScope(ctx: Context): string {
  return ctx.principal?.userId ?? 'anonymous';
}
