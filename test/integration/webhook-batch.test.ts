/**
 * Issue 15, "Speed": the webhook worker records a batch's delivered outcomes in one statement per
 * (attempt number, status), not one per delivery (src/modules/webhooks/webhook.delivery.ts,
 * `recordOutcomes`). So a tick that fans out, sends and records 40 deliveries sends as many SQL
 * statements as one that does 10, and every delivery is DELIVERED once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateDepartmentDocument, CreateWebhookSubscriptionDocument } from '../generated/graphql';
import { emitEvents } from '../../src/common/events';
import { sqlOf } from '../../src/common/sql';
import { engines, startServer, type TestServer } from '../support/server';

describe.each(engines())('webhook outcomes recorded per batch (%s)', (engine) => {
  let s: TestServer;
  let receiver: http.Server;
  const ids: string[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      ids.push(String(req.headers['webhook-id']));
      req.resume();
      res.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    s = await startServer(engine, { seed: false, env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '0' } });
    expect((await s.data(CreateDepartmentDocument, { input: { code: 'WB', name: 'Batch' } })).createDepartment.userErrors).toEqual([]);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    expect((await s.data(CreateWebhookSubscriptionDocument, { input: { department: 'WB', url, eventTypes: ['escalation.opened'] } })).createWebhookSubscription.userErrors).toEqual([]);
  });
  afterAll(async () => {
    await s?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  /** Commits `n` events, then counts the statements of the ticks that deliver them all. */
  const deliver = async (n: number, at: Date): Promise<number> => {
    await s.app.orm.em.fork().transactional((em) =>
      emitEvents(
        em,
        Array.from({ length: n }, (_, i) => ({
          type: 'escalation.opened' as const,
          occurredAt: at,
          agreement: null,
          payload: { escalationId: '00000000-0000-4000-8000-000000000000', month: '2026-11', severity: 'HIGH' as const, title: `batch-${i}`, status: 'OPEN' as const },
        })),
      ),
    );
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
