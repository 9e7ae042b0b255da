/**
 * A better-sqlite3 connection that keeps its prepared statements (issue 19, goal 2). knex's
 * better-sqlite3 client calls `connection.prepare(sql)` for every statement it runs, and SQLite
 * compiles the text again each time: 7.7 % of a report submission's CPU. The same texts come back
 * again and again (the ORM's and our own statements have `?` placeholders, never inlined values),
 * so the connection answers `prepare` from a bounded cache of compiled statements instead.
 *
 * Only texts with `?` placeholders are kept: MikroORM inlines the values of its own statements
 * into their text (`platform.formatQuery`), so each of those is new and would only push the
 * reusable ones out and hold memory; they are prepared as before.
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

/** Wraps `connection.prepare` with a cache of `size` statements, least recently prepared evicted first. */
export function cacheStatements(connection: Preparing, size = STATEMENT_CACHE_SIZE): void {
  const prepare = connection.prepare.bind(connection);
  const cache = new Map<string, unknown>();
  connection.prepare = (sql: string) => {
    let statement = cache.get(sql);
    if (statement !== undefined) {
      // Most recently used last, so the eviction below drops the coldest text.
      cache.delete(sql);
      cache.set(sql, statement);
      return statement;
    }
    statement = prepare(sql);
    if (!sql.includes('?')) return statement;
    if (cache.size >= size) cache.delete(cache.keys().next().value as string);
    cache.set(sql, statement);
    return statement;
  };
}
