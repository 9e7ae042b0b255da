import { createHash } from 'node:crypto';
import { newId } from './ids';
import { Entity, type EntityManager, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { UserError, UserErrorCode, UserErrorsException } from './user-error';

/**
 * One use of an idempotency key: which creating operation, for whom, with which payload (as a
 * hash), and what it created. A replay with the same payload returns that result; the same key
 * with another payload is refused.
 */
@Entity({ tableName: 'idempotency_record' })
@Unique({ properties: ['scope', 'operation', 'key'] })
export class IdempotencyRecord {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  /** Whose key it is: the principal's user id (`anonymous` only for an unauthenticated caller). */
  @Property({ type: 'string', length: 100 })
  scope!: string;

  @Property({ type: 'string', length: 100 })
  operation!: string;

  @Property({ type: 'string', length: 200 })
  key!: string;

  @Property({ type: 'string', length: 64 })
  requestHash!: string;

  /** Id of the record the first call created. */
  @Property({ type: 'string', length: 100 })
  resultId!: string;

  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}

/** A stable hash of a payload: keys sorted, so property order does not matter. */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(stableJson(payload)).digest('hex');
}

function stableJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

export interface IdempotencyRequest {
  scope: string;
  operation: string;
  key: string | null | undefined;
  /** The input without the key itself. */
  payload: unknown;
}

/**
 * Runs a creating operation at most once per idempotency key, inside the caller's transaction.
 * Without a key it just runs `create`. With a key seen before: same payload → `load` of the
 * first result (nothing new is written); other payload → IDEMPOTENCY_KEY_REUSED. Two concurrent
 * first calls race on the unique (scope, operation, key) index: the loser's transaction fails
 * with a unique violation, and `runMutation` runs it once more, when it finds the winner's record.
 */
export async function idempotent<T extends { id: string }>(em: EntityManager, req: IdempotencyRequest, create: () => Promise<T>, load: (id: string) => Promise<T | null>): Promise<T> {
  if (!req.key) return create();
  if (req.key.length > 200) {
    throw new UserErrorsException([new UserError('idempotencyKey', UserErrorCode.INVALID, `expected at most 200 characters, received ${req.key.length}`)]);
  }
  const hash = payloadHash(req.payload);
  const seen = await em.findOne(IdempotencyRecord, { scope: req.scope, operation: req.operation, key: req.key });
  if (seen) {
    if (seen.requestHash !== hash) {
      throw new UserErrorsException([
        new UserError('idempotencyKey', UserErrorCode.IDEMPOTENCY_KEY_REUSED, `idempotency key ${JSON.stringify(req.key)} was already used for ${req.operation} with a different payload`),
      ]);
    }
    const previous = await load(seen.resultId);
    if (previous) return previous;
  }
  // Claim the key before creating anything: a concurrent first use blocks on (PostgreSQL) or
  // collides with (SQLite) this row's unique index before it can trip over what we create, and
  // is then replayed by runMutation as a lookup.
  const record = seen ?? em.create(IdempotencyRecord, { scope: req.scope, operation: req.operation, key: req.key, requestHash: hash, resultId: '' });
  await em.flush();
  const created = await create();
  record.resultId = created.id;
  await em.flush();
  return created;
}
