import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { CodedEntity } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar } from '../../common/scalars';

/**
 * An organisational unit (Marketing, Sales, …). Departments form a tree through `parent`
 * (divisions); a cycle is refused by the service. Archived departments keep their history but
 * take no new agreements.
 */
@ObjectType({ description: 'An organisational unit; may have a parent (division).', implements: Node })
@Entity({ tableName: 'department' })
export class Department extends CodedEntity {
  // Exposed through a field resolver that batches with a DataLoader, not as a plain field.
  // Indexed on both engines (PostgreSQL does not index foreign keys by itself); the loaders
  // query by this column.
  @Index()
  @ManyToOne(() => Department, { ref: true, nullable: true, deleteRule: 'restrict' })
  parent?: Ref<Department> | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  archivedAt?: Date | null;
}
