import { Entity, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ObjectType } from 'type-graphql';
import { BaseEntity } from '../../common/base.entity';
import { Node } from '../../common/node';
import { DateTimeScalar } from '../../common/scalars';
import { User } from './user.entity';

/**
 * A bearer token. The secret is shown once, at creation; only its SHA-256 hash is stored, with a
 * short prefix so people can tell their tokens apart.
 */
@ObjectType({ description: 'An API token; the secret itself is never stored or shown again.', implements: Node })
@Entity({ tableName: 'api_token' })
export class ApiToken extends BaseEntity {
  @Index()
  @ManyToOne(() => User, { ref: true, deleteRule: 'restrict' })
  user!: Ref<User>;

  @Field()
  @Property({ type: 'string', length: 200 })
  name!: string;

  @Field({ description: 'The first characters of the secret, for recognition (e.g. `tsla_Ab3dE9`).' })
  @Property({ type: 'string', length: 20 })
  prefix!: string;

  /** Hex SHA-256 of the secret: what a presented token is looked up by. Never a field. */
  @Property({ type: 'string', length: 64, unique: true, hidden: true })
  secretHash!: string;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  expiresAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Updated at most once a minute.' })
  @Property({ type: 'Date', nullable: true })
  lastUsedAt?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  revokedAt?: Date | null;
}
