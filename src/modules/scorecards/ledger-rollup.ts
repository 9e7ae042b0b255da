/**
 * Roll-ups read from the score ledger (DESIGN §8 read side): the pooled sums of the agreement-months
 * in a window are SQL aggregates over `ledger_month` (Σ weight·attainment / Σ weight by group, rule
 * 9), two statements whatever the number of agreements (one on PostgreSQL), each reading a narrow
 * covering index rather than the wide rows. What the ledger cannot answer at the
 * request's instant is scored on the spot, as before: rows whose stored evaluation no longer holds
 * (an instant passed and the scheduler has not caught up, or the request's clock is before the
 * row's), and months beyond the ledger's horizon.
 */
import { addMonths, compareMonths, monthRange, type Month } from '../../common/month';
import { sqlOf } from '../../common/sql';
import type { Context } from '../../common/context';
import { clean, type Compliance, OBJECTIVE_STATUSES, trend, type Trend } from '../../scoring';
import { STATUS_RANK, sumsOf } from '../../scoring/ledger';
import type { Agreement } from '../agreements/agreement.entity';
import { bool } from '../../common/sql';
import { isDisputed, measuredMonths, type Pooled, type ScoredMonth, scoreMonths } from './scorecard.service';

/** Which ledger rows a roll-up pools: a condition on `ledger_month`, and the same set as agreements for what is scored live. */
export interface RollupScope {
  where: string;
  params: unknown[];
  agreements: () => Promise<Agreement[]>;
}

/** Running sums of a group of agreement-months. */
export class Sums {
  months = 0;
  weighted = 0;
  weight = 0;
  scored = 0;
  evaluated = 0;
  met = 0;
  breaches = 0;
  credit = 0;
  disputed = 0;
  provisional = 0;
  worst: number | null = null;

  addRow(r: Record<string, unknown>): void {
    this.months += Number(r.n);
    this.weighted += Number(r.sw ?? 0);
    this.weight += Number(r.w ?? 0);
    this.scored += Number(r.sc ?? 0);
    this.evaluated += Number(r.e ?? 0);
    this.met += Number(r.m ?? 0);
    this.breaches += Number(r.b ?? 0);
    this.credit += Number(r.c ?? 0);
    this.disputed += Number(r.dm ?? 0);
    this.provisional += Number(r.pc ?? 0);
    if (r.r !== null && r.r !== undefined) this.worst = this.worst === null ? Number(r.r) : Math.min(this.worst, Number(r.r));
  }

  /**
   * A row of {@link FRESH_SUMS} (or of {@link SUMS}) read as an array, its sums from position `at`
   * in their order (n, sw, w, sc, e, m, b, c, dm, pc, r): as {@link addRow} adds them.
   */
  addValues(v: readonly unknown[], at: number): void {
    this.months += Number(v[at]);
    this.weighted += Number(v[at + 1] ?? 0);
    this.weight += Number(v[at + 2] ?? 0);
    this.scored += Number(v[at + 3] ?? 0);
    this.evaluated += Number(v[at + 4] ?? 0);
    this.met += Number(v[at + 5] ?? 0);
    this.breaches += Number(v[at + 6] ?? 0);
    this.credit += Number(v[at + 7] ?? 0);
    this.disputed += Number(v[at + 8] ?? 0);
    this.provisional += Number(v[at + 9] ?? 0);
    const r = v[at + 10];
    if (r !== null && r !== undefined) this.worst = this.worst === null ? Number(r) : Math.min(this.worst, Number(r));
  }

  /** Another group's sums added to these (in the order `addRow` adds, so the same floating-point results). */
  add(o: Sums): void {
    this.months += o.months;
    this.weighted += o.weighted;
    this.weight += o.weight;
    this.scored += o.scored;
    this.evaluated += o.evaluated;
    this.met += o.met;
    this.breaches += o.breaches;
    this.credit += o.credit;
    this.disputed += o.disputed;
    this.provisional += o.provisional;
    if (o.worst !== null) this.worst = this.worst === null ? o.worst : Math.min(this.worst, o.worst);
  }

  addScored(m: ScoredMonth): void {
    const s = sumsOf(m.result);
    const disputed = isDisputed(m);
    this.addRow({
      n: 1,
      sw: s.weighted,
      w: s.weight,
      sc: s.scored,
      e: s.evaluated,
      m: s.met,
      b: s.breaches,
      c: m.result.credit.amount,
      dm: disputed ? 1 : 0,
      pc: disputed ? m.result.credit.amount : 0,
      r: m.result.status ? STATUS_RANK[m.result.status] : null,
    });
  }

  pooled(): Pooled {
    const compliance: Compliance = { evaluated: this.evaluated, met: this.met, breaches: this.breaches, rate: this.evaluated ? this.met / this.evaluated : null };
    return {
      agreementMonths: this.months,
      score: this.scored && this.weight > 0 ? Math.min(100, clean((100 * this.weighted) / this.weight)) : null,
      compliance,
      creditAmount: Math.round(this.credit * 1e9) / 1e9,
      disputedMonths: this.disputed,
      provisionalCreditAmount: Math.round(this.provisional * 1e9) / 1e9,
    };
  }

  status(): string | null {
    return this.worst === null ? null : OBJECTIVE_STATUSES[this.worst];
  }
}

/** A window pooled: in total, by month, and by agreement (with its provider and tier, for the other breakdowns). */
export interface LedgerRollup {
  total: Sums;
  byMonth: Map<Month, Sums>;
  byAgreement: Map<string, { providerId: string; tier: string; sums: Sums }>;
  series: { points: Array<{ month: Month; sums: Sums }>; trend: Trend };
}

/** The pooled sums of the rows that hold (`f = 1`), and how many do not (`stale`). */
const SUMS = `sum(f) as n, sum(f * sum_weighted) as sw, sum(f * sum_weight) as w, sum(f * scored_count) as sc, sum(f * evaluated) as e, sum(f * met) as m,
  sum(f * breaches) as b, sum(f * credit_amount) as c, sum(f * disputed) as dm, sum(f * disputed * credit_amount) as pc, min(case when f = 1 then status_rank end) as r,
  sum(1 - f) as stale`;

/**
 * The same sums over rows already filtered to those that hold (SQLite): no per-row factor, which
 * SQLite would evaluate once per aggregate. The two placeholders are the engine's `true`.
 */
const FRESH_SUMS = `count(*) as n, sum(sum_weighted) as sw, sum(sum_weight) as w, sum(scored_count) as sc, sum(evaluated) as e, sum(met) as m,
  sum(breaches) as b, sum(credit_amount) as c, sum(case when disputed = ? then 1 else 0 end) as dm, sum(case when disputed = ? then credit_amount else 0 end) as pc, min(status_rank) as r`;
/** How many columns `FRESH_SUMS` has (the total row of the by-month statement fills the others with null). */
const FRESH_SUMS_COLUMNS = 11;

/** The covering indexes of `ledger_month` the roll-ups read (`LedgerMonth`'s `@Index`es): in month order, and in agreement order. */
const BY_MONTH_INDEX = 'ledger_month_rollup_month_index';
const BY_AGREEMENT_INDEX = 'ledger_month_rollup_agreement_index';

/**
 * The window's agreement-months pooled at the request's instant. A row counts from the ledger when
 * its stored evaluation holds at `now`: closed by then (frozen), or evaluated at or before `now` and
 * valid past it. The rest is scored live.
 */
export async function ledgerRollup(ctx: Context, scope: RollupScope, months: Month[]): Promise<LedgerRollup> {
  const now = ctx.request.now;
  const sql = sqlOf(ctx.em, { read: true });
  const from = months[0];
  const to = months[months.length - 1];
  const [state] = await sql.rows<{ horizon: string | null }>('select horizon from ledger_state where id = 1');
  const horizon = state?.horizon ?? addMonths(from, -1);
  const ledgerTo = compareMonths(to, horizon) <= 0 ? to : horizon;
  const t = sql.date(now);
  const yes = bool(sql, true);
  const no = bool(sql, false);
  // Whether a row's stored evaluation holds at `now`: as a condition, and as 1 or 0 computed once per row.
  const holds = `((closed = ? and closed_at <= ?) or (closed = ? and computed_at <= ? and (valid_until is null or valid_until > ?)))`;
  const fresh = `case when ${holds} then 1 else 0 end`;
  const freshParams = [yes, t, no, t, t];
  const rows = `(select agreement_id, month, provider_id, tier, sum_weighted, sum_weight, scored_count, evaluated, met, breaches, credit_amount,
    case when disputed = ? then 1 else 0 end as disputed, status_rank, ${fresh} as f
    from ledger_month where deleted = ? and month >= ? and month <= ? and ${scope.where}) as l`;
  const rowParams = [yes, ...freshParams, no, from, ledgerTo, ...scope.params];

  /*
   * Both engines' grouped rows are read as arrays (no object per row, no statement prepared again
   * on SQLite: Sql.arrays): by agreement [agreement_id, provider_id, tier, …sums], by month
   * [month, …sums], the sums in FRESH_SUMS's order (Sums.addValues).
   */
  /**
   * PostgreSQL: one statement, one pass over the window's rows (the covering index in month order),
   * grouped both ways by GROUPING SETS; `grouping(month)` is 1 on the by-agreement rows.
   */
  const pooledPg = async () => {
    const grouped = await sql.arrays(
      `select agreement_id, provider_id, tier, ${SUMS}, month, grouping(month) as by_agreement from ${rows} group by grouping sets ((agreement_id, provider_id, tier), (month))`,
      rowParams,
    );
    // SUMS: the 11 sums from position 3, then stale; then month and by_agreement.
    const byAgreement = grouped.filter((r) => Number(r[16]) === 1);
    const byMonth = grouped.filter((r) => Number(r[16]) === 0).map((r) => [r[15], ...r.slice(3, 3 + FRESH_SUMS_COLUMNS)]);
    return { byAgreement, byMonth, stale: byAgreement.reduce((n, r) => n + Number(r[14] ?? 0), 0) };
  };
  /**
   * SQLite: the rows that hold, grouped by agreement and by month, each statement reading the
   * covering index in its group's order (so neither sorts); the by-month statement also counts
   * every row of the window, so that `stale` is what the groups did not pool. For a narrower scope
   * (a department, a tier), SQLite picks the index.
   */
  const pooledSqlite = async () => {
    const base = `deleted = ? and month >= ? and month <= ? and ${scope.where}`;
    const baseParams = [no, from, ledgerTo, ...scope.params];
    const from_ = (index: string) => (scope.params.length ? 'ledger_month' : `ledger_month indexed by ${index}`);
    const [byAgreement, months] = await Promise.all([
      sql.arrays(`select agreement_id, provider_id, tier, ${FRESH_SUMS} from ${from_(BY_AGREEMENT_INDEX)} where ${base} and ${holds} group by agreement_id, provider_id, tier`, [
        yes,
        yes,
        ...baseParams,
        ...freshParams,
      ]),
      sql.arrays(
        `select month, ${FRESH_SUMS}, null as total from ${from_(BY_MONTH_INDEX)} where ${base} and ${holds} group by month
         union all select null, ${Array(FRESH_SUMS_COLUMNS).fill('null').join(', ')}, count(*) from ${from_(BY_MONTH_INDEX)} where ${base}`,
        [yes, yes, ...baseParams, ...freshParams, ...baseParams],
      ),
    ]);
    const byMonth = months.filter((r) => r[0] !== null);
    const total = Number(months.find((r) => r[0] === null)?.[1 + FRESH_SUMS_COLUMNS] ?? 0);
    return { byAgreement, byMonth, stale: total - byMonth.reduce((n, r) => n + Number(r[1]), 0) };
  };

  const out: LedgerRollup = { total: new Sums(), byMonth: new Map(months.map((m) => [m, new Sums()])), byAgreement: new Map(), series: { points: [], trend: { slope: null, direction: null } } };
  const agreementSums = (id: string, providerId: string, tier: string) => {
    let entry = out.byAgreement.get(id);
    if (!entry) out.byAgreement.set(id, (entry = { providerId, tier, sums: new Sums() }));
    return entry.sums;
  };
  const live: Array<{ agreementId: string; month: Month }> = [];
  if (compareMonths(from, ledgerTo) <= 0) {
    const { byAgreement, byMonth, stale } = await (sql.pg ? pooledPg() : pooledSqlite());
    for (const r of byAgreement) {
      if (!Number(r[3])) continue;
      agreementSums(String(r[0]), String(r[1]), String(r[2])).addValues(r, 3);
      out.total.addValues(r, 3);
    }
    for (const r of byMonth) if (Number(r[1])) out.byMonth.get(String(r[0]))?.addValues(r, 1);
    // Rows whose evaluation does not hold at `now`: only then another statement names them.
    if (stale) {
      const found = await sql.rows<{ agreement_id: string; month: string }>(`select agreement_id, month from ${rows} where f = 0`, rowParams);
      live.push(...found.map((x) => ({ agreementId: String(x.agreement_id), month: String(x.month) })));
    }
  }

  // Scored on the spot: stale rows, and the months past the horizon.
  const beyond = compareMonths(to, horizon) > 0 ? monthRange(compareMonths(from, horizon) > 0 ? from : addMonths(horizon, 1), to) : [];
  if (live.length || beyond.length) {
    const agreements = await scope.agreements();
    const staleKeys = new Set(live.map((k) => `${k.agreementId}|${k.month}`));
    const staleMonths = [...new Set(live.map((k) => k.month))];
    const wanted = (a: Agreement, m: Month) => staleKeys.has(`${a.id}|${m}`) || beyond.includes(m);
    const items = (
      await measuredMonths(
        ctx,
        agreements.filter((a) => beyond.length || live.some((k) => k.agreementId === a.id)),
        [...new Set([...staleMonths, ...beyond])].sort(compareMonths),
      )
    ).filter((i) => wanted(i.agreement, i.month));
    for (const m of await scoreMonths(ctx, items, now)) {
      agreementSums(m.agreement.id, m.agreement.provider?.id ?? '', m.agreement.tier).addScored(m);
      out.total.addScored(m);
      out.byMonth.get(m.month)?.addScored(m);
    }
  }
  const points = months.map((month) => ({ month, sums: out.byMonth.get(month) as Sums }));
  out.series = { points, trend: trend(points.map((p) => ({ month: p.month, score: p.sums.pooled().score }))) };
  return out;
}

/**
 * The agreements that may have an objective BREACHED, NO_DATA or AT_RISK in `month` at the
 * request's instant, from the ledger: those whose month's worst status is one of them, and those
 * whose stored evaluation no longer holds (scored again by the caller). Null past the horizon,
 * where the ledger has no rows (the caller looks at every agreement).
 */
export async function riskCandidates(ctx: Context, month: Month): Promise<string[] | null> {
  const sql = sqlOf(ctx.em, { read: true });
  const [state] = await sql.rows<{ horizon: string | null }>('select horizon from ledger_state where id = 1');
  if (!state?.horizon || compareMonths(month, state.horizon) > 0) return null;
  const t = sql.date(ctx.request.now);
  const yes = bool(sql, true);
  const no = bool(sql, false);
  const rows = await sql.rows<{ agreement_id: string }>(
    `select agreement_id from ledger_month where deleted = ? and month = ? and (
       not ((closed = ? and closed_at <= ?) or (closed = ? and computed_at <= ? and (valid_until is null or valid_until > ?)))
       or status_rank <= ?)`,
    [no, month, yes, t, no, t, t, STATUS_RANK.AT_RISK],
  );
  return rows.map((r) => String(r.agreement_id));
}

/** Agreement-months of many groups (departments as provider or as customer) pooled over one window. */
export interface GroupedRollupScope {
  /** The `ledger_month` column that names a row's group. */
  column: 'provider_id' | 'customer_id';
  /** The measured agreements of a group, for what is scored live (a batching loader's `load`). */
  agreements: (id: string) => Promise<Agreement[]>;
}

/**
 * {@link ledgerRollup} for many groups at once (the departments of a page, each with its
 * scorecard): three statements whatever the number of groups and agreements (by group and
 * agreement, by group and month, and the rows that do not hold at `now`), then one scoring of
 * what the ledger cannot answer for all the groups together.
 */
export async function ledgerRollups(ctx: Context, scope: GroupedRollupScope, ids: string[], months: Month[]): Promise<Map<string, LedgerRollup>> {
  const now = ctx.request.now;
  const sql = sqlOf(ctx.em, { read: true });
  const from = months[0];
  const to = months[months.length - 1];
  const out = new Map<string, LedgerRollup>(
    ids.map((id) => [id, { total: new Sums(), byMonth: new Map(months.map((m) => [m, new Sums()])), byAgreement: new Map(), series: { points: [], trend: { slope: null, direction: null } } }]),
  );
  const [state] = await sql.rows<{ horizon: string | null }>('select horizon from ledger_state where id = 1');
  const horizon = state?.horizon ?? addMonths(from, -1);
  const ledgerTo = compareMonths(to, horizon) <= 0 ? to : horizon;
  const live: Array<{ agreementId: string; month: Month; group: string }> = [];
  if (ids.length && compareMonths(from, ledgerTo) <= 0) {
    const t = sql.date(now);
    const yes = bool(sql, true);
    const no = bool(sql, false);
    const holds = `((closed = ? and closed_at <= ?) or (closed = ? and computed_at <= ? and (valid_until is null or valid_until > ?)))`;
    const holdsParams = [yes, t, no, t, t];
    const base = `deleted = ? and month >= ? and month <= ? and ${scope.column} in (${ids.map(() => '?').join(', ')})`;
    const baseParams = [no, from, ledgerTo, ...ids];
    const [byAgreement, byMonth, stale] = await Promise.all([
      sql.rows<Record<string, unknown>>(
        `select ${scope.column} as g, agreement_id, provider_id, tier, ${FRESH_SUMS} from ledger_month where ${base} and ${holds} group by ${scope.column}, agreement_id, provider_id, tier`,
        [yes, yes, ...baseParams, ...holdsParams],
      ),
      sql.rows<Record<string, unknown>>(`select ${scope.column} as g, month, ${FRESH_SUMS} from ledger_month where ${base} and ${holds} group by ${scope.column}, month`, [
        yes,
        yes,
        ...baseParams,
        ...holdsParams,
      ]),
      sql.rows<Record<string, unknown>>(`select ${scope.column} as g, agreement_id, month from ledger_month where ${base} and not ${holds}`, [...baseParams, ...holdsParams]),
    ]);
    for (const r of byAgreement) {
      const into = out.get(String(r.g));
      if (!into || !Number(r.n)) continue;
      const id = String(r.agreement_id);
      let entry = into.byAgreement.get(id);
      if (!entry) into.byAgreement.set(id, (entry = { providerId: String(r.provider_id), tier: String(r.tier), sums: new Sums() }));
      entry.sums.addRow(r);
      into.total.addRow(r);
    }
    for (const r of byMonth) if (Number(r.n)) out.get(String(r.g))?.byMonth.get(String(r.month))?.addRow(r);
    live.push(...stale.map((x) => ({ agreementId: String(x.agreement_id), month: String(x.month), group: String(x.g) })));
  }

  // Scored on the spot, for every group at once: stale rows, and the months past the horizon.
  const beyond = compareMonths(to, horizon) > 0 ? monthRange(compareMonths(from, horizon) > 0 ? from : addMonths(horizon, 1), to) : [];
  const needing = beyond.length ? ids : [...new Set(live.map((k) => k.group))];
  if (needing.length) {
    const lists = await Promise.all(needing.map((id) => scope.agreements(id)));
    const staleKeys = new Set(live.map((k) => `${k.agreementId}|${k.month}`));
    const staleAgreements = new Set(live.map((k) => k.agreementId));
    const groupOf = new Map<string, string>();
    needing.forEach((id, i) => lists[i].forEach((a) => groupOf.set(a.id, id)));
    const agreements = [...new Map(lists.flat().map((a) => [a.id, a])).values()].filter((a) => beyond.length || staleAgreements.has(a.id));
    const wantedMonths = [...new Set([...live.map((k) => k.month), ...beyond])].sort(compareMonths);
    const items = (await measuredMonths(ctx, agreements, wantedMonths)).filter((i) => staleKeys.has(`${i.agreement.id}|${i.month}`) || beyond.includes(i.month));
    for (const m of await scoreMonths(ctx, items, now)) {
      const into = out.get(groupOf.get(m.agreement.id) ?? '');
      if (!into) continue;
      let entry = into.byAgreement.get(m.agreement.id);
      if (!entry) into.byAgreement.set(m.agreement.id, (entry = { providerId: m.agreement.provider?.id ?? '', tier: m.agreement.tier, sums: new Sums() }));
      entry.sums.addScored(m);
      into.total.addScored(m);
      into.byMonth.get(m.month)?.addScored(m);
    }
  }
  for (const r of out.values()) {
    const points = months.map((month) => ({ month, sums: r.byMonth.get(month) as Sums }));
    r.series = { points, trend: trend(points.map((p) => ({ month: p.month, score: p.sums.pooled().score }))) };
  }
  return out;
}
