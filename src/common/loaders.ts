import DataLoader from 'dataloader';
import { type EntityManager, type EntityName, type FilterQuery, Reference, Utils } from '@mikro-orm/core';
import { sqlOf } from './sql';

/** Transaction EntityManagers whose loaders read with plain statements ({@link readDirectly}). */
const direct = new WeakSet<EntityManager>();

/**
 * Lets the loaders over `em` (a write's own transaction, fresh, before it changes anything) read
 * their rows with one plain statement each, bound and prepared, and hand them to the ORM's entity
 * factory, instead of building the same `select … where … in (…)` through the ORM's query builder
 * each time: that cost several times the statement itself (issue 19, goal 2: the terms a report
 * submission reads). The rows and entities are the same; what `em.find` adds and this skips is its
 * auto-flush of pending changes, so a loader still goes through `em.find` while an entity of its
 * type waits to be inserted or removed in `em`.
 */
export function readDirectly(em: EntityManager): void {
  direct.add(em);
}

function pendingOf(em: EntityManager, entity: EntityName<object>): boolean {
  const name = Utils.className(entity);
  const uow = em.getUnitOfWork();
  for (const e of uow.getPersistStack()) if (e.constructor.name === name) return true;
  for (const e of uow.getRemoveStack()) if (e.constructor.name === name) return true;
  return false;
}

/**
 * The rows of `entity` that match `where` (each property equal to a value, or in a list of values),
 * as managed entities of `em`, ordered by `orderBy`; `forUpdate` locks them (PostgreSQL) and
 * refreshes entities already loaded, as `em.find` with a lock mode does. Null where
 * {@link readDirectly} does not apply (the caller then asks `em.find`).
 */
export async function findDirectly<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  where: Record<string, unknown>,
  options: { orderBy?: Record<string, 'asc' | 'desc'>; forUpdate?: boolean } = {},
): Promise<T[] | null> {
  if (!direct.has(em) || pendingOf(em, entity as EntityName<object>)) return null;
  const meta = em.getMetadata().get<T>(Utils.className(entity));
  const column = (name: string) => `"${(meta.properties as Record<string, { fieldNames: string[] }>)[name].fieldNames[0]}"`;
  const params: unknown[] = [];
  const conditions = Object.entries(where).map(([name, value]) => {
    if (!Array.isArray(value)) {
      params.push(value);
      return `${column(name)} = ?`;
    }
    params.push(...(value as unknown[]));
    return `${column(name)} in (${value.map(() => '?').join(', ')})`;
  });
  const order = Object.entries(options.orderBy ?? {}).map(([name, dir]) => `${column(name)} ${dir}`);
  const sql = sqlOf(em);
  const statement = `select * from "${meta.tableName}" where ${conditions.join(' and ')}${order.length ? ` order by ${order.join(', ')}` : ''}${options.forUpdate && sql.pg ? ' for update' : ''}`;
  const rows = await sql.rows<Record<string, unknown>>(statement, params);
  return rows.map((row) => managedFromRow(em, entity, row, !!options.forUpdate));
}

/**
 * A row of `entity` as the database returns it (`select *`, or `returning *` of a plain write) made
 * a managed entity of `em`, as if the ORM had loaded it: `refresh` overwrites an entity already
 * loaded (and the state the next flush compares with), so a row this transaction wrote is not
 * written again.
 */
export function managedFromRow<T extends object>(em: EntityManager, entity: EntityName<T>, row: Record<string, unknown>, refresh: boolean): T {
  const meta = em.getMetadata().get<T>(Utils.className(entity));
  return em.getEntityFactory().create<T>(meta.className, em.getDriver().mapResult(row as never, meta) as never, { merge: true, refresh, convertCustomTypes: true });
}

/**
 * A per-request loader of rows by id: every `load(id)` made while one GraphQL level resolves is
 * answered by a single `WHERE id IN (…)`. Results come back in key order, null for a missing id.
 */
export function byIdLoader<T extends { id: string }>(em: EntityManager, entity: EntityName<T>): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = (await findDirectly(em, entity, { id: ids })) ?? (await em.find(entity, { id: { $in: [...ids] } } as unknown as FilterQuery<T>));
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
    const rows =
      (await findDirectly(em, entity, { [foreignKey]: parentIds }, { orderBy: orderBy as Record<string, 'asc' | 'desc'> })) ??
      (await em.find(entity, { [foreignKey]: { $in: [...parentIds] } } as unknown as FilterQuery<T>, { orderBy: orderBy as never }));
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
