import { Entity, Enum, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BaseEntity } from '../../common/base.entity';
import { DateScalar, DateTimeScalar, MonthScalar } from '../../common/scalars';
import { RequesterSide } from '../../common/sides';
import { Node } from '../../common/node';
import type { BusinessCalendar } from '../../common/working-time';
import { Metric } from '../catalog/metric.entity';
import { Service } from '../catalog/service.entity';
import { Department } from '../departments/department.entity';

/** ITIL's multi-level SLA tiers (DESIGN §2). */
export enum Tier {
  CORPORATE = 'CORPORATE',
  CUSTOMER = 'CUSTOMER',
  SERVICE = 'SERVICE',
}
registerEnumType(Tier, {
  name: 'Tier',
  valuesConfig: {
    CORPORATE: { description: 'Organisation-wide terms that bind every department; no parties.' },
    CUSTOMER: { description: 'A provider department and one customer department, whatever the service.' },
    SERVICE: { description: 'One service of the provider for one customer; its parent is the CUSTOMER agreement of the pair.' },
  },
});

/** Lifecycle of DESIGN §5. EXPIRED is shown once `effectiveTo` has passed. */
export enum AgreementStatus {
  DRAFT = 'DRAFT',
  ACTIVE = 'ACTIVE',
  SUSPENDED = 'SUSPENDED',
  TERMINATED = 'TERMINATED',
  EXPIRED = 'EXPIRED',
}
registerEnumType(AgreementStatus, { name: 'AgreementStatus' });

/** How an objective reaches the agreements below (DESIGN §3). */
export enum Inheritance {
  APPLIES = 'APPLIES',
  MINIMUM = 'MINIMUM',
}
registerEnumType(Inheritance, {
  name: 'Inheritance',
  valuesConfig: {
    APPLIES: { description: 'Measured in every measured descendant (unless a descendant overrides the metric).' },
    MINIMUM: { description: 'Not measured itself: a floor any descendant objective on the metric must meet.' },
  },
});

/**
 * A documented commitment between a provider and a customer department (none for CORPORATE).
 * Identity, parties and lifecycle live here; terms and objectives live in {@link AgreementVersion}s.
 */
@ObjectType({ description: 'A service level agreement (identity, parties, lifecycle); terms are in its versions.', implements: Node })
@Entity({ tableName: 'agreement' })
export class Agreement extends BaseEntity<'suspensions'> {
  @Field({ description: 'Readable unique key, e.g. `MKT-SALES` or `IT-SALES-CRM`.' })
  @Property({ type: 'string', length: 60, unique: true })
  key!: string;

  // Plain string columns for enums of more than two values (see docs/decisions.md).
  @Field(() => Tier)
  @Property({ type: 'string', length: 20 })
  tier!: Tier;

  @Field()
  @Property({ type: 'string', length: 300 })
  title!: string;

  @Index()
  @ManyToOne(() => Department, { ref: true, nullable: true, deleteRule: 'restrict' })
  provider?: Ref<Department> | null;

  @Index()
  @ManyToOne(() => Department, { ref: true, nullable: true, deleteRule: 'restrict' })
  customer?: Ref<Department> | null;

  @Index()
  @ManyToOne(() => Service, { ref: true, nullable: true, deleteRule: 'restrict' })
  service?: Ref<Service> | null;

  @Index()
  @ManyToOne(() => Agreement, { ref: true, nullable: true, deleteRule: 'restrict' })
  parent?: Ref<Agreement> | null;

  /** The stored state; the `status` field shows EXPIRED once `effectiveTo` has passed. */
  @Property({ type: 'string', length: 20 })
  state: AgreementStatus = AgreementStatus.DRAFT;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  providerApprovedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  customerApprovedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  activatedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  terminatedAt?: Date | null;

  /**
   * Every suspension, oldest first (`to` null while it lasts): which months were ACTIVE is
   * history that reports, exclusions and scores need long after the state has moved on.
   */
  @Property({ type: 'json', default: '[]' })
  suspensions: SuspensionPeriod[] = [];

  /**
   * The first month out of scope of an approved termination (issue 16): months before it keep
   * scoring, months from it do not. A future month leaves the agreement ACTIVE (or SUSPENDED) until
   * it begins; from then it shows TERMINATED and the scheduler stores it so. Null for terminations
   * recorded before issue 16, which `terminatedAt` alone describes (in scope to its month).
   */
  @Field(() => MonthScalar, { nullable: true, description: 'An approved termination: the first month no longer in scope (months before it keep scoring). Null when no termination is decided.' })
  @Property({ type: 'string', length: 7, nullable: true })
  terminatesFrom?: string | null;
}

/** One suspension of an agreement, as ISO instants. */
export interface SuspensionPeriod {
  from: string;
  to: string | null;
}

/** Who owes what, in the agreement's words. */
export interface Responsibility {
  party: 'PROVIDER' | 'CUSTOMER';
  description: string;
}

/** Someone to call about the agreement. */
export interface Contact {
  party: 'PROVIDER' | 'CUSTOMER';
  name: string;
  email: string;
  role: string;
}

/** Response and resolution targets, in working hours, per severity. */
export type EscalationPolicy = Record<'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW', { responseHours: number; resolutionHours: number }>;

/** Business calendar: clocks and due dates count only its working time (src/common/working-time.ts). */
export type { BusinessCalendar };

/**
 * The whole set of terms and objectives of an agreement from one month on. Versions are
 * immutable: an amendment adds a version, so every month is scored against the terms that
 * governed it.
 */
@ObjectType({ description: 'The terms and objectives of an agreement from a month on; never rewritten.', implements: Node })
@Entity({ tableName: 'agreement_version' })
@Unique({ properties: ['agreement', 'number'] })
export class AgreementVersion extends BaseEntity {
  @Index()
  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @Field(() => Int, { description: '1 for the terms the agreement was created with, then one more per approved amendment.' })
  @Property({ type: 'integer' })
  number!: number;

  @Field(() => MonthScalar, { description: 'The first month these terms govern.' })
  @Property({ type: 'string', length: 7 })
  effectiveMonth!: string;

  @Field(() => MonthScalar, { description: 'First month of the agreement.' })
  @Property({ type: 'string', length: 7 })
  effectiveFrom!: string;

  @Field(() => MonthScalar, { nullable: true, description: 'Last month of the agreement; open-ended when null.' })
  @Property({ type: 'string', length: 7, nullable: true })
  effectiveTo?: string | null;

  @Field(() => Float, { description: 'Share of objective-months that must be met, 0–1 (error budget, DESIGN §4.6).' })
  @Property({ type: 'double', runtimeType: 'number' })
  complianceTarget!: number;

  @Field(() => Float, { description: 'Internal monthly charge, the base of service credits.' })
  @Property({ type: 'double', runtimeType: 'number' })
  monthlyCharge!: number;

  @Field(() => Float, { description: 'Most credit per month, in percent of the charge.' })
  @Property({ type: 'double', runtimeType: 'number' })
  creditCapPercent!: number;

  @Field(() => Int, { description: 'The report is due on this working day after the month ends.' })
  @Property({ type: 'integer' })
  reportDueWorkingDays!: number;

  @Field(() => Int, { description: 'Working days the customer has to acknowledge or dispute a revision; silence then is deemed acknowledgement.' })
  @Property({ type: 'integer', default: 5 })
  acceptanceWorkingDays: number = 5;

  @Field(() => Int)
  @Property({ type: 'integer' })
  reviewCadenceMonths!: number;

  @Field(() => DateScalar, { nullable: true, description: 'The next scheduled review of the terms.' })
  @Property({ type: 'string', length: 10, nullable: true })
  nextReviewDate?: string | null;

  @Property({ type: 'json' })
  responsibilities: Responsibility[] = [];

  @Property({ type: 'json' })
  contacts: Contact[] = [];

  @Property({ type: 'json' })
  escalationPolicy!: EscalationPolicy;

  @Property({ type: 'json' })
  calendar!: BusinessCalendar;
}

/** A metric with a monthly target in one version of an agreement (an SLO). */
@ObjectType({ description: 'A metric with a monthly target in one version of an agreement (an SLO).', implements: Node })
@Entity({ tableName: 'objective' })
export class Objective extends BaseEntity {
  @Index()
  @ManyToOne(() => AgreementVersion, { ref: true, deleteRule: 'restrict' })
  agreementVersion!: Ref<AgreementVersion>;

  @Index()
  @ManyToOne(() => Metric, { ref: true, deleteRule: 'restrict' })
  metric!: Ref<Metric>;

  /** Order within the version, as given: rows created in one millisecond have no other order. */
  @Property({ type: 'integer' })
  position!: number;

  @Field(() => Float)
  @Property({ type: 'double', runtimeType: 'number' })
  target!: number;

  @Field(() => Float, { nullable: true, description: 'AT_RISK threshold, on the safe side of the target.' })
  @Property({ type: 'double', runtimeType: 'number', nullable: true })
  warning?: number | null;

  @Field(() => Float)
  @Property({ type: 'double', runtimeType: 'number' })
  weight!: number;

  @Field(() => Float, { description: 'Credit per breach, in percent of the monthly charge.' })
  @Property({ type: 'double', runtimeType: 'number' })
  creditPercent!: number;

  @Field(() => Inheritance)
  @Enum({ items: () => Inheritance })
  inheritance: Inheritance = Inheritance.APPLIES;
}

/** Change control (DESIGN §5): PROPOSED → APPROVED (a new version) | REJECTED | WITHDRAWN. */
export enum AmendmentStatus {
  PROPOSED = 'PROPOSED',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
  WITHDRAWN = 'WITHDRAWN',
}
registerEnumType(AmendmentStatus, { name: 'AmendmentStatus' });

/** An objective as an amendment stores it (metric by id). */
export interface ObjectiveSpec {
  metricId: string;
  target: number;
  warning?: number | null;
  weight?: number;
  creditPercent?: number;
  inheritance?: Inheritance;
}

/** What an amendment changes: terms, objectives added, changed (by metric), removed (by metric). */
export interface AmendmentChanges {
  terms: Record<string, unknown>;
  addObjectives: ObjectiveSpec[];
  changeObjectives: Array<Partial<ObjectiveSpec> & { metricId: string }>;
  removeObjectives: string[];
}

/** A proposed change to an agreement's terms, effective from a month once the other party approves. */
@ObjectType({ description: 'A proposed change of terms; approval by the other party makes it a new version.', implements: Node })
@Entity({ tableName: 'amendment' })
export class Amendment extends BaseEntity {
  @Index()
  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @Field(() => AmendmentStatus)
  @Property({ type: 'string', length: 20 })
  status: AmendmentStatus = AmendmentStatus.PROPOSED;

  @Field(() => MonthScalar, { description: 'The first month the changed terms govern.' })
  @Property({ type: 'string', length: 7 })
  effectiveMonth!: string;

  @Field({ description: 'Why the change is proposed.' })
  @Property({ type: 'text' })
  reason!: string;

  @Field(() => RequesterSide, { description: 'The side that proposed it (its approval is implied).' })
  @Property({ type: 'string', length: 20 })
  proposedBy!: string;

  @Property({ type: 'string', length: 100 })
  proposedByUserId!: string;

  @Property({ type: 'json' })
  changes!: AmendmentChanges;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the provider's side approved (a provider head's proposal approves itself)." })
  @Property({ type: 'Date', nullable: true })
  providerApprovedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the customer's side approved." })
  @Property({ type: 'Date', nullable: true })
  customerApprovedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  decidedAt?: Date | null;

  @Property({ type: 'string', length: 100, nullable: true })
  decidedByUserId?: string | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  rejectionReason?: string | null;

  @ManyToOne(() => AgreementVersion, { ref: true, nullable: true, deleteRule: 'restrict' })
  resultingVersion?: Ref<AgreementVersion> | null;
}
