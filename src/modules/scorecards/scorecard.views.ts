/**
 * The scorecard views: each query's answer built from the scored months (scorecard.service.ts) and
 * the ledger's roll-ups (ledger-rollup.ts). The resolvers only pass arguments here.
 */
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../../common/context';
import { selectedFieldNames } from '../../common/selection';
import { addMonths, compareMonths, type Month } from '../../common/month';
import { windowMonths } from '../../common/month-window';
import { OBJECTIVE_STATUSES, type ObjectiveStatus as Status } from '../../scoring';
import { Agreement, Tier } from '../agreements/agreement.entity';
import { versionAt } from '../agreements/agreement.rules';
import { Department } from '../departments/department.entity';
import DataLoader from 'dataloader';
import { type LedgerRollup, ledgerRollup, ledgerRollups, riskCandidates, type RollupScope, Sums } from './ledger-rollup';
import { loadManyOrThrow } from '../../common/loaders';
import { readConnectionType } from '../../common/read-route';
import { bool, isTrue, numOrNull, sqlOf } from '../../common/sql';
import { STATUS_RANK } from '../../scoring/ledger';
import type { Metric } from '../catalog/metric.entity';
import { AGREEMENT_HEAD_FIELDS, type AgreementHead } from './scorecard.loaders';
import { baselineFor, budgetAt, isDisputed, measuredMonths, pool, type ScoredMonth, type ScoredObjective, scoreMonths, series, type SeriesPoint, withDescendants } from './scorecard.service';
import {
  type AgreementCompliance,
  type AgreementScorecard,
  type BaselineView,
  type Breakdown,
  type MonthPhase,
  type MonthScore,
  ObjectiveScore,
  type ObjectiveStatus,
  PartyRole,
  type RiskItem,
  type Scorecard,
  type TrendDirection,
} from './scorecard.types';

function objectiveScore(s: ScoredObjective, agreementId: string, month: Month, history: ScoredMonth[]): ObjectiveScore {
  return Object.assign(new ObjectiveScore(), {
    inheritedFromId: s.inheritedFrom,
    agreementId,
    month,
    history,
    objectiveId: s.objective.id,
    metric: s.metric,
    source: s.metric.source,
    target: s.objective.target,
    warning: s.objective.warning ?? null,
    weight: s.objective.weight,
    creditPercent: s.objective.creditPercent,
    value: s.value,
    valueSoFar: s.valueSoFar,
    status: s.result.status as ObjectiveStatus,
    attainment: s.result.attainment,
    excused: s.excused,
  });
}

const monthScore = (p: SeriesPoint): MonthScore => ({ ...p, status: p.status as ObjectiveStatus | null });

/**
 * What a scorecard's `byAgreement` shows of its agreements: nothing (not asked for), their
 * {@link AgreementHead} (only fields it has: read as plain values, one statement) or the entities
 * (any other field: loaded through the ORM as before). The dashboard's 2,000 agreements by key
 * were two fifths of its organisation scorecard's time as entities.
 */
export type AgreementDetail = 'none' | 'head' | 'entity';

/** {@link AgreementDetail} from the selection of the scorecard field being resolved. */
export function agreementDetail(info: GraphQLResolveInfo): AgreementDetail {
  const fields = selectedFieldNames(info, ['byAgreement', 'agreement']);
  if (!fields) return 'none';
  for (const f of fields) if (!AGREEMENT_HEAD_FIELDS.has(f)) return 'entity';
  return 'head';
}

/** A roll-up of the measured agreement-months in `scope` over a window, read from the score ledger. */
export async function rollup(ctx: Context, scope: RollupScope, from: Month, to: Month, detail: AgreementDetail = 'entity'): Promise<Scorecard> {
  const months = windowMonths(from, to);
  return scorecardOf(ctx, await ledgerRollup(ctx, scope, months), from, to, detail);
}

/** The agreements of a scorecard's `byAgreement`, as `detail` says (a batch for all the scorecards of one request). */
async function breakdownAgreements(ctx: Context, ids: string[], detail: AgreementDetail): Promise<Array<Agreement | AgreementHead | null>> {
  if (detail === 'none') return ids.map(() => null);
  return detail === 'head' ? loadManyOrThrow(ctx.loaders.agreementHeadById, ids) : loadManyOrThrow(ctx.loaders.agreementById, ids);
}

/** A scorecard from a window's pooled sums: the breakdowns, with their agreements and departments (a batch each, shared by the scorecards of one request). */
async function scorecardOf(ctx: Context, r: LedgerRollup, from: Month, to: Month, detail: AgreementDetail): Promise<Scorecard> {
  const byDept = new Map<string, Sums>();
  const byTier = new Map<string, Sums>();
  const into = (map: Map<string, Sums>, key: string) => {
    let sums = map.get(key);
    if (!sums) map.set(key, (sums = new Sums()));
    return sums;
  };
  for (const { providerId, tier, sums } of r.byAgreement.values()) {
    into(byDept, providerId).add(sums);
    into(byTier, tier).add(sums);
  }
  // One statement each, whatever the number of agreements and departments (and of scorecards in the request: the loaders batch them).
  const ids = [...r.byAgreement.keys()];
  const deptIds = [...byDept.keys()];
  const [agreements, departments] = await Promise.all([breakdownAgreements(ctx, ids, detail), loadManyOrThrow(ctx.loaders.departmentById, deptIds)]);
  const deptById = new Map(deptIds.map((id, i) => [id, departments[i] as Department]));
  return {
    from,
    to,
    ...r.total.pooled(),
    trend: { slope: r.series.trend.slope, direction: r.series.trend.direction as TrendDirection | null },
    series: r.series.points.map((p) => ({ month: p.month, ...p.sums.pooled(), status: p.sums.status() as ObjectiveStatus | null })),
    byDepartment: [...byDept].map(([id, sums]) => breakdown(sums, deptById.get(id) ?? null, null, null)).sort((a, b) => (a.department?.code ?? '').localeCompare(b.department?.code ?? '')),
    byTier: [...byTier].map(([tier, sums]) => breakdown(sums, null, null, tier as Tier)).sort((a, b) => String(a.tier).localeCompare(String(b.tier))),
    byAgreement: ids
      .map((id, i) => breakdown((r.byAgreement.get(id) as { sums: Sums }).sums, null, agreements[i] ?? null, null))
      .sort((a, b) => (a.agreement?.key ?? '').localeCompare(b.agreement?.key ?? '')),
  };
}

/** One part of a roll-up, built as one literal (of one shape for all 2,000 of a large `byAgreement`, where spreads cost). */
function breakdown(sums: Sums, department: Department | null, agreement: Agreement | AgreementHead | null, tier: Tier | null): Breakdown {
  const p = sums.pooled();
  return {
    department,
    agreement,
    tier,
    agreementMonths: p.agreementMonths,
    score: p.score,
    compliance: p.compliance,
    creditAmount: p.creditAmount,
    disputedMonths: p.disputedMonths,
    provisionalCreditAmount: p.provisionalCreditAmount,
  };
}

/** Agreements that may have measured months: CUSTOMER and SERVICE ones ever activated. */
export function measurable(ctx: Context, tier?: Tier): Promise<Agreement[]> {
  return ctx.em.find(Agreement, { tier: tier ? tier : { $in: [Tier.CUSTOMER, Tier.SERVICE] }, activatedAt: { $ne: null } }, { orderBy: { key: 'asc' }, connectionType: readConnectionType(ctx.em) });
}

/** An agreement in one month: its own scorecard when measured, else the roll-up of its measured descendants. */
export async function agreementScorecard(ctx: Context, a: Agreement, month: Month): Promise<AgreementScorecard> {
  const versions = await ctx.loaders.versionsByAgreement.load(a.id);
  const version = versionAt(versions, month);
  // The year up to the month: baselines read the history; the month itself is the last item.
  const history = await scoreMonths(ctx, await measuredMonths(ctx, [a], windowMonths(addMonths(month, -11), month)), ctx.request.now);
  const own = history.find((s) => s.month === month);
  if (own) {
    return {
      agreement: a,
      month,
      measured: true,
      version: own.version.number,
      dueDate: own.dueDate,
      dueAt: own.dueAt,
      report: own.report ? await ctx.loaders.reportById.load(own.report.id) : null,
      objectives: own.objectives.map((o) => objectiveScore(o, a.id, month, history)),
      score: own.result.score,
      status: own.result.status as ObjectiveStatus | null,
      compliance: own.result.compliance,
      creditPercent: own.result.credit.percent,
      creditAmount: own.result.credit.amount,
      disputed: isDisputed(own),
      creditProvisional: isDisputed(own),
      phase: own.phase as MonthPhase,
      closedAt: own.closedAt,
      lateDataAt: own.lateDataAt,
    };
  }
  // A container (or a month it was not measured in): the roll-up of its measured descendants.
  const below = (await withDescendants(ctx, [a])).filter((x) => x.id !== a.id);
  const scored = await scoreMonths(ctx, await measuredMonths(ctx, below, [month]), ctx.request.now);
  const pooled = pool(scored);
  const statuses = scored.map((s) => s.result.status).filter((x): x is Status => !!x);
  return {
    agreement: a,
    month,
    measured: false,
    version: version?.number ?? null,
    dueDate: null,
    dueAt: null,
    report: null,
    objectives: [],
    score: pooled.score,
    status: (OBJECTIVE_STATUSES.find((s) => statuses.includes(s)) as ObjectiveStatus | undefined) ?? null,
    compliance: pooled.compliance,
    creditPercent: 0,
    creditAmount: pooled.creditAmount,
    disputed: scored.some(isDisputed),
    creditProvisional: scored.some(isDisputed),
    phase: null,
    closedAt: null,
    lateDataAt: null,
  };
}

/** An agreement (or, for a container, its measured descendants) over a window. */
export async function agreementCompliance(ctx: Context, a: Agreement, from: Month, to: Month): Promise<AgreementCompliance> {
  const months = windowMonths(from, to);
  const budgetFrom = addMonths(to, -11);
  const loadFrom = compareMonths(budgetFrom, from) < 0 ? budgetFrom : from;
  const agreements = await withDescendants(ctx, [a]);
  const all = await scoreMonths(ctx, await measuredMonths(ctx, agreements, windowMonths(loadFrom, to)), ctx.request.now);
  const inside = all.filter((s) => compareMonths(s.month, from) >= 0);
  const pooled = pool(inside);
  const s = series(inside, months);
  const version = versionAt(await ctx.loaders.versionsByAgreement.load(a.id), to);
  return {
    agreement: a,
    from,
    to,
    ...pooled.compliance,
    score: pooled.score,
    creditAmount: pooled.creditAmount,
    errorBudget: version ? budgetAt(all, to, version.complianceTarget) : null,
    trend: { slope: s.trend.slope, direction: s.trend.direction as TrendDirection | null },
    series: s.points.map(monthScore),
  };
}

/** The measured agreements a department provides or receives, pooled over a window. */
export function departmentScorecard(ctx: Context, d: Department, from: Month, to: Month, as: PartyRole, detail: AgreementDetail = 'entity'): Promise<Scorecard> {
  windowMonths(from, to);
  let loader = departmentBatches.get(ctx.em);
  if (!loader) departmentBatches.set(ctx.em, (loader = departmentScorecardLoader(ctx)));
  return loader.load(`${as}|${from}|${to}|${detail}|${d.id}`);
}

/**
 * The department scorecards of a request, batched (a page of departments, each with its
 * scorecard): one roll-up per window and role for all of them ({@link ledgerRollups}), so the
 * statements do not grow with the page. Keyed by the request's EntityManager.
 */
const departmentBatches = new WeakMap<object, DataLoader<string, Scorecard>>();

function departmentScorecardLoader(ctx: Context): DataLoader<string, Scorecard> {
  return new DataLoader<string, Scorecard>(async (keys) => {
    const groups = new Map<string, string[]>();
    for (const k of keys) {
      const [as, from, to, detail, id] = k.split('|');
      const window = `${as}|${from}|${to}|${detail}`;
      groups.set(window, [...(groups.get(window) ?? []), id]);
    }
    const out = new Map<string, Promise<Scorecard>>();
    for (const [window, ids] of groups) {
      const [as, from, to, detail] = window.split('|');
      const provider = as === PartyRole.PROVIDER;
      const rollups = await ledgerRollups(
        ctx,
        { column: provider ? 'provider_id' : 'customer_id', agreements: (id) => (provider ? ctx.loaders.agreementsByProvider : ctx.loaders.agreementsByCustomer).load(id) },
        [...new Set(ids)],
        windowMonths(from, to),
      );
      for (const [id, r] of rollups) out.set(`${window}|${id}`, scorecardOf(ctx, r, from, to, detail as AgreementDetail));
    }
    return Promise.all(keys.map((k) => out.get(k) as Promise<Scorecard>));
  });
}

/** {@link departmentScorecard} for one department alone, as it was before the batch: the same-run baseline of `bench/org-lists.ts`. */
export function departmentScorecardAlone(ctx: Context, d: Department, from: Month, to: Month, as: PartyRole): Promise<Scorecard> {
  return rollup(
    ctx,
    {
      where: `${as === PartyRole.PROVIDER ? 'provider_id' : 'customer_id'} = ?`,
      params: [d.id],
      agreements: () => (as === PartyRole.PROVIDER ? ctx.loaders.agreementsByProvider : ctx.loaders.agreementsByCustomer).load(d.id),
    },
    from,
    to,
  );
}

/** Every measured agreement-month of the organisation over a window. */
export function organisationScorecard(ctx: Context, from: Month, to: Month, detail: AgreementDetail = 'entity'): Promise<Scorecard> {
  windowMonths(from, to);
  return rollup(ctx, { where: '1 = 1', params: [], agreements: () => measurable(ctx) }, from, to, detail);
}

/** The measured agreement-months of a tier (CORPORATE: the organisation). */
export function tierScorecard(ctx: Context, tier: Tier, from: Month, to: Month, detail: AgreementDetail = 'entity'): Promise<Scorecard> {
  windowMonths(from, to);
  const only = tier === Tier.CORPORATE ? null : tier;
  return rollup(ctx, { where: only ? 'tier = ?' : '1 = 1', params: only ? [only] : [], agreements: () => measurable(ctx, only ?? undefined) }, from, to, detail);
}

/** The objective statuses `atRisk` lists, worst first. */
const RISK_STATUSES = ['BREACHED', 'NO_DATA', 'AT_RISK'] as const;
const riskRank = (s: string) => (RISK_STATUSES as readonly string[]).indexOf(s);

/** `atRisk`'s order: worst status, then lowest attainment, then agreement key, then metric code (stable otherwise). */
function byRisk(items: RiskItem[]): RiskItem[] {
  return items.sort(
    (x, y) =>
      riskRank(x.objective.status) - riskRank(y.objective.status) ||
      (x.objective.attainment ?? 0) - (y.objective.attainment ?? 0) ||
      x.agreement.key.localeCompare(y.agreement.key) ||
      x.objective.metric.code.localeCompare(y.objective.metric.code),
  );
}

/**
 * The objective-months of a month that are BREACHED, NO_DATA or AT_RISK, worst first, read from
 * the score ledger's objective rows (DESIGN §8 read side): one statement finds them among the
 * month's rows whose stored evaluation holds at the request's instant, with the months whose does
 * not; those few are scored again on the spot. Then their agreements and metrics, one batch each.
 * Past the ledger's horizon everything is scored on the spot ({@link atRiskRescored}).
 */
export async function atRisk(ctx: Context, month: Month): Promise<RiskItem[]> {
  const found = await riskRows(ctx, month);
  if (!found) return atRiskRescored(ctx, month);
  const { objectives, stale } = found;
  const ids = [...new Set(objectives.map((o) => String(o.agreement_id)))];
  const metricIds = [...new Set(objectives.map((o) => String(o.metric_id)))];
  const [agreements, metrics, rescored] = await Promise.all([
    loadManyOrThrow(ctx.loaders.agreementById, ids),
    loadManyOrThrow(ctx.loaders.metricById, metricIds),
    stale.length
      ? ctx.em
          .find(Agreement, { id: { $in: stale } }, { orderBy: { key: 'asc' }, connectionType: readConnectionType(ctx.em) })
          .then(async (list) => riskItemsOf(await scoreMonths(ctx, await measuredMonths(ctx, list, [month]), ctx.request.now), month))
      : [],
  ]);
  const agreementById = new Map(ids.map((id, i) => [id, agreements[i] as Agreement]));
  const metricById = new Map(metricIds.map((id, i) => [id, metrics[i] as Metric]));
  const items: RiskItem[] = objectives.map((o) => {
    const agreement = agreementById.get(String(o.agreement_id)) as Agreement;
    const metric = metricById.get(String(o.metric_id)) as Metric;
    const objective = Object.assign(new ObjectiveScore(), {
      inheritedFromId: o.inherited_from_id == null ? null : String(o.inherited_from_id),
      agreementId: agreement.id,
      month,
      // The baseline reads the history the month was scored with: this month alone, as the live path.
      history: [],
      objectiveId: String(o.objective_id),
      metric,
      source: metric.source,
      target: Number(o.target),
      warning: numOrNull(o.warning),
      weight: Number(o.weight),
      creditPercent: Number(o.credit_percent),
      // Only ended months have these statuses (rule 0): the stored input is the month's value.
      value: numOrNull(o.input_value),
      valueSoFar: null,
      status: String(o.status) as ObjectiveStatus,
      attainment: numOrNull(o.attainment),
      excused: isTrue(o.excused),
    });
    return { agreement, month, objective };
  });
  // In the live path's order before the sort (agreement key, then position), so that ties stay as they were.
  const ordered = items
    .map((item, i) => ({ item, position: Number(objectives[i].position) }))
    .sort((x, y) => x.item.agreement.key.localeCompare(y.item.agreement.key) || x.position - y.position)
    .map((x) => x.item);
  return byRisk([...ordered, ...rescored].sort((x, y) => x.agreement.key.localeCompare(y.agreement.key)));
}

/**
 * The month's objective rows at risk whose month's stored evaluation holds at the request's
 * instant, and the agreements whose does not (or null past the horizon, where the ledger has no rows).
 */
async function riskRows(ctx: Context, month: Month): Promise<{ objectives: Array<Record<string, unknown>>; stale: string[] } | null> {
  const sql = sqlOf(ctx.em, { read: true });
  const [state] = await sql.rows<{ horizon: string | null }>('select horizon from ledger_state where id = 1');
  if (!state?.horizon || compareMonths(month, state.horizon) > 0) return null;
  const t = sql.date(ctx.request.now);
  const yes = bool(sql, true);
  const no = bool(sql, false);
  const holds = '((m.closed = ? and m.closed_at <= ?) or (m.closed = ? and m.computed_at <= ? and (m.valid_until is null or m.valid_until > ?)))';
  const holdsParams = [yes, t, no, t, t];
  // One statement: the objective rows at risk of the rows that hold (worst status rank at most
  // AT_RISK), and one row with no objective for each month that does not hold.
  const rows = await sql.rows<Record<string, unknown>>(
    `select m.agreement_id, case when ${holds} then 1 else 0 end as holds, o.objective_id, o.position, o.metric_id, o.inherited_from_id, o.target, o.warning, o.weight,
       o.credit_percent, o.input_value, o.excused, o.status, o.attainment
     from ledger_month m left join ledger_objective o on o.agreement_id = m.agreement_id and o.month = m.month and o.deleted = ? and o.status in (?, ?, ?) and ${holds}
     where m.deleted = ? and m.month = ? and (m.status_rank <= ? or not ${holds})`,
    [...holdsParams, no, ...RISK_STATUSES, ...holdsParams, no, month, STATUS_RANK.AT_RISK, ...holdsParams],
  );
  const stale = [...new Set(rows.filter((r) => !isTrue(r.holds)).map((r) => String(r.agreement_id)))];
  return { objectives: rows.filter((r) => isTrue(r.holds) && r.objective_id != null), stale };
}

function riskItemsOf(scored: ScoredMonth[], month: Month): RiskItem[] {
  return scored.flatMap((m) => m.objectives.filter((o) => riskRank(o.result.status) >= 0).map((o) => ({ agreement: m.agreement, month, objective: objectiveScore(o, m.agreement.id, month, scored) })));
}

/**
 * {@link atRisk} scored from the facts (the agreements the ledger names, or every one past its
 * horizon): where the ledger does not reach, and the same-run baseline of `bench/org-lists.ts`.
 */
export async function atRiskRescored(ctx: Context, month: Month): Promise<RiskItem[]> {
  // The ledger narrows the month to the agreements with something at risk (or to score again).
  const candidates = await riskCandidates(ctx, month);
  const agreements =
    candidates === null
      ? await measurable(ctx)
      : candidates.length
        ? await ctx.em.find(Agreement, { id: { $in: candidates } }, { orderBy: { key: 'asc' }, connectionType: readConnectionType(ctx.em) })
        : [];
  const scored = await scoreMonths(ctx, await measuredMonths(ctx, agreements, [month]), ctx.request.now);
  return byRisk(riskItemsOf(scored, month));
}

/** The suggested target of an objective-month (DESIGN §4.10), from the history it was scored with. */
export function baselineOf(o: ObjectiveScore): BaselineView | null {
  return baselineFor(o.history, o.agreementId, o.metric.id, o.month);
}
