import type { FilterQuery } from '@mikro-orm/core';
import { cursorCodec } from '../../common/connection';
import type { Month } from '../../common/month';
import { readConnectionType, snapshotInstant } from '../../common/read-route';
import { type Sql, sqlOf } from '../../common/sql';
import type { Context } from '../../common/context';
import { evaluateLedgerMonth } from '../../scoring/ledger';
import { Agreement, Tier } from '../agreements/agreement.entity';
import { type MetricDirection, MetricSource, type MetricUnit } from '../catalog/metric.entity';
import type { ObjectiveStatus } from '../../common/statuses';
import { HandoffEvent } from '../handoffs/handoff.entity';
import { MONTH_COLUMNS, MONTH_RESULT_COLUMNS, OBJECTIVE_COLUMNS, recordFromRows } from '../ledger/ledger.rows';
import { bool, dateOrNull, isTrue, numOrNull } from '../../common/sql';
import { asDate } from '../../common/sql';
import { isDisputed, measuredMonths, scoreMonths } from '../scorecards/scorecard.service';
import { windowMonths } from '../../common/month-window';
import type { HandoffFact, MeasurementFact } from './fact-columns';
import { loadManyOrThrow } from '../../common/loaders';

/** Which facts: a window of months, optionally one tier, provider, customer, and changes since. */
export interface FactFilter {
  from: Month;
  to: Month;
  tier?: Tier | null;
  /** Department codes. */
  provider?: string | null;
  customer?: string | null;
  updatedSince?: Date | null;
}

/**
 * The measurement facts' cursor: the snapshot instant (agreements created after it wait for the
 * next, incremental, pull), then the last fact's agreement key, month, objective position and
 * objective id (a tombstoned objective may share its position with the objective that replaced it,
 * so the id breaks the tie).
 */
const FACT_CURSOR = cursorCodec('measurementFacts', ['date', 'string', 'month', 'integer', 'uuid']);
/** The handoff facts' cursor: the snapshot instant, then the last row's updatedAt and id. */
const HANDOFF_CURSOR = cursorCodec('handoffFacts', ['date', 'date', 'uuid']);

/** The agreement tiers a filter selects: facts live on CUSTOMER and SERVICE agreements; CORPORATE means all of them. */
function tiersOf(filter: FactFilter): Tier | { $in: Tier[] } {
  return filter.tier && filter.tier !== Tier.CORPORATE ? filter.tier : { $in: [Tier.CUSTOMER, Tier.SERVICE] };
}

export interface FactPage {
  rows: MeasurementFact[];
  hasNextPage: boolean;
  endCursor: string | null;
  /** The snapshot instant: pass it as `updatedSince` in the next incremental pull. */
  asOf: Date;
}

/** The month's results, which a fact does not show (it shows each objective's). */
const MONTH_RESULTS: ReadonlySet<string> = new Set(MONTH_RESULT_COLUMNS);
/** The `ledger_month` columns a fact reads: the stored inputs and state (named as `recordFromRows` expects them). */
const MONTH_FIELDS = MONTH_COLUMNS.filter((c) => !MONTH_RESULTS.has(c));
/** The `ledger_objective` columns a fact reads: all but the keys it shares with its month. */
const OBJECTIVE_FIELDS = OBJECTIVE_COLUMNS.filter((c) => c !== 'agreement_id' && c !== 'month');

/**
 * The month's own columns of a facts page, read once a month as one JSON array (`month_cells`, in
 * this order) rather than as a cell each on every objective's row: better-sqlite3 makes a
 * JavaScript value of every cell of every row, and these, the same for a month's five or so rows,
 * were a third of the statement's CPU on the large data set's CSV export (with `closed_now` and
 * `holds` worked out once a month too). Their SQL: {@link monthCellsSql}.
 */
const MONTH_CELLS = ['agreement_id', 'month', 'agreement_key', 'tier', 'report_revision', 'disputed', 'closed_now', 'holds', 'provider_code', 'customer_code', 'service_code'] as const;
/** A month cell's position in the JSON array of {@link MONTH_CELLS}. */
const M = Object.fromEntries(MONTH_CELLS.map((c, i) => [c, i])) as { readonly [C in (typeof MONTH_CELLS)[number]]: number };

/** The columns of a facts page's rows, in the statement's select list order: rows are read as arrays ({@link Sql.arrays}). */
const FACT_ROW = [
  'month_cells',
  'objective_id',
  'position',
  'metric_code',
  'source',
  'direction',
  'target',
  'warning',
  'weight',
  'status',
  'attainment',
  'excused',
  'value',
  'deleted',
  'fact_updated_at',
  'unit',
] as const;
/** A column's position in a row of {@link FACT_ROW}. */
const F = Object.fromEntries(FACT_ROW.map((c, i) => [c, i])) as { readonly [C in (typeof FACT_ROW)[number]]: number };

/**
 * The month cells of each row of a page ({@link MONTH_CELLS}): a month's rows are consecutive and
 * carry the same text, parsed once.
 */
function monthCellsOf(rows: unknown[][]): unknown[][] {
  const out: unknown[][] = [];
  let text: unknown;
  let cells: unknown[] = [];
  for (const r of rows) {
    if (r[F.month_cells] !== text) {
      text = r[F.month_cells];
      cells = JSON.parse(String(text)) as unknown[];
    }
    out.push(cells);
  }
  return out;
}

/** Columns' SQL by name: an expression, or an expression and its parameters in order. */
type ColumnSql<N extends string> = { readonly [C in N]: string | [string, unknown[]] };

/** The SQL of `names`, in their order, with the parameters in order. */
function sqlList<N extends string>(names: readonly N[], columns: ColumnSql<N>): { parts: string[]; params: unknown[] } {
  const params: unknown[] = [];
  const parts = names.map((c) => {
    const column = columns[c];
    if (typeof column === 'string') return column;
    params.push(...column[1]);
    return column[0];
  });
  return { parts, params };
}

/**
 * The month cells' JSON array ({@link MONTH_CELLS}), with its parameters in order, for the instant
 * `t`: `holds` (the month's stored evaluation holds at `t`; the rare months where it does not are
 * read again whole, {@link reevaluated}) and `closed_now` worked out in SQL.
 */
function monthCellsSql(sql: Sql, now: Date): { text: string; params: unknown[] } {
  const t = sql.date(now);
  const yes = bool(sql, true);
  const no = bool(sql, false);
  const { parts, params } = sqlList(MONTH_CELLS, {
    agreement_id: 'm.agreement_id',
    month: 'm.month',
    agreement_key: 'm.agreement_key',
    tier: 'm.tier',
    report_revision: 'm.report_revision',
    disputed: 'm.disputed',
    closed_now: ['case when m.closed = ? and m.closed_at <= ? then 1 else 0 end', [yes, t]],
    holds: [
      'case when m.deleted = ? or (m.closed = ? and m.closed_at <= ?) or (m.closed = ? and m.computed_at <= ? and (m.valid_until is null or m.valid_until > ?)) then 1 else 0 end',
      [yes, yes, t, no, t, t],
    ],
    provider_code: 'pd.code',
    customer_code: 'cd.code',
    service_code: 'sv.code',
  });
  const list = parts.join(', ');
  return { text: sql.pg ? `json_build_array(${list})::text` : `json_array(${list})`, params };
}

/**
 * The select list of {@link factStatement}, with its parameters in order, for the instant `t`: the
 * fact's columns, with what depends on `t` worked out in SQL: the value (none while the month
 * runs, rule 0) and `fact_updated_at`.
 */
function factSelect(sql: Sql, now: Date): { text: string; params: unknown[] } {
  const max = (a: string, b: string) => (sql.pg ? `greatest(${a}, ${b})` : `max(${a}, ${b})`);
  const t = sql.date(now);
  const yes = bool(sql, true);
  const no = bool(sql, false);
  const { parts, params } = sqlList(FACT_ROW, {
    month_cells: 'm.month_cells',
    objective_id: 'o.objective_id',
    position: 'o.position',
    metric_code: 'o.metric_code',
    source: 'o.source',
    direction: 'o.direction',
    target: 'o.target',
    warning: 'o.warning',
    weight: 'o.weight',
    status: 'o.status',
    attainment: 'o.attainment',
    excused: 'o.excused',
    value: ['case when m.month_ends_at > ? then null else o.input_value end', [t]],
    deleted: ['case when m.deleted = ? or o.deleted = ? then 1 else 0 end', [yes, yes]],
    fact_updated_at: [
      `case when m.deleted = ? and o.deleted = ? and m.closed = ? and m.valid_until <= ? then ${max(max('m.updated_at', 'o.updated_at'), 'm.valid_until')} else ${max('m.updated_at', 'o.updated_at')} end`,
      [no, no, no, t],
    ],
    unit: 'mt.unit',
  });
  return { text: parts.map((p, i) => `${p} as "${FACT_ROW[i]}"`).join(', '), params };
}

/**
 * One statement, two levels. Inside, the page's agreement-months: `ledger_month` walked in the
 * facts' order from the cursor and cut at `limit`, so a page reads about as many rows as it
 * returns whatever the window holds. Outside, their objective rows (left-joined: a month none of
 * whose objectives qualifies still yields one row, with no objective, so the cursor can move past
 * it), the party and service codes and the metric's unit, in the facts' order.
 *
 * The month's party and service codes are joined inside, once a month rather than once a row, and
 * the month's own columns are made into one JSON text there ({@link MONTH_CELLS}). Only what a
 * fact shows is read ({@link factSelect}).
 */
function factStatement(select: string, cells: string, months: { from: string; where: string[] }, objectives: string[], rows: string[]): string {
  return `select ${select}
  from (select m.agreement_id, m.month, m.agreement_key, m.month_ends_at, m.deleted, m.closed, m.valid_until, m.updated_at, ${cells} as month_cells
    from ${months.from}
    join agreement a on a.id = m.agreement_id
    left join department pd on pd.id = m.provider_id
    left join department cd on cd.id = m.customer_id
    left join service sv on sv.id = a.service_id
    where ${months.where.join(' and ')} order by m.agreement_key, m.month limit ?) m
  left join ledger_objective o on o.agreement_id = m.agreement_id and o.month = m.month${objectives.map((c) => ` and ${c}`).join('')}
  left join metric mt on mt.id = o.metric_id${rows.length ? ` where ${rows.join(' and ')}` : ''}
  order by m.agreement_key, m.month, o.position, o.objective_id
  limit ?`;
}

/** A cursor position after every objective of a month (the row of a month with none to show). */
const AFTER_MONTH = { p: 2_147_483_647, o: '00000000-0000-4000-8000-000000000000' };

type Row = Record<string, unknown>;

/** The columns of a joined row that start with `prefix`, without it. */
function part(row: Row, prefix: string): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** What a stale objective-month shows at the request's instant. */
interface Reevaluated {
  value: number | null;
  status: string;
  attainment: number | null;
  excused: boolean;
  disputed: boolean;
}

/**
 * The `ledger_month m` rows a pull over the score ledger reads (measurement and scorecard facts):
 * the window up to the ledger's horizon, the snapshot's agreements (created by `asOf`), the
 * filter's tiers and parties, and either the rows changed after `updatedSince` (tombstones too,
 * and rows whose stored evaluation stopped holding since then: the transition instant passed,
 * whether or not the scheduler has written it) or, in a full pull, the rows that are not tombstones.
 */
export function ledgerMonthConditions(ctx: Context, filter: FactFilter, asOf: Date): { where: string[]; params: unknown[] } {
  const sql = sqlOf(ctx.em);
  const no = bool(sql, false);
  // The horizon as a semi-join, not `m.month <= (select horizon …)`: PostgreSQL estimates a
  // comparison with an init plan's unknown value at a third of the rows, and with the snapshot
  // condition it expected 87 of 48,000 months, so it read and sorted the whole window for every
  // page (EXPLAIN ANALYZE on the large data set: 257–595 ms a page) instead of walking
  // (agreement_key, month) in order to the page's end (14 ms). Same rows: none without a horizon.
  const where: string[] = [
    'm.month >= ?',
    'm.month <= ?',
    'exists (select 1 from ledger_state ls where ls.id = 1 and ls.horizon >= m.month)',
    '(select ag.created_at from agreement ag where ag.id = m.agreement_id) <= ?',
  ];
  const params: unknown[] = [filter.from, filter.to, sql.date(asOf)];
  const tiers = filter.tier && filter.tier !== Tier.CORPORATE ? [filter.tier] : [Tier.CUSTOMER, Tier.SERVICE];
  where.push(`m.tier in (${tiers.map(() => '?').join(', ')})`);
  params.push(...tiers);
  if (filter.provider) {
    where.push('m.provider_id = (select d.id from department d where d.code = ?)');
    params.push(filter.provider.trim().toUpperCase());
  }
  if (filter.customer) {
    where.push('m.customer_id = (select d.id from department d where d.code = ?)');
    params.push(filter.customer.trim().toUpperCase());
  }
  if (filter.updatedSince) {
    const since = sql.date(filter.updatedSince);
    where.push('(m.updated_at > ? or (m.closed = ? and m.deleted = ? and m.valid_until > ? and m.valid_until <= ?))');
    params.push(since, no, no, since, sql.date(ctx.request.now));
  } else {
    where.push('m.deleted = ?');
    params.push(no);
  }
  return { where, params };
}

/**
 * One page of measurement facts, read from the score ledger (DESIGN §8 read side) with one SQL
 * statement and no entity, in a stable order (agreement key, month, objective position) that
 * writes cannot shift. The first page fixes a snapshot instant (in the cursor): agreements created
 * after it are left to the next pull, so paging while others write returns every fact of the
 * snapshot exactly once.
 *
 * - A full pull (no `updatedSince`) returns the rows that are not tombstones.
 * - An incremental pull returns the rows whose `updatedAt` is after `updatedSince`, tombstones
 *   included (`deleted: true`: the objective-month left the measured set, say by a suspension).
 * - A row whose stored evaluation no longer holds at the request's instant (a month ended, a report
 *   fell due, and the scheduler has not caught up; or the request's clock is before the row's) is
 *   re-evaluated from its stored inputs at that instant, or scored live when a value changes by
 *   time before it; its `updatedAt` is then at least the instant its evaluation stopped holding.
 * - Months after the ledger's horizon are not facts yet (docs/decisions.md, "BI facts from the
 *   score ledger").
 */
export async function measurementFacts(ctx: Context, filter: FactFilter, first: number, after?: string | null): Promise<FactPage> {
  const cursor = after ? FACT_CURSOR.decode(after) : null;
  windowMonths(filter.from, filter.to);
  const asOf = cursor?.[0] ?? (await snapshotInstant(ctx));
  const now = ctx.request.now;
  const sql = sqlOf(ctx.em, { read: true });
  const no = bool(sql, false);
  const { where, params } = ledgerMonthConditions(ctx, filter, asOf);
  const on: string[] = [];
  const onParams: unknown[] = [];
  const outer: string[] = [];
  const outerParams: unknown[] = [];
  if (filter.updatedSince) {
    // Of a changed month's objectives, the current ones and those that left since then.
    on.push('(o.deleted = ? or o.updated_at > ?)');
    onParams.push(no, sql.date(filter.updatedSince));
  } else {
    on.push('o.deleted = ?');
    onParams.push(no);
  }
  // Which objectives of a month to re-evaluate: these, wherever the cursor is.
  const which = { on: [...on], onParams: [...onParams] };
  if (cursor) {
    const [, key, month, position, objectiveId] = cursor;
    // From the cursor's month on (a row value: the index seeks to it), and in that month only the
    // objectives after the cursor's.
    where.push('(m.agreement_key, m.month) >= (?, ?)');
    params.push(key, month);
    on.push('(m.agreement_key > ? or m.month > ? or o.position > ? or (o.position = ? and o.objective_id > ?))');
    onParams.push(key, month, position, position, objectiveId);
    // The cursor's month needs no row of its own when nothing of it is left.
    outer.push('(o.objective_id is not null or m.agreement_key <> ? or m.month <> ?)');
    outerParams.push(key, month);
  }
  // SQLite's planner, without statistics, prefers the (month, provider_id) index and sorts the
  // whole window on every page; the order's index keeps a page's work to the page. With a
  // provider, that index is the right one (it sorts one provider's months).
  const from = sql.pg || filter.provider ? 'ledger_month m' : 'ledger_month m indexed by ledger_month_agreement_key_month_index';
  // Every month but the cursor's yields at least one row, so `first + 2` months are enough for
  // `first + 1` rows.
  const select = factSelect(sql, now);
  const cells = monthCellsSql(sql, now);
  const found = await sql.arrays(factStatement(select.text, cells.text, { from, where }, on, outer), [...select.params, ...cells.params, ...params, first + 2, ...onParams, ...outerParams, first + 1]);
  const page = found.length > first ? found.slice(0, first) : found;
  const stale: Array<{ agreementId: string; month: Month }> = [];
  const monthCells = monthCellsOf(page);
  page.forEach((r, i) => {
    if (r[F.objective_id] != null && !isTrue(monthCells[i][M.holds]) && !isTrue(r[F.deleted]))
      stale.push({ agreementId: String(monthCells[i][M.agreement_id]), month: String(monthCells[i][M.month]) });
  });
  const shown = await reevaluated(ctx, stale, which);

  const rows: MeasurementFact[] = [];
  // One Date per distinct instant of the page (SQLite gives epoch milliseconds; a page has few
  // distinct ones): fewer objects, and the writers keep each instant's text by it.
  const instants = new Map<unknown, Date>();
  const instant = (v: unknown): Date => {
    if (v instanceof Date) return v;
    let d = instants.get(v);
    if (!d) instants.set(v, (d = asDate(v)));
    return d;
  };
  for (let i = 0; i < page.length; i++) {
    const r = page[i];
    if (r[F.objective_id] == null) continue;
    // The row's columns read in place: one object per fact, the fact itself.
    const m = monthCells[i];
    const agreementId = String(m[M.agreement_id]);
    const month = String(m[M.month]);
    const objectiveId = String(r[F.objective_id]);
    const deleted = isTrue(r[F.deleted]);
    const again = shown.size && !deleted ? shown.get(`${agreementId}|${month}|${objectiveId}`) : undefined;
    const source = r[F.source] as MetricSource;
    const revision = m[M.report_revision];
    const provider = m[M.provider_code];
    const customer = m[M.customer_code];
    const service = m[M.service_code];
    rows.push({
      id: `${agreementId}:${month}:${objectiveId}`,
      month,
      agreementKey: String(m[M.agreement_key]),
      tier: m[M.tier] as Tier,
      provider: provider == null ? null : String(provider),
      customer: customer == null ? null : String(customer),
      service: service == null ? null : String(service),
      metric: String(r[F.metric_code]),
      unit: r[F.unit] as MetricUnit,
      direction: r[F.direction] as MetricDirection,
      target: Number(r[F.target]),
      warning: numOrNull(r[F.warning]),
      weight: Number(r[F.weight]),
      // Rule 0: no value while the month runs (worked out in SQL; an AUTOMATED objective's row keeps it so far).
      value: again ? again.value : numOrNull(r[F.value]),
      status: (again ? again.status : r[F.status]) as ObjectiveStatus,
      attainment: again ? again.attainment : numOrNull(r[F.attainment]),
      excused: again ? again.excused : isTrue(r[F.excused]),
      source,
      reportRevision: source === MetricSource.MANUAL && revision ? Number(revision) : null,
      // When a shown value last changed: the month's row (revision, dispute, terms), the
      // objective's row, or the passing of the instant the stored evaluation held until.
      updatedAt: instant(r[F.fact_updated_at]),
      disputed: again ? again.disputed : !isTrue(m[M.closed_now]) && isTrue(m[M.disputed]),
      deleted,
    });
  }
  const last = page[page.length - 1];
  const lastMonth = monthCells[page.length - 1];
  return {
    rows,
    hasNextPage: found.length > first,
    endCursor: last
      ? FACT_CURSOR.encode([
          asOf,
          String(lastMonth[M.agreement_key]),
          String(lastMonth[M.month]),
          ...(last[F.objective_id] == null ? ([AFTER_MONTH.p, AFTER_MONTH.o] as const) : ([Number(last[F.position]), String(last[F.objective_id])] as const)),
        ])
      : (after ?? null),
    asOf,
  };
}

/**
 * What the facts of months whose stored evaluation does not hold at the request's instant show
 * (a month ended, a report fell due, and the scheduler has not caught up; or the request's clock
 * is before the row's), keyed `agreementId|month|objectiveId`: their stored inputs read whole (one
 * statement for the page) and evaluated at that instant, or scored live when a value changes by
 * time before it. Objective results depend on their own inputs only (rules 1..4), so the month's
 * objectives that `on` selects are enough.
 */
async function reevaluated(ctx: Context, stale: Array<{ agreementId: string; month: Month }>, objectives: { on: string[]; onParams: unknown[] }): Promise<Map<string, Reevaluated>> {
  const shown = new Map<string, Reevaluated>();
  if (!stale.length) return shown;
  const now = ctx.request.now;
  const t = now.getTime();
  const sql = sqlOf(ctx.em);
  const wanted = new Set(stale.map((r) => `${r.agreementId}|${r.month}`));
  const ids = [...new Set(stale.map((r) => r.agreementId))];
  const months = [...new Set(stale.map((r) => r.month))];
  const found = await sql.rows<Row>(
    `select ${[...MONTH_FIELDS.map((c) => `m.${c} as "m_${c}"`), ...OBJECTIVE_FIELDS.map((c) => `o.${c} as "o_${c}"`)].join(', ')}
    from ledger_month m join ledger_objective o on o.agreement_id = m.agreement_id and o.month = m.month${objectives.on.map((c) => ` and ${c}`).join('')}
    where m.agreement_id in (${ids.map(() => '?').join(', ')}) and m.month in (${months.map(() => '?').join(', ')})`,
    [...objectives.onParams, ...ids, ...months],
  );
  const monthsOf = new Map<string, { month: Row; objectives: Row[] }>();
  for (const r of found) {
    const key = `${String(r.m_agreement_id)}|${String(r.m_month)}`;
    if (!wanted.has(key)) continue;
    const entry = monthsOf.get(key) ?? { month: part(r, 'm_'), objectives: [] };
    entry.objectives.push(part(r, 'o_'));
    monthsOf.set(key, entry);
  }
  const live: Array<{ agreementId: string; month: Month }> = [];
  for (const [key, { month, objectives: rows }] of monthsOf) {
    const record = recordFromRows(month, rows);
    if (record.input.valueChanges.some((d) => d.getTime() < t)) {
      live.push({ agreementId: record.agreementId, month: record.month });
      continue;
    }
    const result = evaluateLedgerMonth(record.input, now);
    const running = t < record.input.monthEndsAt.getTime();
    const closed = record.closed && record.closedAt !== null && record.closedAt.getTime() <= t;
    record.input.objectives.forEach((o, i) =>
      shown.set(`${key}|${o.objectiveId}`, {
        value: running ? null : o.value,
        status: result.objectives[i].status,
        attainment: result.objectives[i].attainment,
        excused: o.excused,
        disputed: !closed && record.input.report?.status === 'DISPUTED',
      }),
    );
  }
  if (live.length) for (const [k, v] of await scoredLive(ctx, live)) shown.set(k, v);
  return shown;
}

/**
 * Whether a stored month row's evaluation holds at `t` (a tombstone always does): closed by
 * then, or evaluated at or before `t` and valid past it.
 */
export function holdsAt(m: Row, t: number, prefix = ''): boolean {
  if (isTrue(m[`${prefix}deleted`])) return true;
  const closedAt = dateOrNull(m[`${prefix}closed_at`]);
  if (isTrue(m[`${prefix}closed`])) return closedAt !== null && closedAt.getTime() <= t;
  const validUntil = dateOrNull(m[`${prefix}valid_until`]);
  return asDate(m[`${prefix}computed_at`]).getTime() <= t && (validUntil === null || validUntil.getTime() > t);
}

/**
 * The rare months the stored inputs cannot answer at the request's instant (an unanswered
 * escalation passed its deadline since they were evaluated): scored live from the facts, as the
 * scorecards do, keyed `agreementId|month|objectiveId`.
 */
async function scoredLive(ctx: Context, keys: Array<{ agreementId: string; month: Month }>): Promise<Map<string, Reevaluated>> {
  const agreements = (await loadManyOrThrow(ctx.loaders.agreementById, [...new Set(keys.map((k) => k.agreementId))])).filter((a): a is Agreement => a !== null);
  const wanted = new Set(keys.map((k) => `${k.agreementId}|${k.month}`));
  const items = (await measuredMonths(ctx, agreements, [...new Set(keys.map((k) => k.month))].sort())).filter((i) => wanted.has(`${i.agreement.id}|${i.month}`));
  const out = new Map<string, Reevaluated>();
  for (const sm of await scoreMonths(ctx, items, ctx.request.now)) {
    const disputed = isDisputed(sm);
    for (const o of sm.objectives)
      out.set(`${sm.agreement.id}|${sm.month}|${o.objective.id}`, { value: o.value, status: o.result.status, attainment: o.result.attainment, excused: o.excused, disputed });
  }
  return out;
}

async function partyCodes(ctx: Context, agreements: Agreement[]): Promise<Map<string, { provider: string | null; customer: string | null; service: string | null }>> {
  const depts = await loadManyOrThrow(
    ctx.loaders.departmentById,
    agreements.flatMap((a) => [a.provider?.id, a.customer?.id].filter((x): x is string => !!x)),
  );
  const services = await loadManyOrThrow(
    ctx.loaders.serviceById,
    agreements.map((a) => a.service?.id).filter((x): x is string => !!x),
  );
  const code = new Map<string, string>();
  for (const d of [...depts, ...services]) if (d) code.set(d.id, d.code);
  return new Map(
    agreements.map((a) => [
      a.id,
      {
        provider: a.provider ? (code.get(a.provider.id) ?? null) : null,
        customer: a.customer ? (code.get(a.customer.id) ?? null) : null,
        service: a.service ? (code.get(a.service.id) ?? null) : null,
      },
    ]),
  );
}

/**
 * One page of handoff events ordered by (updatedAt, id), up to a snapshot instant fixed by the
 * first page: rows written during the pull carry a later updatedAt and wait for the next pull
 * (`updatedSince` = this pull's `asOf`), so every row is returned once per pull and changed ones
 * come back in the next.
 */
export async function handoffFacts(
  ctx: Context,
  filter: FactFilter,
  first: number,
  after?: string | null,
): Promise<{ rows: HandoffFact[]; hasNextPage: boolean; endCursor: string | null; asOf: Date }> {
  const cursor = after ? HANDOFF_CURSOR.decode(after) : null;
  windowMonths(filter.from, filter.to);
  const asOf = cursor?.[0] ?? (await snapshotInstant(ctx));
  const where: FilterQuery<HandoffEvent>[] = [{ month: { $gte: filter.from, $lte: filter.to } }, { updatedAt: { $lte: asOf } }];
  if (filter.updatedSince) where.push({ updatedAt: { $gt: filter.updatedSince } });
  if (cursor) {
    const [, updatedAt, id] = cursor;
    where.push({ $or: [{ updatedAt: { $gt: updatedAt } }, { updatedAt, id: { $gt: id } }] });
  }
  const agreementWhere: FilterQuery<Agreement>[] = [{ tier: tiersOf(filter) }];
  if (filter.provider) agreementWhere.push({ provider: { code: filter.provider.trim().toUpperCase() } });
  if (filter.customer) agreementWhere.push({ customer: { code: filter.customer.trim().toUpperCase() } });
  where.push({ agreement: { $and: agreementWhere } });
  const events = await ctx.em.find(HandoffEvent, { $and: where }, { orderBy: { updatedAt: 'asc', id: 'asc' }, limit: first + 1, connectionType: readConnectionType(ctx.em) });
  const page = events.slice(0, first);
  const agreements = await loadManyOrThrow(ctx.loaders.agreementById, [...new Set(page.map((e) => e.agreement.id))], 'Agreement');
  const byId = new Map(agreements.map((a) => [a.id, a]));
  const names = await partyCodes(ctx, [...byId.values()]);
  const rows = page.map((e): HandoffFact => {
    const a = byId.get(e.agreement.id) as Agreement;
    const n = names.get(a.id);
    return {
      id: e.id,
      source: e.source,
      externalId: e.externalId,
      agreementKey: a.key,
      provider: n?.provider ?? null,
      customer: n?.customer ?? null,
      stage: e.stage,
      month: e.month,
      handedOffAt: e.handedOffAt,
      respondedAt: e.respondedAt ?? null,
      acceptedAt: e.acceptedAt ?? null,
      rejectedAt: e.rejectedAt ?? null,
      rejectionReason: e.rejectionReason ?? null,
      convertedAt: e.convertedAt ?? null,
      qualityScore: e.qualityScore ?? null,
      responseHours: e.responseHours ?? null,
      updatedAt: e.updatedAt,
    };
  });
  const lastRow = page[page.length - 1];
  return {
    rows,
    hasNextPage: events.length > first,
    endCursor: lastRow ? HANDOFF_CURSOR.encode([asOf, lastRow.updatedAt, lastRow.id]) : (after ?? null),
    asOf,
  };
}
