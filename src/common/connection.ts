import type { EntityManager, EntityName, FilterQuery } from '@mikro-orm/core';
import { ArgsType, type ClassType, Field, Int, ObjectType } from 'type-graphql';
import { isUUID } from 'class-validator';
import { instantProblem, MAX_CURSOR_LENGTH, textProblem } from './bounds';
import { BadUserInputError } from './errors';
import { apiMonthProblem } from './month';

/** Page size when `first` is not given. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest `first` accepted; larger asks are refused, not silently truncated. */
export const MAX_PAGE_SIZE = 500;

@ObjectType({ description: 'Relay page information.' })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field({ description: 'Always false: connections here are forward-only (`first`/`after`).' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

/** `first`/`after` for every connection field. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `Page size, ${DEFAULT_PAGE_SIZE} by default, at most ${MAX_PAGE_SIZE}.` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last edge of the previous page.' })
  after?: string | null;
}

/** One page of a list, as plain data; {@link Connection} types expose it in GraphQL. */
export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfo;
  /** Lazy: the COUNT statement runs only when GraphQL awaits it, i.e. when a client selects `totalCount`. */
  totalCount: PromiseLike<number>;
}

/**
 * Builds a Relay connection object type for a node type: `<Node>Connection` with `edges`,
 * `pageInfo` and `totalCount`, and `<Node>Edge`. Use as `class XConnection extends Connection(X) {}`.
 */
export function Connection<T extends object>(nodeType: ClassType<T>) {
  @ObjectType(`${nodeType.name}Edge`)
  class Edge {
    @Field()
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  // Decorated so subclasses inherit the fields; only `XConnection` is referenced, so only it is emitted.
  @ObjectType(`${nodeType.name}ConnectionBase`)
  abstract class ConnectionType {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'Number of items matching the filters, over all pages.' })
    totalCount!: PromiseLike<number>;
  }
  return ConnectionType;
}

/**
 * A thenable that calls `fn` the first time it is awaited, and never if it is not. graphql-js
 * awaits any field value with a `then`, so an unselected field costs nothing.
 */
export function lazy<T>(fn: () => Promise<T>): PromiseLike<T> {
  let started: Promise<T> | undefined;
  return {
    then(onFulfilled, onRejected) {
      started ??= fn();
      return started.then(onFulfilled, onRejected);
    },
  };
}

type SortKey<T> = [key: keyof T & string, direction: 'asc' | 'desc'];

/** Validates `first`, refusing (not clamping) sizes outside 0..MAX_PAGE_SIZE. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`first: expected an integer from 0 to ${MAX_PAGE_SIZE}, received ${first}`, 'first');
  }
  return first;
}

/** A value of a cursor: a sort key of the row it points after. */
export type CursorValue = string | number | Date;

/** What a cursor's value must be: checked on decoding, so a forged value never reaches SQL. */
export type CursorPart = 'string' | 'uuid' | 'integer' | 'number' | 'date' | 'month';

/**
 * Opaque cursor: base64url of the JSON array `[kind, ...values]`, where `kind` names the list
 * (so a cursor of one list given to another is refused) and dates are written as `{ d: iso }`.
 * The lists use it through {@link cursorCodec}, which fixes a list's kind and parts once.
 */
export function encodeCursor(kind: string, values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify([kind, ...values.map((v) => (v instanceof Date ? { d: v.toISOString() } : v))])).toString('base64url');
}

function partOk(part: CursorPart, v: unknown): boolean {
  switch (part) {
    case 'string':
      return typeof v === 'string' && v.length <= 500 && textProblem(v) === null;
    case 'uuid':
      return typeof v === 'string' && isUUID(v);
    case 'integer':
      return Number.isSafeInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'month':
      return apiMonthProblem(v) === null;
    case 'date': {
      if (!v || typeof v !== 'object' || Object.keys(v).length !== 1 || typeof (v as { d?: unknown }).d !== 'string') return false;
      const date = new Date((v as { d: string }).d);
      return instantProblem(date) === null;
    }
  }
}

/**
 * Inverse of {@link encodeCursor} for the list `kind`, whose values must be `parts`: anything else
 * (another list's cursor, a forged value such as `1e999`, a date the database cannot store, text
 * with a NUL byte) is a BAD_USER_INPUT on `after`, before any SQL.
 */
export function decodeCursor(kind: string, cursor: string, parts: CursorPart[]): CursorValue[] {
  let values: unknown;
  if (cursor.length <= MAX_CURSOR_LENGTH) {
    try {
      values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      values = undefined;
    }
  }
  // Only the value kinds encodeCursor writes: a forged object could otherwise smuggle a query
  // operator ({"$ne": …}) into the WHERE clause.
  if (!Array.isArray(values) || values.length !== parts.length + 1 || values[0] !== kind || !parts.every((p, i) => partOk(p, values[i + 1]))) {
    const shown = cursor.length > 60 ? `${JSON.stringify(cursor.slice(0, 60))}… (${cursor.length} characters)` : JSON.stringify(cursor);
    throw new BadUserInputError(`after: expected a cursor returned by this list (endCursor of ${kind}), received ${shown}`, 'after');
  }
  return values.slice(1).map((v, i) => (parts[i] === 'date' ? new Date((v as { d: string }).d) : (v as CursorValue)));
}

/** What each cursor part decodes to. */
interface CursorPartValues {
  string: string;
  uuid: string;
  integer: number;
  number: number;
  date: Date;
  month: string;
}

/** The values of a cursor whose parts are `P`, in order and typed by part. */
export type CursorValues<P extends readonly CursorPart[]> = { -readonly [I in keyof P]: CursorPartValues[P[I]] };

/** The cursor of one list: its kind and parts fixed once, so its writer and its reader cannot disagree. */
export interface CursorCodec<P extends readonly CursorPart[]> {
  readonly kind: string;
  encode(values: CursorValues<P>): string;
  /** The values of a cursor this codec wrote; anything else is a BAD_USER_INPUT on `after`. */
  decode(cursor: string): CursorValues<P>;
}

/**
 * The codec of the list `kind` whose cursors hold `parts`: {@link encodeCursor} and
 * {@link decodeCursor} bound to them, typed by part. Every list of the API (entity connections
 * here, the BI facts) gets its cursor from this one function.
 */
export function cursorCodec<const P extends readonly CursorPart[]>(kind: string, parts: P): CursorCodec<P> {
  return {
    kind,
    encode: (values) => encodeCursor(kind, values),
    // decodeCursor checked every value against its part, which is what makes the cast true.
    decode: (cursor) => decodeCursor(kind, cursor, [...parts]) as CursorValues<P>,
  };
}

/** The cursor codec of an entity's sort keys, its parts from the ORM's metadata. */
function codecOf(em: EntityManager, entity: EntityName<object>, keys: string[]): CursorCodec<CursorPart[]> {
  const meta = em.getMetadata().find(entity as never);
  if (!meta) throw new Error(`no metadata for ${String(entity)}`);
  const parts = keys.map((k): CursorPart => {
    const type = meta.properties[k as never]?.runtimeType;
    if (k === 'id') return 'uuid';
    if (type === 'Date') return 'date';
    if (type === 'number') return 'number';
    return 'string';
  });
  return cursorCodec(`${meta.className}(${keys.join(',')})`, parts);
}

/**
 * Keyset pagination over one entity: a stable order (`sort`, whose last key must be unique, such
 * as `id`), `first`/`after`, and a lazy total count. Costs one SELECT per page (plus one COUNT if
 * asked), whatever the page number: no OFFSET, so pages stay correct and fast while rows are added.
 */
export async function paginate<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  sort: SortKey<T>[],
  args: { first?: number | null; after?: string | null },
): Promise<Page<T>> {
  const limit = pageSize(args.first);
  const codec = codecOf(
    em,
    entity as EntityName<object>,
    sort.map(([k]) => k),
  );
  let query = where;
  if (args.after) {
    const values = codec.decode(args.after);
    // (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ... : the rows strictly after the cursor.
    const or = sort.map((_, i) => {
      const clause: Record<string, unknown> = {};
      for (let j = 0; j < i; j++) clause[sort[j][0]] = values[j];
      clause[sort[i][0]] = { [sort[i][1] === 'asc' ? '$gt' : '$lt']: values[i] };
      return clause;
    });
    query = { $and: [where, { $or: or }] } as FilterQuery<T>;
  }
  const orderBy = Object.fromEntries(sort.map(([k, d]) => [k, d])) as never;
  const rows = await em.find(entity, query, { orderBy, limit: limit + 1 });
  const pageRows = rows.slice(0, limit);
  const edges = pageRows.map((node) => ({ node, cursor: codec.encode(sort.map(([k]) => (node as Record<string, unknown>)[k] as CursorValue)) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount: lazy(() => em.count(entity, where)),
  };
}
