import { randomUUID } from 'node:crypto';
import { OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
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
  id: string = randomUUID();

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
