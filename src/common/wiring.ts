import type { EntityManager } from '@mikro-orm/core';
import type { Loaders } from '../db/request-loaders';

/**
 * The per-request loaders of every module are composed above the modules (src/db/request-loaders.ts,
 * beside the entity list), yet a few services below need a fresh set over their own transaction's
 * EntityManager (the ledger sync, a report's checks, a CSV page). The database wiring provides the
 * factory once, when it opens the ORM (`openOrm`); services ask for it here. This is the one place
 * a lower layer reaches an upper one, and it does so through a function it is given.
 */
let factory: ((em: EntityManager) => Loaders) | null = null;

/** Called by `openOrm` with the composition of every module's loaders. */
export function provideLoaders(create: (em: EntityManager) => Loaders): void {
  factory = create;
}

/** Fresh per-request loaders over `em`; refused (a programming error) before the ORM is opened. */
export function loadersOver(em: EntityManager): Loaders {
  if (!factory) throw new Error('loadersOver: no loader factory; open the database with openOrm (src/db/orm.ts) first');
  return factory(em);
}

const shared = new WeakMap<EntityManager, Loaders>();

/**
 * Hands a write's loaders over its transaction's `em` to the readers that come after it in the
 * same transaction (the ledger sync at its end), so the terms it read (the agreement, its versions,
 * children and objectives, their metrics) are not read again. Only for loaders that hold nothing
 * the write changes: a write that changes an agreement's terms or lifecycle shares none, and its
 * ledger sync reads them afresh.
 */
export function shareLoaders(em: EntityManager, loaders: Loaders): void {
  shared.set(em, loaders);
}

/** The loaders a write shared over `em` ({@link shareLoaders}), else fresh ones. */
export function sharedLoadersOver(em: EntityManager): Loaders {
  return shared.get(em) ?? loadersOver(em);
}
