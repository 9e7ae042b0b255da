import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { Role } from '../../common/role';
import { BaseEntity } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar } from '../../common/scalars';
import { Department } from '../departments/department.entity';

/** A person or a system that holds API tokens. */
@ObjectType({ description: 'A person or a system that holds API tokens (visible to admins).', implements: Node })
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
