import { ArrayMaxSize, IsEmail, IsInt, IsNumber, IsOptional, IsUUID, Length, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { ExpectedVersionField, IdempotencyKeyField } from '../../common/inputs';
import { Field, Float, ID, InputType, Int } from 'type-graphql';
import { NotBlank } from '../../common/validation';
import { DateScalar, MonthScalar } from '../../common/scalars';
import { PartyRole } from '../../common/sides';
import { AgreementStatus, AmendmentStatus, Inheritance, Tier } from './agreement.entity';

const FINITE = { allowNaN: false, allowInfinity: false };
export const KEY_PATTERN = /^\s*[A-Za-z][A-Za-z0-9-]{1,59}\s*$/;

@InputType()
export class ResponsibilityInput {
  @Field(() => PartyRole)
  party!: 'PROVIDER' | 'CUSTOMER';

  @Field()
  @Length(1, 1000, { message: 'description: expected 1 to 1000 characters' })
  description!: string;
}

@InputType()
export class ContactInput {
  @Field(() => PartyRole)
  party!: 'PROVIDER' | 'CUSTOMER';

  @Field()
  @Length(1, 200, { message: 'name: expected 1 to 200 characters' })
  name!: string;

  @Field()
  @IsEmail({}, { message: 'email: expected an e-mail address' })
  email!: string;

  @Field({ description: 'e.g. "service owner", "escalation contact".' })
  @Length(1, 200, { message: 'role: expected 1 to 200 characters' })
  role!: string;
}

@InputType()
export class EscalationTargetInput {
  @Field(() => Float, { description: 'Working hours to the first response (CRITICAL: clock hours).' })
  @IsNumber(FINITE, { message: 'responseHours: expected a number' })
  @Min(0.01, { message: 'responseHours: expected more than 0' })
  responseHours!: number;

  @Field(() => Float, { description: 'Working hours to resolution; at least the response time.' })
  @IsNumber(FINITE, { message: 'resolutionHours: expected a number' })
  @Min(0.01, { message: 'resolutionHours: expected more than 0' })
  resolutionHours!: number;
}

@InputType()
export class EscalationPolicyInput {
  @Field(() => EscalationTargetInput)
  @ValidateNested()
  CRITICAL!: EscalationTargetInput;

  @Field(() => EscalationTargetInput)
  @ValidateNested()
  HIGH!: EscalationTargetInput;

  @Field(() => EscalationTargetInput)
  @ValidateNested()
  MEDIUM!: EscalationTargetInput;

  @Field(() => EscalationTargetInput)
  @ValidateNested()
  LOW!: EscalationTargetInput;
}

@InputType()
export class CalendarInput {
  @Field({ description: 'IANA time zone, e.g. "Europe/Berlin".' })
  @Length(1, 64, { message: 'timeZone: expected an IANA time zone such as Europe/Berlin' })
  timeZone!: string;

  @Field(() => [Int], { description: 'ISO weekdays: 1 = Monday … 7 = Sunday.' })
  @IsInt({ each: true, message: 'workingDays: expected whole numbers from 1 to 7' })
  @Min(1, { each: true, message: 'workingDays: expected whole numbers from 1 to 7' })
  @Max(7, { each: true, message: 'workingDays: expected whole numbers from 1 to 7' })
  workingDays!: number[];

  @Field({ description: '"HH:MM", local time.' })
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'dayStart: expected "HH:MM"' })
  dayStart!: string;

  @Field({ description: '"HH:MM", local time, after dayStart.' })
  @Matches(/^([01]\d|2[0-4]):[0-5]\d$/, { message: 'dayEnd: expected "HH:MM"' })
  dayEnd!: string;

  @Field(() => [DateScalar], { description: 'Local dates on which nobody works.' })
  @ArrayMaxSize(1000)
  holidays!: string[];
}

/** Terms an amendment may change; omitted ones stay as they are. */
@InputType()
export class AmendTermsInput {
  @Field(() => MonthScalar, { nullable: true, description: 'Last month; omit for open-ended.' })
  @IsOptional()
  effectiveTo?: string | null;

  @Field(() => Float, { nullable: true, description: 'Share of objective-months to meet, 0–1; default 0.9.' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'complianceTarget: expected a number from 0 to 1' })
  @Min(0, { message: 'complianceTarget: expected a number from 0 to 1' })
  @Max(1, { message: 'complianceTarget: expected a number from 0 to 1' })
  complianceTarget?: number;

  @Field(() => Float, { nullable: true, description: 'Internal monthly charge; default 0.' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'monthlyCharge: expected a number from 0' })
  @Min(0, { message: 'monthlyCharge: expected a number from 0' })
  monthlyCharge?: number;

  @Field(() => Float, { nullable: true, description: 'Most credit a month, percent of the charge; default 0.' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'creditCapPercent: expected a number from 0 to 100' })
  @Min(0, { message: 'creditCapPercent: expected a number from 0 to 100' })
  @Max(100, { message: 'creditCapPercent: expected a number from 0 to 100' })
  creditCapPercent?: number;

  @Field(() => Int, { nullable: true, description: 'Working day after month end the report is due; default 5.' })
  @IsOptional()
  @IsInt({ message: 'reportDueWorkingDays: expected a whole number from 1 to 20' })
  @Min(1, { message: 'reportDueWorkingDays: expected a whole number from 1 to 20' })
  @Max(20, { message: 'reportDueWorkingDays: expected a whole number from 1 to 20' })
  reportDueWorkingDays?: number;

  @Field(() => Int, { nullable: true, description: 'Working days the customer has to acknowledge or dispute a revision before it is deemed acknowledged; default 5.' })
  @IsOptional()
  @IsInt({ message: 'acceptanceWorkingDays: expected a whole number from 1 to 20' })
  @Min(1, { message: 'acceptanceWorkingDays: expected a whole number from 1 to 20' })
  @Max(20, { message: 'acceptanceWorkingDays: expected a whole number from 1 to 20' })
  acceptanceWorkingDays?: number;

  @Field(() => Int, { nullable: true, description: 'Months between reviews; default 12.' })
  @IsOptional()
  @IsInt({ message: 'reviewCadenceMonths: expected a whole number from 1 to 60' })
  @Min(1, { message: 'reviewCadenceMonths: expected a whole number from 1 to 60' })
  @Max(60, { message: 'reviewCadenceMonths: expected a whole number from 1 to 60' })
  reviewCadenceMonths?: number;

  @Field(() => DateScalar, { nullable: true, description: 'The next scheduled review of the terms.' })
  @IsOptional()
  nextReviewDate?: string | null;

  @Field(() => [ResponsibilityInput], { nullable: true })
  @IsOptional()
  @ValidateNested({ each: true })
  responsibilities?: ResponsibilityInput[];

  @Field(() => [ContactInput], { nullable: true })
  @IsOptional()
  @ValidateNested({ each: true })
  contacts?: ContactInput[];

  @Field(() => EscalationPolicyInput, { nullable: true, description: 'Default: CRITICAL 1/8 h, HIGH 4/24, MEDIUM 8/40, LOW 16/80.' })
  @IsOptional()
  @ValidateNested()
  escalationPolicy?: EscalationPolicyInput;

  @Field(() => CalendarInput, { nullable: true, description: 'Default: UTC, Monday–Friday 09:00–17:00, no holidays.' })
  @IsOptional()
  @ValidateNested()
  calendar?: CalendarInput;
}

/** The terms of a new agreement's first version; omitted ones take the documented defaults. */
@InputType()
export class TermsInput extends AmendTermsInput {
  @Field(() => MonthScalar, { description: 'First month of the agreement.' })
  effectiveFrom!: string;
}

@InputType()
export class ObjectiveInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'metricId: expected a metric id (UUID)' })
  metricId!: string;

  @Field(() => Float)
  @IsNumber(FINITE, { message: 'target: expected a finite number' })
  target!: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber(FINITE, { message: 'warning: expected a finite number' })
  warning?: number | null;

  @Field(() => Float, { nullable: true, description: 'Default 1; more than 0.' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'weight: expected a number above 0' })
  @Min(0.000001, { message: 'weight: expected a number above 0' })
  weight?: number;

  @Field(() => Float, { nullable: true, description: 'Default 0; 0 to 100.' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'creditPercent: expected a number from 0 to 100' })
  @Min(0, { message: 'creditPercent: expected a number from 0 to 100' })
  @Max(100, { message: 'creditPercent: expected a number from 0 to 100' })
  creditPercent?: number;

  @Field(() => Inheritance, { nullable: true, description: 'Default APPLIES.' })
  @IsOptional()
  inheritance?: Inheritance;
}

@InputType()
export class CreateAgreementInput {
  @Field({ description: 'Unique key, upper-cased, e.g. "MKT-SALES".' })
  @Matches(KEY_PATTERN, { message: 'key: expected 2 to 60 letters, digits or -, starting with a letter' })
  key!: string;

  @Field(() => Tier)
  tier!: Tier;

  @Field()
  @Length(1, 300, { message: 'title: expected 1 to 300 characters' })
  title!: string;

  @Field(() => ID, { nullable: true, description: 'CUSTOMER and SERVICE: the provider department.' })
  @IsOptional()
  @IsUUID('all', { message: 'providerId: expected a department id (UUID)' })
  providerId?: string | null;

  @Field(() => ID, { nullable: true, description: 'CUSTOMER and SERVICE: the customer department.' })
  @IsOptional()
  @IsUUID('all', { message: 'customerId: expected a department id (UUID)' })
  customerId?: string | null;

  @Field(() => ID, { nullable: true, description: 'SERVICE: a service of the provider.' })
  @IsOptional()
  @IsUUID('all', { message: 'serviceId: expected a service id (UUID)' })
  serviceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'CUSTOMER: a CORPORATE agreement; SERVICE: the CUSTOMER agreement of the same pair.' })
  @IsOptional()
  @IsUUID('all', { message: 'parentId: expected an agreement id (UUID)' })
  parentId?: string | null;

  @Field(() => TermsInput)
  @ValidateNested()
  terms!: TermsInput;

  @Field(() => [ObjectiveInput], {
    nullable: true,
    description: 'Its own objectives. With `copyTermsFrom`, each replaces the copied objective on its metric (or is added), and the copied ones follow; omitted: none (or the copied ones).',
  })
  @IsOptional()
  @ArrayMaxSize(100, { message: 'objectives: expected at most 100' })
  @ValidateNested({ each: true })
  objectives?: ObjectiveInput[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A template: another agreement (its key or id) whose version in force now (else its latest) gives the terms left out of `terms` (charge, credit cap, compliance target, report and acceptance days, review cadence, responsibilities, escalation policy, calendar; not contacts, effectiveTo or nextReviewDate) and its own objectives (metric, target, warning, weight, credit, inheritance).',
  })
  @IsOptional()
  @Length(1, 100, { message: 'copyTermsFrom: expected an agreement key or id' })
  copyTermsFrom?: string | null;

  @IdempotencyKeyField()
  idempotencyKey?: string | null;
}

@InputType()
export class AgreementTransitionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected an agreement id (UUID)' })
  id!: string;

  @ExpectedVersionField()
  expectedVersion!: number;

  @Field(() => PartyRole, { nullable: true, description: 'ADMIN approving a CUSTOMER or SERVICE agreement: for which party.' })
  @IsOptional()
  party?: 'PROVIDER' | 'CUSTOMER' | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Suspend, resume, terminate: why (required, 1–2000 characters). A party's head only asks: the change waits for the other party's (or an admin's) approval. Not read by approveAgreement.",
  })
  @IsOptional()
  @MaxLength(2000, { message: 'reason: expected at most 2000 characters' })
  reason?: string | null;

  @Field(() => MonthScalar, {
    nullable: true,
    description: 'Terminate an ACTIVE or SUSPENDED agreement: the first month out of scope, the current month or later (required). Months before it keep scoring.',
  })
  effectiveMonth?: string | null;
}

@InputType({ description: 'Approve, reject or withdraw a pending lifecycle request.' })
export class LifecycleDecisionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected a lifecycle request id (UUID)' })
  id!: string;

  @ExpectedVersionField("The request's version you read.")
  expectedVersion!: number;

  @Field(() => String, { nullable: true, description: 'Required to reject (1–2000 characters).' })
  @IsOptional()
  @MaxLength(2000, { message: 'reason: expected at most 2000 characters' })
  reason?: string | null;
}

@InputType()
export class AgreementFilter {
  @Field(() => Tier, { nullable: true })
  tier?: Tier;

  @Field(() => AgreementStatus, { nullable: true, description: 'DRAFT, ACTIVE, SUSPENDED or TERMINATED (EXPIRED is derived from effectiveTo and refused: filter ACTIVE and read the status).' })
  status?: AgreementStatus;

  @Field(() => ID, { nullable: true, description: 'The provider department: its id or its code (as `provider`).' })
  providerId?: string;

  @Field(() => ID, { nullable: true, description: 'The customer department: its id or its code (as `customer`).' })
  customerId?: string;

  @Field(() => ID, { nullable: true, description: 'Provided by this department: its id or its code (`MKT`).' })
  provider?: string | null;

  @Field(() => ID, { nullable: true, description: 'Received by this department: its id or its code (`SALES`).' })
  customer?: string | null;

  @Field(() => ID, { nullable: true, description: 'The service: its id or its code (`CRM`).' })
  serviceId?: string;

  @Field({ nullable: true, description: 'Only measured agreements: ACTIVE CUSTOMER or SERVICE agreements without active children.' })
  measuredOnly?: boolean;
}

@InputType()
export class ObjectiveChangeInput {
  @Field(() => ID, { description: 'The metric whose objective changes.' })
  @IsUUID('all', { message: 'metricId: expected a metric id (UUID)' })
  metricId!: string;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber(FINITE, { message: 'target: expected a finite number' })
  target?: number;

  @Field(() => Float, { nullable: true, description: '`null` removes the warning; omit to keep.' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'warning: expected a finite number' })
  warning?: number | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber(FINITE, { message: 'weight: expected a number above 0' })
  @Min(0.000001, { message: 'weight: expected a number above 0' })
  weight?: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber(FINITE, { message: 'creditPercent: expected a number from 0 to 100' })
  @Min(0, { message: 'creditPercent: expected a number from 0 to 100' })
  @Max(100, { message: 'creditPercent: expected a number from 0 to 100' })
  creditPercent?: number;

  @Field(() => Inheritance, { nullable: true })
  @IsOptional()
  inheritance?: Inheritance;
}

@InputType()
export class ProposeAmendmentInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'agreementId: expected an agreement id (UUID)' })
  agreementId!: string;

  @ExpectedVersionField("The agreement's lockVersion you read.")
  expectedVersion!: number;

  @Field(() => MonthScalar, { description: 'First month the new terms govern: this month or later.' })
  effectiveMonth!: string;

  @Field()
  @NotBlank('reason')
  @MaxLength(5000, { message: 'reason: expected at most 5000 characters' })
  reason!: string;

  @Field(() => AmendTermsInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  terms?: AmendTermsInput;

  @Field(() => [ObjectiveInput], { nullable: true })
  @IsOptional()
  @ValidateNested({ each: true })
  addObjectives?: ObjectiveInput[];

  @Field(() => [ObjectiveChangeInput], { nullable: true })
  @IsOptional()
  @ValidateNested({ each: true })
  changeObjectives?: ObjectiveChangeInput[];

  @Field(() => [ID], { nullable: true, description: 'Metrics whose objectives are removed.' })
  @IsOptional()
  @IsUUID('all', { each: true, message: 'removeObjectives: expected metric ids (UUID)' })
  removeObjectives?: string[];

  @IdempotencyKeyField()
  idempotencyKey?: string | null;
}

@InputType()
export class AmendmentDecisionInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected an amendment id (UUID)' })
  id!: string;

  @ExpectedVersionField("The amendment's version you read.")
  expectedVersion!: number;

  @Field(() => String, { nullable: true, description: 'Required to reject.' })
  @IsOptional()
  @MaxLength(5000, { message: 'reason: expected at most 5000 characters' })
  reason?: string | null;
}

@InputType({ description: 'Which amendments to list; every field narrows the list.' })
export class AmendmentFilter {
  @Field(() => AmendmentStatus, { nullable: true })
  status?: AmendmentStatus | null;

  @Field(() => ID, { nullable: true, description: 'Only amendments of agreements this department provides or receives: its id or its code.' })
  department?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only the amendments of this agreement: its id or its key.' })
  agreement?: string | null;
}
