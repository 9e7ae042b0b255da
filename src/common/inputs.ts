import { IsInt, IsOptional, IsUUID, Length, Min } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';

/** Applies several property decorators as one. */
function all(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((d) => d(target, key));
}

/**
 * The `idempotencyKey` of a creating mutation: optional, 1–200 characters. Replaying the same key
 * with the same input returns the first result and writes nothing.
 */
export function IdempotencyKeyField(description?: string): PropertyDecorator {
  return all(
    Field(() => String, { nullable: true, description }),
    IsOptional(),
    Length(1, 200, { message: 'idempotencyKey: expected 1 to 200 characters' }),
  );
}

/** The `expectedVersion` of an update: the version the caller read; a stale one is a CONFLICT. */
export function ExpectedVersionField(description?: string): PropertyDecorator {
  return all(
    Field(() => Int, { description }),
    IsInt({ message: 'expectedVersion: expected an integer' }),
    Min(1, { message: 'expectedVersion: expected a version from 1' }),
  );
}

/** Input of every archive mutation: which row, and the version the caller read. */
@InputType()
export class ArchiveInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected an id (UUID)' })
  id!: string;

  @ExpectedVersionField()
  expectedVersion!: number;
}
