import { type EntityManager, type EntityMetadata, type EntityProperty, helper, ReferenceKind, Utils } from '@mikro-orm/core';
import { SqlEntityManager } from '@mikro-orm/knex';
import { refId } from '../common/loaders';

/**
 * The application's EntityManager (`ormOptions` names it): a flush when the unit of work provably
 * has nothing to write returns at once, instead of computing a change set for every loaded entity
 * to find none (issue 19, goal 2: a report submission's ledger sync and its transaction's last
 * flush, about 5 % of its CPU). Whatever cannot be shown unchanged cheaply goes to the ORM's flush.
 */
export class AppEntityManager extends SqlEntityManager {
  override async flush(): Promise<void> {
    if (nothingToFlush(this)) return;
    await super.flush();
  }
}

const COLLECTIONS = new Set([ReferenceKind.ONE_TO_MANY, ReferenceKind.MANY_TO_MANY]);

/**
 * True only when a flush of `em` would write nothing: no entity waits to be inserted or removed,
 * no collection changed, no flush is under way, and every loaded entity is as it was loaded or
 * last flushed. An entity is, when no property was assigned since (MikroORM's setters mark it
 * touched) and every property that is not behind such a setter (a plain field of an entity built
 * with `new`, a primary key) or holds an object that can change in place (a JSON value, a date,
 * a list) equals its snapshot. An embedded property is not looked into: it answers false.
 */
export function nothingToFlush(em: EntityManager): boolean {
  const uow = em.getUnitOfWork();
  if ((uow as unknown as { working: boolean }).working) return false;
  if (uow.getPersistStack().size || uow.getRemoveStack().size || uow.getOrphanRemoveStack().size) return false;
  if (uow.getCollectionUpdates().length || uow.getExtraUpdates().size) return false;
  for (const entity of uow.getIdentityMap()) {
    const wrapped = helper(entity);
    if (wrapped.__touched) return false;
    // A reference never loaded has nothing but its key, as the ORM's flush sees it.
    if (!wrapped.__initialized) continue;
    const original = wrapped.__originalEntityData as Record<string, unknown> | undefined;
    if (!original || !unchanged(entity as Record<string, unknown>, wrapped.__meta, original)) return false;
  }
  return true;
}

/** What `unchanged` looks at in an entity of a type: its flushed properties, by kind; null when it has embedded ones. */
interface Checked {
  name: string;
  collection: boolean;
  relation: boolean;
  primary: boolean;
  prop: EntityProperty;
}
const checkedProps = new WeakMap<EntityMetadata, Checked[] | null>();

function checkedOf(meta: EntityMetadata): Checked[] | null {
  let checked = checkedProps.get(meta);
  if (checked === undefined) {
    checked =
      meta.embeddable || meta.props.some((p) => p.kind === ReferenceKind.EMBEDDED)
        ? null
        : meta.props
            .filter((p) => p.persist !== false && p.trackChanges !== false && !p.formula)
            .map((p) => ({ name: p.name, collection: COLLECTIONS.has(p.kind), relation: p.kind !== ReferenceKind.SCALAR, primary: !!p.primary, prop: p }));
    checkedProps.set(meta, checked);
  }
  return checked;
}

function unchanged(entity: Record<string, unknown>, meta: EntityMetadata, original: Record<string, unknown>): boolean {
  const checked = checkedOf(meta);
  if (!checked) return false;
  for (const { name, collection, relation, primary, prop } of checked) {
    const value = entity[name];
    if (collection) {
      if ((value as { isDirty?: () => boolean } | undefined)?.isDirty?.()) return false;
      continue;
    }
    const tracked = !primary && !!Object.getOwnPropertyDescriptor(entity, name)?.set;
    if (relation) {
      if (!tracked && !sameReference(value, original[name])) return false;
      continue;
    }
    if (value !== null && typeof value === 'object') {
      if (!sameObject(value, original[name], prop)) return false;
    } else if (!tracked && value !== original[name] && !(value == null && original[name] == null)) {
      return false;
    }
  }
  return true;
}

/** A relation that is not behind a setter: the key it points at, as the snapshot holds it. */
function sameReference(value: unknown, original: unknown): boolean {
  if (value == null) return original == null;
  const id = refId(value);
  return id !== null && (original === id || (Array.isArray(original) && original.length === 1 && original[0] === id));
}

/**
 * An object value against its snapshot: a date by its instant (the snapshot holds a date, or epoch
 * milliseconds on SQLite); anything else by its JSON text, against the snapshot's text or its
 * object's. Equal texts are equal values to the ORM's comparison; any other shape answers false.
 */
function sameObject(value: object, original: unknown, prop: EntityProperty): boolean {
  if (value instanceof Date) {
    if (original instanceof Date) return original.getTime() === value.getTime();
    return typeof original === 'number' && original === value.getTime();
  }
  if (original === null || original === undefined || Utils.isEntity(value)) return false;
  const text = JSON.stringify(value);
  if (typeof original === 'string') return prop.runtimeType !== 'string' && original === text;
  return typeof original === 'object' && !(original instanceof Date) && JSON.stringify(original) === text;
}
