/**
 * The fan-out (docs/webhooks.md): the outbox's new events become one delivery row per (enabled
 * subscription that hears the event, event), in the cursor's transaction (`consumeOutbox`), so an
 * event is fanned out exactly once even if the process dies or several instances run. The unique
 * (subscription, event) index makes a second write of the same pair a no-op all the same.
 */
import type { EntityManager } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { consumeOutbox, type OutboxEvent } from '../../common/outbox';
import { mayReadEvent } from '../../common/policy';
import { Role } from '../../common/role';
import { sqlOf } from '../../common/sql';
import { WebhookDeliveryStatus, WebhookStatus, WebhookSubscription } from './webhook.entity';

/** Delivery rows per insert statement. */
const INSERT_ROWS = 250;

/** The outbox consumer's name (its row in `outbox_cursor`). */
export const WEBHOOK_CONSUMER = 'webhooks';

/**
 * Whether transaction `tx` had committed for a snapshot `xmin:xmax:xip1,xip2,…` (PostgreSQL's
 * `txid_visible_in_snapshot`): below xmin, or below xmax and not running then.
 */
export function committedIn(snapshot: string, tx: bigint): boolean {
  const [xmin, xmax, xip = ''] = snapshot.split(':');
  if (tx < BigInt(xmin)) return true;
  if (tx >= BigInt(xmax)) return false;
  return !xip
    .split(',')
    .filter(Boolean)
    .some((x) => BigInt(x) === tx);
}

/**
 * Whether `sub` hears `event`: its type, its department's or a CORPORATE agreement (the inbox's
 * rule), and committed after the subscription was created (after its outbox position and, on
 * PostgreSQL, not already committed in its creation's snapshot).
 */
export function hears(sub: Pick<WebhookSubscription, 'eventTypes' | 'outboxTx' | 'outboxSeq' | 'outboxSnapshot'> & { departmentId: string }, event: OutboxEvent): boolean {
  if (!sub.eventTypes.includes(event.type)) return false;
  if (!mayReadEvent({ role: Role.HEAD, departmentIds: [sub.departmentId] }, { providerId: event.providerDepartmentId, customerId: event.customerDepartmentId })) return false;
  const tx = BigInt(event.tx);
  const from = BigInt(sub.outboxTx);
  if (!(tx > from || (tx === from && event.seq > sub.outboxSeq))) return false;
  return !sub.outboxSnapshot || !committedIn(sub.outboxSnapshot, tx);
}

/** Fans out at most `limit` events; returns how many events it read and deliveries it wrote. */
export async function fanOut(em: EntityManager, now: Date, limit: number): Promise<{ events: number; deliveries: number }> {
  const sql = sqlOf(em);
  let deliveries = 0;
  const events = await consumeOutbox(em, WEBHOOK_CONSUMER, limit, now, async (batch) => {
    const subs = (await em.find(WebhookSubscription, { status: WebhookStatus.ENABLED }, { disableIdentityMap: true })).map((s) => ({
      id: s.id,
      departmentId: s.department.id,
      eventTypes: s.eventTypes,
      outboxTx: String(s.outboxTx),
      outboxSeq: s.outboxSeq,
      outboxSnapshot: s.outboxSnapshot ?? null,
    }));
    if (!subs.length) return;
    const rows = batch.flatMap((event) =>
      subs
        .filter((sub) => hears(sub, event))
        .map((sub) => ({
          id: randomUUID(),
          subscription_id: sub.id,
          event_id: event.id,
          event_seq: event.seq,
          event_type: event.type,
          status: WebhookDeliveryStatus.PENDING,
          attempts: 0,
          cycle_start: 0,
          next_attempt_at: sql.date(now),
          created_at: sql.date(now),
          updated_at: sql.date(now),
        })),
    );
    for (let i = 0; i < rows.length; i += INSERT_ROWS) {
      const chunk = rows.slice(i, i + INSERT_ROWS);
      const columns = Object.keys(chunk[0]);
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      await sql.run(
        `insert into "webhook_delivery" (${columns.map((c) => `"${c}"`).join(', ')}) values ${chunk.map(() => tuple).join(', ')} on conflict ("subscription_id", "event_id") do nothing`,
        chunk.flatMap((r) => columns.map((c) => r[c as keyof typeof r])),
      );
    }
    deliveries += rows.length;
  });
  return { events, deliveries };
}
