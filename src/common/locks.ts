import { createHash } from 'node:crypto';
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

/** The 64-bit advisory lock key of one agreement-month (the first 8 bytes of a SHA-256, signed). */
export function agreementMonthLockKey(agreementId: string, month: string): bigint {
  return createHash('sha256').update(`agreement-month|${agreementId.toLowerCase()}|${month}`).digest().readBigInt64BE(0);
}

/**
 * The agreement-month keys each transaction holds, by its transaction context (a savepoint's is
 * another object: what it took is not counted for the transaction around it, which may roll it
 * back). Released at commit or rollback with the context, which is then never used again.
 */
const held = new WeakMap<object, Set<bigint>>();

/**
 * Serialises the writers of the same agreement-months until the transaction ends: every write
 * that recomputes a derived row of an agreement-month (its handoff metrics, and anything like
 * them) takes this lock before it writes the facts and recounts, so a recount always sees every
 * committed fact and no other writer's recount can overwrite it. PostgreSQL: transaction-scoped
 * advisory locks (`pg_advisory_xact_lock`), one statement, taken in ascending key order so two
 * writers never wait for each other in a cycle. A key this transaction already took here is not
 * sent again (the ledger sync at the end of a write locks the months the write locked first):
 * when every key is held, no statement at all. SQLite: no-op, its single connection runs one
 * transaction at a time.
 */
export async function lockAgreementMonths(em: EntityManager, months: Iterable<{ agreementId: string; month: string }>): Promise<void> {
  if (!(em.getPlatform() instanceof PostgreSqlPlatform)) return;
  const trx = em.getTransactionContext<object>();
  const mine = trx ? held.get(trx) : undefined;
  const keys = [...new Set([...months].map((m) => agreementMonthLockKey(m.agreementId, m.month)))].filter((k) => !mine?.has(k)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (!keys.length) return;
  // unnest returns the array in its order and the locks are taken row by row as it goes. The keys
  // are integers computed here, sent as one array literal (knex would spread a JS array).
  await em.getConnection().execute('select count(pg_advisory_xact_lock(k)) from unnest(?::bigint[]) as t(k)', [`{${keys.join(',')}}`], 'get', trx);
  // Outside a transaction the locks end with the statement: nothing is held.
  if (!trx) return;
  if (mine) for (const k of keys) mine.add(k);
  else held.set(trx, new Set(keys));
}
