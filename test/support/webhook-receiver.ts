/**
 * A server with one webhook subscription for a new department, pointed at a local receiver that
 * records each delivery's `webhook-id` (for the worker's tests that tick it themselves).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { emitEvents } from '../../src/common/events';
import { CreateDepartmentDocument, CreateWebhookSubscriptionDocument } from '../generated/graphql';
import { type Engine, startServer, type TestServer } from './server';

export interface WebhookFixture {
  s: TestServer;
  /** The `webhook-id` of every delivery received, in order. */
  ids: string[];
  close(): Promise<void>;
}

/** Starts the receiver and the server (worker not polling: `WEBHOOK_POLL_MS=0`), and subscribes department `code` to `escalation.opened`. */
export async function startWebhookFixture(engine: Engine, code: string, env: Record<string, string> = {}): Promise<WebhookFixture> {
  const ids: string[] = [];
  const receiver = http.createServer((req, res) => {
    ids.push(String(req.headers['webhook-id']));
    req.resume();
    res.end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const s = await startServer(engine, { seed: false, env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '0', ...env } });
  expect((await s.data(CreateDepartmentDocument, { input: { code, name: `Webhooks ${code}` } })).createDepartment.userErrors).toEqual([]);
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  expect((await s.data(CreateWebhookSubscriptionDocument, { input: { department: code, url, eventTypes: ['escalation.opened'] } })).createWebhookSubscription.userErrors).toEqual([]);
  return {
    s,
    ids,
    async close() {
      await s.close();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    },
  };
}

/** Commits `n` `escalation.opened` events (titles `<prefix>-0` …) in one transaction. */
export async function emitEscalations(s: TestServer, n: number, at: Date, prefix: string): Promise<void> {
  await s.app.orm.em.fork().transactional((em) =>
    emitEvents(
      em,
      Array.from({ length: n }, (_, i) => ({
        type: 'escalation.opened' as const,
        occurredAt: at,
        agreement: null,
        payload: { escalationId: '00000000-0000-4000-8000-000000000000', month: '2026-11', severity: 'HIGH' as const, title: `${prefix}-${i}`, status: 'OPEN' as const },
      })),
    ),
  );
}
