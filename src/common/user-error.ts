import { Field, ObjectType, registerEnumType } from 'type-graphql';

/** Codes of expected failures, reported as data in mutation payloads (DESIGN §7). */
export enum UserErrorCode {
  /** A value is malformed or out of range. */
  INVALID = 'INVALID',
  /** A required value is missing or blank. */
  REQUIRED = 'REQUIRED',
  /** A unique value (a code, a key) is already used. */
  TAKEN = 'TAKEN',
  /** A referenced record does not exist. */
  NOT_FOUND = 'NOT_FOUND',
  /** `expectedVersion` is stale: someone else changed the record first. */
  CONFLICT = 'CONFLICT',
  /** The change would make a parent chain loop back on itself. */
  CYCLE = 'CYCLE',
  /** The record, or one it points at, is archived. */
  ARCHIVED = 'ARCHIVED',
  /** The record is still referenced by live records and cannot be archived. */
  IN_USE = 'IN_USE',
  /** The idempotency key was used before with a different payload. */
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  /** The record's state does not allow this transition (e.g. approving an ACTIVE agreement). */
  ILLEGAL_TRANSITION = 'ILLEGAL_TRANSITION',
  /** The principal may not act for what the field names (a department whose webhooks it does not manage). */
  FORBIDDEN = 'FORBIDDEN',
  /** An objective would be looser than one it inherits (DESIGN §3: overrides only tighten). */
  LOOSENS = 'LOOSENS',
}
registerEnumType(UserErrorCode, { name: 'UserErrorCode', description: 'Why a mutation was refused.' });

/** One expected failure: which input field (a path such as `values[3].objectiveId`), a code and a message. */
@ObjectType({ description: 'An expected failure of a mutation: the input field, a code and a readable message.' })
export class UserError {
  @Field(() => String, { nullable: true, description: 'Path of the input field, e.g. `code` or `values[3].objectiveId`; null when it concerns the whole input.' })
  field: string | null;

  @Field(() => UserErrorCode)
  code: UserErrorCode;

  @Field()
  message: string;

  constructor(field: string | null, code: UserErrorCode, message: string) {
    this.field = field;
    this.code = code;
    this.message = message;
  }
}

/**
 * Thrown inside a service transaction to abort it and report expected failures as payload
 * `userErrors`; the service boundary ({@link runMutation}) turns it into data.
 */
export class UserErrorsException extends Error {
  constructor(readonly errors: UserError[]) {
    super(errors.map((e) => `${e.field ?? '(input)'}: ${e.message}`).join('; '));
    this.name = 'UserErrorsException';
  }
}

/** Shorthand for throwing a single user error. */
export function userError(field: string | null, code: UserErrorCode, message: string): never {
  throw new UserErrorsException([new UserError(field, code, message)]);
}
