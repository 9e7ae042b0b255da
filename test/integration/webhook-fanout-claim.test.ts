/**
 * Issue 15, "Speed": the fan-out writes a burst's deliveries already claimed and hands them
 * straight to the senders (src/modules/webhooks/webhook.fanout.ts, `fanOut` with `claim`). An
 * instance that dies between that commit and its sends loses nothing: its claims keep other
 * instances off until the lease ends, then the deliveries are claimed and sent as usual, each once,
 * with the event's id as `webhook-id`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setActor } from '../../src/common/actor';
import { sqlOf } from '../../src/common/sql';
import { fanOut } from '../../src/modules/webhooks/webhook.fanout';
import { engines, type TestServer } from '../support/server';
import { emitEscalations, startWebhookFixture, type WebhookFixture } from '../support/webhook-receiver';

describe.each(engines())('deliveries claimed by the fan-out (%s)', (engine) => {
  let fixture: WebhookFixture;
  let s: TestServer;
  let ids: string[];

  beforeAll(async () => {
    fixture = await startWebhookFixture(engine, 'FC');
    ({ s, ids } = fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('sends what a dead instance fanned out once its lease ends, each once', async () => {
    const at = new Date('2026-11-20T10:00:00Z');
    const lease = 90_000;
    await emitEscalations(s, 5, at, 'fan-out claim');
    // The instance that fans out and dies before sending: its transaction commits claimed rows.
    let fanned = { events: 0, claimed: [] as Array<{ attempt: { eventId: string } }> };
    // On PostgreSQL another test's open transaction may hold the outbox back a moment.
    for (let tries = 0; fanned.events < 5 && tries < 100; tries++) {
      const r = await s.app.orm.em.fork().transactional(async (em) => {
        setActor(em, { userId: null, role: 'SYSTEM', requestId: 'test:fan-out' });
        return fanOut(em, at, 200, { lease: () => lease });
      });
      fanned = { events: fanned.events + r.events, claimed: [...fanned.claimed, ...r.claimed] };
      if (fanned.events < 5) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(fanned.events).toBe(5);
    expect(fanned.claimed).toHaveLength(5);
    const eventIds = fanned.claimed.map((c) => c.attempt.eventId).sort();

    // Within the lease another instance neither fans them out again nor claims them.
    expect(await s.app.webhooks.tick(new Date(at.getTime() + lease - 1))).toMatchObject({ events: 0, created: 0, attempted: 0 });
    expect(ids).toEqual([]);

    // After it, they are claimed and delivered, each once, with the event's id.
    expect(await s.app.webhooks.tick(new Date(at.getTime() + lease + 1))).toMatchObject({ attempted: 5, delivered: 5 });
    expect([...ids].sort()).toEqual(eventIds);
    const [row] = await sqlOf(s.app.orm.em.fork()).rows<{ n: number | string }>(`select count(*) as "n" from "webhook_delivery" where "status" = 'DELIVERED' and "attempts" = 1`);
    expect(Number(row.n)).toBe(5);
  });
});
