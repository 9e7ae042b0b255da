import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../../common/node';
import { BaseEntity } from '../../common/base.entity';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { Agreement } from './agreement.entity';

/** What a lifecycle request asks for (issue 16). */
export enum LifecycleRequestKind {
  SUSPEND = 'SUSPEND',
  RESUME = 'RESUME',
  TERMINATE = 'TERMINATE',
}
registerEnumType(LifecycleRequestKind, {
  name: 'LifecycleRequestKind',
  valuesConfig: {
    SUSPEND: { description: 'ACTIVE → SUSPENDED: whole months suspended are not scored.' },
    RESUME: { description: 'SUSPENDED → ACTIVE.' },
    TERMINATE: { description: 'Ends the agreement from `effectiveMonth` on; months before it keep scoring.' },
  },
});

/** Where a lifecycle request stands. */
export enum LifecycleRequestStatus {
  PENDING = 'PENDING',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
  WITHDRAWN = 'WITHDRAWN',
}
registerEnumType(LifecycleRequestStatus, {
  name: 'LifecycleRequestStatus',
  valuesConfig: {
    PENDING: { description: 'Waiting for the other party (or an admin) to approve or reject it.' },
    APPROVED: { description: 'Approved (or made by an admin, which takes effect at once): the change was made.' },
    REJECTED: { description: 'Rejected by the other party or an admin, with a reason; nothing changed.' },
    WITHDRAWN: { description: "Withdrawn by the requester's side or an admin, or closed by the agreement's termination." },
  },
});

/**
 * A suspension, resumption or termination of an agreement, asked for by one party with a reason
 * and taking effect on the other party's (or an admin's) approval (issue 16). An admin's own
 * change is recorded here too, APPROVED at once, so every lifecycle change keeps its reason. At
 * most one is PENDING per agreement (checked under the agreement's row lock).
 */
@ObjectType({
  description: "A suspension, resumption or termination asked for by one party, in effect once the other party (or an admin) approves it. An admin's own change is recorded APPROVED.",
  implements: Node,
})
@Entity({ tableName: 'agreement_lifecycle_request' })
@Index({ properties: ['agreement', 'status'] })
export class AgreementLifecycleRequest extends BaseEntity<'status'> {
  @ManyToOne(() => Agreement, { ref: true, deleteRule: 'restrict' })
  agreement!: Ref<Agreement>;

  @Field(() => LifecycleRequestKind)
  @Property({ type: 'string', length: 20 })
  kind!: LifecycleRequestKind;

  @Field(() => LifecycleRequestStatus)
  @Property({ type: 'string', length: 20 })
  status: LifecycleRequestStatus = LifecycleRequestStatus.PENDING;

  @Field({ description: 'Why the change is asked for.' })
  @Property({ type: 'text' })
  reason!: string;

  @Field(() => MonthScalar, { nullable: true, description: 'TERMINATE: the first month out of scope (the current month or later when asked).' })
  @Property({ type: 'string', length: 7, nullable: true })
  effectiveMonth?: string | null;

  @Field({ description: 'PROVIDER, CUSTOMER or ADMIN: the side that asked.' })
  @Property({ type: 'string', length: 20 })
  requestedBy!: string;

  @Property({ type: 'string', length: 100, nullable: true })
  requestedByUserId?: string | null;

  @Field(() => DateTimeScalar, { description: 'When it was asked for (the request clock).' })
  @Property({ type: 'Date' })
  requestedAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  decidedAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'PROVIDER, CUSTOMER or ADMIN: the side that approved, rejected or withdrew it; SYSTEM when the termination closed it.' })
  @Property({ type: 'string', length: 20, nullable: true })
  decidedBy?: string | null;

  @Property({ type: 'string', length: 100, nullable: true })
  decidedByUserId?: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was rejected.' })
  @Property({ type: 'text', nullable: true })
  rejectionReason?: string | null;
}
