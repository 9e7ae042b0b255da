import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { paginate, type Page } from '../../common/connection';
import { isUUID } from 'class-validator';
import { NotFoundError, UnauthenticatedError } from '../../common/errors';
import { idempotent } from '../../common/idempotency';
import { idOfRef, loadForWrite } from '../../common/lookup';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserErrorCode, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import { idempotencyScope, type Context, type Principal } from '../../common/context';
import { Department } from '../departments/department.entity';
import { ApiToken } from './api-token.entity';
import type { CreateApiTokenInput, CreateUserInput, RevokeApiTokenInput, UpdateUserInput, UserFilter } from './auth.inputs';
import { generateToken, hashToken, VISIBLE_PREFIX_LENGTH } from './tokens';
import { User } from './user.entity';
import { type CachedToken, type Invalidation, principalCache } from './principal-cache';
import { DEPARTMENT_ROLES, Role } from '../../common/role';

/** `lastUsedAt` is written at most this often per token, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** A token row with its user's columns, as {@link readToken} selects it. */
interface TokenRow {
  id: string;
  prefix: string;
  expires_at: unknown;
  last_used_at: unknown;
  revoked_at: unknown;
  user_id: string;
  role: string;
  department_id: string | null;
  deactivated_at: unknown;
}

/**
 * One plain statement (no query building, hydration or identity map): the token by its hash or id,
 * joined with the columns of its user that a principal needs.
 */
const TOKEN_SQL = (column: 'secret_hash' | 'id') =>
  'select t.id, t.prefix, t.expires_at, t.last_used_at, t.revoked_at, u.id as user_id, u.role, u.department_id, u.deactivated_at ' +
  `from api_token t join app_user u on u.id = t.user_id where t.${column} = ?`;
const BY_HASH = TOKEN_SQL('secret_hash');
const BY_ID = TOKEN_SQL('id');

/** A timestamp column as the drivers return it (a Date, epoch milliseconds, or text) in epoch milliseconds. */
function epochMs(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  const text = String(value);
  if (/^\d+$/.test(text)) return Number(text);
  // PostgreSQL's text form: `2026-11-26 12:00:00.123+00`.
  return Date.parse(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
}

async function readToken(em: EntityManager, sql: string, value: string): Promise<TokenRow | null> {
  const row = (await em.getConnection().execute(sql, [value], 'get')) as TokenRow | undefined;
  return row ?? null;
}

/**
 * Resolves a bearer token to its principal: from the app's principal cache while its entry is
 * trusted (no SQL), else one SELECT (token joined with its user). Unknown, revoked and expired
 * tokens, and tokens of deactivated users, are UNAUTHENTICATED with a message that says which.
 * Refreshes `lastUsedAt` at most once a minute.
 */
export async function authenticate(em: EntityManager, token: string, now = new Date()): Promise<Principal> {
  const hash = hashToken(token);
  const cache = principalCache(em);
  const clock = Date.now();
  let found = cache?.get(hash, clock);
  if (!found) {
    const generation = cache?.generation ?? 0;
    const row = await readToken(em, BY_HASH, hash);
    if (!row) throw new UnauthenticatedError('The bearer token is not known');
    found = validToken(row, now);
    if (cache) found = cache.set(hash, found, generation, clock);
  }
  return principalOf(em, found, now, () => cache?.forget(hash));
}

/**
 * The principal of a token by its id, with the same checks as {@link authenticate}: what a signed
 * export link carries instead of the secret, so revoking the token (or deactivating its user)
 * revokes its links too. One SELECT (links are not cached).
 */
export async function authenticateTokenId(em: EntityManager, tokenId: string, now = new Date()): Promise<Principal> {
  const row = isUUID(tokenId) ? await readToken(em, BY_ID, tokenId) : null;
  if (!row) throw new UnauthenticatedError('The token this link was made with is not known');
  return principalOf(em, validToken(row, now), now, () => undefined);
}

/** A found token as the cache keeps it, or why it no longer stands for a principal: revoked, expired at `now`, user deactivated (checked in that order). */
function validToken(row: TokenRow, now: Date): CachedToken {
  if (row.revoked_at !== null && row.revoked_at !== undefined) throw new UnauthenticatedError(`The bearer token ${row.prefix}… was revoked`);
  const token: CachedToken = {
    principal: { userId: row.user_id, tokenId: row.id, role: row.role as Role, departmentIds: row.department_id ? [row.department_id] : [] },
    prefix: row.prefix,
    expiresAt: epochMs(row.expires_at),
    lastUsedAt: epochMs(row.last_used_at),
  };
  assertUnexpired(token, now);
  if (row.deactivated_at !== null && row.deactivated_at !== undefined) throw new UnauthenticatedError(`The user of bearer token ${row.prefix}… is deactivated`);
  return token;
}

function assertUnexpired(token: CachedToken, now: Date): void {
  if (token.expiresAt !== null && token.expiresAt <= now.getTime()) {
    throw new UnauthenticatedError(`The bearer token ${token.prefix}… expired at ${new Date(token.expiresAt).toISOString()}`);
  }
}

/** A valid token's principal at `now`, unless it has expired by then; writes `lastUsedAt` when due. */
async function principalOf(em: EntityManager, token: CachedToken, now: Date, expired: () => void): Promise<Principal> {
  try {
    assertUnexpired(token, now);
  } catch (e) {
    expired();
    throw e;
  }
  if (token.lastUsedAt === null || now.getTime() - token.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    // A plain UPDATE: no version bump, no updatedAt change; recognition data, not a state change.
    token.lastUsedAt = now.getTime();
    await em.nativeUpdate(ApiToken, { id: token.principal.tokenId }, { lastUsedAt: now });
  }
  // A copy: the cached principal is shared by every request of the token.
  const { principal } = token;
  return { userId: principal.userId, tokenId: principal.tokenId, role: principal.role, departmentIds: [...principal.departmentIds] };
}

/** The users connection (admins), ordered by email. */
export async function listUsers(ctx: Context, filter: UserFilter | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<User>> {
  const where: FilterQuery<User>[] = [];
  if (!filter?.includeDeactivated) where.push({ deactivatedAt: null });
  if (filter?.role) where.push({ role: filter.role });
  const department = await idOfRef(ctx.em, Department, 'Department', 'filter.departmentId', filter?.departmentId);
  if (department) where.push({ department });
  return paginate(
    ctx.em,
    User,
    { $and: where },
    [
      ['email', 'asc'],
      ['id', 'asc'],
    ],
    page,
  );
}

/** One user by id (admins); NOT_FOUND when there is none. */
export async function findUser(ctx: Context, id: string): Promise<User> {
  const user = isUUID(id) ? await ctx.em.findOne(User, id) : null;
  if (!user) throw new NotFoundError('User', `id ${id}`);
  return user;
}

/** The department rule of a role: HEAD and INTEGRATION need one, the others must not have one. */
async function departmentForRole(em: EntityManager, role: Role, departmentId: string | null | undefined): Promise<Department | null> {
  if (DEPARTMENT_ROLES.has(role)) {
    if (!departmentId) userError('departmentId', UserErrorCode.REQUIRED, `departmentId: a ${role} user acts for a department; name it`);
    return loadForWrite(em, Department, 'Department', departmentId, 'departmentId');
  }
  if (departmentId) userError('departmentId', UserErrorCode.INVALID, `departmentId: a ${role} user acts for no department; leave it out`);
  return null;
}

async function assertEmailFree(em: EntityManager, email: string, selfId: string | null): Promise<void> {
  const other = await em.findOne(User, { email }, { fields: ['id'], disableIdentityMap: true });
  if (other && other.id !== selfId) userError('email', UserErrorCode.TAKEN, `e-mail ${email} is already used by another user`);
}

/** Creates a user (admins; idempotent by key). */
export function createUser(ctx: Context, input: CreateUserInput): Promise<MutationResult<User>> {
  return runCreate(
    ctx,
    'createUser',
    input,
    User,
    async (em) => {
      const email = input.email.trim().toLowerCase();
      await assertEmailFree(em, email, null);
      const department = await departmentForRole(em, input.role, input.departmentId);
      const user = em.create(User, { name: input.name.trim(), email, role: input.role, department });
      await em.flush();
      return user;
    },
    { uniqueField: 'email' },
  );
}

/** Changes a user's name, e-mail, role, department or active state (admins). */
export function updateUser(ctx: Context, input: UpdateUserInput): Promise<MutationResult<User>> {
  // After the commit (or the failure): the user's tokens are read afresh by the next request on
  // this instance; a deactivation, or a new role or department, applies at once.
  return afterwards(
    ctx,
    { userId: input.id },
    runMutation(
      ctx,
      async (em) => {
        await assertValidInput(input);
        const user = await em.findOne(User, input.id);
        if (!user) userError('id', UserErrorCode.NOT_FOUND, `no user has id ${input.id}`);
        assertVersion(user, input.expectedVersion);
        if (input.name != null) user.name = input.name.trim();
        if (input.email != null) {
          const email = input.email.trim().toLowerCase();
          await assertEmailFree(em, email, user.id);
          user.email = email;
        }
        const role = input.role ?? user.role;
        const departmentId = input.departmentId !== undefined ? input.departmentId : (user.department?.id ?? null);
        if (input.role != null || input.departmentId !== undefined) {
          const department = await departmentForRole(em, role, departmentId);
          user.role = role;
          user.department = department ? em.getReference(Department, department.id, { wrapped: true }) : null;
        }
        if (input.active === false && !user.deactivatedAt) {
          if (user.id === ctx.principal?.userId) userError('active', UserErrorCode.INVALID, 'active: you cannot deactivate yourself');
          user.deactivatedAt = new Date();
        }
        if (input.active === true) user.deactivatedAt = null;
        await em.flush();
        return user;
      },
      { uniqueField: 'email' },
    ),
  );
}

/** `done`, then the invalidation of what it may have changed in the principal cache (whether it succeeded or not). */
function afterwards<T>(ctx: Context, what: Invalidation, done: Promise<T>): Promise<T> {
  return done.finally(() => principalCache(ctx.em)?.invalidate(what));
}

/** The result of creating a token: the secret is in `secret`, this one time only. */
export interface CreatedToken {
  token: ApiToken;
  secret: string | null;
}

/**
 * Creates a token for a user (admins). The secret is returned here and never again: only its
 * hash is stored. A replay of the idempotency key returns the same token with `secret` null.
 */
export function createApiToken(ctx: Context, input: CreateApiTokenInput, now = new Date()): Promise<MutationResult<CreatedToken>> {
  const { idempotencyKey, ...payload } = input;
  return runMutation(
    ctx,
    async (em) => {
      await assertValidInput(input);
      let secret: string | null = null;
      const token = await idempotent(
        em,
        { scope: idempotencyScope(ctx), operation: 'createApiToken', key: idempotencyKey, payload },
        async () => {
          const user = await em.findOne(User, input.userId);
          if (!user) userError('userId', UserErrorCode.NOT_FOUND, `no user has id ${input.userId}`);
          if (user.deactivatedAt) userError('userId', UserErrorCode.ARCHIVED, `user ${user.email} is deactivated`);
          if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
            userError('expiresAt', UserErrorCode.INVALID, `expiresAt: expected a time in the future, received ${input.expiresAt.toISOString()}`);
          }
          secret = generateToken();
          const row = issueToken(em, user, input.name.trim(), secret, input.expiresAt ?? null);
          await em.flush();
          return row;
        },
        (id) => em.findOne(ApiToken, id),
      );
      return { token, secret };
    },
    { idempotencyKey },
  );
}

/** Adds a token row for `secret` (hash and prefix only); the caller flushes. */
export function issueToken(em: EntityManager, user: User, name: string, secret: string, expiresAt: Date | null): ApiToken {
  return em.create(ApiToken, { user, name, prefix: secret.slice(0, VISIBLE_PREFIX_LENGTH), secretHash: hashToken(secret), expiresAt });
}

/** Revokes a token (admins). Revoking a revoked token changes nothing and is not an error. */
export function revokeApiToken(ctx: Context, input: RevokeApiTokenInput): Promise<MutationResult<ApiToken>> {
  // After the commit: the next request with the token on this instance reads it afresh.
  return afterwards(
    ctx,
    { tokenId: input.id },
    runMutation(ctx, async (em) => {
      await assertValidInput(input);
      const token = await em.findOne(ApiToken, input.id);
      if (!token) userError('id', UserErrorCode.NOT_FOUND, `no token has id ${input.id}`);
      if (!token.revokedAt) {
        token.revokedAt = new Date();
        await em.flush();
      }
      return token;
    }),
  );
}
