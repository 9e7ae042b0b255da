import { IsOptional, IsUUID, Matches, MaxLength } from 'class-validator';
import { NotBlank } from '../../common/validation';
import { ExpectedVersionField, IdempotencyKeyField } from '../../common/inputs';
import { Field, ID, InputType } from 'type-graphql';
import { CODE_MESSAGE, CODE_PATTERN } from '../../common/codes';

@InputType()
export class CreateDepartmentInput {
  @Field({ description: 'Unique code; trimmed and upper-cased, then 2–40 of A–Z, 0–9, `_` and `-`, starting with a letter.' })
  @Matches(CODE_PATTERN, { message: CODE_MESSAGE })
  code!: string;

  @Field()
  @NotBlank('name')
  @MaxLength(200, { message: 'name: expected at most 200 characters' })
  name!: string;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'parentId: expected a department id (UUID)' })
  parentId?: string | null;

  @IdempotencyKeyField('Replaying the same key with the same input returns the first result and writes nothing.')
  idempotencyKey?: string | null;
}

@InputType()
export class UpdateDepartmentInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected a department id (UUID)' })
  id!: string;

  @ExpectedVersionField('The version you read; a stale one is a CONFLICT.')
  expectedVersion!: number;

  @Field({ nullable: true })
  @IsOptional()
  @Matches(CODE_PATTERN, { message: CODE_MESSAGE })
  code?: string;

  @Field({ nullable: true })
  @IsOptional()
  @NotBlank('name')
  @MaxLength(200, { message: 'name: expected at most 200 characters' })
  name?: string;

  @Field(() => ID, { nullable: true, description: 'New parent; `null` makes it a root; omit to keep.' })
  @IsOptional()
  @IsUUID('all', { message: 'parentId: expected a department id (UUID)' })
  parentId?: string | null;
}

@InputType()
export class DepartmentFilter {
  @Field(() => ID, { nullable: true, description: 'Only the direct children of this department: its id or its code.' })
  parentId?: string | null;

  @Field({ nullable: true, description: 'Only departments without a parent.' })
  rootsOnly?: boolean;

  @Field({ nullable: true, defaultValue: false })
  includeArchived?: boolean;

  @Field({ nullable: true, description: 'Case-insensitive match on code or name.' })
  search?: string;
}
