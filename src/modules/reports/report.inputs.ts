import { ArrayMaxSize, IsEnum, IsInt, IsNumber, IsOptional, IsUrl, IsUUID, Length, MaxLength, Min, ValidateNested } from 'class-validator';
import { Field, Float, ID, InputType, Int } from 'type-graphql';
import { ExpectedVersionField, IdempotencyKeyField } from '../../common/inputs';
import { MonthScalar } from '../../common/scalars';
import { NotBlank } from '../../common/validation';
import { DisputeRuling, ExclusionReason, ExclusionStatus, FrictionCategory, ReportStatus } from './report.entity';
import { Severity } from '../../common/severity';

const FINITE = { allowNaN: false, allowInfinity: false };

@InputType({ description: 'The value of one MANUAL effective objective for the month.' })
export class ReportValueInput {
  @Field(() => ID, {
    nullable: true,
    description: 'An effective objective of the agreement in the month (its own or inherited): its id, or its key (`SALES-CS/HANDOVER_DAYS`, the same in every version); or name its metric instead.',
  })
  @IsOptional()
  @Length(1, 200, { message: 'objectiveId: expected an objective id or key' })
  objectiveId?: string | null;

  @Field(() => String, { nullable: true, description: 'The metric code of the effective objective (e.g. `HANDOVER_DAYS`), instead of `objectiveId`: stable from one version to the next.' })
  @IsOptional()
  @Length(1, 100, { message: 'metric: expected a metric code of 1 to 100 characters' })
  metric?: string | null;

  @Field(() => Float)
  @IsNumber(FINITE, { message: 'value: expected a finite number' })
  value!: number;
}

@InputType({ description: 'One thing customers stumbled over.' })
export class FrictionItemInput {
  @Field(() => FrictionCategory)
  @IsEnum(FrictionCategory, { message: 'category: expected a FrictionCategory' })
  category!: FrictionCategory;

  @Field({ description: 'What happened.' })
  @Length(1, 2000, { message: 'description: expected 1 to 2000 characters' })
  @NotBlank('description')
  description!: string;

  @Field(() => Int)
  @IsInt({ message: 'customersAffected: expected a whole number' })
  @Min(0, { message: 'customersAffected: expected 0 or more' })
  customersAffected!: number;

  @Field(() => Severity)
  @IsEnum(Severity, { message: 'severity: expected a Severity' })
  severity!: Severity;
}

/**
 * The parts a report holds, shared by drafts and submissions. An @InputType so subclasses inherit
 * its fields; no argument takes it, so the schema never shows it.
 */
@InputType('ReportContentInput')
abstract class ReportContentInput {
  @Field(() => ID, { description: 'The agreement: its id, or its key (`SALES-CS`).' })
  @Length(1, 100, { message: 'agreementId: expected an agreement id or key' })
  agreementId!: string;

  @Field(() => MonthScalar)
  month!: string;

  @Field(() => [ReportValueInput], { nullable: true, description: 'One value per MANUAL effective objective. Omitted on submit: the saved draft’s.' })
  @IsOptional()
  @ArrayMaxSize(200, { message: 'values: expected at most 200 values' })
  @ValidateNested()
  values?: ReportValueInput[] | null;

  @Field(() => String, { nullable: true, description: 'What happened in the month, in the provider’s words. Omitted on submit: the saved draft’s.' })
  @IsOptional()
  @MaxLength(20000, { message: 'narrative: expected at most 20000 characters' })
  narrative?: string | null;

  @Field(() => [FrictionItemInput], {
    nullable: true,
    description:
      'Only where the agreement carries a customer-friction objective. Omitted or null: the saved draft’s, else the previous revision’s (a corrected revision carries its items forward). A list, even an empty one, replaces them (`[]` clears); an item sent again unchanged keeps its id.',
  })
  @IsOptional()
  @ArrayMaxSize(500, { message: 'frictionItems: expected at most 500 items' })
  @ValidateNested()
  frictionItems?: FrictionItemInput[] | null;
}

@InputType()
export class SaveReportDraftInput extends ReportContentInput {
  @Field(() => Int, { nullable: true, description: 'The report version you read; omit for the first draft of the month.' })
  @IsOptional()
  @IsInt({ message: 'expectedVersion: expected an integer' })
  expectedVersion?: number | null;
}

@InputType()
export class SubmitReportInput extends ReportContentInput {
  @IdempotencyKeyField('Replaying a key with the same input returns the same revision and writes nothing.')
  idempotencyKey?: string | null;
}

@InputType()
export class ReportDecisionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'reportId: expected a report id (UUID)' })
  reportId!: string;

  @Field(() => Int, { description: 'The number of the revision you decide on: the latest one (a newer one is a CONFLICT). Saving drafts does not move it.' })
  @IsInt({ message: 'revision: expected an integer' })
  @Min(1, { message: 'revision: expected a revision from 1' })
  revision!: number;
}

@InputType()
export class DisputeReportInput extends ReportDecisionInput {
  @Field({ description: 'Why the customer disputes the revision; required.' })
  @Length(1, 5000, { message: 'reason: expected 1 to 5000 characters' })
  @NotBlank('reason')
  reason!: string;
}

@InputType({ description: 'An admin settles a dispute of the latest revision (DESIGN §5).' })
export class SettleDisputeInput extends ReportDecisionInput {
  @Field(() => DisputeRuling, { description: 'UPHELD: the provider must correct; REJECTED: the disputed revision stands.' })
  @IsEnum(DisputeRuling, { message: 'ruling: expected UPHELD or REJECTED' })
  ruling!: DisputeRuling;

  @Field({ description: 'Why; required, shown to both parties.' })
  @Length(1, 5000, { message: 'note: expected 1 to 5000 characters' })
  @NotBlank('note')
  note!: string;
}

@InputType()
export class ReportFilter {
  @Field(() => ID, { nullable: true, description: 'The agreement: its id or its key.' })
  agreementId?: string | null;

  @Field(() => MonthScalar, { nullable: true })
  month?: string | null;

  @Field(() => MonthScalar, { nullable: true, description: 'From this month on.' })
  from?: string | null;

  @Field(() => MonthScalar, { nullable: true, description: 'Up to this month.' })
  to?: string | null;

  @Field(() => ReportStatus, { nullable: true })
  status?: ReportStatus | null;
}

@InputType()
export class RequestExclusionInput {
  @Field(() => ID, { description: 'The agreement: its id, or its key (`SALES-CS`).' })
  @Length(1, 100, { message: 'agreementId: expected an agreement id or key' })
  agreementId!: string;

  @Field(() => MonthScalar)
  month!: string;

  @Field(() => ID, {
    description: 'The effective objective (its own or inherited) whose month is to be excused: its id, its key (`IT-SALES/AVAILABILITY`, the same in every version) or its metric code.',
  })
  @Length(1, 200, { message: 'objectiveId: expected an objective id, key or metric code' })
  objectiveId!: string;

  @Field(() => ExclusionReason)
  @IsEnum(ExclusionReason, { message: 'reasonCode: expected an ExclusionReason' })
  reasonCode!: ExclusionReason;

  @Field({ description: 'Why the breach should be excused; required.' })
  @Length(1, 5000, { message: 'explanation: expected 1 to 5000 characters' })
  @NotBlank('explanation')
  explanation!: string;

  @Field(() => String, { nullable: true, description: 'A link to the evidence (http or https).' })
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true }, { message: 'evidenceUrl: expected an http(s) URL' })
  @MaxLength(2000, { message: 'evidenceUrl: expected at most 2000 characters' })
  evidenceUrl?: string | null;

  @IdempotencyKeyField()
  idempotencyKey?: string | null;
}

@InputType()
export class ExclusionDecisionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'exclusionId: expected an exclusion id (UUID)' })
  exclusionId!: string;

  @ExpectedVersionField("The exclusion's version you read.")
  expectedVersion!: number;

  @Field(() => String, { nullable: true, description: 'Why; required to reject.' })
  @IsOptional()
  @MaxLength(5000, { message: 'note: expected at most 5000 characters' })
  note?: string | null;
}

@InputType()
export class ExclusionFilter {
  @Field(() => ID, { nullable: true, description: 'The agreement: its id or its key.' })
  agreementId?: string | null;

  @Field(() => MonthScalar, { nullable: true })
  month?: string | null;

  @Field(() => ExclusionStatus, { nullable: true })
  status?: ExclusionStatus | null;
}
