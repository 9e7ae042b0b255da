/**
 * A claim's lease (docs/webhooks.md, "Worker"): the worker claims a batch of deliveries at once
 * and sends it a few at a time, so the lease must last as long as the whole batch may take, not
 * one attempt: otherwise a second instance re-claims the deliveries still queued behind slow ones
 * and sends them twice. The receiver here never answers, so each attempt takes the whole timeout.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateDepartmentDocument, CreateWebhookSubscriptionDocument } from '../generated/graphql';
import { emitEvents } from '../../src/common/events';
import { WebhookWorker } from '../../src/jobs/webhook-worker';
import { engines, startServer, type TestServer } from '../support/server';

const TIMEOUT_MS = 300;

describe.each(engines())('a webhook claim’s lease (%s)', (engine) => {
  let s: TestServer;
  let server: http.Server;
  let url: string;
  const ids: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req) => {
      ids.push(String(req.headers['webhook-id']));
      req.resume(); // never answered: the attempt times out
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
    s = await startServer(engine, { seed: false, env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS), WEBHOOK_POLL_MS: '0' } });
  });
  afterAll(async () => {
    await s?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('keeps a second instance off a batch still being sent', async () => {
    expect((await s.data(CreateDepartmentDocument, { input: { code: 'LS', name: 'Lease' } })).createDepartment.userErrors).toEqual([]);
    const created = await s.data(CreateWebhookSubscriptionDocument, { input: { department: 'LS', url, eventTypes: ['escalation.opened'] } });
    expect(created.createWebhookSubscription.userErrors).toEqual([]);
    const at = new Date('2026-11-20T10:00:00Z');
    // Nine deliveries: eight attempts at once, the ninth waits for one of them to time out.
    await s.app.orm.em.fork().transactional((em) =>
      emitEvents(
        em,
        Array.from({ length: 9 }, (_, i) => ({
          type: 'escalation.opened' as const,
          occurredAt: at,
          agreement: null,
          payload: { escalationId: '00000000-0000-4000-8000-000000000000', month: '2026-11', severity: 'HIGH', title: `slow-${i}`, status: 'OPEN' as const },
        })),
      ),
    );
    let first = await s.app.webhooks.tick(at);
    // On PostgreSQL another test's open transaction may hold the outbox back a moment.
    for (let n = 0; first.events < 9 && n < 100; n++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const more = await s.app.webhooks.tick(at);
      first = { ...more, events: first.events + more.events, attempted: first.attempted + more.attempted };
    }
    expect(first.events).toBe(9);
    expect(first.attempted).toBe(9);
    expect(new Set(ids).size).toBe(9);
    ids.length = 0;

    // The retries fall due 5 s later. A second instance ticks when two rounds of attempts and the
    // margin have passed on the first one's claim, while the first is still sending its batch.
    const retryAt = new Date(at.getTime() + 5_500 + 1_000);
    const running = s.app.webhooks.tick(retryAt);
    while (ids.length < 8) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = new WebhookWorker(s.app.orm, s.app.logger, { pollMs: 0, allowHttp: true, allowPrivate: true, timeoutMs: TIMEOUT_MS });
    const other = await second.tick(new Date(retryAt.getTime() + 2 * TIMEOUT_MS + 60_000 + 1));
    const mine = await running;
    await second.stop();
    expect({ mine: mine.attempted, other: other.attempted }).toEqual({ mine: 9, other: 0 });
    expect(ids.length).toBe(9);
  });
});
