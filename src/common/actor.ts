import type { EntityManager } from '@mikro-orm/core';

/**
 * Who is acting in a transaction: named by `runMutation` (a request's principal) or a job (the
 * system) on its transactional EntityManager, read by the audit subscriber at every flush. Kept
 * here, under both, so the transaction code need not know the audit module.
 */
export interface Actor {
  userId: string | null;
  role: string | null;
  requestId: string | null;
}

const actors = new WeakMap<EntityManager, Actor>();

/** Names the actor of every flush of `em` (a transaction's fork). */
export function setActor(em: EntityManager, actor: Actor): void {
  actors.set(em, actor);
}

/** The actor named for `em`, or nobody (a migration, a seed). */
export function actorOf(em: EntityManager): Actor {
  return actors.get(em) ?? { userId: null, role: null, requestId: null };
}
