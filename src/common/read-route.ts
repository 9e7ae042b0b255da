import type { Connection, EntityManager } from '@mikro-orm/core';
import type { Context, Principal } from './context';

/**
 * Read replicas (`DATABASE_READ_URLS`, issue 18; docs/decisions.md "Read replicas").
 *
 * MikroORM is told never to prefer a replica (`preferReadReplicas: false`, src/db/mikro-orm.config.ts),
 * so every statement goes to the primary unless its path asks otherwise. The dashboard and BI
 * reads ask (facts, CSV exports, scorecards and the organisation lists over the score ledger):
 * they call {@link readConnection} / `sqlOf(em, { read: true })` / {@link readConnectionType}, which
 * answer the replica only when the request's EntityManager was routed there by
 * {@link chooseReadSource} and is not inside a transaction. MikroORM's `em.execute` and
 * `getConnection()` always use the primary, so those paths take the connection from here.
 */

/** Where a request's dashboard and BI reads went. */
export type ReadSource = 'primary' | 'replica';

/** The request header with which a client asks for the primary (after a write made elsewhere, say). */
export const READ_FROM_HEADER = 'x-read-from';
/** The response header that says where the request's dashboard and BI reads went. */
export const READ_SOURCE_HEADER = 'x-read-source';

/**
 * The replica each routed request reads from, chosen once per request: the statements of one
 * request see one replica's state (a cursor's snapshot and its rows agree). Keyed by the request's
 * EntityManager, so a transaction's fork (another EntityManager) is never routed.
 */
const pinned = new WeakMap<EntityManager, Connection>();

/**
 * The last writes of each principal seen by this instance, for read-your-writes: a principal that
 * wrote within the window reads from the primary. In process: another instance behind the same
 * load balancer does not see them (docs/decisions.md says what a client does about it).
 */
export class RecentWrites {
  private readonly until = new Map<string, number>();
  private sweptAt = 0;

  constructor(readonly windowMs: number) {}

  /** Notes that `userId` wrote at `at` (ms since the epoch): its reads stay on the primary for the window. */
  wrote(userId: string, at: number = Date.now()): void {
    if (this.windowMs === 0) return;
    this.until.set(userId, Math.max(this.until.get(userId) ?? 0, at + this.windowMs));
    // Expired entries go at most once a window: the map holds the principals of about two windows.
    if (at - this.sweptAt >= this.windowMs) {
      this.sweptAt = at;
      for (const [id, until] of this.until) if (until <= at) this.until.delete(id);
    }
  }

  /** Whether `userId` wrote within the window before `at`. */
  isRecent(userId: string, at: number = Date.now()): boolean {
    return (this.until.get(userId) ?? 0) > at;
  }

  /** How many principals are held (for tests and metrics). */
  get size(): number {
    return this.until.size;
  }
}

/** What decides a request's read source. */
export interface ReadRouting {
  /** Whether the ORM has replicas (`DATABASE_READ_URLS`). */
  replicas: boolean;
  writes: RecentWrites;
}

/**
 * Decides where the request's dashboard and BI reads go, once, after authentication, and routes
 * its EntityManager: the primary for a mutation (its payload must show its own write), for a
 * principal that wrote within the read-your-writes window, for anonymous requests, and when the
 * client sent `X-Read-From: primary`; a replica otherwise.
 */
export function chooseReadSource(ctx: Context, routing: ReadRouting, request: { mutation: boolean; forcePrimary: boolean }): ReadSource {
  const source = readSourceFor(ctx.principal, routing, request);
  ctx.request.readSource = source;
  // Without replicas nothing is ever pinned, and the request's EntityManager need not be forked for it.
  if (!routing.replicas) return source;
  if (source === 'replica') pinned.set(ctx.em, ctx.em.getConnection('read'));
  else pinned.delete(ctx.em);
  return source;
}

function readSourceFor(principal: Principal | null, routing: ReadRouting, request: { mutation: boolean; forcePrimary: boolean }): ReadSource {
  if (!routing.replicas || request.mutation || request.forcePrimary || !principal) return 'primary';
  return routing.writes.isRecent(principal.userId) ? 'primary' : 'replica';
}

/**
 * The value of `X-Read-From`: absent, or `primary`. Anything else is refused (a typo must not
 * silently read stale data): the message names the header.
 */
export function readFromHeader(value: string | string[] | undefined): { forcePrimary: boolean } | { problem: string } {
  if (value === undefined) return { forcePrimary: false };
  const v = (Array.isArray(value) ? value.join(',') : value).trim().toLowerCase();
  if (v === 'primary') return { forcePrimary: true };
  return { problem: `X-Read-From: expected primary (or no header), received ${JSON.stringify(String(value).slice(0, 40))}` };
}

/** Whether `em`'s reads may go to its request's replica now: routed, and not inside a transaction. */
function replicaOf(em: EntityManager): Connection | undefined {
  if (em.isInTransaction()) return undefined;
  return pinned.get(em);
}

/** The connection a BI read over `em` uses: the request's replica, or the primary. */
export function readConnection(em: EntityManager): Connection {
  return replicaOf(em) ?? em.getConnection('write');
}

/**
 * The `connectionType` for a BI read through MikroORM's finders (`em.find(…, { connectionType })`):
 * `read` when `em` may use a replica. With several replicas MikroORM picks one per statement, not
 * the request's pinned one.
 */
export function readConnectionType(em: EntityManager): 'read' | 'write' {
  return replicaOf(em) ? 'read' : 'write';
}

/**
 * The snapshot instant of a BI pull (`asOf`, the next pull's `updatedSince`): the request's arrival
 * on the primary; on a replica, no later than the commit time of the last transaction it has
 * replayed (`pg_last_xact_replay_timestamp()`). Without the cap, a row committed on the primary
 * before the pull but not yet replayed would be older than the next pull's `updatedSince`, and
 * an incremental puller would never see it. Null (nothing replayed since the replica started, or
 * a URL that names a primary) leaves the arrival instant.
 */
export async function snapshotInstant(ctx: Context): Promise<Date> {
  const replica = replicaOf(ctx.em);
  if (!replica) return ctx.request.receivedAt;
  const [row] = await replica.execute<Array<{ t: Date | string | null }>>('select pg_last_xact_replay_timestamp() as t', [], 'all');
  if (!row?.t) return ctx.request.receivedAt;
  const replayed = row.t instanceof Date ? row.t : new Date(row.t);
  return replayed < ctx.request.receivedAt ? replayed : ctx.request.receivedAt;
}
