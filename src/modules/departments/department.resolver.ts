import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs } from '../../common/connection';
import { UserError } from '../../common/user-error';
import type { Context } from '../../common/context';
import { Department } from './department.entity';
import { ArchiveInput } from '../../common/inputs';
import { CreateDepartmentInput, DepartmentFilter, UpdateDepartmentInput } from './department.inputs';
import * as departments from './department.service';
import { payload } from '../../common/mutation';
import { rolesFor } from '../../common/policy';

@ObjectType()
export class DepartmentConnection extends Connection(Department) {}

@ObjectType()
export class DepartmentPayload {
  @Field(() => Department, { nullable: true })
  department!: Department | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@Resolver(() => Department)
export class DepartmentResolver {
  @Authorized()
  @Query(() => Department, { description: 'One department, by id or by code (exactly one).' })
  department(@Ctx() ctx: Context, @Arg('id', () => ID, { nullable: true }) id?: string, @Arg('code', () => String, { nullable: true }) code?: string): Promise<Department> {
    return departments.findDepartment(ctx, id, code);
  }

  @Authorized()
  @Query(() => DepartmentConnection, { description: 'Departments ordered by code; archived ones only when asked.' })
  departments(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => DepartmentFilter, { nullable: true }) filter?: DepartmentFilter): Promise<DepartmentConnection> {
    return departments.listDepartments(ctx, filter, page);
  }

  @FieldResolver(() => Department, { nullable: true })
  async parent(@Root() dept: Department, @Ctx() ctx: Context): Promise<Department | null> {
    return dept.parent ? ctx.loaders.departmentById.load(dept.parent.id) : null;
  }

  @FieldResolver(() => [Department], { description: 'Direct children, by code.' })
  async children(@Root() dept: Department, @Ctx() ctx: Context, @Arg('includeArchived', { defaultValue: false }) includeArchived: boolean): Promise<Department[]> {
    const all = await ctx.loaders.departmentChildren.load(dept.id);
    return includeArchived ? all : all.filter((d) => !d.archivedAt);
  }

  @Authorized(...rolesFor('department:manage'))
  @Mutation(() => DepartmentPayload)
  async createDepartment(@Ctx() ctx: Context, @Arg('input') input: CreateDepartmentInput): Promise<DepartmentPayload> {
    const r = await departments.createDepartment(ctx, input);
    return payload('department', r);
  }

  @Authorized(...rolesFor('department:manage'))
  @Mutation(() => DepartmentPayload, { description: 'Changes code, name or parent; needs the current version.' })
  async updateDepartment(@Ctx() ctx: Context, @Arg('input') input: UpdateDepartmentInput): Promise<DepartmentPayload> {
    const r = await departments.updateDepartment(ctx, input);
    return payload('department', r);
  }

  @Authorized(...rolesFor('department:manage'))
  @Mutation(() => DepartmentPayload, { description: 'Archives a department without live children or services.' })
  async archiveDepartment(@Ctx() ctx: Context, @Arg('input') input: ArchiveInput): Promise<DepartmentPayload> {
    const r = await departments.archiveDepartment(ctx, input);
    return payload('department', r);
  }
}
