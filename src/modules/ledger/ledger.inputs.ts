import { IsOptional, IsUUID, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { ExpectedVersionField, IdempotencyKeyField } from '../../common/inputs';
import { MonthScalar } from '../../common/scalars';
import { NotBlank } from '../../common/validation';

@InputType({ description: 'Ask to reopen a closed agreement-month (DESIGN §5): a party’s head asks, the other party’s head approves; an admin’s request reopens it at once.' })
export class RequestMonthReopeningInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'agreementId: expected an agreement id (UUID)' })
  agreementId!: string;

  @Field(() => MonthScalar)
  month!: string;

  @Field({ description: 'Why the closed results are wrong (late data, a correction); required.' })
  @Length(1, 5000, { message: 'reason: expected 1 to 5000 characters' })
  @NotBlank('reason')
  reason!: string;

  @IdempotencyKeyField()
  idempotencyKey?: string | null;
}

@InputType()
export class MonthReopeningDecisionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected a reopening id (UUID)' })
  id!: string;

  @ExpectedVersionField("The reopening's version you read.")
  expectedVersion!: number;

  @Field(() => String, { nullable: true, description: 'Why; required to reject.' })
  @IsOptional()
  @MaxLength(5000, { message: 'note: expected at most 5000 characters' })
  note?: string | null;
}

@InputType({ description: 'Which credit ledger entries: any combination; months are the agreement-months the entries are for.' })
export class CreditLedgerFilter {
  @Field(() => ID, { nullable: true, description: 'The agreement: its id or its key.' })
  @IsOptional()
  @IsUUID('all', { message: 'agreementId: expected an agreement id (UUID)' })
  agreementId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Entries of agreements this department provides or receives: its id or its code.' })
  @IsOptional()
  @IsUUID('all', { message: 'departmentId: expected a department id (UUID)' })
  departmentId?: string | null;

  @Field(() => MonthScalar, { nullable: true })
  from?: string | null;

  @Field(() => MonthScalar, { nullable: true })
  to?: string | null;
}
