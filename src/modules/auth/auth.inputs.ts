import { IsBoolean, IsDate, IsEmail, IsEnum, IsOptional, IsUUID, MaxLength } from 'class-validator';
import { NotBlank } from '../../common/validation';
import { ExpectedVersionField, IdempotencyKeyField } from '../../common/inputs';
import { Field, ID, InputType } from 'type-graphql';
import { DateTimeScalar } from '../../common/scalars';
import { Role } from '../../common/role';

@InputType()
export class CreateUserInput {
  @Field()
  @NotBlank('name')
  @MaxLength(200, { message: 'name: expected at most 200 characters' })
  name!: string;

  @Field({ description: 'Unique; stored in lower case.' })
  @IsEmail({}, { message: 'email: expected an e-mail address' })
  email!: string;

  @Field(() => Role)
  @IsEnum(Role)
  role!: Role;

  @Field(() => ID, { nullable: true, description: 'Required for HEAD and INTEGRATION, refused for the others.' })
  @IsOptional()
  @IsUUID('all', { message: 'departmentId: expected a department id (UUID)' })
  departmentId?: string | null;

  @IdempotencyKeyField()
  idempotencyKey?: string | null;
}

@InputType()
export class UpdateUserInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected a user id (UUID)' })
  id!: string;

  @ExpectedVersionField()
  expectedVersion!: number;

  @Field({ nullable: true })
  @IsOptional()
  @NotBlank('name')
  @MaxLength(200, { message: 'name: expected at most 200 characters' })
  name?: string;

  @Field({ nullable: true })
  @IsOptional()
  @IsEmail({}, { message: 'email: expected an e-mail address' })
  email?: string;

  @Field(() => Role, { nullable: true })
  @IsOptional()
  @IsEnum(Role)
  role?: Role;

  @Field(() => ID, { nullable: true, description: '`null` removes it (only for ADMIN and ANALYST); omit to keep.' })
  @IsOptional()
  @IsUUID('all', { message: 'departmentId: expected a department id (UUID)' })
  departmentId?: string | null;

  @Field({ nullable: true, description: 'false deactivates the user (its tokens stop working); true reactivates.' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

@InputType()
export class CreateApiTokenInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'userId: expected a user id (UUID)' })
  userId!: string;

  @Field({ description: 'What the token is for, e.g. "CRM sync".' })
  @NotBlank('name')
  @MaxLength(200, { message: 'name: expected at most 200 characters' })
  name!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the token stops working; must be in the future. Omit for no expiry.' })
  @IsOptional()
  @IsDate({ message: 'expiresAt: expected a date-time' })
  expiresAt?: Date | null;

  @IdempotencyKeyField('A replay returns the same token, without its secret (shown once only).')
  idempotencyKey?: string | null;
}

@InputType()
export class RevokeApiTokenInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id: expected a token id (UUID)' })
  id!: string;
}

@InputType()
export class UserFilter {
  @Field(() => Role, { nullable: true })
  role?: Role;

  @Field(() => ID, { nullable: true, description: 'The department: its id or its code.' })
  departmentId?: string | null;

  @Field({ nullable: true, defaultValue: false })
  includeDeactivated?: boolean;
}
