/**
 * The fan-out (docs/webhooks.md): the outbox's new events become one delivery row per (enabled
 * subscription that hears the event, event), in the cursor's transaction (`consumeOutbox`), so an
 * event is fanned out exactly once even if the process dies or several instances run. The unique
 * (subscription, event) index makes a second write of the same pair a no-op all the same.
 */
import type { EntityManager } from '@mikro-orm/core';
import { newId } from '../../common/ids';
import { consumeOutbox, type OutboxEvent } from '../../common/outbox';
import { mayReadEvent } from '../../common/policy';
import { Role } from '../../common/role';
import { sqlOf } from '../../common/sql';
import { attemptOf, type ClaimedDelivery, type PreparedAttempt } from './webhook.delivery';
import { WebhookDeliveryStatus, WebhookStatus, WebhookSubscription } from './webhook.entity';
import { envelopeOf } from './webhook.signing';

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

/** A delivery the fan-out created already claimed (see {@link fanOut}), with its attempt. */
export interface FannedOutDelivery {
  claimed: ClaimedDelivery;
  attempt: PreparedAttempt;
}

/**
 * Fans out at most `limit` events; returns how many events it read and deliveries it wrote. With
 * `claim`, the deliveries are written claimed by the caller (their `lease_until` is
 * `now + claim.lease(count)`, `count` the deliveries written) and returned with their attempts, so
 * the caller sends them without a claim and a preparation of its own: the first attempt of a fresh
 * delivery. If the caller dies before recording, the lease expires and any instance claims them as
 * usual (at least once, the same `webhook-id`). Only rows this statement inserted are returned (a
 * pair already written is not).
 */
export async function fanOut(
  em: EntityManager,
  now: Date,
  limit: number,
  claim?: { lease: (deliveries: number) => number },
): Promise<{ events: number; deliveries: number; claimed: FannedOutDelivery[] }> {
  const sql = sqlOf(em);
  let deliveries = 0;
  const claimed: FannedOutDelivery[] = [];
  const events = await consumeOutbox(em, WEBHOOK_CONSUMER, limit, now, async (batch) => {
    const subs = (await em.find(WebhookSubscription, { status: WebhookStatus.ENABLED }, { disableIdentityMap: true })).map((s) => ({
      id: s.id,
      departmentId: s.department.id,
      eventTypes: s.eventTypes,
      outboxTx: String(s.outboxTx),
      outboxSeq: s.outboxSeq,
      outboxSnapshot: s.outboxSnapshot ?? null,
      url: s.url,
      secret: s.secret,
      previousSecret: s.previousSecret,
      previousSecretExpiresAt: s.previousSecretExpiresAt,
    }));
    if (!subs.length) return;
    const pairs = batch.flatMap((event) => subs.filter((sub) => hears(sub, event)).map((sub) => ({ event, sub, id: newId() })));
    if (!pairs.length) return;
    const leaseUntil = claim ? new Date(now.getTime() + claim.lease(pairs.length)) : null;
    const rows = pairs.map(({ event, sub, id }) => ({
      id,
      subscription_id: sub.id,
      event_id: event.id,
      event_seq: event.seq,
      event_type: event.type,
      status: WebhookDeliveryStatus.PENDING,
      attempts: 0,
      cycle_start: 0,
      next_attempt_at: sql.date(now),
      lease_until: leaseUntil && sql.date(leaseUntil),
      created_at: sql.date(now),
      updated_at: sql.date(now),
    }));
    const inserted = new Set<string>();
    for (let i = 0; i < rows.length; i += INSERT_ROWS) {
      const chunk = rows.slice(i, i + INSERT_ROWS);
      const columns = Object.keys(chunk[0]);
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      const written = await sql.rows<{ id: string }>(
        `insert into "webhook_delivery" (${columns.map((c) => `"${c}"`).join(', ')}) values ${chunk.map(() => tuple).join(', ')} on conflict ("subscription_id", "event_id") do nothing returning "id"`,
        chunk.flatMap((r) => columns.map((c) => r[c as keyof typeof r])),
      );
      for (const { id } of written) inserted.add(id);
    }
    deliveries += rows.length;
    if (!leaseUntil) return;
    const bodies = new Map<string, string>();
    for (const { event, sub, id } of pairs) {
      if (!inserted.has(id)) continue;
      let body = bodies.get(event.id);
      if (body === undefined) bodies.set(event.id, (body = envelopeOf(event)));
      claimed.push({
        claimed: { id, subscriptionId: sub.id, eventId: event.id, attempts: 0, cycleStart: 0, leaseUntil },
        attempt: attemptOf(sub, event.id, body, now),
      });
    }
  });
  return { events, deliveries, claimed };
}
