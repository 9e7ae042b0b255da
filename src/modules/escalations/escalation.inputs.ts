import { IsEnum, IsOptional, IsUUID, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { ExpectedVersionField, IdempotencyKeyField } from '../../common/inputs';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import { NotBlank } from '../../common/validation';
import { Severity } from '../../common/severity';
import { EscalationStatus } from './escalation.entity';

@InputType()
export class OpenEscalationInput {
  @Field(() => ID, { description: 'The CUSTOMER or SERVICE agreement the problem is raised against.' })
  @IsUUID('all', { message: 'agreementId: expected an agreement id (UUID)' })
  agreementId!: string;

  @Field(() => Severity)
  @IsEnum(Severity, { message: 'severity: expected a Severity' })
  severity!: Severity;

  @Field()
  @Length(1, 300, { message: 'title: expected 1 to 300 characters' })
  @NotBlank('title')
  title!: string;

  @Field()
  @Length(1, 10000, { message: 'description: expected 1 to 10000 characters' })
  @NotBlank('description')
  description!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was raised (automation may send the original time); default now, never in the future.' })
  @IsOptional()
  openedAt?: Date | null;

  @IdempotencyKeyField()
  idempotencyKey?: string | null;
}

@InputType()
export class EscalationTransitionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected an escalation id (UUID)' })
  id!: string;

  @ExpectedVersionField("The escalation's version you read.")
  expectedVersion!: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it happened; default now, never in the future nor before the escalation was opened.' })
  @IsOptional()
  at?: Date | null;

  @Field(() => String, { nullable: true, description: 'How it was resolved; required to resolve.' })
  @IsOptional()
  @MaxLength(10000, { message: 'resolution: expected at most 10000 characters' })
  resolution?: string | null;
}

@InputType()
export class EscalationFilter {
  @Field(() => ID, { nullable: true, description: 'The agreement: its id or its key.' })
  agreementId?: string | null;

  @Field(() => EscalationStatus, { nullable: true })
  status?: EscalationStatus | null;

  @Field(() => Severity, { nullable: true })
  severity?: Severity | null;

  @Field(() => MonthScalar, { nullable: true })
  month?: string | null;
}

/**
 * One escalation from a ticketing system. Checked by the service, not by class-validator: a batch
 * of 5,000 is validated in one pass, every problem listed by index.
 */
@InputType({ description: 'One escalation as a ticketing system knows it; a re-sent externalId (per source) updates the earlier one.' })
export class EscalationRecordInput {
  @Field({ description: 'Its id in the source system (the ticket number), unique per source; 1–200 characters.' })
  externalId!: string;

  @Field({ description: 'The CUSTOMER or SERVICE agreement it is raised against, by key (or id).' })
  agreement!: string;

  @Field(() => Severity)
  severity!: Severity;

  @Field({ description: '1–300 characters.' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'Up to 10,000 characters; default the title.' })
  description?: string | null;

  @Field(() => DateTimeScalar, { description: 'When it was raised; never in the future.' })
  openedAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'First response (stops the response clock); not before openedAt.' })
  acknowledgedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was resolved (also acknowledges it then, if not acknowledged before); not before acknowledgedAt.' })
  resolvedAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'How it was resolved; only with resolvedAt; default `resolved in <source>`.' })
  resolution?: string | null;
}

@InputType()
export class RecordEscalationsInput {
  @Field({ description: 'The sending system, e.g. `ticketing`: external ids are unique per source.' })
  source!: string;

  @Field(() => [EscalationRecordInput], { description: 'Up to 5,000 escalations; all or nothing.' })
  escalations!: EscalationRecordInput[];
}
