import { Field, Int, ObjectType } from 'type-graphql';
import type { Month } from '../../common/month';
import { DateScalar, DateTimeScalar, MonthScalar } from '../../common/scalars';
import { Agreement } from '../agreements/agreement.entity';

/** The one declaration of an overdue report: the GraphQL type, and what the service returns. */
@ObjectType({ description: 'An agreement-month whose report is due and missing.' })
export class OverdueReport {
  @Field(() => Agreement)
  agreement!: Agreement;

  @Field(() => MonthScalar)
  month!: Month;

  @Field(() => DateScalar, { description: 'On the agreement’s business calendar.' })
  dueDate!: string;

  @Field(() => DateTimeScalar, { description: 'The end of the due day, in the calendar’s time zone.' })
  dueAt!: Date;

  @Field(() => Int, { description: 'Working days since the due date, as of the time asked.' })
  workingDaysOverdue!: number;
}
