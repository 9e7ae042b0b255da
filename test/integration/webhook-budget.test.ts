/**
 * Issue 15, "Speed": the webhook worker takes at most `WEBHOOK_CPU_PERCENT` of the main thread
 * while requests are being served (src/common/background-budget.ts). Here with 5 %, while
 * `{ me { id } }` requests come one after another: the worker rests between its slices, and the
 * budget never starves delivery: every event arrives, once, and every delivery is DELIVERED after
 * one attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeIdDocument } from '../generated/graphql';
import { sqlOf } from '../../src/common/sql';
import { engines, type TestServer } from '../support/server';
import { emitEscalations, startWebhookFixture, type WebhookFixture } from '../support/webhook-receiver';

const EVENTS = 120;

describe.each(engines())('webhook worker within its CPU share (%s)', (engine) => {
  let fixture: WebhookFixture;
  let s: TestServer;
  let ids: string[];

  beforeAll(async () => {
    // The requests run back to back for as long as delivery takes: on a quiet machine far more
    // than the default 1,200 a minute, so the rate limit is lifted here.
    fixture = await startWebhookFixture(engine, 'WC', { WEBHOOK_CPU_PERCENT: '5', RATE_LIMIT_PER_MINUTE: '1000000' });
    ({ s, ids } = fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('rests while requests are served and still delivers every event once', async () => {
    const at = new Date('2026-11-20T10:00:00Z');
    await emitEscalations(s, EVENTS, at, 'budget');
    const budget = s.app.webhooks.budget;
    expect(budget.share).toBe(0.05);
    const before = { ...budget.stats };

    // Requests one after another for as long as the worker runs.
    let serving = true;
    let answered = 0;
    const requests = (async () => {
      while (serving) {
        expect((await s.data(MeIdDocument, {})).me.id).toMatch(/^[0-9a-f-]{36}$/);
        answered++;
      }
    })();
    let attempted = 0;
    try {
      while (!budget.contended) await new Promise((resolve) => setTimeout(resolve, 5));
      // On PostgreSQL another test's open transaction may hold the outbox back a moment.
      for (let tries = 0; attempted < EVENTS && tries < 200; tries++) {
        attempted += (await s.app.webhooks.tick(at)).attempted;
        if (attempted < EVENTS) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      serving = false;
      await requests;
    }

    expect(attempted).toBe(EVENTS);
    expect(ids.length).toBe(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
    const [row] = await sqlOf(s.app.orm.em.fork()).rows<{ n: number | string }>(`select count(*) as "n" from "webhook_delivery" where "status" = 'DELIVERED' and "attempts" = 1`);
    expect(Number(row.n)).toBe(EVENTS);
    expect(answered).toBeGreaterThan(0);
    // It rested while requests were served: its slices were followed by rests of 19× their length (5 %).
    const rests = budget.stats.rests - before.rests;
    const charged = budget.stats.chargedMs - before.chargedMs;
    const rested = budget.stats.restMs - before.restMs;
    expect(rests).toBeGreaterThan(0);
    expect(rested).toBeGreaterThan(0);
    expect(rested).toBeLessThanOrEqual(19 * charged + 1e-6);
  });
});
