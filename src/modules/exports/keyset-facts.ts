/**
 * One reader for the fact tables whose rows are rows of a table (revisions, exclusions,
 * amendments, versions, escalations, credit entries): a source says which rows, which columns and
 * what instant a row changed at; this pages through them by (updatedAt, id) up to a snapshot
 * instant, with the facts' filter, in one statement a page.
 */
import { cursorCodec } from '../../common/connection';
import type { Context } from '../../common/context';
import { windowMonths } from '../../common/month-window';
import { snapshotInstant } from '../../common/read-route';
import { asDate, bool, isTrue, type Sql, sqlOf } from '../../common/sql';
import type { Tier } from '../agreements/agreement.entity';
import type { FactColumns, RowOf } from './fact-columns';
import type { FactPage } from './fact-table';
import type { FactFilter } from './facts.service';

/** A row as the database returns it. */
export type Row = Record<string, unknown>;

/** Where a keyset fact table's rows come from. */
export interface KeysetSource<C extends FactColumns> {
  /** The cursor's kind (a cursor of another list is refused). */
  cursor: string;
  /** The FROM item(s) of the rows, without the agreement (the reader joins it as `a`, its parties as `pd`, `cd`, its service as `sv`). */
  from: (sql: Sql) => string;
  /** SQL expressions: the row's agreement id, its stable id (a UUID), its month (the window filter) and the instant it last changed. */
  agreementId: string;
  id: string;
  month: string;
  updatedAt: (sql: Sql) => string;
  /** A boolean SQL expression, for tables whose rows can disappear: full pulls leave these tombstones out. */
  deleted?: string;
  /** The columns to read besides the agreement's, `id` and `month`, as `expression as "alias"`. */
  select: string[];
  /** A row read to its fact (the agreement's columns are in {@link agreementColumns}). */
  map: (row: Row, ctx: Context) => RowOf<C>;
}

/**
 * The common parts of a source whose rows are one entity table's (aliased `x`): its agreement,
 * id, month column and `updated_at`.
 */
export function entityRows(table: string, monthColumn = 'month') {
  return { agreementId: 'x.agreement_id', id: 'x.id', month: `x.${monthColumn}`, updatedAt: () => 'x.updated_at', from: () => `${table} x` };
}

/** The later of two non-null instants (PostgreSQL's `greatest`, SQLite's two-argument `max`). */
export function later(sql: Sql, a: string, b: string): string {
  return sql.pg ? `greatest(${a}, ${b})` : `max(${a}, ${b})`;
}

const nullable = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** The agreement's denormalised columns of a row read by {@link readKeyset} (AGREEMENT_COLUMNS). */
export function agreementColumns(r: Row) {
  return { agreementKey: String(r.agreement_key), tier: String(r.agreement_tier) as Tier, provider: nullable(r.provider_code), customer: nullable(r.customer_code), service: nullable(r.service_code) };
}

/**
 * One page of a keyset source, ordered by (updatedAt, id), up to a snapshot instant fixed by the
 * first page (in the cursor): rows changed during the pull have a later updatedAt and wait for the
 * next pull (`updatedSince` = this pull's `asOf`), so each row comes once per pull. The tier filter
 * selects that tier's agreements (none: every tier, the charter's rows too); provider and customer
 * are department codes.
 */
export async function readKeyset<C extends FactColumns>(ctx: Context, source: KeysetSource<C>, filter: FactFilter, first: number, after?: string | null): Promise<FactPage<RowOf<C>>> {
  const codec = cursorCodec(source.cursor, ['date', 'date', 'uuid']);
  const cursor = after ? codec.decode(after) : null;
  windowMonths(filter.from, filter.to);
  const asOf = cursor?.[0] ?? (await snapshotInstant(ctx));
  const sql = sqlOf(ctx.em, { read: true });
  const inner: string[] = [`${source.month} >= ?`, `${source.month} <= ?`];
  const params: unknown[] = [filter.from, filter.to];
  if (filter.tier) {
    inner.push('a.tier = ?');
    params.push(filter.tier);
  }
  for (const side of ['provider', 'customer'] as const) {
    const code = filter[side];
    if (!code) continue;
    inner.push(`${side === 'provider' ? 'pd' : 'cd'}.code = ?`);
    params.push(code.trim().toUpperCase());
  }
  const outer: string[] = ['q.row_updated_at <= ?'];
  params.push(sql.date(asOf));
  if (filter.updatedSince) {
    outer.push('q.row_updated_at > ?');
    params.push(sql.date(filter.updatedSince));
  } else if (source.deleted) {
    outer.push('q.row_deleted = ?');
    params.push(bool(sql, false));
  }
  if (cursor) {
    const [, updatedAt, id] = cursor;
    outer.push('(q.row_updated_at > ? or (q.row_updated_at = ? and q.id > ?))');
    params.push(sql.date(updatedAt), sql.date(updatedAt), id);
  }
  const columns = [
    ...source.select,
    'a.key as "agreement_key"',
    'a.tier as "agreement_tier"',
    'pd.code as "provider_code"',
    'cd.code as "customer_code"',
    'sv.code as "service_code"',
    `${source.id} as "id"`,
    `${source.month} as "month"`,
    `${source.updatedAt(sql)} as "row_updated_at"`,
    ...(source.deleted ? [`${source.deleted} as "row_deleted"`] : []),
  ];
  const statement = `select * from (select ${columns.join(', ')}
    from ${source.from(sql)}
    join agreement a on a.id = ${source.agreementId}
    left join department pd on pd.id = a.provider_id
    left join department cd on cd.id = a.customer_id
    left join service sv on sv.id = a.service_id
    where ${inner.join(' and ')}) q
  where ${outer.join(' and ')}
  order by q.row_updated_at, q.id
  limit ?`;
  const found = await sql.rows<Row>(statement, [...params, first + 1]);
  const page = found.slice(0, first);
  const last = page[page.length - 1];
  return {
    rows: page.map((r) => source.map(r, ctx)),
    hasNextPage: found.length > first,
    endCursor: last ? codec.encode([asOf, asDate(last.row_updated_at), String(last.id)]) : (after ?? null),
    asOf,
  };
}

/** A tombstone flag as read (0/1 on SQLite). */
export const isDeleted = (r: Row): boolean => isTrue(r.row_deleted);
