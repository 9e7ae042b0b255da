import type { EntityManager } from '@mikro-orm/core';
import type { EntityManager as SqlEntityManager } from '@mikro-orm/knex';
import { PostgreSqlPlatform } from '@mikro-orm/postgresql';
import { readConnection } from './read-route';

/** The knex of a transaction, and how its engine wants dates. */
export interface Sql {
  knex: ReturnType<SqlEntityManager['getKnex']>;
  trx: never;
  /** PostgreSQL (row locks, RETURNING with xmax), not SQLite. */
  pg: boolean;
  date(d: Date | null): Date | number | null;
  /**
   * Multi-row `INSERT … ON CONFLICT (…) DO UPDATE SET col = excluded.col, version = version + 1`,
   * as one statement written here rather than by knex's builder: the same SQL on both engines,
   * and a third of the CPU for a batch of 5,000. With `returning` (PostgreSQL only), each row's
   * value of that column and whether it was inserted (`xmax = 0`) rather than updated.
   */
  upsert(
    table: string,
    rows: Array<Record<string, unknown>>,
    conflict: string[],
    merged: string[],
    returning?: string,
    options?: { versioned?: boolean },
  ): Promise<Array<{ key: unknown; inserted: boolean }>>;
  /** Multi-row `INSERT` of rows with the same columns, one statement. */
  insert(table: string, rows: Array<Record<string, unknown>>): Promise<void>;
  /** Runs a statement in the transaction: `all` rows, or `run` for none. */
  rows<T>(statement: string, params?: unknown[]): Promise<T[]>;
  run(statement: string, params?: unknown[]): Promise<void>;
  /**
   * The driver's own connection of this transaction (a better-sqlite3 `Database`, a `pg` `Client`),
   * for bulk writes that knex's binding and formatting would slow down: one prepared statement run
   * row by row on SQLite, array parameters on PostgreSQL. Whoever runs statements on it calls
   * {@link Sql.counted} for each, so statement counts stay true.
   */
  connection<C>(): Promise<C>;
  /** Counts one statement run on {@link Sql.connection} (the ORM's `onQuery`, as every statement here). */
  counted(statement: string, params?: unknown[]): void;
  /**
   * Rows as arrays, each row's values in the select list's order, for reads of many rows whose
   * columns the caller knows by position (a BI page). On SQLite the statement is prepared once per
   * connection and read in better-sqlite3's `raw` mode: through knex it would be prepared again
   * each time and every row made an object of named properties, which cost as much as the query.
   * On PostgreSQL, pg's `rowMode: 'array'`. Counted like every other statement.
   */
  arrays(statement: string, params?: unknown[]): Promise<unknown[][]>;
}

/** The part of a better-sqlite3 prepared statement {@link sqlOf} uses. */
interface RawReader {
  /** Whether it returns rows (`all`), else `run`. */
  readonly reader: boolean;
  raw(on: boolean): RawReader;
  all(...params: unknown[]): unknown[][];
  run(...params: unknown[]): unknown;
}
/** The part of a knex client that lends its connection (the pool's, or a transaction's own). */
interface ConnectionLender {
  acquireConnection(): Promise<{ prepare(statement: string): RawReader }>;
  releaseConnection(connection: unknown): Promise<unknown>;
}
/** The part of a knex client that lends a `pg` Client (the pool's, or a transaction's own). */
interface PgLender {
  acquireConnection(): Promise<{ query(config: { text: string; values: unknown[]; rowMode?: 'array' }): Promise<{ rows: unknown[] }> }>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

/**
 * `statement` with its `?` placeholders numbered `$1`, `$2`, … in order, as knex's `raw` and its
 * PostgreSQL client number them, or null where knex would read the text otherwise (a `??`
 * identifier binding, an escaped `\\?`) or refuse it (placeholders and parameters of different
 * counts, an undefined parameter).
 */
function numbered(statement: string, params: unknown[]): string | null {
  if (statement.includes('??') || statement.includes('\\?')) return null;
  let count = 0;
  const text = statement.replace(/\?/g, () => `$${++count}`);
  if (count !== params.length || params.includes(undefined)) return null;
  return text;
}

/** Statements {@link Sql.arrays} prepared on each SQLite connection, by text (a few shapes per BI query; bounded all the same). */
const prepared = new WeakMap<object, Map<string, RawReader>>();
const MAX_PREPARED = 64;

function preparedOn(db: { prepare(statement: string): RawReader }, statement: string): RawReader {
  let byText = prepared.get(db);
  if (!byText) prepared.set(db, (byText = new Map()));
  let reader = byText.get(statement);
  if (!reader) {
    // The oldest goes first (a Map keeps insertion order).
    if (byText.size >= MAX_PREPARED) byText.delete(byText.keys().next().value as string);
    byText.set(statement, (reader = db.prepare(statement).raw(true)));
  }
  return reader;
}

/** A parameter as knex hands it to better-sqlite3: dates as epoch milliseconds, booleans as 0 or 1. */
const sqliteParam = (v: unknown): unknown => (v instanceof Date ? v.getTime() : typeof v === 'boolean' ? Number(v) : v);

/**
 * The SQL of `em`: its transaction's, or the primary's. With `read: true`, a dashboard or BI read
 * that may go to the request's replica (src/common/read-route.ts); only for statements that write
 * nothing (a replica refuses writes).
 */
export function sqlOf(em: EntityManager, options: { read?: boolean } = {}): Sql {
  const sqlEm = em as unknown as SqlEntityManager;
  const pg = em.getPlatform() instanceof PostgreSqlPlatform;
  const trx = em.getTransactionContext();
  const knex = options.read ? (readConnection(em) as unknown as { getKnex(): Sql['knex'] }).getKnex() : sqlEm.getKnex();
  const onQuery = em.config.get('onQuery');
  /**
   * A statement with its parameters bound by the driver (knex → better-sqlite3 / pg), not inlined
   * into the text as MikroORM's `execute` does: for bulk statements of thousands of values the
   * quoting and re-parsing cost more than the write. Counted like every other statement.
   */
  const exec = async <T>(statement: string, params: unknown[], method: 'all' | 'run'): Promise<T[]> => {
    if (!pg) return execSqlite<T>(statement, params, method);
    const res = await execPg(statement, params);
    if (method === 'run') return [];
    return (res.rows as T[]) ?? [];
  };
  /**
   * On PostgreSQL, straight on the connection (the transaction's, or one lent by the pool) with
   * the `?` placeholders numbered as knex numbers them: knex's `raw` (binding the placeholders,
   * numbering them, its runner and events) cost a good part of the CPU of each statement of a
   * report submission (issue 19, goal 2). A text knex would read differently (`??` identifiers,
   * a count of `?` other than of the parameters, an undefined parameter: knex's errors) goes
   * through knex as before. Errors are pg's, their message prefixed with the statement, as knex
   * did (without the values inlined).
   */
  const execPg = async (statement: string, params: unknown[], rowMode?: 'array'): Promise<{ rows: unknown[] }> => {
    // A transaction already committed or rolled back: knex refuses the statement (its connection may
    // be another request's by now).
    const text = (trx as { isCompleted?: () => boolean } | undefined)?.isCompleted?.() ? null : numbered(statement, params);
    onQuery(statement, params);
    if (text === null) {
      const query = knex.raw(statement, params as never[]);
      if (rowMode) query.options({ rowMode });
      if (trx) query.transacting(trx as never);
      return (await query) as { rows: unknown[] };
    }
    const lender = ((trx as { client?: PgLender } | undefined)?.client ?? knex.client) as PgLender;
    const client = await lender.acquireConnection();
    try {
      return await client.query(rowMode ? { text, values: params, rowMode } : { text, values: params });
    } catch (e) {
      if (e instanceof Error) e.message = `${text} - ${e.message}`;
      throw e;
    } finally {
      await lender.releaseConnection(client);
    }
  };
  /**
   * On SQLite, straight on the connection (the transaction's, or the pool's one) with the statement
   * it keeps prepared (statement-cache.ts), the parameters converted as knex converts them: knex's
   * `raw` cost as much CPU per statement as the statement itself (issue 19, goal 2, the ledger
   * upkeep of a report submission). Errors are the driver's own, as they were through knex.
   */
  const execSqlite = async <T>(statement: string, params: unknown[], method: 'all' | 'run'): Promise<T[]> => {
    const lender = ((trx as { client?: ConnectionLender } | undefined)?.client ?? knex.client) as ConnectionLender;
    const db = await lender.acquireConnection();
    try {
      onQuery(statement, params);
      const prepared = db.prepare(statement);
      const bound = params.map(sqliteParam);
      if (!prepared.reader) {
        prepared.run(...bound);
        return [];
      }
      // The statement is shared by text with every caller (statement-cache.ts): set its mode each time.
      const rows = prepared.raw(false).all(...bound) as T[];
      return method === 'run' ? [] : rows;
    } finally {
      await lender.releaseConnection(db);
    }
  };
  return {
    knex,
    trx: trx as never,
    pg,
    // MikroORM keeps SQLite dates as epoch milliseconds; PostgreSQL takes Date objects.
    date: (d) => (d === null ? null : pg ? d : d.getTime()),
    async upsert(table, rows, conflict, merged, returning, options = {}) {
      if (!rows.length) return [];
      const columns = Object.keys(rows[0]);
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      const params: unknown[] = [];
      for (const row of rows) for (const c of columns) params.push(row[c]);
      const statement =
        `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${rows.map(() => tuple).join(', ')} ` +
        `on conflict (${conflict.map((c) => `"${c}"`).join(', ')}) do update set ${merged.map((c) => `"${c}" = excluded."${c}"`).join(', ')}${options.versioned === false ? '' : `, "version" = "${table}"."version" + 1`}`;
      if (!returning) {
        await exec(statement, params, 'run');
        return [];
      }
      return exec<{ key: unknown; inserted: boolean }>(`${statement} returning "${returning}" as "key", ("xmax" = 0) as "inserted"`, params, 'all');
    },
    async insert(table, rows) {
      if (!rows.length) return;
      const columns = Object.keys(rows[0]);
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      const params: unknown[] = [];
      for (const row of rows) for (const c of columns) params.push(row[c]);
      await exec(`insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values ${rows.map(() => tuple).join(', ')}`, params, 'run');
    },
    rows: (statement, params = []) => exec(statement, params, 'all'),
    async connection<C>() {
      const client = (trx as { client?: { acquireConnection(): Promise<C> } } | undefined)?.client ?? (knex.client as { acquireConnection(): Promise<C> });
      if (!trx) throw new Error('sqlOf(em).connection(): only inside a transaction (its connection is held until it ends)');
      return client.acquireConnection();
    },
    counted: (statement, params = []) => void onQuery(statement, params),
    async arrays(statement, params = []) {
      if (pg) return (await execPg(statement, params, 'array')).rows as unknown[][];
      // Through the pool (or the transaction): the one SQLite connection may be inside another request's transaction.
      const lender = ((trx as { client?: ConnectionLender } | undefined)?.client ?? knex.client) as ConnectionLender;
      const db = await lender.acquireConnection();
      try {
        onQuery(statement, params);
        // Shared by text with `rows` (object mode): its mode is set on every use.
        return preparedOn(db, statement)
          .raw(true)
          .all(...params.map(sqliteParam));
      } finally {
        await lender.releaseConnection(db);
      }
    },
    async run(statement, params = []) {
      await exec(statement, params, 'run');
    },
  };
}

// Values as the drivers return them: SQLite gives booleans as 0/1 and dates as epoch milliseconds.

/** A date read from either driver (a Date, an ISO string or epoch milliseconds). */
export const asDate = (v: unknown): Date => (v instanceof Date ? v : typeof v === 'string' && !/^\d+$/.test(v) ? new Date(v) : new Date(Number(v)));
/** A boolean as the engine stores it: a boolean on PostgreSQL, 0 or 1 on SQLite. */
export const bool = (sql: Sql, b: boolean): boolean | number => (sql.pg ? b : b ? 1 : 0);
/** A boolean read from either driver. */
export const isTrue = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't';
/** A nullable date read from either driver. */
export const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : asDate(v));
/** A nullable number read from either driver (PostgreSQL returns numerics as strings). */
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
