import { IsNumber, IsOptional, Length, Max, Min } from 'class-validator';
import { Arg, Authorized, Ctx, Field, FieldResolver, Float, ID, InputType, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../../common/context';
import { MonthScalar } from '../../common/scalars';
import { validateInput } from '../../common/validation';
import { BadUserInputError } from '../../common/errors';
import { Agreement, Amendment } from '../agreements/agreement.entity';
import { ObjectiveStatus } from '../scorecards/scorecard.types';
import { agreementNamed, amendmentProposal, MAX_WHAT_IF_MONTHS, whatIf, type WhatIfResult } from './what-if.service';
import { loadOrThrow } from '../../common/loaders';

const FINITE = { allowNaN: false, allowInfinity: false };

@InputType({ description: 'Proposed terms of the objective on one metric; a field left out keeps each month’s own.' })
export class WhatIfObjectiveInput {
  @Field({ description: 'The metric: its code (`HANDOFF_VOLUME`) or its id. The agreement’s months must have an objective on it (own or inherited).' })
  @Length(1, 100, { message: 'metric: expected a metric code or id' })
  metric!: string;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber(FINITE, { message: 'target: expected a finite number' })
  target?: number | null;

  @Field(() => Float, { nullable: true, description: '`null` removes the warning; omit to keep it.' })
  @IsOptional()
  @IsNumber(FINITE, { message: 'warning: expected a finite number' })
  warning?: number | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber(FINITE, { message: 'weight: expected a number above 0' })
  @Min(0.000001, { message: 'weight: expected a number above 0' })
  weight?: number | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber(FINITE, { message: 'creditPercent: expected a number from 0 to 100' })
  @Min(0, { message: 'creditPercent: expected a number from 0 to 100' })
  @Max(100, { message: 'creditPercent: expected a number from 0 to 100' })
  creditPercent?: number | null;
}

@ObjectType({ description: 'A month’s (or a window’s) outcome: status, score, compliance and service credit.' })
export class WhatIfOutcome {
  @Field(() => ObjectiveStatus, { nullable: true, description: 'The worst objective status of the month; null for a window or a month without objectives.' })
  status!: ObjectiveStatus | null;

  @Field(() => Float, { nullable: true, description: 'The month’s weighted score; null for a window.' })
  score!: number | null;

  @Field(() => Int)
  evaluated!: number;

  @Field(() => Int, { description: 'BREACHED and NO_DATA objective-months.' })
  breaches!: number;

  @Field(() => Float, { nullable: true, description: 'Met / evaluated; null when nothing was evaluated.' })
  complianceRate!: number | null;

  @Field(() => Float, { description: 'Credited percent of the monthly charge (a window: the months’ sum).' })
  creditPercent!: number;

  @Field(() => Float)
  creditAmount!: number;
}

@ObjectType({ description: 'One objective of one month, as it was scored and as it would be.' })
export class WhatIfObjective {
  @Field()
  metricCode!: string;

  @Field(() => Float, { nullable: true, description: 'The value the month was scored with (the ledger’s stored input).' })
  value!: number | null;

  @Field(() => Float)
  actualTarget!: number;

  @Field(() => Float, { nullable: true, description: 'Null when the proposal removes the objective.' })
  proposedTarget!: number | null;

  @Field(() => ObjectiveStatus)
  actualStatus!: ObjectiveStatus;

  @Field(() => ObjectiveStatus, { nullable: true })
  proposedStatus!: ObjectiveStatus | null;
}

@ObjectType()
export class WhatIfMonth {
  @Field(() => MonthScalar)
  month!: string;

  @Field(() => WhatIfOutcome)
  actual!: WhatIfOutcome;

  @Field(() => WhatIfOutcome)
  proposed!: WhatIfOutcome;

  @Field(() => [WhatIfObjective])
  objectives!: WhatIfObjective[];
}

@ObjectType({ description: 'An agreement’s last months re-scored under proposed terms, from the score ledger’s stored values; nothing is written.' })
export class WhatIf {
  @Field(() => Agreement)
  agreement!: Agreement;

  @Field(() => MonthScalar)
  from!: string;

  @Field(() => MonthScalar)
  to!: string;

  @Field(() => [WhatIfMonth], { description: 'The months the ledger holds in the window, oldest first.' })
  months!: WhatIfMonth[];

  @Field(() => WhatIfOutcome, { description: 'The window as it was scored: evaluated, breaches and credit summed, the rate pooled.' })
  actual!: WhatIfOutcome;

  @Field(() => WhatIfOutcome, { description: 'The window under the proposal.' })
  proposed!: WhatIfOutcome;
}

const monthsDescription = `Months before the current one to re-score, 1 to ${MAX_WHAT_IF_MONTHS}.`;

@Resolver(() => WhatIf)
export class WhatIfResolver {
  @Authorized()
  @Query(() => WhatIf, {
    description:
      'For "set a good base number" (issue 16): the last months of an agreement re-scored under proposed objective terms by the pure rules, from the values the score ledger holds, against how they were scored. Changes nothing.',
  })
  async whatIf(
    @Ctx() ctx: Context,
    @Arg('agreement', () => ID, { description: 'The agreement: its id or its key.' }) agreement: string,
    @Arg('objectives', () => [WhatIfObjectiveInput]) objectives: WhatIfObjectiveInput[],
    @Arg('months', () => Int, { defaultValue: 12, description: monthsDescription }) months: number,
  ): Promise<WhatIfResult> {
    // A query has no payload for user errors: the first problem is a BAD_USER_INPUT naming its path.
    for (const [i, o] of objectives.entries()) {
      const [problem] = await validateInput(o);
      if (problem) throw new BadUserInputError(`objectives[${i}].${problem.message}`, `objectives[${i}].${problem.field}`);
    }
    return whatIf(ctx, await agreementNamed(ctx, 'agreement', agreement), { objectives }, months);
  }
}

@Resolver(() => Amendment)
export class AmendmentWhatIfResolver {
  @FieldResolver(() => WhatIf, {
    description:
      'The agreement’s last months re-scored as if this amendment’s changed and removed objectives (and compliance target, credit cap, charge) had applied; objectives it adds have no values to re-score.',
  })
  async whatIf(@Root() amendment: Amendment, @Ctx() ctx: Context, @Arg('months', () => Int, { defaultValue: 12, description: monthsDescription }) months: number): Promise<WhatIfResult> {
    const agreement = await loadOrThrow(ctx.loaders.agreementById, amendment.agreement.id, 'Agreement');
    return whatIf(ctx, agreement, amendmentProposal(amendment), months, 'changes', true);
  }
}
