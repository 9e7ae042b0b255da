import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { CodedEntity } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar } from '../../common/scalars';
import { Department } from '../departments/department.entity';

/** An entry in a provider department's service catalog ("Lead generation", "CRM platform"). */
@ObjectType({ description: "An entry in a provider department's service catalog.", implements: Node })
@Entity({ tableName: 'service' })
export class Service extends CodedEntity {
  @Field(() => String)
  @Property({ type: 'text', default: '' })
  description: string = '';

  // Exposed through a batched field resolver.
  // Indexed on both engines (PostgreSQL does not index foreign keys by itself); the loaders
  // query by this column.
  @Index()
  @ManyToOne(() => Department, { ref: true, deleteRule: 'restrict' })
  provider!: Ref<Department>;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  archivedAt?: Date | null;
}
