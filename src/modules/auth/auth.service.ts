import { type EntityData, type EntityDictionary, type EntityManager, type FilterQuery, ReferenceKind, wrap } from '@mikro-orm/core';
import { type FieldNode, type GraphQLResolveInfo } from 'graphql';
import { paginate, type Page } from '../../common/connection';
import { selectedFieldNames } from '../../common/selection';
import { isUUID } from 'class-validator';
import { NotFoundError, UnauthenticatedError } from '../../common/errors';
import { idempotent } from '../../common/idempotency';
import { idOfRef, loadForWrite } from '../../common/lookup';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserErrorCode, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import { idempotencyScope, type Context, type Principal, type UserRow } from '../../common/context';
import { principalOf as requestPrincipal } from '../../common/authorization';
import { Department } from '../departments/department.entity';
import { ApiToken } from './api-token.entity';
import type { CreateApiTokenInput, CreateUserInput, RevokeApiTokenInput, UpdateUserInput, UserFilter } from './auth.inputs';
import { generateToken, hashToken, VISIBLE_PREFIX_LENGTH } from './tokens';
import { User } from './user.entity';
import { type CachedToken, type Invalidation, principalCache, type PrincipalCache } from './principal-cache';
import { DEPARTMENT_ROLES, Role } from '../../common/role';

/** `lastUsedAt` is written at most this often per token, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** A token row with its user's row, as {@link readToken} selects it. */
interface TokenRow {
  token_id: string;
  token_prefix: string;
  token_expires_at: unknown;
  token_last_used_at: unknown;
  token_revoked_at: unknown;
  /** The user's columns, by column name (`id`, `role`, `department_id`, `deactivated_at` …). */
  [column: string]: unknown;
}

/** The two statements of {@link readToken}, by the token's hash or id. */
interface TokenStatements {
  byHash: string;
  byId: string;
  /** Every column of `app_user` the entity maps, as the statements select them unaliased. */
  userColumns: string[];
}

/** The statements of each open database (keyed by its ORM's configuration, as the principal cache is). */
const statementsByOrm = new WeakMap<object, TokenStatements>();

/**
 * One plain statement (no query building, hydration or identity map): the token by its hash or id,
 * joined with its user's whole row. The user's columns come from the entity's metadata, so a
 * column added to User is read here too and `me`, answered from this row, never lacks one.
 */
function tokenStatements(em: EntityManager): TokenStatements {
  let found = statementsByOrm.get(em.config);
  if (!found) {
    const meta = em.getMetadata().get(User.name);
    const userColumns = meta.props.filter((p) => p.persist !== false && p.fieldNames?.length && !p.formula).flatMap((p) => p.fieldNames);
    const select =
      'select t.id as token_id, t.prefix as token_prefix, t.expires_at as token_expires_at, t.last_used_at as token_last_used_at, t.revoked_at as token_revoked_at, ' +
      `${userColumns.map((c) => `u.${c}`).join(', ')} from api_token t join ${meta.tableName} u on u.id = t.user_id where `;
    found = { byHash: `${select}t.secret_hash = ?`, byId: `${select}t.id = ?`, userColumns };
    statementsByOrm.set(em.config, found);
  }
  return found;
}

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

/** The token's row, and its user's row apart. */
async function readToken(em: EntityManager, by: 'byHash' | 'byId', value: string): Promise<{ token: TokenRow; user: UserRow } | null> {
  const statements = tokenStatements(em);
  const row = (await em.getConnection().execute(statements[by], [value], 'get')) as TokenRow | undefined;
  if (!row) return null;
  const user: Record<string, unknown> = {};
  for (const column of statements.userColumns) user[column] = row[column];
  // Shared by every request of the token while it is cached: frozen, so nothing changes it in place.
  return { token: row, user: Object.freeze(user) };
}

/**
 * Where {@link authenticate} reads: an EntityManager (and the principal cache of its database), or
 * a principal cache and how to make an EntityManager, called only when the cache cannot answer or
 * `lastUsedAt` is due (a request's lazily forked one: a warm token then forks nothing).
 */
export type AuthSource = EntityManager | { cache: PrincipalCache | null; em: () => EntityManager };

/**
 * Resolves a bearer token to its principal: from the app's principal cache while its entry is
 * trusted (no SQL), else one SELECT (token joined with its user). Unknown, revoked and expired
 * tokens, and tokens of deactivated users, are UNAUTHENTICATED with a message that says which.
 * Refreshes `lastUsedAt` at most once a minute.
 */
export async function authenticate(source: AuthSource, token: string, now = new Date(), hash = hashToken(token)): Promise<Principal> {
  const { cache, em } = 'fork' in source ? { cache: principalCache(source), em: () => source } : source;
  const clock = Date.now();
  let found = cache?.get(hash, clock);
  if (!found) {
    const generation = cache?.generation ?? 0;
    const read = await readToken(em(), 'byHash', hash);
    if (!read) throw new UnauthenticatedError('The bearer token is not known');
    found = validToken(read, now);
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
  const read = isUUID(tokenId) ? await readToken(em, 'byId', tokenId) : null;
  if (!read) throw new UnauthenticatedError('The token this link was made with is not known');
  return principalOf(
    () => em,
    validToken(read, now),
    now,
    () => undefined,
  );
}

/** A found token as the cache keeps it, or why it no longer stands for a principal: revoked, expired at `now`, user deactivated (checked in that order). */
function validToken({ token: row, user }: { token: TokenRow; user: UserRow }, now: Date): CachedToken {
  if (row.token_revoked_at !== null && row.token_revoked_at !== undefined) throw new UnauthenticatedError(`The bearer token ${row.token_prefix}… was revoked`);
  const departmentId = user.department_id as string | null;
  const token: CachedToken = {
    principal: { userId: user.id as string, tokenId: row.token_id, role: user.role as Role, departmentIds: departmentId ? [departmentId] : [], userRow: user },
    prefix: row.token_prefix,
    expiresAt: epochMs(row.token_expires_at),
    lastUsedAt: epochMs(row.token_last_used_at),
  };
  assertUnexpired(token, now);
  if (user.deactivated_at !== null && user.deactivated_at !== undefined) throw new UnauthenticatedError(`The user of bearer token ${row.token_prefix}… is deactivated`);
  return token;
}

function assertUnexpired(token: CachedToken, now: Date): void {
  if (token.expiresAt !== null && token.expiresAt <= now.getTime()) {
    throw new UnauthenticatedError(`The bearer token ${token.prefix}… expired at ${new Date(token.expiresAt).toISOString()}`);
  }
}

/** A valid token's principal at `now`, unless it has expired by then; writes `lastUsedAt` when due. */
async function principalOf(em: () => EntityManager, token: CachedToken, now: Date, expired: () => void): Promise<Principal> {
  try {
    assertUnexpired(token, now);
  } catch (e) {
    expired();
    throw e;
  }
  if (token.lastUsedAt === null || now.getTime() - token.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    // A plain UPDATE: no version bump, no updatedAt change; recognition data, not a state change.
    token.lastUsedAt = now.getTime();
    await em().nativeUpdate(ApiToken, { id: token.principal.tokenId }, { lastUsedAt: now });
  }
  // A copy: the cached principal is shared by every request of the token (its frozen user row too).
  const { principal } = token;
  return { userId: principal.userId, tokenId: principal.tokenId, role: principal.role, departmentIds: [...principal.departmentIds], userRow: principal.userRow };
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

/**
 * The user of the request's principal (`me`): made from the user's row that authentication read
 * with the token (in this request, or from the principal cache, at most PRINCIPAL_CACHE_SECONDS
 * ago and dropped at once when the user is changed through this instance), so no SQL; mapped into
 * a managed entity of the request's identity map as `findOne` maps the row it reads, unless the
 * request already holds the user, whose loaded state is kept. Read by id where no row came with
 * the principal. A selection of the user's columns only (`me { id }`), in a request that holds no
 * entity, is answered from the row's {@link userView} instead: the same values, without an
 * EntityManager fork or a managed entity per request.
 */
export function currentUser(ctx: Context, info?: GraphQLResolveInfo): Promise<User> | User {
  const principal = requestPrincipal(ctx);
  if (!principal.userRow) return findUser(ctx, principal.userId);
  if (info && !ctx.forked) {
    const view = views.get(principal.userRow);
    if (view && selectsColumnsOnly(info)) return view;
  }
  const { em } = ctx;
  // A user this request has already read (maybe more recently) is kept as it is.
  const held = em.getUnitOfWork().getById<User>(User.name, principal.userId);
  if (held && wrap(held).isInitialized()) return held;
  // What `em.findOne` does with the row its driver read: map the columns, then create the managed entity.
  const data = em.getDriver().mapResult(principal.userRow as EntityDictionary<User>, em.getMetadata().get<User>(User.name));
  const user = em.getEntityFactory().create(User, data as EntityData<User>, { merge: true, convertCustomTypes: true });
  if (!views.has(principal.userRow)) views.set(principal.userRow, viewOf(em, user));
  return user;
}

/**
 * The user's columns as its managed entity holds them, by property, kept with the row they were
 * made from (frozen, shared by the requests of the token while its principal is cached): what
 * `me` returns for a selection of columns only ({@link selectsColumnsOnly}).
 */
const views = new WeakMap<UserRow, User>();

/** The User properties that are plain columns (no relation): their GraphQL fields read the property as it is. */
let columnProps: Set<string> | undefined;
function columnsOf(em: EntityManager): Set<string> {
  return (columnProps ??= new Set(
    em
      .getMetadata()
      .get<User>(User.name)
      .props.filter((p) => p.kind === ReferenceKind.SCALAR && p.persist !== false)
      .map((p) => p.name),
  ));
}

function viewOf(em: EntityManager, user: User): User {
  const view: Record<string, unknown> = {};
  for (const name of columnsOf(em)) view[name] = (user as unknown as Record<string, unknown>)[name];
  return Object.freeze(view) as unknown as User;
}

/** Whether a `me` field's selection (fragments included) is columns and `__typename` only, by its first field node (one per document). */
const columnsOnly = new WeakMap<FieldNode, boolean>();

function selectsColumnsOnly(info: GraphQLResolveInfo): boolean {
  const first = info.fieldNodes[0];
  let only = columnsOnly.get(first);
  if (only === undefined) {
    // Relations (department, tokens) are not scalar properties: a selection naming one is not columns only.
    const names = selectedFieldNames(info, []);
    only = !!names && [...names].every((name) => name === '__typename' || !!columnProps?.has(name));
    columnsOnly.set(first, only);
  }
  return only;
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
