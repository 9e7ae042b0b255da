import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs } from '../../common/connection';
import { ArchiveInput } from '../../common/inputs';
import { UserError } from '../../common/user-error';
import type { Context } from '../../common/context';
import { rolesFor } from '../../common/policy';
import { Department } from '../departments/department.entity';
import { CreateMetricInput, CreateServiceInput, MetricFilter, ServiceFilter, UpdateMetricInput, UpdateServiceInput } from './catalog.inputs';
import * as catalog from './catalog.service';
import { Metric } from './metric.entity';
import { Service } from './service.entity';
import { loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';

@ObjectType()
export class ServiceConnection extends Connection(Service) {}

@ObjectType()
export class MetricConnection extends Connection(Metric) {}

@ObjectType()
export class ServicePayload {
  @Field(() => Service, { nullable: true })
  service!: Service | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType()
export class MetricPayload {
  @Field(() => Metric, { nullable: true })
  metric!: Metric | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@Resolver(() => Service)
export class ServiceResolver {
  @Authorized()
  @Query(() => Service, { description: 'One service, by id or by code (exactly one).' })
  service(@Ctx() ctx: Context, @Arg('id', () => ID, { nullable: true }) id?: string, @Arg('code', () => String, { nullable: true }) code?: string): Promise<Service> {
    return catalog.findService(ctx, id, code);
  }

  @Authorized()
  @Query(() => ServiceConnection, { description: 'The service catalog, ordered by code.' })
  services(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => ServiceFilter, { nullable: true }) filter?: ServiceFilter): Promise<ServiceConnection> {
    return catalog.listServices(ctx, filter, page);
  }

  @FieldResolver(() => Department, { description: 'The department that provides the service.' })
  async provider(@Root() service: Service, @Ctx() ctx: Context): Promise<Department> {
    return await loadOrThrow(ctx.loaders.departmentById, service.provider.id, 'Department');
  }

  @Authorized(...rolesFor('service:manage'))
  @Mutation(() => ServicePayload)
  async createService(@Ctx() ctx: Context, @Arg('input') input: CreateServiceInput): Promise<ServicePayload> {
    const r = await catalog.createService(ctx, input);
    return payload('service', r);
  }

  @Authorized(...rolesFor('service:manage'))
  @Mutation(() => ServicePayload)
  async updateService(@Ctx() ctx: Context, @Arg('input') input: UpdateServiceInput): Promise<ServicePayload> {
    const r = await catalog.updateService(ctx, input);
    return payload('service', r);
  }

  @Authorized(...rolesFor('service:manage'))
  @Mutation(() => ServicePayload)
  async archiveService(@Ctx() ctx: Context, @Arg('input') input: ArchiveInput): Promise<ServicePayload> {
    const r = await catalog.archiveService(ctx, input);
    return payload('service', r);
  }
}

@Resolver(() => Metric)
export class MetricResolver {
  @Authorized()
  @Query(() => Metric, { description: 'One metric, by id or by code (exactly one).' })
  metric(@Ctx() ctx: Context, @Arg('id', () => ID, { nullable: true }) id?: string, @Arg('code', () => String, { nullable: true }) code?: string): Promise<Metric> {
    return catalog.findMetric(ctx, id, code);
  }

  @Authorized()
  @Query(() => MetricConnection, { description: 'The metric catalog, ordered by code.' })
  metrics(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => MetricFilter, { nullable: true }) filter?: MetricFilter): Promise<MetricConnection> {
    return catalog.listMetrics(ctx, filter, page);
  }

  @Authorized(...rolesFor('metric:manage'))
  @Mutation(() => MetricPayload)
  async createMetric(@Ctx() ctx: Context, @Arg('input') input: CreateMetricInput): Promise<MetricPayload> {
    const r = await catalog.createMetric(ctx, input);
    return payload('metric', r);
  }

  @Authorized(...rolesFor('metric:manage'))
  @Mutation(() => MetricPayload, { description: 'Changes code, name, description or bounds; unit, direction and source are fixed.' })
  async updateMetric(@Ctx() ctx: Context, @Arg('input') input: UpdateMetricInput): Promise<MetricPayload> {
    const r = await catalog.updateMetric(ctx, input);
    return payload('metric', r);
  }

  @Authorized(...rolesFor('metric:manage'))
  @Mutation(() => MetricPayload)
  async archiveMetric(@Ctx() ctx: Context, @Arg('input') input: ArchiveInput): Promise<MetricPayload> {
    const r = await catalog.archiveMetric(ctx, input);
    return payload('metric', r);
  }
}

/** A department's services, as a field of Department: the catalog knows departments, not the reverse. */
@Resolver(() => Department)
export class DepartmentServicesResolver {
  @FieldResolver(() => [Service], { description: 'Services this department provides, by code.' })
  async services(@Root() dept: Department, @Ctx() ctx: Context, @Arg('includeArchived', { defaultValue: false }) includeArchived: boolean): Promise<Service[]> {
    const all = await ctx.loaders.servicesByProvider.load(dept.id);
    return includeArchived ? all : all.filter((s) => !s.archivedAt);
  }
}
