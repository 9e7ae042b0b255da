import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { PageInfo } from '../../common/connection';
import { Node } from '../../common/node';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { UserError } from '../../common/user-error';
import { ActionKind } from './action-items';

registerEnumType(ActionKind, {
  name: 'ActionKind',
  valuesConfig: {
    APPROVE_AGREEMENT: { description: 'A draft agreement awaits this party’s approval (reference: the agreement).' },
    DECIDE_AMENDMENT: { description: 'An amendment the other party proposed awaits approval or rejection (reference: the amendment).' },
    DECIDE_LIFECYCLE_REQUEST: { description: 'The other party asked to suspend, resume or terminate the agreement; approve or reject it (reference: the lifecycle request).' },
    SUBMIT_REPORT: { description: 'A month has ended and its report is not submitted (reference: the agreement; deadline: the due date).' },
    ACKNOWLEDGE_REPORT: { description: 'A submitted revision awaits acknowledgement or dispute (reference: the revision; deadline: the acceptance window’s end).' },
    CORRECT_REPORT: { description: 'A disputed revision awaits a corrected one (reference: the revision).' },
    SETTLE_DISPUTE: { description: 'A dispute awaits an admin’s ruling (reference: the revision).' },
    DECIDE_EXCLUSION: { description: 'A requested exclusion awaits approval or rejection (reference: the exclusion).' },
    DECIDE_REOPENING: { description: 'A requested month reopening awaits approval or rejection (reference: the reopening).' },
    ANSWER_ESCALATION: { description: 'An OPEN escalation awaits acknowledgement (reference: the escalation; deadline: its response deadline).' },
  },
});

@InputType({ description: 'Which inbox items to list.' })
export class InboxFilter {
  @Field(() => Boolean, { nullable: true, description: 'Only unread items.' })
  unread?: boolean | null;

  @Field(() => [String], { nullable: true, description: 'Only these event types (docs/events.md); an unknown type is refused.' })
  types?: string[] | null;
}

@ObjectType({ description: 'Who did what an inbox item tells; null for the system.' })
export class InboxActor {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;
}

@ObjectType({ description: 'A domain event the principal may read, with its read marker.', implements: Node })
export class InboxItem {
  @Field(() => ID, { description: 'The event’s id (as webhooks send it).' })
  id!: string;

  @Field({ description: 'The event type, e.g. report.disputed (docs/events.md).' })
  type!: string;

  @Field(() => DateTimeScalar)
  occurredAt!: Date;

  @Field(() => String, { nullable: true })
  agreementKey!: string | null;

  @Field(() => GraphQLJSONObject, { description: 'The type’s payload (docs/events.schema.json).' })
  payload!: Record<string, unknown>;

  @Field({ description: 'One line for people, e.g. "LEGAL-PROC: the March 2026 report was disputed: <reason>".' })
  summary!: string;

  @Field()
  read!: boolean;

  agreementId!: string | null;
  actorUserId!: string | null;
  seq!: number;
}

@ObjectType('InboxItemEdge')
export class InboxItemEdge {
  @Field()
  cursor!: string;

  @Field(() => InboxItem)
  node!: InboxItem;
}

@ObjectType({ description: 'A page of the inbox, newest first.' })
export class InboxConnection {
  @Field(() => [InboxItemEdge])
  edges!: InboxItemEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Items matching the filter, over all pages.' })
  totalCount!: PromiseLike<number>;

  @Field(() => Int, { description: 'Unread items of the filter’s types (whatever `unread` says).' })
  unreadCount!: PromiseLike<number>;
}

@ObjectType({ description: 'Something that awaits the principal now.' })
export class ActionItem {
  @Field(() => ActionKind)
  kind!: ActionKind;

  @Field()
  agreementKey!: string;

  @Field(() => MonthScalar, { nullable: true })
  month!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'By when; null when there is no deadline.' })
  deadline!: Date | null;

  @Field()
  overdue!: boolean;

  @Field(() => ID, { description: 'What to act on (see the kind): an agreement, amendment, revision, exclusion, reopening or escalation.' })
  referenceId!: string;

  @Field()
  title!: string;

  agreementId!: string;
}

@ObjectType()
export class InboxReadPayload {
  @Field(() => Int, { nullable: true, description: 'Unread items after the change.' })
  unreadCount!: number | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType({ description: 'What e-mail a user gets (both on unless switched off).' })
export class EmailPreferences {
  @Field({ description: 'An e-mail for each action awaiting the user, as it arises.' })
  actions!: boolean;

  @Field({ description: 'A digest of the user’s action items at 08:00 in its zone (docs/notifications.md).' })
  dailyDigest!: boolean;
}

@InputType()
export class SetEmailPreferencesInput {
  @Field(() => ID, { nullable: true, description: 'The user; yourself when omitted (admins may set anyone’s).' })
  userId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Unchanged when omitted.' })
  actions?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Unchanged when omitted.' })
  dailyDigest?: boolean | null;
}

@ObjectType()
export class EmailPreferencesPayload {
  @Field(() => EmailPreferences, { nullable: true })
  emailPreferences!: EmailPreferences | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}
