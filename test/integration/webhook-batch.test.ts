/**
 * Issue 15, "Speed": the webhook worker records a batch's delivered outcomes in one statement per
 * (attempt number, status), not one per delivery (src/modules/webhooks/webhook.delivery.ts,
 * `recordOutcomes`). So a tick that fans out, sends and records 40 deliveries sends as many SQL
 * statements as one that does 10, and every delivery is DELIVERED once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlOf } from '../../src/common/sql';
import { engines, type TestServer } from '../support/server';
import { emitEscalations, startWebhookFixture, type WebhookFixture } from '../support/webhook-receiver';

describe.each(engines())('webhook outcomes recorded per batch (%s)', (engine) => {
  let fixture: WebhookFixture;
  let s: TestServer;
  let ids: string[];

  beforeAll(async () => {
    fixture = await startWebhookFixture(engine, 'WB');
    ({ s, ids } = fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  /** Commits `n` events, then counts the statements of the ticks that deliver them all. */
  const deliver = async (n: number, at: Date): Promise<number> => {
    await emitEscalations(s, n, at, 'batch');
    // Claims and fan-outs are smaller while requests are being served (the worker's budget): wait
    // until this test's own requests are past, so both ticks take their batches whole.
    while (s.app.webhooks.budget.contended) await new Promise((resolve) => setTimeout(resolve, 10));
    let attempted = 0;
    let statements = 0;
    // On PostgreSQL another test's open transaction may hold the outbox back a moment: the ticks
    // that find nothing are counted too, so only a tick that delivers everything is compared.
    for (let tries = 0; attempted < n && tries < 100; tries++) {
      ids.length = 0;
      statements = await s.countStatements(async () => (attempted = (await s.app.webhooks.tick(at)).attempted));
      if (attempted < n) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(attempted).toBe(n);
    expect(new Set(ids).size).toBe(n);
    return statements;
  };

  it('sends as many statements for 40 deliveries as for 10, and delivers each once', async () => {
    const ten = await deliver(10, new Date('2026-11-20T10:00:00Z'));
    const forty = await deliver(40, new Date('2026-11-20T11:00:00Z'));
    expect(forty).toBe(ten);
    const [row] = await sqlOf(s.app.orm.em.fork()).rows<{ n: number | string }>(`select count(*) as "n" from "webhook_delivery" where "status" = 'DELIVERED' and "attempts" = 1`);
    expect(Number(row.n)).toBe(50);
  });
});
