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
import { DEPARTMENT_ROLES, Role } from '../../common/role';

/** `lastUsedAt` is written at most this often per token, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Resolves a bearer token to its principal: one SELECT (token joined with its user). Unknown,
 * revoked and expired tokens, and tokens of deactivated users, are UNAUTHENTICATED with a message
 * that says which. Refreshes `lastUsedAt` at most once a minute.
 */
export async function authenticate(em: EntityManager, token: string, now = new Date()): Promise<Principal> {
  const row = await em.findOne(ApiToken, { secretHash: hashToken(token) }, { populate: ['user'], strategy: 'joined' });
  if (!row) throw new UnauthenticatedError('The bearer token is not known');
  return principalOf(em, row, now);
}

/**
 * The principal of a token by its id, with the same checks as {@link authenticate}: what a signed
 * export link carries instead of the secret, so revoking the token (or deactivating its user)
 * revokes its links too. One SELECT.
 */
export async function authenticateTokenId(em: EntityManager, tokenId: string, now = new Date()): Promise<Principal> {
  const row = isUUID(tokenId) ? await em.findOne(ApiToken, { id: tokenId }, { populate: ['user'], strategy: 'joined' }) : null;
  if (!row) throw new UnauthenticatedError('The token this link was made with is not known');
  return principalOf(em, row, now);
}

/** A found token's principal, or why it no longer stands for one (revoked, expired, user deactivated). */
async function principalOf(em: EntityManager, row: ApiToken, now: Date): Promise<Principal> {
  if (row.revokedAt) throw new UnauthenticatedError(`The bearer token ${row.prefix}… was revoked`);
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) {
    throw new UnauthenticatedError(`The bearer token ${row.prefix}… expired at ${row.expiresAt.toISOString()}`);
  }
  const user = row.user.getEntity();
  if (user.deactivatedAt) throw new UnauthenticatedError(`The user of bearer token ${row.prefix}… is deactivated`);
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    // A plain UPDATE: no version bump, no updatedAt change; recognition data, not a state change.
    await em.nativeUpdate(ApiToken, { id: row.id }, { lastUsedAt: now });
  }
  return {
    userId: user.id,
    tokenId: row.id,
    role: user.role,
    departmentIds: user.department ? [user.department.id] : [],
  };
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
  return runMutation(
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
  );
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
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    const token = await em.findOne(ApiToken, input.id);
    if (!token) userError('id', UserErrorCode.NOT_FOUND, `no token has id ${input.id}`);
    if (!token.revokedAt) {
      token.revokedAt = new Date();
      await em.flush();
    }
    return token;
  });
}
