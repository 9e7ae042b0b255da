/**
 * The scorecard views: each query's answer built from the scored months (scorecard.service.ts) and
 * the ledger's roll-ups (ledger-rollup.ts). The resolvers only pass arguments here.
 */
import type { Context } from '../../common/context';
import { addMonths, compareMonths, type Month } from '../../common/month';
import { windowMonths } from '../../common/month-window';
import { OBJECTIVE_STATUSES, type ObjectiveStatus as Status } from '../../scoring';
import { Agreement, Tier } from '../agreements/agreement.entity';
import { versionAt } from '../agreements/agreement.rules';
import { Department } from '../departments/department.entity';
import { ledgerRollup, riskCandidates, type RollupScope, Sums } from './ledger-rollup';
import { baselineFor, budgetAt, isDisputed, measuredMonths, pool, type ScoredMonth, type ScoredObjective, scoreMonths, series, type SeriesPoint, withDescendants } from './scorecard.service';
import {
  type AgreementCompliance,
  type AgreementScorecard,
  type BaselineView,
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
    scored: s,
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

/** A roll-up of the measured agreement-months in `scope` over a window, read from the score ledger. */
export async function rollup(ctx: Context, scope: RollupScope, from: Month, to: Month): Promise<Scorecard> {
  const months = windowMonths(from, to);
  const r = await ledgerRollup(ctx, scope, months);
  const byDept = new Map<string, Sums>();
  const byTier = new Map<string, Sums>();
  for (const { providerId, tier, sums } of r.byAgreement.values()) {
    for (const [map, key] of [
      [byDept, providerId],
      [byTier, tier],
    ] as const) {
      const into = map.get(key) ?? new Sums();
      into.addRow({
        n: sums.months,
        sw: sums.weighted,
        w: sums.weight,
        sc: sums.scored,
        e: sums.evaluated,
        m: sums.met,
        b: sums.breaches,
        c: sums.credit,
        dm: sums.disputed,
        pc: sums.provisional,
        r: sums.worst,
      });
      map.set(key, into);
    }
  }
  // One statement each, whatever the number of agreements and departments.
  const ids = [...r.byAgreement.keys()];
  const agreements = ids.length ? await ctx.em.find(Agreement, { id: { $in: ids } }) : [];
  const departments = byDept.size ? await ctx.em.find(Department, { id: { $in: [...byDept.keys()] } }) : [];
  const deptById = new Map(departments.map((d) => [d.id, d]));
  const agreementsById = new Map(agreements.map((a) => [a.id, a]));
  const empty = { department: null, agreement: null, tier: null };
  return {
    from,
    to,
    ...r.total.pooled(),
    trend: { slope: r.series.trend.slope, direction: r.series.trend.direction as TrendDirection | null },
    series: r.series.points.map((p) => ({ month: p.month, ...p.sums.pooled(), status: p.sums.status() as ObjectiveStatus | null })),
    byDepartment: [...byDept]
      .map(([id, sums]) => ({ ...empty, department: deptById.get(id) ?? null, ...sums.pooled() }))
      .sort((a, b) => (a.department?.code ?? '').localeCompare(b.department?.code ?? '')),
    byTier: [...byTier].map(([tier, sums]) => ({ ...empty, tier: tier as Tier, ...sums.pooled() })).sort((a, b) => String(a.tier).localeCompare(String(b.tier))),
    byAgreement: [...r.byAgreement]
      .map(([id, { sums }]) => ({ ...empty, agreement: agreementsById.get(id) ?? null, ...sums.pooled() }))
      .sort((a, b) => (a.agreement?.key ?? '').localeCompare(b.agreement?.key ?? '')),
  };
}

/** Agreements that may have measured months: CUSTOMER and SERVICE ones ever activated. */
export function measurable(ctx: Context, tier?: Tier): Promise<Agreement[]> {
  return ctx.em.find(Agreement, { tier: tier ? tier : { $in: [Tier.CUSTOMER, Tier.SERVICE] }, activatedAt: { $ne: null } }, { orderBy: { key: 'asc' } });
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
export function departmentScorecard(ctx: Context, d: Department, from: Month, to: Month, as: PartyRole): Promise<Scorecard> {
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
export function organisationScorecard(ctx: Context, from: Month, to: Month): Promise<Scorecard> {
  windowMonths(from, to);
  return rollup(ctx, { where: '1 = 1', params: [], agreements: () => measurable(ctx) }, from, to);
}

/** The measured agreement-months of a tier (CORPORATE: the organisation). */
export function tierScorecard(ctx: Context, tier: Tier, from: Month, to: Month): Promise<Scorecard> {
  windowMonths(from, to);
  const only = tier === Tier.CORPORATE ? null : tier;
  return rollup(ctx, { where: only ? 'tier = ?' : '1 = 1', params: only ? [only] : [], agreements: () => measurable(ctx, only ?? undefined) }, from, to);
}

/** The objective-months of a month that are BREACHED, NO_DATA or AT_RISK, worst first. */
export async function atRisk(ctx: Context, month: Month): Promise<RiskItem[]> {
  // The ledger narrows the month to the agreements with something at risk (or to score again).
  const candidates = await riskCandidates(ctx, month);
  const agreements = candidates === null ? await measurable(ctx) : candidates.length ? await ctx.em.find(Agreement, { id: { $in: candidates } }, { orderBy: { key: 'asc' } }) : [];
  const scored = await scoreMonths(ctx, await measuredMonths(ctx, agreements, [month]), ctx.request.now);
  const rank = (s: string) => ['BREACHED', 'NO_DATA', 'AT_RISK'].indexOf(s);
  return scored
    .flatMap((m) => m.objectives.filter((o) => rank(o.result.status) >= 0).map((o) => ({ agreement: m.agreement, month, objective: objectiveScore(o, m.agreement.id, month, scored) })))
    .sort(
      (x, y) =>
        rank(x.objective.status) - rank(y.objective.status) ||
        (x.objective.attainment ?? 0) - (y.objective.attainment ?? 0) ||
        x.agreement.key.localeCompare(y.agreement.key) ||
        x.objective.metric.code.localeCompare(y.objective.metric.code),
    );
}

/** The suggested target of an objective-month (DESIGN §4.10), from the history it was scored with. */
export function baselineOf(o: ObjectiveScore): BaselineView | null {
  return baselineFor(o.history, o.agreementId, o.metric.id, o.month);
}
