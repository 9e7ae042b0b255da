import { Entity, Enum, Property } from '@mikro-orm/core';
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { CodedEntity } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar } from '../../common/scalars';

/** Whether a bigger value is better (availability) or worse (response time). */
export enum MetricDirection {
  HIGHER_IS_BETTER = 'HIGHER_IS_BETTER',
  LOWER_IS_BETTER = 'LOWER_IS_BETTER',
}
registerEnumType(MetricDirection, { name: 'MetricDirection' });

/** Who provides the values: a head's monthly report, or computation from events. */
export enum MetricSource {
  MANUAL = 'MANUAL',
  AUTOMATED = 'AUTOMATED',
}
registerEnumType(MetricSource, {
  name: 'MetricSource',
  valuesConfig: {
    MANUAL: { description: "Reported monthly by the provider's head." },
    AUTOMATED: { description: 'Captured by the system from its `feed`: a built-in computation (handoffs, escalations, reports) or EXTERNAL measurements (`recordMeasurements`).' },
  },
});

/**
 * Where an AUTOMATED metric's values come from (issue 16, DESIGN §6): one of the built-in
 * computations of src/scoring/automated.ts, or EXTERNAL measurements pushed by monitoring and
 * ticketing systems. The descriptions are the documentation of the built-ins (docs/metrics.md).
 */
export enum MetricFeed {
  HANDOFF_VOLUME = 'HANDOFF_VOLUME',
  HANDOFF_ACCEPTANCE_RATE = 'HANDOFF_ACCEPTANCE_RATE',
  HANDOFF_RESPONSE_MEDIAN = 'HANDOFF_RESPONSE_MEDIAN',
  HANDOFF_RESPONSE_P90 = 'HANDOFF_RESPONSE_P90',
  HANDOFF_CONVERSION_RATE = 'HANDOFF_CONVERSION_RATE',
  HANDOFF_QUALITY = 'HANDOFF_QUALITY',
  ESCALATION_RESPONSE_ON_TIME = 'ESCALATION_RESPONSE_ON_TIME',
  ESCALATION_RESPONSE_P90 = 'ESCALATION_RESPONSE_P90',
  ESCALATION_MTTR = 'ESCALATION_MTTR',
  REPORT_DAYS_LATE = 'REPORT_DAYS_LATE',
  FRICTION_REPORT_DELIVERED = 'FRICTION_REPORT_DELIVERED',
  EXTERNAL = 'EXTERNAL',
}

/** What each feed computes, as the schema and docs/metrics.md say it. */
export const METRIC_FEED_DESCRIPTIONS: Record<MetricFeed, string> = {
  HANDOFF_VOLUME: 'Qualified handoffs of the month: handoff events (recordHandoffEvents) the customer has not rejected; 0 in a month without any. Unit COUNT.',
  HANDOFF_ACCEPTANCE_RATE: 'Accepted handoffs as a percentage of the decided ones (accepted + rejected); no value without a decision. Unit PERCENT.',
  HANDOFF_RESPONSE_MEDIAN: 'Median working hours from hand-off to first response, over the responded handoffs. Unit HOURS.',
  HANDOFF_RESPONSE_P90: '90th percentile (linear interpolation) of the working hours from hand-off to first response. Unit HOURS.',
  HANDOFF_CONVERSION_RATE: 'Converted handoffs as a percentage of all handed off in the month. Unit PERCENT.',
  HANDOFF_QUALITY: 'Mean quality score (0–100) of the scored handoffs. Unit SCORE.',
  ESCALATION_RESPONSE_ON_TIME:
    'Escalations (openEscalation, recordEscalations) answered within the policy target, as a percentage of those answered or past their response deadline; 100 in a month without escalations. Unit PERCENT.',
  ESCALATION_RESPONSE_P90: '90th percentile of the hours to first response of the month’s escalations (CRITICAL around the clock, others in working hours); 0 without escalations. Unit HOURS.',
  ESCALATION_MTTR: 'Mean hours from opening to resolution of the month’s resolved escalations; 0 without escalations. Unit HOURS.',
  REPORT_DAYS_LATE: 'Working days after the due date that the month’s report was first submitted (0 on time). Unit DAYS.',
  FRICTION_REPORT_DELIVERED:
    'Whether the month’s friction report came with its items by the due date: 1 once a revision with at least one friction item was submitted by the report’s due instant, 0 once that instant has passed without one; no value before it. Unit BOOLEAN.',
  EXTERNAL: 'Measurements pushed by another system (recordMeasurements), per month or per interval, combined by the metric’s `aggregation`.',
};
registerEnumType(MetricFeed, {
  name: 'MetricFeed',
  description: 'Where an AUTOMATED metric’s values come from: a built-in computation, or EXTERNAL measurements.',
  valuesConfig: Object.fromEntries(Object.entries(METRIC_FEED_DESCRIPTIONS).map(([k, description]) => [k, { description }])),
});

/** The built-in feed of a metric code that names one (how metrics were wired before issue 16). */
export const builtInFeedOf = (code: string): MetricFeed | null => (code in METRIC_FEED_DESCRIPTIONS && code !== MetricFeed.EXTERNAL ? (code as MetricFeed) : null);

/** How the measurements of a month become an EXTERNAL metric's value (src/scoring/measurements.ts). */
export enum MeasurementAggregation {
  MEAN = 'MEAN',
  SUM = 'SUM',
  LAST = 'LAST',
  TIME_WEIGHTED = 'TIME_WEIGHTED',
}
registerEnumType(MeasurementAggregation, {
  name: 'MeasurementAggregation',
  description: 'How the measurements of an agreement-month give its value; a measurement counts in every month its interval overlaps (a monthly value in its month).',
  valuesConfig: {
    MEAN: { description: 'The plain mean of the values.' },
    SUM: { description: 'The sum, each interval’s value prorated by the share of its duration inside the month.' },
    LAST: { description: 'The value of the interval that ends latest.' },
    TIME_WEIGHTED: { description: 'The mean weighted by each interval’s duration within the month, over the time measured: availability from up (100) and down (0) intervals.' },
  },
});

/** The unit of a metric; it also gives the default bounds of its values. */
export enum MetricUnit {
  PERCENT = 'PERCENT',
  COUNT = 'COUNT',
  MINUTES = 'MINUTES',
  HOURS = 'HOURS',
  DAYS = 'DAYS',
  SCORE = 'SCORE',
  BOOLEAN = 'BOOLEAN',
}
registerEnumType(MetricUnit, {
  name: 'MetricUnit',
  valuesConfig: {
    PERCENT: { description: 'A percentage, 0 to 100 by default.' },
    COUNT: { description: 'A whole number from 0.' },
    MINUTES: { description: 'A duration in minutes, from 0.' },
    HOURS: { description: 'A duration in (working) hours, from 0.' },
    DAYS: { description: 'A duration in (working) days, from 0.' },
    SCORE: { description: 'A score on a scale the metric sets with its bounds.' },
    BOOLEAN: { description: 'Done (1) or not done (0), such as a report delivered.' },
  },
});

/** Default value bounds per unit, used when a metric is created without explicit bounds. */
export const UNIT_DEFAULTS: Record<MetricUnit, { min: number | null; max: number | null; integer: boolean }> = {
  PERCENT: { min: 0, max: 100, integer: false },
  COUNT: { min: 0, max: null, integer: true },
  MINUTES: { min: 0, max: null, integer: false },
  HOURS: { min: 0, max: null, integer: false },
  DAYS: { min: 0, max: null, integer: false },
  SCORE: { min: null, max: null, integer: false },
  BOOLEAN: { min: 0, max: 1, integer: true },
};

/** What is measured (an SLI), from the metric catalog. */
@ObjectType({ description: 'What is measured (an SLI): unit, direction, source and value bounds.', implements: Node })
@Entity({ tableName: 'metric' })
export class Metric extends CodedEntity {
  // A plain string column, not @Enum: MikroORM 6 misreads SQLite enum checks of more than two
  // items (it sees the first and last only) and its CHECK comparison on PostgreSQL is unstable,
  // so the schema diff never came out empty. The GraphQL enum keeps values valid.
  @Field(() => MetricUnit)
  @Property({ type: 'string', length: 20 })
  unit!: MetricUnit;

  @Field(() => MetricDirection)
  @Enum({ items: () => MetricDirection })
  direction!: MetricDirection;

  @Field(() => MetricSource)
  @Enum({ items: () => MetricSource })
  source!: MetricSource;

  // Plain string columns, like `unit`: the GraphQL enums keep the values valid.
  @Field(() => MetricFeed, { nullable: true, description: 'Where an AUTOMATED metric’s values come from; null for MANUAL metrics.' })
  @Property({ type: 'string', length: 40, nullable: true })
  feed?: MetricFeed | null;

  @Field(() => MeasurementAggregation, { nullable: true, description: 'How an EXTERNAL metric’s measurements give a month’s value; null for other feeds.' })
  @Property({ type: 'string', length: 20, nullable: true })
  aggregation?: MeasurementAggregation | null;

  @Field(() => String)
  @Property({ type: 'text', default: '' })
  description: string = '';

  @Field(() => Float, { nullable: true, description: 'Smallest valid value, if any.' })
  @Property({ type: 'double', nullable: true, runtimeType: 'number' })
  minValue?: number | null;

  @Field(() => Float, { nullable: true, description: 'Largest valid value, if any.' })
  @Property({ type: 'double', nullable: true, runtimeType: 'number' })
  maxValue?: number | null;

  @Field({ description: 'Whether values must be whole numbers (counts).' })
  @Property({ type: 'boolean', default: false })
  integerOnly: boolean = false;

  @Field({ description: 'Whether a report on this metric carries structured customer-friction items (category, what happened, customers affected, severity).' })
  @Property({ type: 'boolean', default: false })
  collectsFrictionItems: boolean = false;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  archivedAt?: Date | null;
}
