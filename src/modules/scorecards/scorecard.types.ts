/**
 * The GraphQL shapes of scores: statuses, phases, scorecards, roll-ups, risks and reviews. Views
 * only; what fills them is computed in scorecard.views.ts from the pure rules and the ledger.
 */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { Month } from '../../common/month';
import { DateScalar, DateTimeScalar, MonthScalar } from '../../common/scalars';
import { Agreement, Tier } from '../agreements/agreement.entity';
import { ObjectiveTermsFields } from '../agreements/agreement.resolver';
import { MetricSource } from '../catalog/metric.entity';
import { Department } from '../departments/department.entity';
import { Report } from '../reports/report.entity';
import type { ScoredMonth } from './scorecard.service';
import type { AgreementHead } from './scorecard.loaders';
import { ObjectiveStatus } from '../../common/statuses';
import { PartyRole } from '../../common/sides';

// Declared in common so that lower modules (an exclusion's status when requested, an agreement's
// contacts) use the same enums; re-exported here, where the scorecards' importers look for them.
export { ObjectiveStatus, PartyRole };

/** Where a review date comes from (review.service.ts). */
export enum ReviewBasis {
  SCHEDULED = 'SCHEDULED',
  CADENCE = 'CADENCE',
}
registerEnumType(ReviewBasis, {
  name: 'ReviewBasis',
  description: 'Where a review date comes from.',
  valuesConfig: {
    SCHEDULED: { description: 'The nextReviewDate of the version in force.' },
    CADENCE: { description: 'reviewCadenceMonths after the version began or the agreement was activated, whichever is later.' },
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
  /** The ancestor that defines it (its id); null for the agreement’s own objectives. */
  inheritedFromId!: string | null;
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

  @Field(() => DateScalar, { nullable: true, description: 'The day the month’s report is due, on the agreement’s business calendar.' })
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

  /** The entity, or its plain head when the query asks only for fields the head has (scorecard.views.ts `agreementDetail`). */
  @Field(() => Agreement, { nullable: true })
  agreement!: Agreement | AgreementHead | null;

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

  @Field(() => DateScalar)
  reviewDate!: string;

  @Field(() => ReviewBasis)
  basis!: `${ReviewBasis}`;

  @Field(() => Int, { description: 'Days since the review date (0 on the day).' })
  daysOverdue!: number;
}
