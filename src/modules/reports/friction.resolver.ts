import { Arg, Authorized, Ctx, Field, FieldResolver, ID, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { Month } from '../../common/month';
import { MonthScalar } from '../../common/scalars';
import type { Context } from '../../common/context';
import { Severity } from '../../common/severity';
import { loadOrThrow } from '../../common/loaders';
import { Department } from '../departments/department.entity';
import { departmentByRef } from '../departments/department.service';
import { FrictionCategory } from './report.entity';
import { frictionSummary, type FrictionSummaryGroup } from './friction.service';

@ObjectType({ description: 'Friction items of one month and department pair, of one category and severity, from the latest revision of each report.' })
export class FrictionSummaryRow {
  @Field(() => MonthScalar)
  month!: Month;

  providerId!: string;

  customerId!: string;

  @Field(() => FrictionCategory)
  category!: FrictionCategory;

  @Field(() => Severity)
  severity!: Severity;

  @Field(() => Int, { description: 'Friction items in the group.' })
  items!: number;

  @Field(() => Int, { description: 'Customers affected, summed over the group’s items.' })
  customersAffected!: number;
}

@Resolver(() => FrictionSummaryRow)
export class FrictionSummaryResolver {
  @Authorized()
  @Query(() => [FrictionSummaryRow], {
    description:
      'Customer friction by month, department pair, category and severity (the latest revision of each report in the window, at most 60 months), so a customer sees what its provider hears; ordered by month, provider and customer code, category, severity.',
  })
  async frictionSummary(
    @Ctx() ctx: Context,
    @Arg('from', () => MonthScalar) from: Month,
    @Arg('to', () => MonthScalar) to: Month,
    @Arg('department', () => ID, { nullable: true, description: 'Only agreements this department provides or receives: its id or its code.' }) department?: string | null,
  ): Promise<FrictionSummaryRow[]> {
    const dept = department ? await departmentByRef(ctx, 'department', department) : null;
    return (await frictionSummary(ctx, from, to, dept?.id ?? null)) satisfies FrictionSummaryGroup[] as FrictionSummaryRow[];
  }

  @FieldResolver(() => Department, { description: 'The providing department.' })
  async provider(@Root() r: FrictionSummaryRow, @Ctx() ctx: Context): Promise<Department> {
    return await loadOrThrow(ctx.loaders.departmentById, r.providerId, 'Department');
  }

  @FieldResolver(() => Department, { description: 'The receiving (customer) department.' })
  async customer(@Root() r: FrictionSummaryRow, @Ctx() ctx: Context): Promise<Department> {
    return await loadOrThrow(ctx.loaders.departmentById, r.customerId, 'Department');
  }
}
