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
