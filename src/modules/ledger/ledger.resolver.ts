import { Arg, Args, Authorized, Ctx, Field, FieldResolver, Float, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs } from '../../common/connection';
import { MonthScalar } from '../../common/scalars';
import { UserError } from '../../common/user-error';
import type { Context } from '../../common/context';
import { Agreement } from '../agreements/agreement.entity';
import { rolesFor } from '../../common/policy';
import { Department } from '../departments/department.entity';
import { CreditEntry, MonthReopening } from './ledger.entity';
import { CreditLedgerFilter, MonthReopeningDecisionInput, RequestMonthReopeningInput } from './ledger.inputs';
import * as reopenings from './reopening.service';
import { loadManyOrThrow, loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';

@ObjectType()
export class CreditEntryConnection extends Connection(CreditEntry) {}

@ObjectType()
export class MonthReopeningConnection extends Connection(MonthReopening) {}

@ObjectType()
export class MonthReopeningPayload {
  @Field(() => MonthReopening, { nullable: true })
  reopening!: MonthReopening | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType({ description: 'What a provider department owes in service credits for the agreement-months of a charging period: the sum of its ledger entries (closes and adjustments).' })
export class CreditTotal {
  @Field(() => Department)
  department!: Department;

  @Field(() => Float)
  amount!: number;

  @Field(() => Int, { description: 'Ledger entries summed.' })
  entries!: number;

  @Field(() => Int, { description: 'Closed agreement-months they are for.' })
  months!: number;
}

@Resolver(() => CreditEntry)
export class CreditEntryResolver {
  @Authorized()
  @Query(() => CreditEntryConnection, { description: 'The credit ledger (DESIGN §5): what closed months posted, and adjustments after reopenings, in posting order.' })
  creditLedger(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => CreditLedgerFilter, { nullable: true }) filter?: CreditLedgerFilter): Promise<CreditEntryConnection> {
    return reopenings.listCreditEntries(ctx, filter, page);
  }

  @Authorized()
  @Query(() => [CreditTotal], { description: 'Credits per provider department (by department code) for the agreement-months of a charging period, from the credit ledger.' })
  async creditTotals(@Ctx() ctx: Context, @Arg('from', () => MonthScalar) from: string, @Arg('to', () => MonthScalar) to: string): Promise<CreditTotal[]> {
    const totals = await reopenings.creditTotals(ctx, from, to);
    const departments = await loadManyOrThrow(
      ctx.loaders.departmentById,
      totals.map((t) => t.departmentId),
    );
    return totals
      .flatMap((t, i) => {
        const department = departments[i];
        return department ? [{ department, amount: t.amount, entries: t.entries, months: t.months }] : [];
      })
      .sort((a, b) => a.department.code.localeCompare(b.department.code));
  }

  @FieldResolver(() => Agreement)
  async agreement(@Root() e: CreditEntry, @Ctx() ctx: Context): Promise<Agreement> {
    return await loadOrThrow(ctx.loaders.agreementById, e.agreementId, 'Agreement');
  }
}

@Resolver(() => MonthReopening)
export class MonthReopeningResolver {
  @Authorized()
  @Query(() => MonthReopeningConnection, { description: 'Requests to reopen closed months, newest first.' })
  monthReopenings(
    @Ctx() ctx: Context,
    @Args() page: PageArgs,
    @Arg('agreementId', () => String, { nullable: true, description: 'The agreement: its id or its key.' }) agreementId?: string | null,
  ): Promise<MonthReopeningConnection> {
    return reopenings.listReopenings(ctx, agreementId, page);
  }

  @FieldResolver(() => Agreement)
  async agreement(@Root() r: MonthReopening, @Ctx() ctx: Context): Promise<Agreement> {
    return await loadOrThrow(ctx.loaders.agreementById, r.agreement.id, 'Agreement');
  }

  @Authorized(...rolesFor('reopening:request'))
  @Mutation(() => MonthReopeningPayload, {
    description: 'Asks to reopen a closed agreement-month, with a reason. The other party’s head (or an admin) approves; an admin’s request reopens it at once.',
  })
  async requestMonthReopening(@Ctx() ctx: Context, @Arg('input') input: RequestMonthReopeningInput): Promise<MonthReopeningPayload> {
    const r = await reopenings.requestMonthReopening(ctx, input);
    return payload('reopening', r);
  }

  @Authorized(...rolesFor('reopening:decide'))
  @Mutation(() => MonthReopeningPayload, { description: 'The other party’s head (or an admin) approves: the month is recomputed from every fact and posts an ADJUSTMENT when it closes again.' })
  async approveMonthReopening(@Ctx() ctx: Context, @Arg('input') input: MonthReopeningDecisionInput): Promise<MonthReopeningPayload> {
    const r = await reopenings.approveMonthReopening(ctx, input);
    return payload('reopening', r);
  }

  @Authorized(...rolesFor('reopening:decide'))
  @Mutation(() => MonthReopeningPayload, { description: 'The other party’s head (or an admin) refuses, saying why; the month stays closed.' })
  async rejectMonthReopening(@Ctx() ctx: Context, @Arg('input') input: MonthReopeningDecisionInput): Promise<MonthReopeningPayload> {
    const r = await reopenings.rejectMonthReopening(ctx, input);
    return payload('reopening', r);
  }
}
