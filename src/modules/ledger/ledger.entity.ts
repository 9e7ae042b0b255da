import { Entity, Index, ManyToOne, PrimaryKey, PrimaryKeyProp, Property, type Ref } from '@mikro-orm/core';
import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { BaseEntity } from '../../common/base.entity';
import { RequesterSide } from '../../common/sides';
import { Node } from '../../common/node';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { Agreement } from '../agreements/agreement.entity';

/**
 * The score ledger (DESIGN §8): one row per measured agreement-month, derived from the facts by
 * the pure rules and kept current by every write and by the scheduler. Besides its results it
 * keeps its inputs' summary (due instants, the report's state), so it can be re-evaluated at a
 * later instant, and the sums that roll-ups add up in SQL. Written with plain SQL
 * (`ledger.service.ts`); the entity is here for the schema and migrations.
 */
@Entity({ tableName: 'ledger_month' })
@Index({ properties: ['month', 'providerId'] })
@Index({ properties: ['updatedAt', 'agreementId', 'month'] })
@Index({ properties: ['validUntil'] })
@Index({ properties: ['agreementKey', 'month'] })
// Covering indexes of the roll-ups (`ledger-rollup.ts`): exactly the columns they read, so that
// their GROUP BY statements scan a narrow index, not the wide rows; in month order and in agreement order.
@Index({
  name: 'ledger_month_rollup_month_index',
  properties: [
    'deleted',
    'month',
    'agreementId',
    'providerId',
    'tier',
    'closed',
    'closedAt',
    'computedAt',
    'validUntil',
    'disputed',
    'statusRank',
    'sumWeighted',
    'sumWeight',
    'scoredCount',
    'evaluated',
    'met',
    'breaches',
    'creditAmount',
    'customerId',
  ],
})
@Index({
  name: 'ledger_month_rollup_agreement_index',
  properties: [
    'deleted',
    'agreementId',
    'providerId',
    'tier',
    'month',
    'closed',
    'closedAt',
    'computedAt',
    'validUntil',
    'disputed',
    'statusRank',
    'sumWeighted',
    'sumWeight',
    'scoredCount',
    'evaluated',
    'met',
    'breaches',
    'creditAmount',
    'customerId',
  ],
})
export class LedgerMonth {
  [PrimaryKeyProp]?: ['agreementId', 'month'];

  @PrimaryKey({ type: 'uuid' })
  agreementId!: string;

  @PrimaryKey({ type: 'string', length: 7 })
  month!: string;

  @Property({ type: 'string', length: 200 })
  agreementKey!: string;

  @Property({ type: 'uuid' })
  providerId!: string;

  @Property({ type: 'uuid' })
  customerId!: string;

  @Property({ type: 'string', length: 20 })
  tier!: string;

  @Property({ type: 'integer' })
  versionNumber!: number;

  @Property({ type: 'double' })
  complianceTarget!: number;

  @Property({ type: 'double' })
  creditCapPercent!: number;

  @Property({ type: 'double' })
  monthlyCharge!: number;

  @Property({ type: 'Date' })
  monthEndsAt!: Date;

  @Property({ type: 'Date' })
  dueAt!: Date;

  @Property({ type: 'string', length: 10 })
  dueDate!: string;

  @Property({ type: 'boolean' })
  hasManual!: boolean;

  @Property({ type: 'uuid', nullable: true })
  reportId?: string | null;

  @Property({ type: 'string', length: 20, nullable: true })
  reportStatus?: string | null;

  @Property({ type: 'integer', nullable: true })
  reportRevision?: number | null;

  @Property({ type: 'Date', nullable: true })
  acknowledgedAt?: Date | null;

  @Property({ type: 'Date', nullable: true })
  acceptanceDueAt?: Date | null;

  @Property({ type: 'boolean' })
  deemed!: boolean;

  /** JSON array of instants after which a value changes by time (unanswered escalations). */
  @Property({ type: 'text' })
  valueChanges!: string;

  @Property({ type: 'string', length: 20, nullable: true })
  status?: string | null;

  @Property({ type: 'integer', nullable: true })
  statusRank?: number | null;

  @Property({ type: 'double', nullable: true })
  score?: number | null;

  @Property({ type: 'double' })
  sumWeighted!: number;

  @Property({ type: 'double' })
  sumWeight!: number;

  @Property({ type: 'integer' })
  scoredCount!: number;

  @Property({ type: 'integer' })
  evaluated!: number;

  @Property({ type: 'integer' })
  met!: number;

  @Property({ type: 'integer' })
  breaches!: number;

  @Property({ type: 'double' })
  creditPercent!: number;

  @Property({ type: 'double' })
  creditUncappedPercent!: number;

  @Property({ type: 'double' })
  creditAmount!: number;

  @Property({ type: 'boolean' })
  disputed!: boolean;

  @Property({ type: 'string', length: 10 })
  phase!: string;

  @Property({ type: 'boolean' })
  closed!: boolean;

  @Property({ type: 'Date', nullable: true })
  closedAt?: Date | null;

  /** When data arrived for the month after it closed (kept, shown, not counted until a reopening). */
  @Property({ type: 'Date', nullable: true })
  lateDataAt?: Date | null;

  /** The instant the row was evaluated at, and the first instant it no longer holds (null: never). */
  @Property({ type: 'Date' })
  computedAt!: Date;

  @Property({ type: 'Date', nullable: true })
  validUntil?: Date | null;

  /** Moves only when a value shown for the month changes (BI incremental pulls). */
  @Property({ type: 'Date' })
  updatedAt!: Date;

  /** The month left the measured set (a tombstone, so incremental pulls see it go). */
  @Property({ type: 'boolean' })
  deleted!: boolean;
}

/** One objective of a ledger month: its terms, its input value and its result. */
@Entity({ tableName: 'ledger_objective' })
@Index({ properties: ['updatedAt', 'agreementId', 'month', 'objectiveId'] })
export class LedgerObjective {
  [PrimaryKeyProp]?: ['agreementId', 'month', 'objectiveId'];

  @PrimaryKey({ type: 'uuid' })
  agreementId!: string;

  @PrimaryKey({ type: 'string', length: 7 })
  month!: string;

  @PrimaryKey({ type: 'uuid' })
  objectiveId!: string;

  @Property({ type: 'integer' })
  position!: number;

  @Property({ type: 'uuid' })
  metricId!: string;

  @Property({ type: 'string', length: 100 })
  metricCode!: string;

  @Property({ type: 'string', length: 20 })
  source!: string;

  @Property({ type: 'uuid', nullable: true })
  inheritedFromId?: string | null;

  @Property({ type: 'string', length: 20 })
  direction!: string;

  @Property({ type: 'double' })
  target!: number;

  @Property({ type: 'double', nullable: true })
  warning?: number | null;

  @Property({ type: 'double' })
  weight!: number;

  @Property({ type: 'double' })
  creditPercent!: number;

  /** The input value (AUTOMATED: measured so far while the month runs). */
  @Property({ type: 'double', nullable: true })
  inputValue?: number | null;

  @Property({ type: 'boolean' })
  excused!: boolean;

  @Property({ type: 'string', length: 20 })
  status!: string;

  @Property({ type: 'double', nullable: true })
  attainment?: number | null;

  @Property({ type: 'Date' })
  updatedAt!: Date;

  @Property({ type: 'boolean' })
  deleted!: boolean;
}

/** Which months the ledger holds for every agreement: up to `horizon` (later ones are computed on read). */
@Entity({ tableName: 'ledger_state' })
export class LedgerState {
  @PrimaryKey({ type: 'integer', autoincrement: false })
  id!: number;

  @Property({ type: 'string', length: 7, nullable: true })
  horizon?: string | null;

  @Property({ type: 'Date', nullable: true })
  builtAt?: Date | null;
}

/** How a month came to close. */
export enum CloseCause {
  ACKNOWLEDGED = 'ACKNOWLEDGED',
  DEEMED = 'DEEMED',
  DUE = 'DUE',
  REOPENED = 'REOPENED',
}
registerEnumType(CloseCause, {
  name: 'CloseCause',
  description: 'Why an agreement-month closed: its latest revision acknowledged (or so ruled), deemed acknowledged, due with no MANUAL objective, or closed again after a reopening.',
});

/**
 * A month's close (DESIGN §5): when, why, and the frozen results (ledger row and objectives as
 * JSON). The source of truth for a closed month: a rebuild restores closed months from here.
 */
@Entity({ tableName: 'month_close' })
@Index({ properties: ['agreementId', 'month'] })
export class MonthClose {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  agreementId!: string;

  @Property({ type: 'string', length: 7 })
  month!: string;

  @Property({ type: 'Date' })
  closedAt!: Date;

  @Property({ type: 'string', length: 20 })
  cause!: CloseCause;

  @Property({ type: 'text' })
  snapshot!: string;

  /** When data first arrived that the frozen results do not count. */
  @Property({ type: 'Date', nullable: true })
  lateDataAt?: Date | null;

  @Property({ type: 'Date', nullable: true })
  reopenedAt?: Date | null;

  @Property({ type: 'uuid', nullable: true })
  reopeningId?: string | null;
}

export enum CreditEntryKind {
  CLOSE = 'CLOSE',
  ADJUSTMENT = 'ADJUSTMENT',
}
registerEnumType(CreditEntryKind, {
  name: 'CreditEntryKind',
  description: 'CLOSE: the credit a month posted when it closed. ADJUSTMENT: the change after a reopening, never a rewrite of the first entry.',
});

/** One posting to the credit ledger: append-only. */
@ObjectType({ description: 'A posting of an agreement-month’s service credit (DESIGN §5): on close, and as an adjustment after a reopening.', implements: Node })
@Entity({ tableName: 'credit_entry' })
@Index({ properties: ['agreementId', 'month'] })
@Index({ properties: ['providerId', 'month'] })
@Index({ properties: ['postedAt', 'id'] })
@Index({ properties: ['recordedAt', 'id'] })
export class CreditEntry {
  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  agreementId!: string;

  @Field(() => MonthScalar)
  @Property({ type: 'string', length: 7 })
  month!: string;

  @Field(() => CreditEntryKind)
  @Property({ type: 'string', length: 20 })
  kind!: CreditEntryKind;

  @Field(() => Float, { description: 'The month’s credit percent after this entry.' })
  @Property({ type: 'double' })
  percent!: number;

  @Field(() => Float, { description: 'The month’s credit amount after this entry.' })
  @Property({ type: 'double' })
  amount!: number;

  @Field(() => Float, { description: 'What this entry adds to the month’s earlier postings (the whole amount on CLOSE).' })
  @Property({ type: 'double' })
  delta!: number;

  @Field(() => [String], { description: 'Metric codes of the objectives BREACHED or NO_DATA that caused the credit.' })
  @Property({ type: 'json' })
  objectives!: string[];

  @Property({ type: 'uuid' })
  providerId!: string;

  @Property({ type: 'uuid' })
  customerId!: string;

  @Field(() => DateTimeScalar, { description: 'When the month closed (or closed again).' })
  @Property({ type: 'Date' })
  postedAt!: Date;

  @Field(() => String, { nullable: true, description: 'For an adjustment: the reopening’s reason.' })
  @Property({ type: 'text', nullable: true })
  reason?: string | null;

  /**
   * When the entry was written, on the server's clock (BI pulls compare it with their snapshot
   * instants): `postedAt` is the close instant, which a late scheduler or a test clock can put
   * before the write, so an incremental pull by `postedAt` would miss the entry.
   */
  @Property({ type: 'Date', nullable: true })
  recordedAt?: Date | null;
}

/**
 * A credit entry taken back (a write at an instant before a later close: the close and its posting
 * are undone and redone in instant order): what BI pulls need to delete their copy, and when.
 */
@Entity({ tableName: 'credit_tombstone' })
@Index({ properties: ['deletedAt', 'id'] })
export class CreditTombstone {
  /** The id of the credit entry that was taken back. */
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  agreementId!: string;

  @Property({ type: 'string', length: 7 })
  month!: string;

  @Property({ type: 'Date' })
  deletedAt!: Date;
}

export enum ReopeningStatus {
  REQUESTED = 'REQUESTED',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
}
registerEnumType(ReopeningStatus, { name: 'ReopeningStatus' });

/** A request to reopen a closed month (DESIGN §5): one party asks, the other party's head (or an admin) decides. */
@ObjectType({
  description: 'A request to reopen a closed agreement-month: approved by the other party’s head or an admin, it recomputes the month and posts an adjusting credit entry.',
  implements: Node,
})
@Entity({ tableName: 'month_reopening' })
@Index({ properties: ['agreement', 'month'] })
export class MonthReopening extends BaseEntity<'status'> {
  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @Field(() => MonthScalar)
  @Property({ type: 'string', length: 7 })
  month!: string;

  @Field()
  @Property({ type: 'text' })
  reason!: string;

  @Field(() => ReopeningStatus)
  @Property({ type: 'string', length: 20 })
  status: ReopeningStatus = ReopeningStatus.REQUESTED;

  @Field(() => RequesterSide, { description: 'Who asked.' })
  @Property({ type: 'string', length: 10 })
  requestedBySide!: string;

  @Property({ type: 'uuid', nullable: true })
  requestedByUserId?: string | null;

  @Property({ type: 'uuid', nullable: true })
  decidedByUserId?: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  decidedAt?: Date | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  note?: string | null;
}
