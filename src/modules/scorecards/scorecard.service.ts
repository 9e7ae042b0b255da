import { type Abandonable, breathe, mapBreathing } from '../../common/bounds';
import { monthEndsAt } from '../../common/working-time';
import { measuredInMonth } from '../../scoring/measured';
import { addMonths, compareMonths, type Month } from '../../common/month';
import type { Context } from '../../common/context';
import {
  type AgreementMonthResult,
  baselineSuggestion,
  type BaselineSuggestion,
  type Compliance,
  compliance as complianceOf,
  ERROR_BUDGET_MONTHS,
  errorBudget,
  type ObjectiveMonthInput,
  type ObjectiveMonthResult,
  OBJECTIVE_STATUSES,
  rollUp,
  scoreAgreementMonth,
  trend,
  type Trend,
} from '../../scoring';
import { Agreement, AgreementVersion, Objective, Tier } from '../agreements/agreement.entity';
import { versionAt } from '../agreements/agreement.rules';
import { Metric, MetricSource } from '../catalog/metric.entity';
import type { ReportRow } from './scorecard.loaders';
import { dueFor, type MonthObjective, objectivesAt } from '../reports/report.service';
import { automatedValues } from './automated';
import { closeInstant, type LedgerReportState, type MonthPhase } from '../../scoring/ledger';
import type { LedgerRecord } from '../ledger/ledger.rows';
import { loadManyOrThrow } from '../../common/loaders';

/** One effective objective of an agreement-month, with its value and its result under DESIGN §4. */
export interface ScoredObjective {
  objective: Objective;
  metric: Metric;
  inheritedFrom: string | null;
  /** The month's value once it has ended (rule 0); null before. */
  value: number | null;
  /** An AUTOMATED objective's value measured so far in a month that has not ended; null otherwise. */
  valueSoFar: number | null;
  excused: boolean;
  result: ObjectiveMonthResult;
}

/** A scored month of a measured agreement. */
export interface ScoredMonth {
  agreement: Agreement;
  month: Month;
  version: AgreementVersion;
  dueDate: string;
  dueAt: Date;
  /** When the month ends in the agreement's time zone; before it, everything is PENDING (rule 0). */
  monthEndsAt: Date;
  report: ReportRow | null;
  objectives: ScoredObjective[];
  result: AgreementMonthResult;
  /** RUNNING before the month ends, ENDED until it closes, CLOSED once closed (DESIGN §5). */
  phase: MonthPhase;
  /** When it closed; its results are then the frozen ones of the score ledger. */
  closedAt: Date | null;
  /** When data arrived for it after it closed (kept, not counted until a reopening). */
  lateDataAt: Date | null;
}

/** An agreement-month to score: a measured agreement, ACTIVE in the month, and its terms then. */
export interface MeasuredMonth {
  agreement: Agreement;
  month: Month;
  version: AgreementVersion;
}

/**
 * The measured agreement-months among `agreements` over `months` (DESIGN §3): CUSTOMER or
 * SERVICE agreements ACTIVE in the month with no agreement under them ACTIVE in it. Batched:
 * versions and children of the whole list are loaded together.
 */
export async function measuredMonths(ctx: Pick<Context, 'loaders'>, agreements: Agreement[], months: Month[]): Promise<MeasuredMonth[]> {
  const candidates = agreements.filter((a) => a.tier !== Tier.CORPORATE && a.activatedAt);
  if (!candidates.length) return [];
  const [versions, children] = await Promise.all([
    loadManyOrThrow(
      ctx.loaders.versionsByAgreement,
      candidates.map((a) => a.id),
    ),
    loadManyOrThrow(
      ctx.loaders.agreementChildren,
      candidates.map((a) => a.id),
    ),
  ]);
  const kids = (children as Agreement[][]).map((list) => list.filter((c) => c.activatedAt));
  const kidVersions = new Map<string, AgreementVersion[]>();
  const allKids = kids.flat();
  (
    await loadManyOrThrow(
      ctx.loaders.versionsByAgreement,
      allKids.map((c) => c.id),
    )
  ).forEach((v, i) => kidVersions.set(allKids[i].id, v));
  const out: MeasuredMonth[] = [];
  for (const [i, agreement] of candidates.entries()) {
    await breathe(requestOf(ctx));
    const vs = versions[i];
    const children = kids[i].map((c) => ({ agreement: c, versions: kidVersions.get(c.id) ?? [] }));
    for (const month of months) {
      if (measuredInMonth(agreement, vs, children, month)) out.push({ agreement, month, version: versionAt(vs, month) as AgreementVersion });
    }
  }
  return out;
}

/**
 * Scores agreement-months with the pure rules of `src/scoring` at instant `now`. Every fact is
 * loaded in batches for the whole list (objectives by tree level, reports, latest values,
 * exclusions and automated values per window), so the statements do not grow with the list.
 */
export async function scoreMonths(
  ctx: Pick<Context, 'loaders'>,
  items: MeasuredMonth[],
  now: Date,
  window?: { from: Month; to: Month },
  options: { frozen?: boolean; closeNotBefore?: ReadonlyMap<string, Date> } = {},
): Promise<ScoredMonth[]> {
  if (!items.length) return [];
  // The window the facts are loaded for: the items' own, or a caller's wider one whose loads are
  // already cached (a facts page scores a slice of a window it has read).
  const from = window?.from ?? items.reduce((m, i) => (compareMonths(i.month, m) < 0 ? i.month : m), items[0].month);
  const to = window?.to ?? items.reduce((m, i) => (compareMonths(i.month, m) > 0 ? i.month : m), items[0].month);
  const ids = [...new Set(items.map((i) => i.agreement.id))];
  const keys = ids.map((id) => `${id}|${from}|${to}`);
  const [reports, values, exclusions, objectiveLists, closedLists] = await Promise.all([
    loadManyOrThrow(ctx.loaders.reportsInWindow, keys),
    loadManyOrThrow(ctx.loaders.latestValuesInWindow, keys),
    loadManyOrThrow(ctx.loaders.approvedExclusionsInWindow, keys),
    effectiveObjectivesOf(ctx, items),
    options.frozen === false ? Promise.resolve([]) : loadManyOrThrow(ctx.loaders.closedMonthsInWindow, keys),
  ]);
  // Closed months (DESIGN §5) are shown as they froze, whatever arrived later.
  const closedBy = new Map<string, LedgerRecord>();
  for (const list of closedLists) {
    if (list instanceof Error) throw list;
    for (const r of list) if (r.closedAt && r.closedAt.getTime() <= now.getTime()) closedBy.set(`${r.agreementId}|${r.month}`, r);
  }
  const reportBy = new Map<string, ReportRow>();
  const valueBy = new Map<string, number>();
  const excused = new Set<string>();
  ids.forEach((id, i) => {
    for (const r of reports[i]) reportBy.set(`${id}|${r.month}`, r);
    for (const v of values[i]) valueBy.set(`${id}|${v.month}|${v.objectiveId}`, v.value);
    for (const e of exclusions[i]) excused.add(`${id}|${e.month}|${e.objectiveId}`);
  });
  // A month closed by the rules at `now` is scored at its close instant, with what it had then (an
  // unanswered escalation missing its deadline after the close does not count against it).
  const timing = items.map((item, i) => {
    const due = dueFor(item.agreement, item.version, item.month);
    const endsAt = monthEndsAt(item.version.calendar, item.month);
    const ended = now.getTime() >= endsAt.getTime();
    const key = `${item.agreement.id}|${item.month}`;
    const close = closedByNow(objectiveLists[i], reportBy.get(key) ?? null, due.dueAt, endsAt, now, ended, options.closeNotBefore?.get(key) ?? null);
    return { due, endsAt, ended, close, at: close.closedAt ?? now };
  });
  const atOf = new Map(items.map((item, i) => [`${item.agreement.id}|${item.month}`, timing[i].at]));
  const automatedMetrics = new Map(
    objectiveLists
      .flat()
      .filter((o) => o.metric.source === MetricSource.AUTOMATED)
      .map((o) => [o.metric.code, o.metric]),
  );
  const automated = await automatedValues(
    ctx,
    automatedMetrics.values(),
    items.map((i) => ({ agreementId: i.agreement.id, month: i.month })),
    { from, to, now, at: (key) => atOf.get(key) ?? now },
  );

  // Thousands of agreement-months are scored in slices, giving the event loop back in between.
  return mapBreathing(
    items,
    (item, i) => {
      const id = item.agreement.id;
      const { due, endsAt, ended, close, at: scoredAt } = timing[i];
      const objectives = objectiveLists[i];
      const inputs: ObjectiveMonthInput[] = objectives.map((o) => ({
        direction: o.metric.direction,
        target: o.objective.target,
        warning: o.objective.warning ?? null,
        weight: o.objective.weight,
        creditPercent: o.objective.creditPercent,
        value: (o.metric.source === MetricSource.MANUAL ? valueBy.get(`${id}|${item.month}|${o.objective.id}`) : automated.get(o.metric.code)?.get(`${id}|${item.month}`)) ?? null,
        excused: excused.has(`${id}|${item.month}|${o.objective.id}`),
        dueAt: due.dueAt,
        monthEndsAt: endsAt,
      }));
      const result = scoreAgreementMonth(
        { month: item.month, objectives: inputs, complianceTarget: item.version.complianceTarget, creditCapPercent: item.version.creditCapPercent, monthlyCharge: item.version.monthlyCharge },
        scoredAt,
      );
      const frozen = closedBy.get(`${id}|${item.month}`);
      if (frozen) {
        const at = new Map(frozen.input.objectives.map((o, k) => [o.objectiveId, k]));
        return {
          ...item,
          dueDate: frozen.dueDate,
          dueAt: frozen.input.dueAt,
          monthEndsAt: frozen.input.monthEndsAt,
          report: reportBy.get(`${id}|${item.month}`) ?? null,
          objectives: objectives.flatMap((o) => {
            const k = at.get(o.objective.id);
            if (k === undefined) return [];
            return [
              {
                objective: o.objective,
                metric: o.metric,
                inheritedFrom: o.inheritedFrom,
                value: frozen.input.objectives[k].value,
                valueSoFar: null,
                excused: frozen.input.objectives[k].excused,
                result: frozen.result.objectives[k],
              },
            ];
          }),
          result: frozen.result,
          phase: 'CLOSED' as const,
          closedAt: frozen.closedAt,
          lateDataAt: frozen.lateDataAt,
        };
      }
      return {
        ...item,
        dueDate: due.dueDate,
        dueAt: due.dueAt,
        monthEndsAt: endsAt,
        report: reportBy.get(`${id}|${item.month}`) ?? null,
        objectives: objectives.map((o, k) => ({
          objective: o.objective,
          metric: o.metric,
          inheritedFrom: o.inheritedFrom,
          value: ended ? inputs[k].value : null,
          valueSoFar: !ended && o.metric.source === MetricSource.AUTOMATED ? inputs[k].value : null,
          excused: inputs[k].excused,
          result: result.objectives[k],
        })),
        result,
        // Closed by the rules at `now` though not recorded yet (the scheduler is behind): shown
        // closed from its close instant, with the results it closes with.
        ...close,
        lateDataAt: null,
      };
    },
    requestOf(ctx),
  );
}

/** What the close rules read of a month's report: none while it is only a draft. */
export function reportStateOf(report: ReportRow | null): LedgerReportState | null {
  return report && report.status !== 'DRAFT' ? { status: report.status, acknowledgedAt: report.acknowledgedAt, acceptanceDueAt: report.acceptanceDueAt, deemed: report.deemed } : null;
}

/** The phase at `now` of a month with no recorded close, and its close instant once that has passed. */
function closedByNow(
  objectives: MonthObjective[],
  report: ReportRow | null,
  dueAt: Date,
  endsAt: Date,
  now: Date,
  ended: boolean,
  notBefore: Date | null,
): { phase: MonthPhase; closedAt: Date | null } {
  if (!ended) return { phase: 'RUNNING', closedAt: null };
  const at = closeInstant(
    {
      dueAt,
      monthEndsAt: endsAt,
      hasManual: objectives.some((o) => o.metric.source === MetricSource.MANUAL),
      report: reportStateOf(report),
    },
    notBefore,
  );
  return at && at.getTime() <= now.getTime() ? { phase: 'CLOSED', closedAt: at } : { phase: 'ENDED', closedAt: null };
}

/** The request info of a full context (to stop abandoned work), if the caller passed one. */
function requestOf(ctx: Pick<Context, 'loaders'>): Abandonable | undefined {
  return (ctx as Partial<Context>).request;
}

/**
 * The effective objectives of each item, computed once per distinct chain of versions in force
 * (an agreement's months under the same terms, its own and its ancestors', share them): a year
 * of 2,000 agreements needs about 2,000 chains, not 24,000.
 */
async function effectiveObjectivesOf(ctx: Pick<Context, 'loaders'>, items: MeasuredMonth[]): Promise<MonthObjective[][]> {
  const agreements = new Map<string, Agreement>();
  for (let layer = [...new Map(items.map((i) => [i.agreement.id, i.agreement])).values()]; layer.length;) {
    for (const a of layer) agreements.set(a.id, a);
    const parents = [...new Set(layer.map((a) => a.parent?.id).filter((id): id is string => !!id && !agreements.has(id)))];
    layer = (await loadManyOrThrow(ctx.loaders.agreementById, parents)).filter((a): a is Agreement => !!a);
  }
  const ids = [...agreements.keys()];
  const versions = new Map((await loadManyOrThrow(ctx.loaders.versionsByAgreement, ids)).map((v, i) => [ids[i], v]));
  const chains = new Map<string, Promise<MonthObjective[]>>();
  return Promise.all(
    items.map((item) => {
      const parts: string[] = [];
      for (let a: Agreement | undefined = item.agreement, depth = 0; a && depth < 5; depth++) {
        parts.push(`${a.id}:${versionAt(versions.get(a.id) ?? [], item.month)?.id ?? '-'}`);
        a = a.parent ? agreements.get(a.parent.id) : undefined;
      }
      const key = parts.join('|');
      let chain = chains.get(key);
      if (!chain) chains.set(key, (chain = objectivesAt(ctx, item.agreement, item.month)));
      return chain;
    }),
  );
}

/** Pooled results of a set of scored agreement-months (rule 9: objective-months, never averages). */
export interface Pooled {
  agreementMonths: number;
  score: number | null;
  compliance: Compliance;
  creditAmount: number;
  /** Agreement-months whose latest revision is disputed (DESIGN §5): their results stand on contested values. */
  disputedMonths: number;
  /** The part of `creditAmount` owed by disputed months: it may still change. */
  provisionalCreditAmount: number;
}

/** Whether a scored month's report is disputed (its latest revision). */
export const isDisputed = (m: Pick<ScoredMonth, 'report' | 'phase'>): boolean => m.phase !== 'CLOSED' && m.report?.status === 'DISPUTED';

export function pool(months: ScoredMonth[]): Pooled {
  const pooled = rollUp(months.map((m) => ({ objectives: m.result.objectives })));
  const credit = months.reduce((sum, m) => sum + m.result.credit.amount, 0);
  const disputed = months.filter(isDisputed);
  const provisional = disputed.reduce((sum, m) => sum + m.result.credit.amount, 0);
  return {
    agreementMonths: months.length,
    score: pooled.score,
    compliance: pooled.compliance,
    creditAmount: Math.round(credit * 1e9) / 1e9,
    disputedMonths: disputed.length,
    provisionalCreditAmount: Math.round(provisional * 1e9) / 1e9,
  };
}

/** One month of a series: the pooled results of the agreement-months in it. */
export interface SeriesPoint extends Pooled {
  month: Month;
  status: string | null;
}

/** Month by month over `months` (empty months included, with a null score), and its trend (rule 8). */
export function series(scored: ScoredMonth[], months: Month[]): { points: SeriesPoint[]; trend: Trend } {
  const byMonth = new Map<Month, ScoredMonth[]>(months.map((m) => [m, []]));
  for (const s of scored) byMonth.get(s.month)?.push(s);
  const points = months.map((month) => {
    const list = byMonth.get(month) ?? [];
    const statuses = list.map((s) => s.result.status).filter((x): x is NonNullable<typeof x> => !!x);
    return { month, ...pool(list), status: statuses.length ? (OBJECTIVE_STATUSES.find((st) => statuses.includes(st)) ?? null) : null };
  });
  return { points, trend: trend(points.map((p) => ({ month: p.month, score: p.score }))) };
}

/** Rolling error budget (rule 6) over the 12 months ending at `to`, with the target in force then. */
export function budgetAt(scored: ScoredMonth[], to: Month, complianceTarget: number) {
  const from = addMonths(to, -(ERROR_BUDGET_MONTHS - 1));
  const inside = scored.filter((s) => compareMonths(s.month, from) >= 0 && compareMonths(s.month, to) <= 0);
  const c = complianceOf(inside.flatMap((s) => s.result.objectives.map((o) => o.status)));
  return { month: to, from, complianceTarget, evaluated: c.evaluated, breaches: c.breaches, ...errorBudget(complianceTarget, c) };
}

/** Baseline suggestion (rule 10) for a metric of an agreement from its scored history up to `month`. */
export function baselineFor(history: ScoredMonth[], agreementId: string, metricId: string, month: Month): BaselineSuggestion | null {
  const values = history
    .filter((s) => s.agreement.id === agreementId && compareMonths(s.month, month) <= 0)
    .flatMap((s) => s.objectives.filter((o) => o.metric.id === metricId && o.value !== null).map((o) => ({ month: s.month, value: o.value as number })));
  return baselineSuggestion(values);
}

/** Every measured agreement's subtree: the agreement itself if measured, else its measured descendants. */
export async function withDescendants(ctx: Pick<Context, 'loaders'>, roots: Agreement[]): Promise<Agreement[]> {
  const out = new Map<string, Agreement>();
  let layer = roots;
  for (let depth = 0; layer.length && depth < 5; depth++) {
    for (const a of layer) out.set(a.id, a);
    layer = (
      await loadManyOrThrow(
        ctx.loaders.agreementChildren,
        layer.map((a) => a.id),
      )
    ).flat();
  }
  return [...out.values()];
}
