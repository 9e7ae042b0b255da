import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../../common/base.entity';
import { DateTimeScalar } from '../../common/scalars';
import { Department } from '../departments/department.entity';
import { Role } from './role';

// Role moved to ./role (the policy names it without importing this entity); re-exported here so
// existing imports keep working.
export { Role } from './role';

/** Roles whose users act for one department. */
export const DEPARTMENT_ROLES: ReadonlySet<Role> = new Set([Role.HEAD, Role.INTEGRATION]);

/** A person or a system that holds API tokens. */
@ObjectType({ description: 'A person or a system that holds API tokens (visible to admins).' })
@Entity({ tableName: 'app_user' })
export class User extends BaseEntity {
  @Field()
  @Property({ type: 'string', length: 200 })
  name!: string;

  @Field({ description: 'Unique, stored in lower case.' })
  @Property({ type: 'string', length: 320, unique: true })
  email!: string;

  // A plain string column like Metric.unit (see docs/decisions.md: MikroORM 6 misreads SQLite
  // enum checks of more than two items); the GraphQL enum and the service keep values valid.
  @Field(() => Role)
  @Property({ type: 'string', length: 20 })
  role!: Role;

  /** The department a HEAD or INTEGRATION user acts for; exposed through a batched resolver. */
  @Index()
  @ManyToOne(() => Department, { ref: true, nullable: true, deleteRule: 'restrict' })
  department?: Ref<Department> | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Set when the user was deactivated; its tokens stop working.' })
  @Property({ type: 'Date', nullable: true })
  deactivatedAt?: Date | null;
}
