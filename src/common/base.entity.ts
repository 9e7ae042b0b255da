import { newId } from './ids';
import { OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { searchTextOf } from './codes';
import { DateTimeScalar } from './scalars';

/**
 * Columns every stored aggregate has: a UUID key, an optimistic-lock version (MikroORM adds
 * `WHERE version = ?` to every UPDATE and bumps it, so a concurrent writer fails instead of
 * overwriting), and creation/update times (BI pulls use `updatedAt` for incremental loads).
 */
// An @ObjectType so subclasses inherit its fields; no field returns it, so the schema never shows it.
@ObjectType('BaseEntity')
/** `Defaulted`: the subclass's own properties that have defaults, so `em.create` may omit them. */
export abstract class BaseEntity<Defaulted extends string = never> {
  [OptionalProps]?: 'version' | 'createdAt' | 'updatedAt' | Defaulted;

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Field(() => Int, { description: 'Optimistic-concurrency version; pass it back as `expectedVersion` when updating.' })
  @Property({ version: true })
  version!: number;

  @Field(() => DateTimeScalar)
  @Property()
  createdAt: Date = new Date();

  @Field(() => DateTimeScalar)
  @Property({ onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

/**
 * A catalog entry known by a unique upper-case code and a name (departments, services, metrics),
 * with the code and name folded into the text `filter.search` reads. An @ObjectType for the same
 * reason as {@link BaseEntity}: no field returns it.
 */
@ObjectType('CodedEntity')
export abstract class CodedEntity<Defaulted extends string = never> extends BaseEntity<Defaulted> {
  @Field({ description: 'Unique, upper-case code such as `MKT`, `CRM` or `LEAD_ACCEPTANCE_RATE`.' })
  @Property({ type: 'string', length: 40, unique: true })
  code!: string;

  @Field()
  @Property({ type: 'string', length: 200 })
  name!: string;

  /** Code and name folded for `filter.search` (see `foldForSearch`); kept current on every write. */
  @Property({ type: 'text', hidden: true, default: '', onCreate: (e: { code: string; name: string }) => searchTextOf(e), onUpdate: (e: { code: string; name: string }) => searchTextOf(e) })
  searchText?: string;
}

/**
 * One call of a batch ingest (`recordHandoffEvents`, `recordMeasurements`, `recordEscalations`):
 * which system sent how many items, how many were new and how many re-sent, and by whom; audited
 * like any change. An @ObjectType for the same reason as {@link BaseEntity}: no field returns it.
 */
@ObjectType('IngestBatch')
export abstract class IngestBatch extends BaseEntity {
  @Field({ description: 'The sending system, as named in the call.' })
  @Property({ type: 'string', length: 100 })
  source!: string;

  @Field(() => Int, { description: 'Items in the call.' })
  @Property({ type: 'integer' })
  received!: number;

  @Field(() => Int, { description: 'Items new to the source (an external id it had not sent before).' })
  @Property({ type: 'integer' })
  created!: number;

  @Field(() => Int, { description: 'Re-sent items that updated an earlier one.' })
  @Property({ type: 'integer' })
  updated!: number;

  @Property({ type: 'string', length: 100 })
  recordedByUserId!: string;
}
