import { type EntityManager, LockMode } from '@mikro-orm/core';
import { PostgreSqlPlatform } from '@mikro-orm/postgresql';

/**
 * Row locks for check-then-write rules that span rows (no cycle, nothing archived while in use).
 * PostgreSQL runs transactions side by side under READ COMMITTED, so the row a rule depends on is
 * locked: FOR SHARE by writers that need it to stay as it is, FOR UPDATE by the one that changes
 * it. SQLite has one writer at a time (and one connection here), so it needs none.
 */
export function rowLock(em: EntityManager, mode: 'share' | 'update'): LockMode | undefined {
  if (!(em.getPlatform() instanceof PostgreSqlPlatform)) return undefined;
  return mode === 'share' ? LockMode.PESSIMISTIC_READ : LockMode.PESSIMISTIC_WRITE;
}

/**
 * Serialises one kind of change across transactions (PostgreSQL advisory lock, released at
 * commit or rollback): used where the rule reads many rows, such as a department's ancestor
 * chain. No-op on SQLite.
 */
export async function serialize(em: EntityManager, lockId: number): Promise<void> {
  if (!(em.getPlatform() instanceof PostgreSqlPlatform)) return;
  await em.getConnection().execute('select pg_advisory_xact_lock(?)', [lockId], 'get', em.getTransactionContext());
}

/** Advisory lock ids. */
export const LOCKS = { departmentTree: 7_301 } as const;
