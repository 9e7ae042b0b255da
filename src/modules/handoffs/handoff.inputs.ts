import { Field, Float, ID, InputType } from 'type-graphql';
import { DateTimeScalar } from '../../common/scalars';

/**
 * One handoff event. Checked by the service, not by class-validator: a batch of 5,000 is
 * validated in one pass, every problem listed by index.
 */
@InputType({ description: 'One handoff event; a re-sent externalId (per source) updates the earlier one.' })
export class HandoffEventInput {
  @Field({ description: 'Its id in the source system, unique per source; 1–200 characters.' })
  externalId!: string;

  @Field(() => ID, { description: 'The CUSTOMER or SERVICE agreement that governs the stage.' })
  agreementId!: string;

  @Field({ description: 'e.g. `lead`, `customer`; 1–100 characters.' })
  stage!: string;

  @Field(() => DateTimeScalar)
  handedOffAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'First response of the receiving department.' })
  respondedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  acceptedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  rejectedAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'Required with rejectedAt.' })
  rejectionReason?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it converted (lead to opportunity, deal to customer).' })
  convertedAt?: Date | null;

  @Field(() => Float, { nullable: true, description: '0–100, given by the receiving department.' })
  qualityScore?: number | null;
}

@InputType()
export class RecordHandoffEventsInput {
  @Field({ description: 'The sending system, e.g. `crm`: external ids are unique per source.' })
  source!: string;

  @Field(() => [HandoffEventInput], { description: 'Up to 5,000 events; all or nothing.' })
  events!: HandoffEventInput[];
}
