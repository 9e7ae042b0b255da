import { Field, Float, InputType } from 'type-graphql';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';

@InputType({ description: 'An interval measured: from (inclusive) to (exclusive).' })
export class MeasurementIntervalInput {
  @Field(() => DateTimeScalar)
  from!: Date;

  @Field(() => DateTimeScalar)
  to!: Date;
}

/**
 * One measurement. Checked by the service, not by class-validator: a batch of 5,000 is validated
 * in one pass, every problem listed by index.
 */
@InputType({ description: 'One measurement of an EXTERNAL metric: a value for a month, or over an interval; a re-sent externalId (per source) updates the earlier one.' })
export class MeasurementInput {
  @Field({ description: 'Its id in the source system, unique per source; 1–200 characters.' })
  externalId!: string;

  @Field({ description: 'The metric, by code (or id): an AUTOMATED metric whose feed is EXTERNAL.' })
  metric!: string;

  @Field({ description: 'The CUSTOMER or SERVICE agreement measured, by key (or id).' })
  agreement!: string;

  @Field(() => MonthScalar, { nullable: true, description: 'The month the value is for (in the agreement’s time zone). Give this or `interval`.' })
  month?: string | null;

  @Field(() => MeasurementIntervalInput, { nullable: true, description: 'The interval the value is for; it counts in every month it overlaps. Give this or `month`.' })
  interval?: MeasurementIntervalInput | null;

  @Field(() => Float, { description: 'In the metric’s unit and within its bounds (availability: 100 up, 0 down).' })
  value!: number;
}

@InputType()
export class RecordMeasurementsInput {
  @Field({ description: 'The sending system, e.g. `monitoring`: external ids are unique per source.' })
  source!: string;

  @Field(() => [MeasurementInput], { description: 'Up to 5,000 measurements; all or nothing.' })
  measurements!: MeasurementInput[];
}
