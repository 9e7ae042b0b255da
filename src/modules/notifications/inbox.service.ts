/**
 * The inbox (DESIGN §10, issue 15 point 2): the domain events a principal may read, newest first,
 * with per-user read markers. Visibility is {@link mayReadEvent}'s rule written as SQL
 * ({@link visibleEventsWhere}); test/integration/inbox.test.ts checks that the two agree.
 */
import { isUUID } from 'class-validator';
import type { EntityManager } from '@mikro-orm/core';
import { cursorCodec, lazy, pageSize } from '../../common/connection';
import type { Context, Principal } from '../../common/context';
import { BadUserInputError, UnauthenticatedError } from '../../common/errors';
import { EVENT_TYPES } from '../../common/events';
import { runMutation, type MutationResult } from '../../common/mutation';
import type { Actor } from '../../common/policy';
import { Role } from '../../common/role';
import { asDate, isTrue, sqlOf } from '../../common/sql';
import { UserError, UserErrorCode, UserErrorsException } from '../../common/user-error';
import { summaryOf } from './summary';

/**
 * Time-driven types the scheduler is to emit (docs/events.md, "Planned"): known to the filter and
 * to the e-mail mapping by name, so they work as soon as they are written.
 */
export const TIME_DRIVEN_TYPES = ['report.due_soon', 'report.overdue', 'escalation.deadline_near', 'escalation.deadline_missed', 'agreement.review_due', 'reopening.requested'] as const;

/** Every type the inbox filter accepts. */
export const KNOWN_TYPES: ReadonlySet<string> = new Set<string>([...EVENT_TYPES, ...TIME_DRIVEN_TYPES]);

/**
 * The events `actor` may read, as a WHERE condition on `domain_event` aliased `e`: the SQL form of
 * {@link mayReadEvent}. Admins and analysts: all. Others: CORPORATE events (no parties) and those
 * of agreements one of its departments is a party to.
 */
export function visibleEventsWhere(actor: Actor): { sql: string; params: string[] } {
  if (actor.role === Role.ADMIN || actor.role === Role.ANALYST) return { sql: '1 = 1', params: [] };
  const corporate = '(e."provider_department_id" is null and e."customer_department_id" is null)';
  const ids = [...new Set(actor.departmentIds)];
  if (!ids.length) return { sql: corporate, params: [] };
  const list = ids.map(() => '?').join(', ');
  return { sql: `(${corporate} or e."provider_department_id" in (${list}) or e."customer_department_id" in (${list}))`, params: [...ids, ...ids] };
}

/** One inbox item: an event as its reader sees it. */
export interface InboxEntry {
  seq: number;
  id: string;
  type: string;
  occurredAt: Date;
  agreementId: string | null;
  agreementKey: string | null;
  actorUserId: string | null;
  payload: Record<string, unknown>;
  summary: string;
  read: boolean;
}

export interface InboxFilterValues {
  unread?: boolean | null;
  types?: string[] | null;
}

export interface InboxPage {
  edges: Array<{ cursor: string; node: InboxEntry }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: PromiseLike<number>;
  unreadCount: PromiseLike<number>;
}

const cursor = cursorCodec('InboxItem(seq)', ['integer'] as const);

function principalOf(ctx: Pick<Context, 'principal'>): Principal {
  if (!ctx.principal) throw new UnauthenticatedError();
  return ctx.principal;
}

/** The filter's types, refused (naming `filter.types`) when one is not an event type. */
function typesOf(filter: InboxFilterValues | null | undefined): string[] | null {
  const types = filter?.types;
  if (!types) return null;
  const unknown = types.filter((t) => !KNOWN_TYPES.has(t));
  if (unknown.length) {
    throw new BadUserInputError(
      `filter.types: expected event types such as report.disputed (docs/events.md), received unknown ${unknown.map((t) => JSON.stringify(t.slice(0, 60))).join(', ')}`,
      'filter.types',
    );
  }
  return [...new Set(types)];
}

/** The reader's state as SQL: its watermark (0 without one) and its individual markers. */
const READ = `(e."seq" <= coalesce((select w."seq" from "inbox_watermark" w where w."user_id" = ?), 0) or exists (select 1 from "inbox_read" r where r."user_id" = ? and r."event_id" = e."id"))`;

interface Row {
  seq: number | string;
  id: string;
  type: string;
  occurred_at: unknown;
  agreement_id: string | null;
  agreement_key: string | null;
  actor_user_id: string | null;
  payload: string | Record<string, unknown>;
  is_read: unknown;
}

/**
 * A page of the principal's inbox, newest first (by outbox order), with lazy totals. One
 * statement for the page, one per total selected, whatever the page size.
 */
export async function listInbox(ctx: Context, filter: InboxFilterValues | null | undefined, page: { first?: number | null; after?: string | null }): Promise<InboxPage> {
  const principal = principalOf(ctx);
  const limit = pageSize(page.first);
  const types = typesOf(filter);
  const after = page.after ? cursor.decode(page.after)[0] : null;
  const sql = sqlOf(ctx.em);
  const visible = visibleEventsWhere(principal);
  const where = [visible.sql];
  const params: unknown[] = [...visible.params];
  if (types) {
    where.push(types.length ? `e."type" in (${types.map(() => '?').join(', ')})` : '1 = 0');
    params.push(...types);
  }
  const base = { where: [...where], params: [...params] };
  if (filter?.unread) {
    where.push(`not ${READ}`);
    params.push(principal.userId, principal.userId);
  }
  const countWhere = { where: [...where], params: [...params] };
  if (after !== null) {
    where.push('e."seq" < ?');
    params.push(after);
  }
  const rows = await sql.rows<Row>(
    `select e."seq", e."id", e."type", e."occurred_at", e."agreement_id", e."agreement_key", e."actor_user_id", e."payload", case when ${READ} then 1 else 0 end as "is_read" ` +
      `from "domain_event" e where ${where.join(' and ')} order by e."seq" desc limit ?`,
    [principal.userId, principal.userId, ...params, limit + 1],
  );
  const entries = rows.slice(0, limit).map(toEntry);
  const edges = entries.map((node) => ({ node, cursor: cursor.encode([node.seq]) }));
  const count = (w: { where: string[]; params: unknown[] }, extra: string | null, extraParams: unknown[]) =>
    lazy(async () => {
      const [row] = await sql.rows<{ n: number | string }>(`select count(*) as "n" from "domain_event" e where ${[...w.where, ...(extra ? [extra] : [])].join(' and ')}`, [
        ...w.params,
        ...extraParams,
      ]);
      return Number(row.n);
    });
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > limit, hasPreviousPage: false, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: count(countWhere, null, []),
    // Unread among the filter's types, whether or not the page asked for unread items only.
    unreadCount: count(base, `not ${READ}`, [principal.userId, principal.userId]),
  };
}

/**
 * The inbox items among `ids` that the principal may read, with its read markers (one statement),
 * for `node(id:)`: an event it may not read is left out, as the inbox leaves it out.
 */
export async function inboxItemsByIds(ctx: Context, ids: readonly string[]): Promise<InboxEntry[]> {
  const principal = principalOf(ctx);
  const wanted = ids.filter((id) => isUUID(id));
  if (!wanted.length) return [];
  const visible = visibleEventsWhere(principal);
  const rows = await sqlOf(ctx.em).rows<Row>(
    `select e."seq", e."id", e."type", e."occurred_at", e."agreement_id", e."agreement_key", e."actor_user_id", e."payload", case when ${READ} then 1 else 0 end as "is_read" ` +
      `from "domain_event" e where e."id" in (${wanted.map(() => '?').join(', ')}) and ${visible.sql}`,
    [principal.userId, principal.userId, ...wanted, ...visible.params],
  );
  return rows.map(toEntry);
}

function toEntry(row: Row): InboxEntry {
  const payload = typeof row.payload === 'string' ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload;
  return {
    seq: Number(row.seq),
    id: row.id,
    type: row.type,
    occurredAt: asDate(row.occurred_at),
    agreementId: row.agreement_id,
    agreementKey: row.agreement_key,
    actorUserId: row.actor_user_id,
    payload,
    summary: summaryOf({ type: row.type, agreementKey: row.agreement_key, payload }),
    read: isTrue(row.is_read) || Number(row.is_read) === 1,
  };
}

/** The number of unread items the principal may read (of every type). */
export async function unreadCount(ctx: Context): Promise<number> {
  const page = await listInbox(ctx, null, { first: 0 });
  return await page.unreadCount;
}

/** At most this many ids per `markInboxRead`. */
export const MAX_MARK_IDS = 500;

/** The events among `ids` that `actor` may read, by id with their seq. */
async function visibleEvents(em: EntityManager, actor: Actor, ids: string[]): Promise<Map<string, number>> {
  const visible = visibleEventsWhere(actor);
  const rows = await sqlOf(em).rows<{ id: string; seq: number | string }>(`select e."id", e."seq" from "domain_event" e where e."id" in (${ids.map(() => '?').join(', ')}) and ${visible.sql}`, [
    ...ids,
    ...visible.params,
  ]);
  return new Map(rows.map((r) => [r.id, Number(r.seq)]));
}

/**
 * Marks inbox items read for the signed-in user: all of `ids` or none (an id that is malformed or
 * not an event the principal may read is a user error on `ids[i]`). Marking a read item again
 * changes nothing. Returns the unread count after.
 */
export async function markInboxRead(ctx: Context, ids: string[], now = ctx.request.now): Promise<MutationResult<number>> {
  const principal = principalOf(ctx);
  if (ids.length > MAX_MARK_IDS) return { result: null, userErrors: [new UserError('ids', UserErrorCode.INVALID, `ids: expected at most ${MAX_MARK_IDS} ids, received ${ids.length}`)] };
  const malformed = ids.map((id, i) => [id, i] as const).filter(([id]) => !isUUID(id));
  if (malformed.length)
    return {
      result: null,
      userErrors: malformed.map(([id, i]) => new UserError(`ids[${i}]`, UserErrorCode.INVALID, `ids[${i}]: expected an inbox item id (a UUID), received ${JSON.stringify(id.slice(0, 60))}`)),
    };
  const unique = [...new Set(ids)];
  const r = await runMutation(ctx, async (em) => {
    if (!unique.length) return;
    const found = await visibleEvents(em, principal, unique);
    const missing = ids.map((id, i) => [id, i] as const).filter(([id]) => !found.has(id));
    if (missing.length) throw new UserErrorsException(missing.map(([id, i]) => new UserError(`ids[${i}]`, UserErrorCode.NOT_FOUND, `ids[${i}]: no inbox item ${id} for this principal`)));
    const sql = sqlOf(em);
    await sql.run(
      `insert into "inbox_read" ("user_id", "event_id", "read_at") values ${unique.map(() => '(?, ?, ?)').join(', ')} on conflict ("user_id", "event_id") do nothing`,
      unique.flatMap((id) => [principal.userId, id, sql.date(now)]),
    );
  });
  if (r.userErrors.length) return { result: null, userErrors: r.userErrors };
  return { result: await unreadCount(ctx), userErrors: [] };
}

/**
 * Marks every item up to `upTo` (an item id; the newest event when omitted) read for the
 * signed-in user: its watermark moves forward to that event's position, never back, and the
 * markers it makes redundant are dropped. Returns the unread count after.
 */
export async function markAllInboxRead(ctx: Context, upTo: string | null | undefined, now = ctx.request.now): Promise<MutationResult<number>> {
  const principal = principalOf(ctx);
  if (upTo !== null && upTo !== undefined && !isUUID(upTo))
    return { result: null, userErrors: [new UserError('upTo', UserErrorCode.INVALID, `upTo: expected an inbox item id (a UUID), received ${JSON.stringify(upTo.slice(0, 60))}`)] };
  const r = await runMutation(ctx, async (em) => {
    const sql = sqlOf(em);
    let seq: number;
    if (upTo) {
      const found = await visibleEvents(em, principal, [upTo]);
      if (!found.has(upTo)) throw new UserErrorsException([new UserError('upTo', UserErrorCode.NOT_FOUND, `upTo: no inbox item ${upTo} for this principal`)]);
      seq = found.get(upTo) as number;
    } else {
      const [row] = await sql.rows<{ seq: number | string | null }>('select max("seq") as "seq" from "domain_event"');
      seq = Number(row?.seq ?? 0);
    }
    const greatest = sql.pg ? 'greatest' : 'max';
    await sql.run(
      `insert into "inbox_watermark" ("user_id", "seq", "updated_at") values (?, ?, ?) on conflict ("user_id") do update set "seq" = ${greatest}("inbox_watermark"."seq", excluded."seq"), "updated_at" = excluded."updated_at"`,
      [principal.userId, seq, sql.date(now)],
    );
    await sql.run(
      `delete from "inbox_read" where "user_id" = ? and "event_id" in (select e."id" from "domain_event" e where e."seq" <= (select w."seq" from "inbox_watermark" w where w."user_id" = ?))`,
      [principal.userId, principal.userId],
    );
  });
  if (r.userErrors.length) return { result: null, userErrors: r.userErrors };
  return { result: await unreadCount(ctx), userErrors: [] };
}
