import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../../common/base.entity';
import { DateTimeScalar } from '../../common/scalars';
import { Department } from '../departments/department.entity';
import { searchTextOf } from '../../common/codes';

/** An entry in a provider department's service catalog ("Lead generation", "CRM platform"). */
@ObjectType({ description: "An entry in a provider department's service catalog." })
@Entity({ tableName: 'service' })
export class Service extends BaseEntity {
  @Field({ description: 'Unique, upper-case code such as `CRM`.' })
  @Property({ type: 'string', length: 40, unique: true })
  code!: string;

  @Field()
  @Property({ type: 'string', length: 200 })
  name!: string;

  /** Code and name folded for `filter.search` (see `foldForSearch`); kept current on every write. */
  @Property({ type: 'text', hidden: true, default: '', onCreate: (e: { code: string; name: string }) => searchTextOf(e), onUpdate: (e: { code: string; name: string }) => searchTextOf(e) })
  searchText?: string;

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
