import { IsInt, IsUUID, Min } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';

/** Input of every archive mutation: which row, and the version the caller read. */
@InputType()
export class ArchiveInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected an id (UUID)' })
  id!: string;

  @Field(() => Int)
  @IsInt({ message: 'expectedVersion: expected an integer' })
  @Min(1, { message: 'expectedVersion: expected a version from 1' })
  expectedVersion!: number;
}
