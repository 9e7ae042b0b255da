/**
 * A better-sqlite3 connection that keeps its prepared statements (issue 19, goal 2). knex's
 * better-sqlite3 client calls `connection.prepare(sql)` for every statement it runs, and SQLite
 * compiles the text again each time: 7.7 % of a report submission's CPU. The same texts come back
 * again and again (the ORM's and our own statements have `?` placeholders, never inlined values),
 * so the connection answers `prepare` from a bounded cache of compiled statements instead.
 *
 * Texts with `?` placeholders are kept in the main cache. A text without one is either a constant
 * (`BEGIN;` and `COMMIT;`, which knex prepares for every transaction, or
 * `select horizon from ledger_state where id = 1`) or a statement whose values MikroORM inlined
 * into it (`platform.formatQuery`), new each time; those would push the reusable ones out and hold
 * memory. So short texts without placeholders have a small cache of their own, where a constant
 * stays as long as it is used more often than {@link CONSTANT_CACHE_SIZE} other such texts come by
 * (a report submission met 2.4 `BEGIN;`/`COMMIT;` pairs and a constant read each, prepared anew
 * every time before), and long ones are prepared as before.
 *
 * Safe because every statement knex runs completes at once (`all` or `run`, never a pending
 * `iterate`), and SQLite recompiles a cached statement by itself when the schema changes under it
 * (a migration). A caller that changes a statement's mode (`raw`, `pluck`, `safeIntegers`) shares
 * it with every later caller of the same text, so it sets the mode every time it prepares it.
 */
interface Preparing {
  prepare(sql: string): unknown;
}

/** Statements kept per connection; texts beyond it (distinct `in (…)` lengths) evict the oldest. */
export const STATEMENT_CACHE_SIZE = 500;

/** Texts without placeholders kept per connection (see the file's comment). */
export const CONSTANT_CACHE_SIZE = 32;
/** Longer texts without placeholders are not kept: inlined values, seldom the same twice. */
export const CONSTANT_MAX_LENGTH = 200;

/**
 * Wraps `connection.prepare` with a cache of `size` statements with placeholders and
 * `constants` without, least recently prepared evicted first in each.
 */
export function cacheStatements(connection: Preparing, size = STATEMENT_CACHE_SIZE, constants = CONSTANT_CACHE_SIZE): void {
  const prepare = connection.prepare.bind(connection);
  const withParams = new Map<string, unknown>();
  const withoutParams = new Map<string, unknown>();
  connection.prepare = (sql: string) => {
    const cache = sql.includes('?') ? withParams : sql.length <= CONSTANT_MAX_LENGTH ? withoutParams : null;
    if (!cache) return prepare(sql);
    let statement = cache.get(sql);
    if (statement !== undefined) {
      // Most recently used last, so the eviction below drops the coldest text.
      cache.delete(sql);
      cache.set(sql, statement);
      return statement;
    }
    statement = prepare(sql);
    if (cache.size >= (cache === withParams ? size : constants)) cache.delete(cache.keys().next().value as string);
    cache.set(sql, statement);
    return statement;
  };
}
