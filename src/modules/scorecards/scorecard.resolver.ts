import { Arg, Authorized, Ctx, Field, FieldResolver, Float, ID, Int, ObjectType, Query, Resolver, registerEnumType, Root } from 'type-graphql';
import { addMonths, compareMonths, monthOf, type Month } from '../../common/month';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import type { Context } from '../../context';
import { assertAsOf } from '../../common/bounds';
import { OBJECTIVE_STATUSES, type ObjectiveStatus as Status } from '../../scoring';
import { Agreement, AgreementStatus, AgreementVersion, Tier } from '../agreements/agreement.entity';
import { versionAt } from '../agreements/agreement.service';
import { ObjectiveTermsFields } from '../agreements/agreement.resolver';
import { MetricSource } from '../catalog/metric.entity';
import { Department } from '../departments/department.entity';
import { Report } from '../reports/report.entity';
import {
  baselineFor,
  budgetAt,
  isDisputed,
  measuredMonths,
  pool,
  type ScoredMonth,
  type ScoredObjective,
  scoreMonths,
  series,
  type SeriesPoint,
  windowMonths,
  withDescendants,
} from './scorecard.service';
import { ledgerRollup, riskCandidates, type RollupScope, Sums } from './ledger-rollup';

export enum ObjectiveStatus {
  MET = 'MET',
  AT_RISK = 'AT_RISK',
  BREACHED = 'BREACHED',
  NO_DATA = 'NO_DATA',
  PENDING = 'PENDING',
  EXCUSED = 'EXCUSED',
}
registerEnumType(ObjectiveStatus, {
  name: 'ObjectiveStatus',
  description: 'DESIGN §4.1; for a set, the worst of its objectives (BREACHED, NO_DATA, AT_RISK, MET, then PENDING, EXCUSED).',
  valuesConfig: {
    PENDING: { description: 'No value yet, and the report is not due yet.' },
    NO_DATA: { description: 'No value, and the report is overdue: scored as attainment 0 and a breach.' },
    EXCUSED: { description: 'An APPROVED exclusion covers it: not scored.' },
  },
});

export enum TrendDirection {
  IMPROVING = 'IMPROVING',
  STABLE = 'STABLE',
  DECLINING = 'DECLINING',
}
registerEnumType(TrendDirection, { name: 'TrendDirection', description: 'Least-squares slope of monthly scores: above +0.5 a month IMPROVING, below −0.5 DECLINING.' });

export enum MonthPhase {
  RUNNING = 'RUNNING',
  ENDED = 'ENDED',
  CLOSED = 'CLOSED',
}
registerEnumType(MonthPhase, {
  name: 'MonthPhase',
  description: 'DESIGN §4 rule 0 and §5: where an agreement-month stands.',
  valuesConfig: {
    RUNNING: { description: 'Not ended yet (in the agreement’s time zone): everything is PENDING.' },
    ENDED: { description: 'Ended, and scored; not closed yet (its report is awaited, under review or disputed).' },
    CLOSED: { description: 'Acknowledged (or deemed so), or due with no MANUAL objective: results frozen, credit posted.' },
  },
});

export enum PartyRole {
  PROVIDER = 'PROVIDER',
  CUSTOMER = 'CUSTOMER',
}
registerEnumType(PartyRole, { name: 'PartyRole' });

@ObjectType({ description: 'DESIGN §4.4: evaluated = MET, AT_RISK, BREACHED or NO_DATA; met = MET or AT_RISK; breaches = BREACHED or NO_DATA.' })
export class ComplianceStats {
  @Field(() => Int)
  evaluated!: number;

  @Field(() => Int)
  met!: number;

  @Field(() => Int)
  breaches!: number;

  @Field(() => Float, { nullable: true, description: 'met / evaluated; null when nothing was evaluated.' })
  rate!: number | null;
}

@ObjectType()
export class TrendView {
  @Field(() => Float, { nullable: true, description: 'Score points per month; null with fewer than two scored months.' })
  slope!: number | null;

  @Field(() => TrendDirection, { nullable: true, description: 'Null with fewer than two scored months: one month is no trend (DESIGN §4 rule 8).' })
  direction!: TrendDirection | null;
}

@ObjectType({ description: 'DESIGN §4.6 over the 12 months ending at `month`.' })
export class ErrorBudgetView {
  @Field(() => MonthScalar)
  month!: Month;

  @Field(() => MonthScalar)
  from!: Month;

  @Field(() => Float)
  complianceTarget!: number;

  @Field(() => Int)
  evaluated!: number;

  @Field(() => Int)
  breaches!: number;

  @Field(() => Int, { description: 'floor((1 − complianceTarget) × evaluated).' })
  allowed!: number;

  @Field(() => Int, { description: 'allowed − breaches; negative once the budget is spent.' })
  remaining!: number;
}

@ObjectType({ description: 'DESIGN §4.10: from the last 6 values (needs 3), so targets are reasonable and achievable.' })
export class BaselineView {
  @Field(() => Float)
  median!: number;

  @Field(() => Float)
  p25!: number;

  @Field(() => Float)
  p75!: number;

  @Field(() => Int, { description: 'How many values the suggestion is based on.' })
  basedOn!: number;
}

@ObjectType({ description: 'One effective objective in one month: its terms, its value and its result.' })
export class ObjectiveScore extends ObjectiveTermsFields {
  scored!: ScoredObjective;
  agreementId!: string;
  history!: ScoredMonth[];
  month!: Month;

  @Field(() => ID, { description: 'The objective (of this agreement or of an ancestor).' })
  objectiveId!: string;

  @Field(() => MetricSource, { description: 'MANUAL: from the latest report revision; AUTOMATED: measured from events.' })
  source!: MetricSource;

  @Field(() => Float, { nullable: true, description: 'The month’s value: reported (MANUAL) or measured (AUTOMATED); null until the month has ended (DESIGN §4 rule 0).' })
  value!: number | null;

  @Field(() => Float, { nullable: true, description: 'AUTOMATED objectives of a month that has not ended: the value measured so far (not scored). Null otherwise.' })
  valueSoFar!: number | null;

  @Field(() => ObjectiveStatus)
  status!: ObjectiveStatus;

  @Field(() => Float, { nullable: true, description: '0–1; null when not scored (PENDING, EXCUSED).' })
  attainment!: number | null;

  @Field()
  excused!: boolean;
}

@ObjectType({ description: 'An agreement in one month: each effective objective, then the score, status and service credit.' })
export class AgreementScorecard {
  @Field(() => Agreement)
  agreement!: Agreement;

  @Field(() => MonthScalar)
  month!: Month;

  @Field({ description: 'Whether the agreement itself is measured in the month; otherwise the figures roll up its measured descendants (DESIGN §3).' })
  measured!: boolean;

  @Field(() => Int, { nullable: true, description: 'The version in force.' })
  version!: number | null;

  @Field(() => String, { nullable: true })
  dueDate!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  dueAt!: Date | null;

  @Field(() => Report, { nullable: true })
  report!: Report | null;

  @Field(() => [ObjectiveScore])
  objectives!: ObjectiveScore[];

  @Field(() => Float, { nullable: true, description: '100 × Σ(weight × attainment) / Σ weight over the scored objectives.' })
  score!: number | null;

  @Field(() => ObjectiveStatus, { nullable: true })
  status!: ObjectiveStatus | null;

  @Field(() => ComplianceStats)
  compliance!: ComplianceStats;

  @Field(() => Float, { description: 'Σ credit percent of BREACHED and NO_DATA objectives, capped.' })
  creditPercent!: number;

  @Field(() => Float, { description: 'monthlyCharge × creditPercent / 100.' })
  creditAmount!: number;

  @Field({ description: 'The latest revision of the month’s report (of any measured agreement below, for a container) is disputed: the results stand on contested values (DESIGN §5).' })
  disputed!: boolean;

  @Field({ description: 'The credit may still change: the month is disputed.' })
  creditProvisional!: boolean;

  @Field(() => MonthPhase, { nullable: true, description: 'RUNNING until the month ends, ENDED until it closes, CLOSED once its results are frozen (DESIGN §4 rule 0, §5); null for a container.' })
  phase!: MonthPhase | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the month closed: its statuses, score and credit have been frozen since.' })
  closedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When data first arrived for the month after it closed: kept and shown, but counted only after a reopening.' })
  lateDataAt!: Date | null;
}

/** Pooled results of a set of agreement-months; an @ObjectType so subclasses inherit its fields (the schema never shows it). */
@ObjectType('PooledFields')
export abstract class PooledFields {
  @Field(() => Int, { description: 'Measured agreement-months pooled.' })
  agreementMonths!: number;

  @Field(() => Float, { nullable: true })
  score!: number | null;

  @Field(() => ComplianceStats)
  compliance!: ComplianceStats;

  @Field(() => Float)
  creditAmount!: number;

  @Field(() => Int, { description: 'Agreement-months whose latest report revision is disputed: their results stand on contested values (DESIGN §5).' })
  disputedMonths!: number;

  @Field(() => Float, { description: 'The part of creditAmount owed by disputed months: provisional, it may still change.' })
  provisionalCreditAmount!: number;
}

@ObjectType({ description: 'The pooled results of the agreement-months of one month.' })
export class MonthScore extends PooledFields {
  @Field(() => MonthScalar)
  month!: Month;

  @Field(() => ObjectiveStatus, { nullable: true })
  status!: ObjectiveStatus | null;
}

@ObjectType({ description: 'An agreement over a window of months.' })
export class AgreementCompliance {
  @Field(() => Agreement)
  agreement!: Agreement;

  @Field(() => MonthScalar)
  from!: Month;

  @Field(() => MonthScalar)
  to!: Month;

  @Field(() => Int)
  evaluated!: number;

  @Field(() => Int)
  met!: number;

  @Field(() => Int)
  breaches!: number;

  @Field(() => Float, { nullable: true })
  rate!: number | null;

  @Field(() => Float, { nullable: true })
  score!: number | null;

  @Field(() => Float)
  creditAmount!: number;

  @Field(() => ErrorBudgetView, { nullable: true, description: 'Rolling 12 months ending at `to`; null before the agreement has terms.' })
  errorBudget!: ErrorBudgetView | null;

  @Field(() => TrendView)
  trend!: TrendView;

  @Field(() => [MonthScore])
  series!: MonthScore[];
}

@ObjectType({ description: 'The pooled results of one part of a roll-up.' })
export class Breakdown extends PooledFields {
  @Field(() => Department, { nullable: true })
  department!: Department | null;

  @Field(() => Agreement, { nullable: true })
  agreement!: Agreement | null;

  @Field(() => Tier, { nullable: true })
  tier!: Tier | null;
}

@ObjectType({ description: 'A roll-up over measured agreement-months (DESIGN §4.9: objective-months are pooled, never averages).' })
export class Scorecard extends PooledFields {
  @Field(() => MonthScalar)
  from!: Month;

  @Field(() => MonthScalar)
  to!: Month;

  @Field(() => TrendView)
  trend!: TrendView;

  @Field(() => [MonthScore])
  series!: MonthScore[];

  @Field(() => [Breakdown], { description: 'By provider department, by code.' })
  byDepartment!: Breakdown[];

  @Field(() => [Breakdown], { description: 'By the tier of the measured agreement (CUSTOMER, SERVICE).' })
  byTier!: Breakdown[];

  @Field(() => [Breakdown], { description: 'By measured agreement, by key.' })
  byAgreement!: Breakdown[];
}

@ObjectType({ description: 'An objective-month AT_RISK, BREACHED or NO_DATA.' })
export class RiskItem {
  @Field(() => Agreement)
  agreement!: Agreement;

  @Field(() => MonthScalar)
  month!: Month;

  @Field(() => ObjectiveScore)
  objective!: ObjectiveScore;
}

@ObjectType({ description: 'An agreement whose periodic review is due.' })
export class ReviewDue {
  @Field(() => Agreement)
  agreement!: Agreement;

  @Field({ description: '"YYYY-MM-DD".' })
  reviewDate!: string;

  @Field({ description: 'SCHEDULED (the version’s nextReviewDate) or CADENCE (reviewCadenceMonths after the version began or the agreement was activated).' })
  basis!: string;

  @Field(() => Int, { description: 'Days since the review date (0 on the day).' })
  daysOverdue!: number;
}

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
async function rollup(ctx: Context, scope: RollupScope, from: Month, to: Month): Promise<Scorecard> {
  const months = windowMonths(from, to);
  const r = await ledgerRollup(ctx, scope, months);
  const byDept = new Map<string, Sums>();
  const byTier = new Map<string, Sums>();
  for (const { providerId, tier, sums } of r.byAgreement.values()) {
    for (const [map, key] of [[byDept, providerId], [byTier, tier]] as const) {
      const into = map.get(key) ?? new Sums();
      into.addRow({ n: sums.months, sw: sums.weighted, w: sums.weight, sc: sums.scored, e: sums.evaluated, m: sums.met, b: sums.breaches, c: sums.credit, dm: sums.disputed, pc: sums.provisional, r: sums.worst });
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
    byDepartment: [...byDept].map(([id, sums]) => ({ ...empty, department: deptById.get(id) ?? null, ...sums.pooled() })).sort((a, b) => (a.department?.code ?? '').localeCompare(b.department?.code ?? '')),
    byTier: [...byTier].map(([tier, sums]) => ({ ...empty, tier: tier as Tier, ...sums.pooled() })).sort((a, b) => String(a.tier).localeCompare(String(b.tier))),
    byAgreement: [...r.byAgreement].map(([id, { sums }]) => ({ ...empty, agreement: agreementsById.get(id) ?? null, ...sums.pooled() })).sort((a, b) => (a.agreement?.key ?? '').localeCompare(b.agreement?.key ?? '')),
  };
}

/** Agreements that may have measured months: CUSTOMER and SERVICE ones ever activated. */
function measurable(ctx: Context, tier?: Tier): Promise<Agreement[]> {
  return ctx.em.find(Agreement, { tier: tier ? tier : { $in: [Tier.CUSTOMER, Tier.SERVICE] }, activatedAt: { $ne: null } }, { orderBy: { key: 'asc' } });
}

@Resolver(() => Agreement)
export class AgreementScorecardResolver {
  @FieldResolver(() => AgreementScorecard, { description: 'The agreement in one month, scored by DESIGN §4.' })
  async scorecard(@Root() a: Agreement, @Ctx() ctx: Context, @Arg('month', () => MonthScalar) month: Month): Promise<AgreementScorecard> {
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

  @FieldResolver(() => AgreementCompliance, { description: 'The agreement (or, for a container, its measured descendants) over a window: pooled compliance, score, error budget, trend and the monthly series.' })
  async compliance(@Root() a: Agreement, @Ctx() ctx: Context, @Arg('from', () => MonthScalar) from: Month, @Arg('to', () => MonthScalar) to: Month): Promise<AgreementCompliance> {
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
}

@Resolver(() => ObjectiveScore)
export class ObjectiveScoreResolver {
  @FieldResolver(() => Agreement, { nullable: true, description: 'The ancestor that defines it; null for the agreement’s own objectives.' })
  inheritedFrom(@Root() o: ObjectiveScore, @Ctx() ctx: Context): Promise<Agreement | null> | null {
    return o.scored.inheritedFrom ? ctx.loaders.agreementById.load(o.scored.inheritedFrom) : null;
  }

  @FieldResolver(() => BaselineView, { nullable: true, description: 'Suggested target from the last 6 values up to this month (DESIGN §4.10); null with fewer than 3.' })
  baseline(@Root() o: ObjectiveScore): BaselineView | null {
    return baselineFor(o.history, o.agreementId, o.metric.id, o.month);
  }
}

@Resolver(() => Department)
export class DepartmentScorecardResolver {
  @FieldResolver(() => Scorecard, { description: 'The measured agreements the department provides (PROVIDER) or receives (CUSTOMER), pooled.' })
  async scorecard(
    @Root() d: Department,
    @Ctx() ctx: Context,
    @Arg('from', () => MonthScalar) from: Month,
    @Arg('to', () => MonthScalar) to: Month,
    @Arg('as', () => PartyRole) as: PartyRole,
  ): Promise<Scorecard> {
    return rollup(ctx, { where: `${as === PartyRole.PROVIDER ? 'provider_id' : 'customer_id'} = ?`, params: [d.id], agreements: () => (as === PartyRole.PROVIDER ? ctx.loaders.agreementsByProvider : ctx.loaders.agreementsByCustomer).load(d.id) }, from, to);
  }
}

@Resolver()
export class ScorecardQueryResolver {
  @Authorized()
  @Query(() => Scorecard, { description: 'Every measured agreement-month of the organisation over a window, with breakdowns by department, tier and agreement.' })
  async organisationScorecard(@Ctx() ctx: Context, @Arg('from', () => MonthScalar) from: Month, @Arg('to', () => MonthScalar) to: Month): Promise<Scorecard> {
    windowMonths(from, to);
    return rollup(ctx, { where: '1 = 1', params: [], agreements: () => measurable(ctx) }, from, to);
  }

  @Authorized()
  @Query(() => Scorecard, { description: 'The measured agreement-months of a tier: CUSTOMER or SERVICE agreements; CORPORATE pools everything the charters bind (the organisation).' })
  async tierScorecard(@Ctx() ctx: Context, @Arg('tier', () => Tier) tier: Tier, @Arg('from', () => MonthScalar) from: Month, @Arg('to', () => MonthScalar) to: Month): Promise<Scorecard> {
    windowMonths(from, to);
    const only = tier === Tier.CORPORATE ? null : tier;
    return rollup(ctx, { where: only ? 'tier = ?' : '1 = 1', params: only ? [only] : [], agreements: () => measurable(ctx, only ?? undefined) }, from, to);
  }

  @Authorized()
  @Query(() => [RiskItem], { description: 'The objective-months of a month that are BREACHED, NO_DATA or AT_RISK, worst first (then lowest attainment, then agreement key).' })
  async atRisk(@Ctx() ctx: Context, @Arg('month', () => MonthScalar) month: Month): Promise<RiskItem[]> {
    // The ledger narrows the month to the agreements with something at risk (or to score again).
    const candidates = await riskCandidates(ctx, month);
    const agreements = candidates === null ? await measurable(ctx) : candidates.length ? await ctx.em.find(Agreement, { id: { $in: candidates } }, { orderBy: { key: 'asc' } }) : [];
    const scored = await scoreMonths(ctx, await measuredMonths(ctx, agreements, [month]), ctx.request.now);
    const rank = (s: string) => ['BREACHED', 'NO_DATA', 'AT_RISK'].indexOf(s);
    return scored
      .flatMap((m) => m.objectives.filter((o) => rank(o.result.status) >= 0).map((o) => ({ agreement: m.agreement, month, objective: objectiveScore(o, m.agreement.id, month, scored) })))
      .sort((x, y) => rank(x.objective.status) - rank(y.objective.status) || (x.objective.attainment ?? 0) - (y.objective.attainment ?? 0) || x.agreement.key.localeCompare(y.agreement.key) || x.objective.metric.code.localeCompare(y.objective.metric.code));
  }

  @Authorized()
  @Query(() => [ReviewDue], { description: 'Live agreements whose periodic review is due on or before `asOf` (default: now), oldest first.' })
  async reviewsDue(@Ctx() ctx: Context, @Arg('asOf', () => DateTimeScalar, { nullable: true }) asOf?: Date | null): Promise<ReviewDue[]> {
    const at = asOf ?? ctx.request.now;
    assertAsOf('asOf', at, ctx.request.now);
    const today = at.toISOString().slice(0, 10);
    const agreements = await ctx.em.find(Agreement, { state: { $in: [AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED] } }, { orderBy: { key: 'asc' } });
    const versions = (await ctx.loaders.versionsByAgreement.loadMany(agreements.map((a) => a.id))) as AgreementVersion[][];
    const out: ReviewDue[] = [];
    agreements.forEach((agreement, i) => {
      const version = versionAt(versions[i], monthOf(at));
      if (!version) return;
      const began = agreement.activatedAt && compareMonths(monthOf(agreement.activatedAt), version.effectiveMonth) > 0 ? monthOf(agreement.activatedAt) : version.effectiveMonth;
      const reviewDate = version.nextReviewDate ?? `${addMonths(began, version.reviewCadenceMonths)}-01`;
      if (reviewDate > today) return;
      const daysOverdue = Math.floor((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${reviewDate}T00:00:00Z`)) / 86_400_000);
      out.push({ agreement, reviewDate, basis: version.nextReviewDate ? 'SCHEDULED' : 'CADENCE', daysOverdue });
    });
    return out.sort((x, y) => x.reviewDate.localeCompare(y.reviewDate) || x.agreement.key.localeCompare(y.agreement.key));
  }
}
