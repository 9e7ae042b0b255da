import { IsBoolean, IsEnum, IsNumber, IsOptional, IsUUID, Matches, MaxLength } from 'class-validator';
import { NotBlank } from '../../common/validation';
import { ExpectedVersionField, IdempotencyKeyField } from '../../common/inputs';
import { Field, Float, ID, InputType } from 'type-graphql';
import { CODE_MESSAGE, CODE_PATTERN } from '../../common/codes';
import { MeasurementAggregation, MetricDirection, MetricFeed, MetricSource, MetricUnit } from './metric.entity';

const FINITE = { allowNaN: false, allowInfinity: false };

@InputType()
export class CreateServiceInput {
  @Field({ description: 'Unique code; trimmed and upper-cased.' })
  @Matches(CODE_PATTERN, { message: CODE_MESSAGE })
  code!: string;

  @Field()
  @NotBlank('name')
  @MaxLength(200, { message: 'name: expected at most 200 characters' })
  name!: string;

  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(5000, { message: 'description: expected at most 5000 characters' })
  description?: string;

  @Field(() => ID, { description: 'The department that provides the service; fixed once created.' })
  @IsUUID('all', { message: 'providerId: expected a department id (UUID)' })
  providerId!: string;

  @IdempotencyKeyField()
  idempotencyKey?: string | null;
}

@InputType()
export class UpdateServiceInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected a service id (UUID)' })
  id!: string;

  @ExpectedVersionField()
  expectedVersion!: number;

  @Field({ nullable: true })
  @IsOptional()
  @Matches(CODE_PATTERN, { message: CODE_MESSAGE })
  code?: string;

  @Field({ nullable: true })
  @IsOptional()
  @NotBlank('name')
  @MaxLength(200, { message: 'name: expected at most 200 characters' })
  name?: string;

  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(5000, { message: 'description: expected at most 5000 characters' })
  description?: string;
}

@InputType()
export class ServiceFilter {
  @Field(() => ID, { nullable: true, description: 'The provider department: its id or its code.' })
  providerId?: string | null;

  @Field({ nullable: true, defaultValue: false })
  includeArchived?: boolean;

  @Field({ nullable: true, description: 'Case-insensitive match on code or name.' })
  search?: string;
}

@InputType()
export class CreateMetricInput {
  @Field({ description: 'Unique code; trimmed and upper-cased.' })
  @Matches(CODE_PATTERN, { message: CODE_MESSAGE })
  code!: string;

  @Field()
  @NotBlank('name')
  @MaxLength(200, { message: 'name: expected at most 200 characters' })
  name!: string;

  @Field(() => MetricUnit, { description: 'Fixed once created; also sets default bounds.' })
  @IsEnum(MetricUnit)
  unit!: MetricUnit;

  @Field(() => MetricDirection, { description: 'Fixed once created.' })
  @IsEnum(MetricDirection)
  direction!: MetricDirection;

  @Field(() => MetricSource, { description: 'Fixed once created.' })
  @IsEnum(MetricSource)
  source!: MetricSource;

  @Field(() => MetricFeed, { nullable: true, description: 'Required for an AUTOMATED metric (a built-in computation, or EXTERNAL measurements); not given for a MANUAL one. Fixed once set.' })
  @IsOptional()
  @IsEnum(MetricFeed)
  feed?: MetricFeed | null;

  @Field(() => MeasurementAggregation, { nullable: true, description: 'Required for an EXTERNAL feed, not given for others: how a month’s measurements give its value. Fixed once set.' })
  @IsOptional()
  @IsEnum(MeasurementAggregation)
  aggregation?: MeasurementAggregation | null;

  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(5000, { message: 'description: expected at most 5000 characters' })
  description?: string;

  @Field(() => Float, { nullable: true, description: 'Smallest valid value; defaults from the unit (0 for most).' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'minValue: expected a finite number' })
  minValue?: number | null;

  @Field(() => Float, { nullable: true, description: 'Largest valid value; defaults from the unit (100 for PERCENT).' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'maxValue: expected a finite number' })
  maxValue?: number | null;

  @Field({ nullable: true, description: 'Whole numbers only; defaults from the unit (true for COUNT).' })
  @IsOptional()
  @IsBoolean()
  integerOnly?: boolean;

  @Field({ nullable: true, description: 'Whether reports on this metric carry structured customer-friction items; default false.' })
  @IsOptional()
  @IsBoolean()
  collectsFrictionItems?: boolean;

  @IdempotencyKeyField()
  idempotencyKey?: string | null;
}

@InputType()
export class UpdateMetricInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected a metric id (UUID)' })
  id!: string;

  @ExpectedVersionField()
  expectedVersion!: number;

  @Field({ nullable: true })
  @IsOptional()
  @Matches(CODE_PATTERN, { message: CODE_MESSAGE })
  code?: string;

  @Field({ nullable: true })
  @IsOptional()
  @NotBlank('name')
  @MaxLength(200, { message: 'name: expected at most 200 characters' })
  name?: string;

  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(5000, { message: 'description: expected at most 5000 characters' })
  description?: string;

  @Field(() => Float, { nullable: true, description: '`null` removes the lower bound; omit to keep.' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'minValue: expected a finite number' })
  minValue?: number | null;

  @Field(() => Float, { nullable: true, description: '`null` removes the upper bound; omit to keep.' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'maxValue: expected a finite number' })
  maxValue?: number | null;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  integerOnly?: boolean;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  collectsFrictionItems?: boolean;

  @Field(() => MetricFeed, { nullable: true, description: 'Sets the feed of an AUTOMATED metric that has none (one created before feeds existed); a set feed is fixed.' })
  @IsOptional()
  @IsEnum(MetricFeed)
  feed?: MetricFeed | null;

  @Field(() => MeasurementAggregation, { nullable: true, description: 'Sets the aggregation of an EXTERNAL metric that has none; a set aggregation is fixed.' })
  @IsOptional()
  @IsEnum(MeasurementAggregation)
  aggregation?: MeasurementAggregation | null;
}

@InputType()
export class MetricFilter {
  @Field(() => MetricDirection, { nullable: true })
  direction?: MetricDirection;

  @Field(() => MetricSource, { nullable: true })
  source?: MetricSource;

  @Field(() => MetricFeed, { nullable: true })
  feed?: MetricFeed;

  @Field(() => MetricUnit, { nullable: true })
  unit?: MetricUnit;

  @Field({ nullable: true, defaultValue: false })
  includeArchived?: boolean;

  @Field({ nullable: true, description: 'Case-insensitive match on code or name.' })
  search?: string;
}
