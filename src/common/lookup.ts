import type { EntityManager, EntityName, FilterQuery } from '@mikro-orm/core';
import { normalizeCode } from './codes';
import { BadUserInputError, NotFoundError } from './errors';
import { isUUID } from 'class-validator';
import { rowLock } from './locks';
import { assertVersion } from './mutation';
import { UserErrorCode, userError } from './user-error';

type Coded = { id: string; code: string; archivedAt?: Date | null; version: number };

/**
 * Query-side lookup of a catalog row by id or by code (exactly one): BAD_USER_INPUT when both or
 * neither are given, NOT_FOUND when nothing matches. `byId` is usually a DataLoader's `load`.
 */
export async function findByIdOrCode<T extends Coded>(
  em: EntityManager,
  entity: EntityName<T>,
  label: string,
  byId: (id: string) => Promise<T | null>,
  id?: string | null,
  code?: string | null,
): Promise<T> {
  if ((id ? 1 : 0) + (code ? 1 : 0) !== 1) throw new BadUserInputError(`${label.toLowerCase()}: expected exactly one of id or code`);
  if (id && !isUUID(id)) throw new NotFoundError(label, `id ${id}`);
  const found = id ? await byId(id) : await em.findOne(entity, { code: normalizeCode(code as string) } as FilterQuery<T>);
  if (!found) throw new NotFoundError(label, id ? `id ${id}` : `code ${code}`);
  return found;
}

/** Write-side lookup: the row, or a NOT_FOUND user error on `field`; ARCHIVED too unless allowed. */
export async function loadForWrite<T extends Coded>(
  em: EntityManager,
  entity: EntityName<T>,
  label: string,
  id: string,
  field: string,
  options: { allowArchived?: boolean; lock?: 'share' | 'update' } = {},
): Promise<T> {
  const lockMode = options.lock ? rowLock(em, options.lock) : undefined;
  // A locked read must see the row as committed now, not a copy already in the identity map.
  const row = await em.findOne(entity, { id } as FilterQuery<T>, lockMode ? { lockMode, refresh: true } : {});
  if (!row) userError(field, UserErrorCode.NOT_FOUND, `no ${label.toLowerCase()} has id ${id}`);
  if (row.archivedAt && !options.allowArchived) userError(field, UserErrorCode.ARCHIVED, `${label.toLowerCase()} ${row.code} is archived`);
  return row;
}

/** A TAKEN user error on `code` when another row of the entity already uses the code. */
export async function assertCodeFree<T extends Coded>(em: EntityManager, entity: EntityName<T>, label: string, code: string, selfId: string | null): Promise<void> {
  const other = await em.findOne(entity, { code } as FilterQuery<T>, { fields: ['id'] as never, disableIdentityMap: true });
  if (other && other.id !== selfId) userError('code', UserErrorCode.TAKEN, `${label.toLowerCase()} code ${code} is already taken`);
}

/**
 * Archives a catalog row after the version check; `inUse` may return a reason that refuses it
 * (IN_USE), such as live children that would be orphaned. `guard` runs first, right after the
 * load (authorization), so a refused caller learns nothing about versions or state.
 */
export async function archiveRecord<T extends Coded>(
  em: EntityManager,
  entity: EntityName<T>,
  label: string,
  input: { id: string; expectedVersion: number },
  inUse: (row: T) => Promise<string | null> = async () => null,
  guard: (row: T) => Promise<void> = async () => undefined,
): Promise<T> {
  const row = await loadForWrite(em, entity, label, input.id, 'id', { allowArchived: true, lock: 'update' });
  await guard(row);
  assertVersion(row, input.expectedVersion);
  if (row.archivedAt) userError('id', UserErrorCode.ARCHIVED, `${label.toLowerCase()} ${row.code} is already archived`);
  const reason = await inUse(row);
  if (reason) userError('id', UserErrorCode.IN_USE, reason);
  row.archivedAt = new Date();
  await em.flush();
  return row;
}

/**
 * Loads a row for an update: NOT_FOUND, stale version (CONFLICT) and ARCHIVED are refused, and a
 * new code is checked against the others and normalised. `guard` (authorization) runs first.
 */
export async function loadForUpdate<T extends Coded>(
  em: EntityManager,
  entity: EntityName<T>,
  label: string,
  input: { id: string; expectedVersion: number; code?: string | null },
  guard: (row: T) => Promise<void> = async () => undefined,
): Promise<T> {
  const row = await loadForWrite(em, entity, label, input.id, 'id', { allowArchived: true });
  await guard(row);
  assertVersion(row, input.expectedVersion);
  if (row.archivedAt) userError('id', UserErrorCode.ARCHIVED, `${label.toLowerCase()} ${row.code} is archived`);
  if (input.code !== undefined && input.code !== null) {
    const code = normalizeCode(input.code);
    if (code !== row.code) await assertCodeFree(em, entity, label, code, row.id);
    row.code = code;
  }
  return row;
}

/**
 * The id a filter argument names (issue 16, one convention for filters): every filter that names a
 * department, service, metric or agreement takes its id or its code (`key` for agreements). An id
 * is taken as given, with no statement (an unknown one matches nothing, as before); a code is
 * looked up case-insensitively, NOT_FOUND naming the argument when no row has it. Undefined when
 * the argument is absent.
 */
export async function idOfRef<T extends { id: string }>(
  em: EntityManager,
  entity: EntityName<T>,
  label: string,
  argument: string,
  ref: string | null | undefined,
  by: 'code' | 'key' = 'code',
): Promise<string | undefined> {
  if (ref === null || ref === undefined || ref.trim() === '') return undefined;
  const trimmed = ref.trim();
  if (isUUID(trimmed)) return trimmed.toLowerCase();
  const value = normalizeCode(trimmed);
  const row = await em.findOne(entity, { [by]: value } as FilterQuery<T>, { fields: ['id'] as never, disableIdentityMap: true });
  if (!row) throw new NotFoundError(label, `${by} ${trimmed} (${argument})`);
  return row.id;
}
