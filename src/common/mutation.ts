import { type EntityManager, type EntityName, type FilterQuery, OptimisticLockError, UniqueConstraintViolationException } from '@mikro-orm/core';
import { type Context, idempotencyScope } from './context';
import { idempotent } from './idempotency';
import { retryTransient } from './retry';
import { runBeforeCommit } from './before-commit';
import { assertValidInput } from './validation';
import { setActor } from './actor';
import { UserError, UserErrorCode, UserErrorsException } from './user-error';

/** What every mutation payload carries besides its result. */
export interface MutationResult<T> {
  result: T | null;
  userErrors: UserError[];
}

/** The GraphQL payload of a write: its result under `key` (null when refused), and its user errors. */
export function payload<K extends string, T>(key: K, r: MutationResult<T>): Record<K, T | null> & { userErrors: UserError[] } {
  return { [key]: r.result, userErrors: r.userErrors } as Record<K, T | null> & { userErrors: UserError[] };
}

/**
 * The service boundary of a write: runs `work` in one transaction (whose changes the audit
 * subscriber records, with the context's principal and request id) and turns expected failures
 * into `userErrors` (the transaction is rolled back, so nothing is half written):
 * - {@link UserErrorsException} thrown by validation or business rules;
 * - MikroORM's OptimisticLockError (someone updated the row between our read and our write) as CONFLICT;
 * - a unique-constraint violation that slipped past the pre-check (two concurrent creators) as
 *   TAKEN on `uniqueField`.
 * A deadlock or serialization failure runs the whole transaction again (bounded, with jittered
 * backoff) and ends as a public TRANSIENT_CONFLICT if it keeps failing. Anything else
 * propagates, and the server masks it as INTERNAL.
 */
export async function runMutation<T>(
  ctx: Pick<Context, 'em' | 'principal' | 'request'>,
  work: (em: EntityManager) => Promise<T>,
  options: { uniqueField?: string; idempotencyKey?: string | null; conflictField?: string | null } = {},
): Promise<MutationResult<T>> {
  // The audit subscriber reads who acts from the transaction's own EntityManager.
  const actor = { userId: ctx.principal?.userId ?? null, role: ctx.principal?.role ?? null, requestId: ctx.request.requestId };
  // `clear: true`: the transaction works on its own copies of the rows. With MikroORM's default
  // it would edit the request's own entities, and a rolled-back change would still sit on them
  // for the next mutation of the same request to flush. Committed changes are merged back.
  const transaction = () =>
    ctx.em.transactional(
      async (tem) => {
        setActor(tem, actor);
        const result = await work(tem);
        // Derived state the write asked for (the score ledger) joins the same transaction.
        await runBeforeCommit(tem);
        return result;
      },
      { clear: true },
    );
  try {
    // A transaction that loses a deadlock or a serialization failure (PostgreSQL) is rolled back
    // and run again a few times (src/common/retry.ts); then the client gets TRANSIENT_CONFLICT.
    const result = await retryTransient(async () => {
      try {
        return await transaction();
      } catch (e) {
        // Two concurrent first uses of one idempotency key: the loser hits a unique index (the
        // key's, or the created record's own). Running it again finds the winner's record and
        // replays its result instead of reporting a false TAKEN.
        if (!(e instanceof UniqueConstraintViolationException) || !options.idempotencyKey) throw e;
        return await transaction();
      }
    });
    return { result, userErrors: [] };
  } catch (e) {
    if (e instanceof UserErrorsException) return { result: null, userErrors: e.errors };
    if (e instanceof OptimisticLockError) {
      return {
        result: null,
        // Creating mutations take no expectedVersion: their conflict concerns the whole input.
        userErrors: [
          new UserError(
            options.conflictField === undefined ? 'expectedVersion' : options.conflictField,
            UserErrorCode.CONFLICT,
            'The record was changed by someone else meanwhile; reload it and retry with its current version',
          ),
        ],
      };
    }
    if (e instanceof UniqueConstraintViolationException && options.uniqueField) {
      return {
        result: null,
        userErrors: [new UserError(options.uniqueField, UserErrorCode.TAKEN, `This ${options.uniqueField} is already taken`)],
      };
    }
    throw e;
  }
}

/**
 * A creating mutation: input validation, the idempotency key and the transaction in one place.
 * `create` runs at most once per key (a replay loads the first result by id); `guard` runs first,
 * for refusals that do not depend on the key (such as a role check).
 */
export function runCreate<T extends { id: string }>(
  ctx: Context,
  operation: string,
  input: object & { idempotencyKey?: string | null },
  entity: EntityName<T>,
  create: (em: EntityManager) => Promise<T>,
  options: { uniqueField?: string; guard?: () => void } = {},
): Promise<MutationResult<T>> {
  const { idempotencyKey, ...payload } = input;
  return runMutation(
    ctx,
    async (em) => {
      await assertValidInput(input);
      options.guard?.();
      return idempotent(
        em,
        { scope: idempotencyScope(ctx), operation, key: idempotencyKey, payload },
        () => create(em),
        (id) => em.findOne(entity, { id } as FilterQuery<T>),
      );
    },
    { uniqueField: options.uniqueField, idempotencyKey, conflictField: null },
  );
}

/**
 * Checks `expectedVersion` before an update: a stale version is a CONFLICT user error, never a
 * silent overwrite. (The UPDATE's own `WHERE version = ?` catches the race after this check.)
 */
export function assertVersion(entity: { version: number }, expectedVersion: number): void {
  if (entity.version !== expectedVersion) {
    throw new UserErrorsException([
      new UserError('expectedVersion', UserErrorCode.CONFLICT, `expected version ${expectedVersion}, but the record is at version ${entity.version}; reload it and retry`),
    ]);
  }
}
