import { validate, ValidateBy, type ValidationError, type ValidationOptions } from 'class-validator';

/**
 * A required text that must hold more than white space (services trim it before storing): the
 * failure is REQUIRED on the field, e.g. a department name of three spaces.
 */
export function NotBlank(field: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'notBlank',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || value.trim().length > 0,
        defaultMessage: () => `${field}: expected some text, not only spaces`,
      },
    },
    options,
  );
}
import { UserError, UserErrorCode, UserErrorsException } from './user-error';

/**
 * Runs the class-validator rules of a mutation input and reports every failure as a user error
 * whose `field` is the path inside the input (`values[3].objectiveId`). type-graphql's own
 * validation is off on purpose: it would throw BAD_USER_INPUT, while DESIGN §7 wants expected
 * failures as payload data.
 */
export async function validateInput(input: object): Promise<UserError[]> {
  const errors = await validate(input, { forbidUnknownValues: false, validationError: { target: false } });
  return flatten(errors, '');
}

/** {@link validateInput}, throwing a {@link UserErrorsException} when anything failed. */
export async function assertValidInput(input: object): Promise<void> {
  const errors = await validateInput(input);
  if (errors.length) throw new UserErrorsException(errors);
}

function flatten(errors: ValidationError[], prefix: string): UserError[] {
  const out: UserError[] = [];
  for (const e of errors) {
    const path = /^\d+$/.test(e.property) ? `${prefix}[${e.property}]` : prefix ? `${prefix}.${e.property}` : e.property;
    for (const [rule, message] of Object.entries(e.constraints ?? {})) {
      const code = rule === 'isNotEmpty' || rule === 'isDefined' || rule === 'notBlank' ? UserErrorCode.REQUIRED : UserErrorCode.INVALID;
      out.push(new UserError(path, code, message));
    }
    if (e.children?.length) out.push(...flatten(e.children, path));
  }
  return out;
}
