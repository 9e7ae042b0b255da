/**
 * Reading the domain-event outbox (src/common/events.ts) in commit order, for the consumers of
 * DESIGN §10: webhooks, e-mail and live subscriptions.
 *
 * `seq` alone is not a safe cursor on PostgreSQL: two transactions take seq 7 and 8, the second
 * commits first, a consumer reads 8 and moves past 7 for ever. So every event also carries its
 * transaction's id (`tx`), consumers read in (tx, seq) order, and only events of transactions older
 * than a horizon: the oldest transaction still running in this database with a transaction id, or,
 * with none, the next id to be given. Every later event then has a larger tx, so a position
 * (tx, seq) never passes an event that has yet to commit. The horizon is read in a statement of its
 * own before the events (the next id first, then the running transactions), so a transaction that
 * commits between the two reads is visible to the second. Only this database's transactions count
 * (`pg_stat_activity`), not the whole server's (`txid_snapshot_xmin` would let a long transaction
 * in another database hold every consumer back). A long transaction here delays consumers; it
 * never makes them lose an event. SQLite has one writer: tx is 0 and seq is the order.
 */
import { Entity, type EntityManager, PrimaryKey, Property } from '@mikro-orm/core';
import { asDate, sqlOf } from './sql';

/** A consumer's place in the outbox: after the event with this (tx, seq). */
export interface OutboxPosition {
  /** A transaction id (a 64-bit integer, as a decimal string); '0' on SQLite. */
  tx: string;
  seq: number;
}

/** Larger than any `seq` (a 32-bit serial on PostgreSQL). */
const MAX_SEQ = 2_147_483_647;

/** Before every event. */
export const OUTBOX_START: OutboxPosition = { tx: '0', seq: 0 };

/** One committed event, as consumers see it. */
export interface OutboxEvent {
  seq: number;
  tx: string;
  id: string;
  type: string;
  version: number;
  occurredAt: Date;
  agreementId: string | null;
  agreementKey: string | null;
  providerDepartmentId: string | null;
  customerDepartmentId: string | null;
  actorUserId: string | null;
  requestId: string | null;
  payload: Record<string, unknown>;
}

interface EventRow {
  seq: number | string;
  tx: number | string;
  id: string;
  type: string;
  version: number | string;
  occurred_at: unknown;
  agreement_id: string | null;
  agreement_key: string | null;
  provider_department_id: string | null;
  customer_department_id: string | null;
  actor_user_id: string | null;
  request_id: string | null;
  payload: string | Record<string, unknown>;
}

const COLUMNS = '"seq", "tx", "id", "type", "version", "occurred_at", "agreement_id", "agreement_key", "provider_department_id", "customer_department_id", "actor_user_id", "request_id", "payload"';

function toEvent(row: EventRow): OutboxEvent {
  return {
    seq: Number(row.seq),
    tx: String(row.tx),
    id: row.id,
    type: row.type,
    version: Number(row.version),
    occurredAt: asDate(row.occurred_at),
    agreementId: row.agreement_id,
    agreementKey: row.agreement_key,
    providerDepartmentId: row.provider_department_id,
    customerDepartmentId: row.customer_department_id,
    actorUserId: row.actor_user_id,
    requestId: row.request_id,
    payload: typeof row.payload === 'string' ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload,
  };
}

/**
 * PostgreSQL: the smallest transaction id (64-bit, as `txid_current()` gives them) that may still
 * commit an event in this database: the oldest running transaction here with an id (not this
 * one), else the next id to be given (the snapshot's xmax, the latest completed id + 1).
 * pg_stat_activity gives 32-bit ids; each is widened by its signed distance to that xmax (running
 * ids are within 2^31 of it), since a running id may be above it: with two writers, the later's id
 * is above xmax until the earlier completes, and an unsigned distance made it 2^32 older, putting
 * `outboxEnd` before the whole outbox. PostgreSQL keeps what
 * pg_stat_activity showed for the rest of a transaction, so the statement drops that copy first
 * (`pg_stat_clear_snapshot`, with the next id, before the correlated read of the running ones): a
 * second horizon in one transaction must see the transactions begun since the first.
 */
async function horizon(em: EntityManager): Promise<string> {
  const [row] = await sqlOf(em).rows<{ horizon: string }>(
    `with s as materialized (select txid_snapshot_xmax(txid_current_snapshot()) as next, pg_stat_clear_snapshot() as fresh)
     select least((select min(s.next - ((s.next % 4294967296 - a.backend_xid::text::bigint + 6442450944) % 4294967296 - 2147483648))
                     from pg_stat_activity a
                    where a.datname = current_database() and a.backend_xid is not null and a.pid <> pg_backend_pid()), s.next)::text as "horizon"
       from s`,
  );
  return row.horizon;
}

/** The position of an event: what a consumer stores after handling it. */
export function positionOf(event: Pick<OutboxEvent, 'tx' | 'seq'>): OutboxPosition {
  return { tx: event.tx, seq: event.seq };
}

/**
 * The committed events after `after`, oldest first, at most `limit`: those a consumer may handle
 * now without ever being passed by one that commits later (see the file's comment). Optionally only
 * some types.
 */
export async function readOutbox(em: EntityManager, after: OutboxPosition, limit: number, types?: readonly string[]): Promise<OutboxEvent[]> {
  const sql = sqlOf(em);
  const typeFilter = types?.length ? ` and "type" in (${types.map(() => '?').join(', ')})` : '';
  const rows = sql.pg
    ? await sql.rows<EventRow>(`select ${COLUMNS} from "domain_event" where ("tx", "seq") > (?, ?) and "tx" < ?${typeFilter} order by "tx", "seq" limit ?`, [
        after.tx,
        after.seq,
        await horizon(em),
        ...(types ?? []),
        limit,
      ])
    : await sql.rows<EventRow>(`select ${COLUMNS} from "domain_event" where "seq" > ?${typeFilter} order by "seq" limit ?`, [after.seq, ...(types ?? []), limit]);
  return rows.map(toEvent);
}

/** The events with these ids (any order; ids not found are left out), as consumers see them. */
export async function readEventsById(em: EntityManager, ids: readonly string[]): Promise<OutboxEvent[]> {
  if (!ids.length) return [];
  const rows = await sqlOf(em).rows<EventRow>(`select ${COLUMNS} from "domain_event" where "id" in (${ids.map(() => '?').join(', ')})`, [...ids]);
  return rows.map(toEvent);
}

/**
 * The outbox's end now: a consumer that starts here hears of every event committed from now on
 * and of none before (a new webhook subscription, a new live subscriber). On PostgreSQL, the
 * position just before the oldest running transaction, so events it has yet to commit still come.
 */
export async function outboxEnd(em: EntityManager): Promise<OutboxPosition> {
  const sql = sqlOf(em);
  if (sql.pg) {
    // Every event of a transaction older than the horizon is before (horizon - 1, +∞).
    return { tx: (BigInt(await horizon(em)) - 1n).toString(), seq: MAX_SEQ };
  }
  const [row] = await sql.rows<{ seq: number | null }>('select max("seq") as "seq" from "domain_event"');
  return { tx: '0', seq: Number(row?.seq ?? 0) };
}

/** A durable consumer's position (webhook fan-out, e-mail): one row per consumer name. */
@Entity({ tableName: 'outbox_cursor' })
export class OutboxCursor {
  @PrimaryKey({ type: 'string', length: 60 })
  consumer!: string;

  @Property({ type: 'bigint', default: 0 })
  tx!: string;

  @Property({ type: 'integer', default: 0 })
  seq!: number;

  @Property({ type: 'Date' })
  updatedAt!: Date;
}

/**
 * Hands the events after consumer `name`'s stored position (at most `limit`) to `handle`, and
 * stores the new position, all in `em`'s transaction: what `handle` writes and the position commit
 * together, so an event is handled exactly once even if the process dies. On PostgreSQL the
 * cursor row is locked for the transaction, so two instances never handle the same events; a
 * consumer seen for the first time starts at the outbox's end. Returns how many events it handled.
 */
export async function consumeOutbox(em: EntityManager, name: string, limit: number, now: Date, handle: (events: OutboxEvent[]) => Promise<void>): Promise<number> {
  const sql = sqlOf(em);
  const lock = sql.pg ? ' for update' : '';
  let [cursor] = await sql.rows<{ tx: string | number; seq: number | string }>(`select "tx", "seq" from "outbox_cursor" where "consumer" = ?${lock}`, [name]);
  if (!cursor) {
    const end = await outboxEnd(em);
    await sql.run(`insert into "outbox_cursor" ("consumer", "tx", "seq", "updated_at") values (?, ?, ?, ?) on conflict ("consumer") do nothing`, [name, end.tx, end.seq, sql.date(now)]);
    [cursor] = await sql.rows<{ tx: string | number; seq: number | string }>(`select "tx", "seq" from "outbox_cursor" where "consumer" = ?${lock}`, [name]);
  }
  const events = await readOutbox(em, { tx: String(cursor.tx), seq: Number(cursor.seq) }, limit);
  if (!events.length) return 0;
  await handle(events);
  const last = positionOf(events[events.length - 1]);
  await sql.run(`update "outbox_cursor" set "tx" = ?, "seq" = ?, "updated_at" = ? where "consumer" = ?`, [last.tx, last.seq, sql.date(now), name]);
  return events.length;
}
