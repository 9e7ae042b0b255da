import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Info, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Connection, PageArgs } from '../../common/connection';
import { UserError } from '../../common/user-error';
import type { Context } from '../../common/context';
import { Department } from '../departments/department.entity';
import { ApiToken } from './api-token.entity';
import { CreateApiTokenInput, CreateUserInput, RevokeApiTokenInput, UpdateUserInput, UserFilter } from './auth.inputs';
import * as auth from './auth.service';
import { User } from './user.entity';
import { payload } from '../../common/mutation';
import { rolesFor } from '../../common/policy';

@ObjectType()
export class UserConnection extends Connection(User) {}

@ObjectType()
export class UserPayload {
  @Field(() => User, { nullable: true })
  user!: User | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType()
export class CreateApiTokenPayload {
  @Field(() => ApiToken, { nullable: true })
  token!: ApiToken | null;

  @Field(() => String, {
    nullable: true,
    description: 'The secret: send it as `Authorization: Bearer <secret>`. Shown this once; only its hash is kept.',
  })
  secret!: string | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@ObjectType()
export class ApiTokenPayload {
  @Field(() => ApiToken, { nullable: true })
  token!: ApiToken | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@Resolver(() => User)
export class UserResolver {
  @Authorized()
  @Query(() => User, { description: 'The user of the bearer token.' })
  me(@Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<User> | User {
    return auth.currentUser(ctx, info);
  }

  @Authorized(...rolesFor('user:manage'))
  @Query(() => UserConnection, { description: 'Users, by e-mail (admins).' })
  users(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => UserFilter, { nullable: true }) filter?: UserFilter): Promise<UserConnection> {
    return auth.listUsers(ctx, filter, page);
  }

  @Authorized(...rolesFor('user:manage'))
  @Query(() => User, { description: 'One user (admins).' })
  user(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<User> {
    return auth.findUser(ctx, id);
  }

  @FieldResolver(() => Department, { nullable: true, description: 'The department a HEAD or INTEGRATION user acts for.' })
  department(@Root() user: User, @Ctx() ctx: Context): Promise<Department | null> | null {
    return user.department ? ctx.loaders.departmentById.load(user.department.id) : null;
  }

  @Authorized(...rolesFor('token:manage'))
  @FieldResolver(() => [ApiToken], { description: "The user's tokens, newest first (admins)." })
  tokens(@Root() user: User, @Ctx() ctx: Context): Promise<ApiToken[]> {
    return ctx.loaders.tokensByUser.load(user.id);
  }

  @Authorized(...rolesFor('user:manage'))
  @Mutation(() => UserPayload)
  async createUser(@Ctx() ctx: Context, @Arg('input') input: CreateUserInput): Promise<UserPayload> {
    const r = await auth.createUser(ctx, input);
    return payload('user', r);
  }

  @Authorized(...rolesFor('user:manage'))
  @Mutation(() => UserPayload)
  async updateUser(@Ctx() ctx: Context, @Arg('input') input: UpdateUserInput): Promise<UserPayload> {
    const r = await auth.updateUser(ctx, input);
    return payload('user', r);
  }

  @Authorized(...rolesFor('token:manage'))
  @Mutation(() => CreateApiTokenPayload, { description: 'Creates a token; the payload carries its secret, once.' })
  async createApiToken(@Ctx() ctx: Context, @Arg('input') input: CreateApiTokenInput): Promise<CreateApiTokenPayload> {
    const r = await auth.createApiToken(ctx, input);
    return { token: r.result?.token ?? null, secret: r.result?.secret ?? null, userErrors: r.userErrors };
  }

  @Authorized(...rolesFor('token:manage'))
  @Mutation(() => ApiTokenPayload, { description: 'Revokes a token at once; revoking twice is harmless.' })
  async revokeApiToken(@Ctx() ctx: Context, @Arg('input') input: RevokeApiTokenInput): Promise<ApiTokenPayload> {
    const r = await auth.revokeApiToken(ctx, input);
    return payload('token', r);
  }
}

@ObjectType({ description: "Who to ask about a department's agreements: its head, as every principal may read it (issue 16)." })
export class DepartmentHead {
  @Field()
  name!: string;

  @Field()
  email!: string;
}

/** A department's head, readable by every principal (the user itself is for admins). */
@Resolver(() => Department)
export class DepartmentHeadResolver {
  @FieldResolver(() => DepartmentHead, { nullable: true, description: 'Its head: the first active HEAD user of the department; null when it has none.' })
  async head(@Root() department: Department, @Ctx() ctx: Context): Promise<DepartmentHead | null> {
    const user = await ctx.loaders.headByDepartment.load(department.id);
    return user ? { name: user.name, email: user.email } : null;
  }
}
