/**
 * Issue 15, "Speed": the outbox's consumers are woken when events commit (src/common/outbox-signal.ts),
 * not at their next poll. Here both polls are far longer than the test (the live feed's a minute,
 * the webhook worker's an hour), so an event that reaches a live subscriber and a webhook receiver
 * within seconds was delivered because its commit woke them: on SQLite by the transaction's
 * commit hook, on PostgreSQL through LISTEN. A transaction that rolls back wakes nobody and
 * delivers nothing (proved by a later event arriving alone, not by a sleep); events written in a
 * nested transaction wake the consumers when the outermost one commits.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { print } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CreateDepartmentDocument, CreateWebhookSubscriptionDocument, LiveEventsDocument, type LiveEventsSubscription } from '../generated/graphql';
import { emitEvents } from '../../src/common/events';
import { engines, startServer, type TestServer } from '../support/server';

/** A CORPORATE escalation.opened event titled `title` (every department's subscription hears it). */
const event = (title: string) => ({
  type: 'escalation.opened' as const,
  occurredAt: new Date('2026-11-20T10:00:00Z'),
  agreement: null,
  payload: { escalationId: '00000000-0000-4000-8000-000000000000', month: '2026-11', severity: 'HIGH' as const, title, status: 'OPEN' as const },
});

describe.each(engines())('outbox consumers woken at commit (%s)', (engine) => {
  let s: TestServer;
  let receiver: http.Server;
  let client: WsClient;
  /** Titles as they arrived, at the webhook receiver and at the live subscriber. */
  const hooked: string[] = [];
  const live: string[] = [];

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        hooked.push(String((JSON.parse(body) as { data: { payload: { title: string } } }).data.payload.title));
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    s = await startServer(engine, {
      seed: false,
      env: { LIVE_POLL_MS: '60000', WEBHOOK_POLL_MS: '3600000', WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' },
    });
    expect((await s.data(CreateDepartmentDocument, { input: { code: 'WK', name: 'Wake' } })).createDepartment.userErrors).toEqual([]);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    expect((await s.data(CreateWebhookSubscriptionDocument, { input: { department: 'WK', url, eventTypes: ['escalation.opened'] } })).createWebhookSubscription.userErrors).toEqual([]);
    client = createClient({ url: `${s.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${s.adminToken}` }, retryAttempts: 0 });
    client.subscribe<LiveEventsSubscription>(
      { query: print(LiveEventsDocument), variables: { types: ['escalation.opened'] } },
      { next: (r) => r.data && live.push(String(r.data.events.payload.title)), error: () => undefined, complete: () => undefined },
    );
    await vi.waitFor(() => expect(s.app.live.feed.size).toBe(1), { timeout: 10_000, interval: 10 });
  });
  afterAll(async () => {
    await client?.dispose();
    await s?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const arrived = (titles: string[]) =>
    vi.waitFor(
      () => {
        expect(live).toEqual(titles);
        expect(hooked).toEqual(titles);
      },
      { timeout: 8_000, interval: 20 },
    );

  it('delivers a committed event to the live subscriber and the webhook long before either poll', async () => {
    await s.app.orm.em.fork().transactional((em) => emitEvents(em, [event('committed')]));
    await arrived(['committed']);
  });

  it('delivers nothing of a transaction that rolled back', async () => {
    await expect(
      s.app.orm.em.fork().transactional(async (em) => {
        await emitEvents(em, [event('rolled back')]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await s.app.orm.em.fork().transactional((em) => emitEvents(em, [event('after the rollback')]));
    await arrived(['committed', 'after the rollback']);
  });

  it('wakes the consumers when the outermost transaction of a nested write commits', async () => {
    await s.app.orm.em.fork().transactional((outer) => outer.transactional((inner) => emitEvents(inner, [event('nested')])));
    await arrived(['committed', 'after the rollback', 'nested']);
  });
});
