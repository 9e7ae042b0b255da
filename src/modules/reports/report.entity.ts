import { Entity, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BaseEntity } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { Agreement, Objective } from '../agreements/agreement.entity';
import { Metric } from '../catalog/metric.entity';
import { Severity } from '../../common/severity';
import { ObjectiveStatus } from '../../common/statuses';

/** DESIGN §5: DRAFT → SUBMITTED → ACKNOWLEDGED | DISPUTED → (corrected revision) SUBMITTED … */
export enum ReportStatus {
  DRAFT = 'DRAFT',
  SUBMITTED = 'SUBMITTED',
  ACKNOWLEDGED = 'ACKNOWLEDGED',
  DISPUTED = 'DISPUTED',
}
registerEnumType(ReportStatus, {
  name: 'ReportStatus',
  valuesConfig: {
    DRAFT: { description: 'Saved by the provider, not yet submitted.' },
    SUBMITTED: { description: "The latest revision awaits the customer's acknowledgement or dispute." },
    ACKNOWLEDGED: { description: 'The customer accepted the latest revision.' },
    DISPUTED: { description: 'The customer disputed the latest revision; the provider submits a corrected one.' },
  },
});

/** DESIGN §5: an admin settles a dispute. */
export enum DisputeRuling {
  UPHELD = 'UPHELD',
  REJECTED = 'REJECTED',
}
registerEnumType(DisputeRuling, {
  name: 'DisputeRuling',
  valuesConfig: {
    UPHELD: { description: 'The customer is right: the report stays DISPUTED until the provider submits a corrected revision.' },
    REJECTED: { description: 'The revision stands: the report is ACKNOWLEDGED and the month may close.' },
  },
});

export enum FrictionCategory {
  ONBOARDING = 'ONBOARDING',
  BILLING = 'BILLING',
  PRODUCT = 'PRODUCT',
  SUPPORT = 'SUPPORT',
  COMMUNICATION = 'COMMUNICATION',
  HANDOVER = 'HANDOVER',
  OTHER = 'OTHER',
}
registerEnumType(FrictionCategory, { name: 'FrictionCategory' });

/** One thing customers stumbled over, in a customer-friction report. */
export interface FrictionItem {
  /**
   * Stable across revisions (issue 16): an item carried forward, or sent again unchanged, keeps
   * it. Items stored before ids existed have none; {@link frictionItemsOf} gives them one.
   */
  id?: string;
  category: FrictionCategory;
  description: string;
  customersAffected: number;
  severity: Severity;
}

/**
 * The items of a revision (or a draft, with the report's id) with their ids: an item stored before
 * ids existed gets `<owner id>:<position>`, stable since stored items never change.
 */
export function frictionItemsOf(ownerId: string, items: FrictionItem[] | null | undefined): Array<FrictionItem & { id: string }> {
  return (items ?? []).map((f, i) => ({ ...f, id: f.id ?? `${ownerId}:${i}` }));
}

/** What a draft holds: the same parts as a submission, any of them still missing. */
export interface ReportDraft {
  values: Array<{ objectiveId: string; value: number }>;
  narrative: string | null;
  frictionItems: FrictionItem[];
}

/**
 * The provider's report for one measured agreement and one month. Submissions are its
 * {@link ReportRevision}s; the latest counts, earlier ones stay readable. Lateness is fixed at
 * the first submission, against the due date of the version in force in the month.
 */
@ObjectType({ description: "The provider's monthly report for one agreement and month; its submissions are revisions, the latest counts.", implements: Node })
@Entity({ tableName: 'report' })
@Unique({ properties: ['agreement', 'month'] })
export class Report extends BaseEntity<'status' | 'revisionCount'> {
  @Index()
  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @Field(() => MonthScalar)
  @Property({ type: 'string', length: 7 })
  month!: string;

  /** As stored; the API shows the status at the request's instant (`reportStatusAt`: deemed acknowledgement). */
  @Property({ type: 'string', length: 20 })
  status: ReportStatus = ReportStatus.DRAFT;

  /** Number of the latest submitted revision; 0 while only a draft exists. */
  @Field(() => Int, { description: 'Number of the latest submitted revision; 0 while only a draft exists.' })
  @Property({ type: 'integer', default: 0 })
  revisionCount: number = 0;

  /** The revision that counts: scores read its values with one join, whatever the number of revisions. */
  @Index()
  @ManyToOne(() => ReportRevision, { ref: true, nullable: true, deleteRule: 'restrict' })
  latestRevision?: Ref<ReportRevision> | null;

  /** The provider's work in progress; not part of any revision, never scored. */
  @Property({ type: 'json', nullable: true })
  draft?: ReportDraft | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  draftSavedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When revision 1 was submitted: lateness is measured from it.' })
  @Property({ type: 'Date', nullable: true })
  firstSubmittedAt?: Date | null;

  @Field(() => Int, { nullable: true, description: 'Working days after the due date of the first submission (0: on time); null before it.' })
  @Property({ type: 'integer', nullable: true })
  lateByWorkingDays?: number | null;
}

/** One submission of a report: whole and immutable, except for the customer's verdict on it. */
@ObjectType({ description: 'One submission of a report; the latest revision counts.', implements: Node })
@Entity({ tableName: 'report_revision' })
@Unique({ properties: ['report', 'number'] })
export class ReportRevision extends BaseEntity<'frictionItems' | 'deemed'> {
  @Index()
  @ManyToOne(() => Report, { ref: true, deleteRule: 'restrict' })
  report!: Ref<Report>;

  @Field(() => Int, { description: '1 for the first submission, then one more per submission.' })
  @Property({ type: 'integer' })
  number!: number;

  @Field()
  @Property({ type: 'text' })
  narrative!: string;

  @Property({ type: 'json' })
  frictionItems: FrictionItem[] = [];

  @Field(() => DateTimeScalar)
  @Property({ type: 'Date' })
  submittedAt!: Date;

  @Property({ type: 'string', length: 100 })
  submittedByUserId!: string;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  acknowledgedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  disputedAt?: Date | null;

  @Field(() => String, { nullable: true, description: "The customer's reason for disputing this revision." })
  @Property({ type: 'text', nullable: true })
  disputeReason?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  decidedByUserId?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'End of the customer’s acceptance window: not acknowledged or disputed by then, the revision is deemed acknowledged.' })
  @Property({ type: 'Date', nullable: true })
  acceptanceDueAt?: Date | null;

  /** Acknowledged by the customer's silence (the acceptance window passed), recorded by the scheduler. */
  @Field({ description: 'Acknowledged by the customer’s silence: the acceptance window passed without a verdict (as recorded; see Report.deemedAcknowledged for the status now).' })
  @Property({ type: 'boolean', default: false })
  deemed: boolean = false;

  @Field(() => DisputeRuling, { nullable: true, description: 'An admin’s ruling on a dispute of this revision.' })
  @Property({ type: 'string', length: 20, nullable: true })
  ruling?: DisputeRuling | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  rulingNote?: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  ruledAt?: Date | null;

  @Property({ type: 'string', length: 100, nullable: true })
  ruledByUserId?: string | null;
}

/** The value of one manual objective in one revision: the measurement BI tools pull. */
@ObjectType({ description: 'A reported value of one objective.', implements: Node })
@Entity({ tableName: 'report_value' })
@Unique({ properties: ['revision', 'objective'] })
export class ReportValue extends BaseEntity {
  @Index()
  @ManyToOne(() => ReportRevision, { ref: true, deleteRule: 'restrict' })
  revision!: Ref<ReportRevision>;

  @Index()
  @ManyToOne(() => Objective, { ref: true, deleteRule: 'restrict' })
  objective!: Ref<Objective>;

  @Index()
  @ManyToOne(() => Metric, { ref: true, deleteRule: 'restrict' })
  metric!: Ref<Metric>;

  @Property({ type: 'integer' })
  position!: number;

  @Field(() => Float)
  @Property({ type: 'double', runtimeType: 'number' })
  value!: number;
}

/** DESIGN §5: REQUESTED → APPROVED | REJECTED; only APPROVED excuses. */
export enum ExclusionStatus {
  REQUESTED = 'REQUESTED',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
}
registerEnumType(ExclusionStatus, { name: 'ExclusionStatus' });

export enum ExclusionReason {
  CUSTOMER_DEPENDENCY = 'CUSTOMER_DEPENDENCY',
  PLANNED_MAINTENANCE = 'PLANNED_MAINTENANCE',
  FORCE_MAJEURE = 'FORCE_MAJEURE',
  DATA_ERROR = 'DATA_ERROR',
  OTHER = 'OTHER',
}
registerEnumType(ExclusionReason, {
  name: 'ExclusionReason',
  valuesConfig: {
    CUSTOMER_DEPENDENCY: { description: 'The customer did not provide what the provider needed on time.' },
    PLANNED_MAINTENANCE: { description: 'Agreed maintenance windows.' },
    FORCE_MAJEURE: { description: 'Events beyond either party’s control.' },
    DATA_ERROR: { description: 'The measurement itself was wrong.' },
    OTHER: { description: 'Anything else; the explanation says what.' },
  },
});

/** A provider's request to excuse one BREACHED or NO_DATA objective-month. */
@ObjectType({ description: 'A request to excuse a breached or missing objective-month; only APPROVED ones excuse.', implements: Node })
@Entity({ tableName: 'exclusion' })
export class Exclusion extends BaseEntity<'status'> {
  @Index()
  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @Field(() => MonthScalar)
  @Property({ type: 'string', length: 7 })
  month!: string;

  /** The effective objective excused (the agreement's own or an ancestor's). */
  @Index()
  @ManyToOne(() => Objective, { ref: true, deleteRule: 'restrict' })
  objective!: Ref<Objective>;

  @Index()
  @ManyToOne(() => Metric, { ref: true, deleteRule: 'restrict' })
  metric!: Ref<Metric>;

  @Field(() => ExclusionStatus)
  @Property({ type: 'string', length: 20 })
  status: ExclusionStatus = ExclusionStatus.REQUESTED;

  @Field(() => ExclusionReason)
  @Property({ type: 'string', length: 30 })
  reasonCode!: ExclusionReason;

  @Field()
  @Property({ type: 'text' })
  explanation!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 2000, nullable: true })
  evidenceUrl?: string | null;

  @Field(() => ObjectiveStatus, { description: 'The status of the objective-month when the exclusion was requested: BREACHED or NO_DATA.' })
  @Property({ type: 'string', length: 20 })
  statusWhenRequested!: string;

  @Property({ type: 'string', length: 100 })
  requestedByUserId!: string;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  decidedAt?: Date | null;

  @Property({ type: 'string', length: 100, nullable: true })
  decidedByUserId?: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was approved or rejected.' })
  @Property({ type: 'text', nullable: true })
  decisionNote?: string | null;
}
