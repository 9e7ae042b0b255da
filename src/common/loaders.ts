import DataLoader from 'dataloader';
import { type EntityManager, type EntityName, type FilterQuery, Reference } from '@mikro-orm/core';

/**
 * A per-request loader of rows by id: every `load(id)` made while one GraphQL level resolves is
 * answered by a single `WHERE id IN (…)`. Results come back in key order, null for a missing id.
 */
export function byIdLoader<T extends { id: string }>(em: EntityManager, entity: EntityName<T>): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = await em.find(entity, { id: { $in: [...ids] } } as unknown as FilterQuery<T>);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/**
 * A per-request loader of the rows pointing at a parent through `foreignKey`, grouped by the
 * parent's id: one `WHERE fk IN (…)` for all parents of a list, sorted by `orderBy`.
 */
export function groupLoader<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  foreignKey: keyof T & string,
  orderBy: Partial<Record<keyof T & string, 'asc' | 'desc'>>,
): DataLoader<string, T[]> {
  return new DataLoader(async (parentIds) => {
    const rows = await em.find(entity, { [foreignKey]: { $in: [...parentIds] } } as unknown as FilterQuery<T>, { orderBy: orderBy as never });
    const groups = new Map<string, T[]>(parentIds.map((id) => [id, []]));
    for (const row of rows) groups.get(refId(row[foreignKey]) as string)?.push(row);
    return parentIds.map((id) => groups.get(id) ?? []);
  });
}

/** The id behind a `Ref<T>`, an entity or a bare id, without loading anything. */
export function refId(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  const entity = Reference.unwrapReference(value as object) as { id?: string };
  return entity.id ?? null;
}

/**
 * `loader.load(key)` for a row that must exist (a foreign key points at it): a missing one is a
 * bug or a race with a delete, thrown as an error naming it rather than cast away.
 */
export async function loadOrThrow<K, V>(loader: DataLoader<K, V | null>, key: K, what: string): Promise<V> {
  const value = await loader.load(key);
  if (value === null || value === undefined) throw new Error(`${what} ${String(key)} was not found`);
  return value;
}

/**
 * `loader.loadMany(keys)` with its `Error` slots checked: DataLoader reports a failed batch per key
 * rather than rejecting, and a cast would let the error through as if it were a row. With `what`,
 * every key must also find its row (rows a foreign key points at), as in {@link loadOrThrow}.
 */
export async function loadManyOrThrow<K, V>(loader: DataLoader<K, V>, keys: readonly K[]): Promise<V[]>;
export async function loadManyOrThrow<K, V>(loader: DataLoader<K, V | null>, keys: readonly K[], what: string): Promise<V[]>;
export async function loadManyOrThrow<K, V>(loader: DataLoader<K, V | null>, keys: readonly K[], what?: string): Promise<Array<V | null>> {
  const values = await loader.loadMany(keys);
  values.forEach((v, i) => {
    if (v instanceof Error) throw v;
    if (what && (v === null || v === undefined)) throw new Error(`${what} ${String(keys[i])} was not found`);
  });
  return values as Array<V | null>;
}
