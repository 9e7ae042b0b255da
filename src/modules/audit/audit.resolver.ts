import type { FilterQuery } from '@mikro-orm/core';
import { Arg, Args, Authorized, Ctx, Field, ID, InputType, ObjectType, Query, Resolver } from 'type-graphql';
import { Connection, PageArgs, paginate } from '../../common/connection';
import { DateTimeScalar } from '../../common/scalars';
import type { Context } from '../../common/context';
import { AuditEntry } from './audit.entity';
import { rolesFor } from '../../common/policy';

@ObjectType()
export class AuditEntryConnection extends Connection(AuditEntry) {}

@InputType()
export class AuditFilter {
  @Field({ nullable: true, description: 'e.g. `Department`, `ApiToken`.' })
  entityType?: string;

  @Field(() => ID, { nullable: true })
  entityId?: string;

  @Field(() => ID, { nullable: true })
  actorUserId?: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'From this instant (included).' })
  from?: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Before this instant (excluded).' })
  to?: Date;
}

@Resolver(() => AuditEntry)
export class AuditResolver {
  @Authorized(...rolesFor('audit:read'))
  @Query(() => AuditEntryConnection, { description: 'The audit log, newest first (admins).' })
  auditLog(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => AuditFilter, { nullable: true }) filter?: AuditFilter): Promise<AuditEntryConnection> {
    const where: FilterQuery<AuditEntry>[] = [];
    if (filter?.entityType) where.push({ entityType: filter.entityType });
    if (filter?.entityId) where.push({ entityId: filter.entityId });
    if (filter?.actorUserId) where.push({ actorUserId: filter.actorUserId });
    if (filter?.from) where.push({ at: { $gte: filter.from } });
    if (filter?.to) where.push({ at: { $lt: filter.to } });
    return paginate(
      ctx.em,
      AuditEntry,
      { $and: where },
      [
        ['at', 'desc'],
        ['id', 'desc'],
      ],
      page,
    );
  }
}
