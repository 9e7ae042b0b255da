import { Authorized, Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { Context } from '../../common/context';
import { DateTimeScalar } from '../../common/scalars';

@ObjectType({ description: "The caller's request budget (RATE_LIMIT_PER_MINUTE), as the RateLimit-* response fields say it." })
export class RateLimit {
  @Field(() => Int, { description: 'Requests a minute for this token.' })
  limit!: number;

  @Field(() => Int, { description: 'Requests left in the current window, after this one was charged.' })
  remaining!: number;

  @Field(() => DateTimeScalar, { description: "When the window ends and the budget is whole again, by the server's clock (never the test clock)." })
  resetAt!: Date;
}

@Resolver()
export class RateLimitResolver {
  @Authorized()
  @Query(() => RateLimit, {
    nullable: true,
    description:
      "The caller's own request budget after this request was charged; null while rate limits are off (RATE_LIMIT_PER_MINUTE=0). Shared by every instance on PostgreSQL, per instance on SQLite.",
  })
  rateLimit(@Ctx() ctx: Context): RateLimit | null {
    const budget = ctx.request.rateLimit;
    return budget ? Object.assign(new RateLimit(), budget) : null;
  }
}
