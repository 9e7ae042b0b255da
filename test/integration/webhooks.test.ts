/**
 * Issue 15, point 3 (DESIGN §10, docs/webhooks.md): signed webhooks, Standard Webhooks v1.
 * Deliveries go to a real HTTP receiver on 127.0.0.1 and are verified by the independent
 * `standardwebhooks` package; the worker is driven with explicit instants (`app.webhooks.tick`).
 *
 * The agreement EPC: provider WP, customer WC (fresh departments), one MANUAL objective
 * QUALIFIED_LEADS ≥ 400; a third department WO is party to nothing. February's report (300) is
 * submitted, disputed, settled, corrected and acknowledged; each step is an event the
 * subscriptions of WP, WC and WO hear or not.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcknowledgeReportDocument,
  CreateDepartmentDocument,
  CreateWebhookSubscriptionDocument,
  DeleteWebhookSubscriptionDocument,
  DepartmentDocument,
  DisableWebhookSubscriptionDocument,
  DisputeReportDocument,
  EnableWebhookSubscriptionDocument,
  MetricDocument,
  RedeliverWebhookDocument,
  ReportableObjectivesDocument,
  RotateWebhookSecretDocument,
  SettleDisputeDocument,
  SubmitReportDocument,
  WebhookSubscriptionsDocument,
  type WebhookDeliveryFieldsFragment,
} from '../generated/graphql';
import { DomainEvent, emitEvent, emitEvents } from '../../src/common/events';
import { printApiSchema } from '../../src/schema';
import { createApp, type App } from '../../src/server';
import type { WebhookTickResult } from '../../src/jobs/webhook-worker';
import { Department } from '../../src/modules/departments/department.entity';
import { WebhookDelivery, WebhookSubscription } from '../../src/modules/webhooks/webhook.entity';
import { newSecret } from '../../src/modules/webhooks/webhook.signing';
import { RETRY_DELAYS_MS } from '../../src/modules/webhooks/webhook.delivery';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  status: number;
}

/** A webhook receiver: records every request, answers each path from its queue of statuses (then 200). */
async function startReceiver(): Promise<{ url: string; received: Received[]; answers: Map<string, number[]>; close: () => Promise<void> }> {
  const received: Received[] = [];
  const answers = new Map<string, number[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answers.get(req.url ?? '')?.shift() ?? 200;
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      received.push({ path: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, status >= 300 && status < 400 ? { location: '/elsewhere' } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, answers, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const PERMISSIVE = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' };

/**
 * Ticks the worker at `now` until it has fanned out `events` events (once when 0), summing what
 * the ticks did. On PostgreSQL the outbox is read below the oldest running transaction of the
 * whole server (src/common/outbox.ts): another test's open transaction may delay an event a while.
 */
async function tickUntil(app: App, now: Date, events: number): Promise<WebhookTickResult> {
  const sum: WebhookTickResult = { events: 0, created: 0, attempted: 0, delivered: 0, failed: 0 };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = await app.webhooks.tick(now);
    for (const k of Object.keys(sum) as Array<keyof WebhookTickResult>) sum[k] += r[k];
    if (sum.events >= events || Date.now() > deadline) return sum;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(engines())('signed webhooks (%s)', (engine) => {
  let s: TestServer;
  let app2: App | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let provider: Client;
  let customer: Client;
  let other: Client;
  let agreementId: string;
  let leadsObjective: string;
  let reportId: string;
  const ids: Record<string, string> = {};
  /** Subscriptions by receiver path: id, version, secret. */
  const subs: Record<string, { id: string; version: number; secret: string }> = {};
  /** The test's clock for the worker, moved forward only. */
  let clock = Date.now();
  const at = (ms: number) => new Date((clock = ms));
  const iso = (ms: number) => new Date(ms).toISOString();

  const at_ = (path: string) => receiver.received.filter((r) => r.path === path);
  const countRows = async (app: App = s.app) => {
    const em = app.orm.em.fork();
    return { subscriptions: await em.count(WebhookSubscription, {}), deliveries: await em.count(WebhookDelivery, {}) };
  };
  const lastEvent = async (type: string) => (await s.app.orm.em.fork().find(DomainEvent, { type }, { orderBy: { seq: 'desc' }, limit: 1 }))[0];
  const log = async (client: Client, path: string): Promise<WebhookDeliveryFieldsFragment[]> => {
    const list = (await client.data(WebhookSubscriptionsDocument, {})).webhookSubscriptions;
    const sub = list.find((x) => x.id === subs[path].id);
    if (!sub) throw new Error(`no subscription for ${path}`);
    return sub.deliveries.edges.map((e) => e.node);
  };
  const subscribe = async (client: Client, path: string, department: string, eventTypes: string[]) => {
    const r = (await client.data(CreateWebhookSubscriptionDocument, { input: { department, url: `${receiver.url}${path}`, eventTypes, description: path } })).createWebhookSubscription;
    expect(r.userErrors).toEqual([]);
    subs[path] = { id: r.subscription!.id, version: r.subscription!.version, secret: r.secret! };
    return r;
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    s = await startServer(engine, { seed: true, env: PERMISSIVE });
    for (const code of ['WP', 'WC', 'WO']) expect((await s.data(CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    for (const code of ['WP', 'WC', 'WO']) ids[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const leadsMetric = (await s.data(MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    const charter = await activateAgreement(s, { key: 'WPC-CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    agreementId = await activateAgreement(s, {
      key: 'WPC',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: ids.WP,
      customerId: ids.WC,
      parentId: charter,
      terms: { effectiveFrom: '2026-01', monthlyCharge: 10000, creditCapPercent: 10 },
      objectives: [{ metricId: leadsMetric, target: 400, creditPercent: 5 }],
    });
    leadsObjective = (await s.data(ReportableObjectivesDocument, { key: 'WPC', at: '2026-02' })).agreement.effectiveObjectives[0].id;
    provider = s.as(await s.tokenFor(Role.HEAD, 'WP'));
    customer = s.as(await s.tokenFor(Role.HEAD, 'WC'));
    other = s.as(await s.tokenFor(Role.HEAD, 'WO'));
  }, 180_000);
  afterAll(async () => {
    await app2?.close();
    await s?.close();
    await receiver?.close();
  }, 180_000);

  it('refuses bad input with a user error naming the field, and stores nothing', async () => {
    const before = await countRows();
    const url = `${receiver.url}/bad`;
    const create = (client: Client, input: { department: string; url: string; eventTypes: string[] }) => client.request(CreateWebhookSubscriptionDocument, { input });
    const errorsOf = async (client: Client, input: { department: string; url: string; eventTypes: string[] }) => {
      const r = await create(client, input);
      expect(r.errors).toBeUndefined();
      expect(r.data!.createWebhookSubscription.subscription).toBeNull();
      expect(r.data!.createWebhookSubscription.secret).toBeNull();
      return r.data!.createWebhookSubscription.userErrors.map((e) => [e.field, e.code]);
    };
    expect(await errorsOf(provider, { department: 'WP', url, eventTypes: ['report.disputed', 'report.exploded'] })).toEqual([['eventTypes[1]', 'INVALID']]);
    expect((await create(provider, { department: 'WP', url, eventTypes: ['nope'] })).data!.createWebhookSubscription.userErrors[0].message).toMatch(
      /^unknown event type "nope"; expected one of report\.submitted, /,
    );
    expect(await errorsOf(provider, { department: 'WP', url, eventTypes: [] })).toEqual([['eventTypes', 'INVALID']]);
    expect(await errorsOf(provider, { department: 'WP', url: 'not a url', eventTypes: ['report.disputed'] })).toEqual([['url', 'INVALID']]);
    expect(await errorsOf(provider, { department: 'WP', url: 'ftp://hooks.example.com/x', eventTypes: ['report.disputed'] })).toEqual([['url', 'INVALID']]);
    expect(await errorsOf(provider, { department: 'WP', url: 'https://user:pw@hooks.example.com/x', eventTypes: ['report.disputed'] })).toEqual([['url', 'INVALID']]);
    // A department the head does not act for, and one that does not exist.
    const forbidden = (await create(provider, { department: 'WC', url, eventTypes: ['report.disputed'] })).data!.createWebhookSubscription.userErrors;
    expect(forbidden).toEqual([{ field: 'department', code: 'FORBIDDEN', message: 'A HEAD principal may not manage the webhooks of WC: only admins and its heads do' }]);
    expect(await errorsOf(provider, { department: ids.WC, url, eventTypes: ['report.disputed'] })).toEqual([['department', 'FORBIDDEN']]);
    expect(await errorsOf(s, { department: 'NOPE', url, eventTypes: ['report.disputed'] })).toEqual([['department', 'NOT_FOUND']]);
    // Roles the policy leaves out are refused before anything runs.
    const analyst = s.as(await s.tokenFor(Role.ANALYST));
    expect((await create(analyst, { department: 'WP', url, eventTypes: ['report.disputed'] })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await countRows()).toEqual(before);

    // https only and public addresses only, unless configured: a server with the defaults of a shared deployment.
    const strict = await startServer(engine, { env: { WEBHOOK_ALLOW_HTTP: 'false', WEBHOOK_ALLOW_PRIVATE: 'false' } });
    try {
      const dept = (await strict.data(CreateDepartmentDocument, { input: { code: 'SX', name: 'SX' } })).createDepartment.department!.id;
      const strictErrors = async (u: string) => {
        const r = await strict.data(CreateWebhookSubscriptionDocument, { input: { department: dept, url: u, eventTypes: ['report.disputed'] } });
        expect(r.createWebhookSubscription.subscription).toBeNull();
        return r.createWebhookSubscription.userErrors.map((e) => [e.field, e.code, e.message]);
      };
      expect(await strictErrors('http://hooks.example.com/x')).toEqual([['url', 'INVALID', 'expected an https URL, received http: (http needs WEBHOOK_ALLOW_HTTP=true)']]);
      for (const [u, address] of [
        ['https://127.0.0.1/x', '127.0.0.1'],
        ['https://10.1.2.3/x', '10.1.2.3'],
        ['https://169.254.169.254/latest', '169.254.169.254'],
        ['https://192.168.1.10/x', '192.168.1.10'],
        ['https://[::1]/x', '::1'],
        ['https://[fd12::1]/x', 'fd12::1'],
        ['https://[fe80::1]/x', 'fe80::1'],
        ['https://[::ffff:127.0.0.1]/x', '::ffff:7f00:1'],
      ]) {
        expect(await strictErrors(u)).toEqual([['url', 'INVALID', `${address} is a private, loopback or link-local address; refused unless WEBHOOK_ALLOW_PRIVATE=true`]]);
      }
      // A name is resolved (every address): localhost is loopback.
      const named = await strictErrors('https://localhost:8443/x');
      expect(named.map(([f, c]) => [f, c])).toEqual([['url', 'INVALID']]);
      expect(named[0][2]).toMatch(/^host localhost resolves to (127\.0\.0\.1|::1), a private, loopback or link-local address; refused unless WEBHOOK_ALLOW_PRIVATE=true$/);
      expect(await countRows(strict.app)).toEqual({ subscriptions: 0, deliveries: 0 });

      // A name that resolved to a public address when the subscription was made and to a private
      // one now (DNS rebinding): the attempt is refused before any connection.
      const em = strict.app.orm.em.fork();
      const sub = em.create(WebhookSubscription, {
        department: em.getReference(Department, dept),
        url: `https://localhost:${new URL(receiver.url).port}/rebound`,
        eventTypes: ['agreement.activated'],
        secret: newSecret(),
        outboxSeq: 0,
      });
      await em.flush();
      // The fan-out's first run starts its cursor at the outbox's end (the creating mutation does it otherwise).
      expect(await tickUntil(strict.app, new Date(clock), 0)).toEqual({ events: 0, created: 0, attempted: 0, delivered: 0, failed: 0 });
      await em.transactional((tem) =>
        emitEvent(tem, { type: 'agreement.activated', occurredAt: new Date('2026-03-01T00:00:00Z'), agreement: null, payload: { statusBefore: 'DRAFT', statusAfter: 'ACTIVE' } }),
      );
      const tick = await tickUntil(strict.app, new Date(clock), 1);
      expect(tick).toEqual({ events: 1, created: 1, attempted: 1, delivered: 0, failed: 1 });
      const [delivery] = await strict.app.orm.em.fork().find(WebhookDelivery, { subscription: sub.id });
      expect(delivery).toMatchObject({ status: 'PENDING', attempts: 1, lastResponseCode: null });
      expect(delivery.lastError).toMatch(/^refused: host localhost resolves to (127\.0\.0\.1|::1), a private, loopback or link-local address; refused unless WEBHOOK_ALLOW_PRIVATE=true$/);
      expect(at_('/rebound')).toEqual([]);
    } finally {
      await strict.close();
    }
  }, 180_000);

  it('delivers a dispute once, signed, to the parties that subscribed to it, and to nobody else', async () => {
    // Before the subscriptions: the agreement's activation is not sent (only later events are).
    await subscribe(provider, '/wp', 'WP', ['report.disputed', 'agreement.activated']);
    const wc = await subscribe(customer, '/wc', ids.WC, ['report.submitted', 'report.disputed']);
    await subscribe(other, '/wo', 'WO', ['report.disputed', 'report.submitted']);
    expect(subs['/wp'].secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(wc.subscription).toMatchObject({ url: `${receiver.url}/wc`, eventTypes: ['report.submitted', 'report.disputed'], status: 'ENABLED', department: { code: 'WC' }, description: '/wc' });
    // Nothing fanned out yet: no event after the subscriptions.
    expect(await tickUntil(s.app, at(clock), 0)).toEqual({ events: 0, created: 0, attempted: 0, delivered: 0, failed: 0 });

    const submitted = await provider.at('2026-03-03T09:00:00Z').data(SubmitReportDocument, {
      input: { agreementId, month: '2026-02', narrative: 'February', values: [{ objectiveId: leadsObjective, value: 300 }], idempotencyKey: 'wh-feb-1' },
    });
    expect(submitted.submitReport.userErrors).toEqual([]);
    reportId = submitted.submitReport.report!.id;
    expect((await customer.at('2026-03-04T09:00:00Z').data(DisputeReportDocument, { input: { reportId, revision: 1, reason: 'Webinar leads are missing' } })).disputeReport.userErrors).toEqual([]);

    const sentFrom = Math.floor(Date.now() / 1000);
    // Three events (the report submitted, its objective breached, the dispute); three deliveries.
    expect(await tickUntil(s.app, at(clock + 1000), 3)).toEqual({ events: 3, created: 3, attempted: 3, delivered: 3, failed: 0 });
    const sentTo = Math.floor(Date.now() / 1000);
    expect(at_('/wo')).toEqual([]);
    expect(at_('/wp').map((r) => JSON.parse(r.body).type)).toEqual(['report.disputed']);
    expect(
      at_('/wc')
        .map((r) => JSON.parse(r.body).type)
        .sort(),
    ).toEqual(['report.disputed', 'report.submitted']);

    const disputed = await lastEvent('report.disputed');
    const [req] = at_('/wp');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['webhook-id']).toBe(disputed.id);
    expect(Number(req.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(sentFrom);
    expect(Number(req.headers['webhook-timestamp'])).toBeLessThanOrEqual(sentTo);
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const verified = new Webhook(subs['/wp'].secret).verify(req.body, req.headers);
    expect(verified).toEqual({
      type: 'report.disputed',
      timestamp: '2026-03-04T09:00:00.000Z',
      data: {
        id: disputed.id,
        seq: disputed.seq,
        occurredAt: '2026-03-04T09:00:00.000Z',
        agreementKey: 'WPC',
        agreementId,
        providerDepartmentId: ids.WP,
        customerDepartmentId: ids.WC,
        version: 1,
        payload: { reportId, month: '2026-02', revision: 1, statusBefore: 'SUBMITTED', statusAfter: 'DISPUTED', reason: 'Webinar leads are missing' },
      },
    });
    // Another subscription's secret does not verify it.
    expect(() => new Webhook(subs['/wc'].secret).verify(req.body, req.headers)).toThrow('No matching signature found');
    for (const r of at_('/wc')) expect(new Webhook(subs['/wc'].secret).verify(r.body, r.headers)).toMatchObject({ data: { agreementKey: 'WPC' } });

    const [entry] = await log(provider, '/wp');
    expect(entry).toMatchObject({
      eventId: disputed.id,
      eventSeq: disputed.seq,
      eventType: 'report.disputed',
      status: 'DELIVERED',
      attempts: 1,
      lastResponseCode: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(entry.deliveredAt).toBe(iso(clock));
    // Nothing is sent twice.
    expect(await tickUntil(s.app, at(clock + 60_000), 0)).toEqual({ events: 0, created: 0, attempted: 0, delivered: 0, failed: 0 });
    expect(receiver.received.length).toBe(3);
  }, 180_000);

  it('lists a head its own department’s subscriptions, an admin all; refuses another department’s', async () => {
    expect((await provider.data(WebhookSubscriptionsDocument, {})).webhookSubscriptions.map((x) => x.description)).toEqual(['/wp']);
    expect((await s.data(WebhookSubscriptionsDocument, {})).webhookSubscriptions.map((x) => x.description)).toEqual(['/wp', '/wc', '/wo']);
    expect((await s.data(WebhookSubscriptionsDocument, { department: 'WC' })).webhookSubscriptions.map((x) => x.description)).toEqual(['/wc']);
    expect((await provider.request(WebhookSubscriptionsDocument, { department: 'WC' })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const r = await customer.request(DisableWebhookSubscriptionDocument, { input: { id: subs['/wp'].id, expectedVersion: subs['/wp'].version } });
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  }, 180_000);

  it('retries a failing endpoint on the backoff schedule, and disables one that answers 410', async () => {
    await subscribe(customer, '/retry', 'WC', ['report.dispute_settled']);
    await subscribe(provider, '/gone', 'WP', ['report.dispute_settled', 'report.submitted']);
    receiver.answers.set('/retry', [500, 503]);
    receiver.answers.set('/gone', [500, 410]);
    expect((await s.at('2026-03-05T09:00:00Z').data(SettleDisputeDocument, { input: { reportId, revision: 1, ruling: 'UPHELD', note: 'Count them' } })).settleDispute.userErrors).toEqual([]);

    const t1 = clock + 1000;
    expect(await tickUntil(s.app, at(t1), 1)).toEqual({ events: 1, created: 2, attempted: 2, delivered: 0, failed: 2 });
    const [first] = await log(customer, '/retry');
    expect(first).toMatchObject({ eventType: 'report.dispute_settled', status: 'PENDING', attempts: 1, lastResponseCode: 500, lastError: 'HTTP 500', lastAttemptAt: iso(t1), deliveredAt: null });
    // 5 s, stretched by up to 10 % of jitter.
    const next1 = Date.parse(first.nextAttemptAt!);
    expect(next1 - t1).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[0]);
    expect(next1 - t1).toBeLessThanOrEqual(RETRY_DELAYS_MS[0] * 1.1);

    // The correction reaches /gone, which answers 410: disabled, its retry cancelled.
    const corrected = await provider.at('2026-03-05T10:00:00Z').data(SubmitReportDocument, {
      input: { agreementId, month: '2026-02', narrative: 'February, corrected', values: [{ objectiveId: leadsObjective, value: 300 }], idempotencyKey: 'wh-feb-2' },
    });
    expect(corrected.submitReport.userErrors).toEqual([]);
    const t2 = t1 + 1000;
    // Fanned out to /gone and /wc; /retry's retry is not due yet.
    expect(await tickUntil(s.app, at(t2), 1)).toEqual({ events: 1, created: 2, attempted: 2, delivered: 1, failed: 1 });
    const [gone] = (await s.data(WebhookSubscriptionsDocument, { department: 'WP' })).webhookSubscriptions.filter((x) => x.id === subs['/gone'].id);
    expect(gone).toMatchObject({ status: 'DISABLED', disabledAt: iso(t2), disabledReason: `The endpoint answered 410 Gone at ${iso(t2)}` });
    expect(gone.deliveries.edges.map((e) => [e.node.eventType, e.node.status, e.node.attempts, e.node.lastResponseCode, e.node.lastError, e.node.nextAttemptAt])).toEqual([
      ['report.submitted', 'FAILED', 1, 410, '410 Gone: the subscription was disabled', null],
      ['report.dispute_settled', 'CANCELLED', 1, 500, `cancelled: The endpoint answered 410 Gone at ${iso(t2)}`, null],
    ]);

    expect(await s.app.webhooks.tick(at(next1 - 1))).toMatchObject({ attempted: 0 });
    expect(await tickUntil(s.app, at(next1), 0)).toEqual({ events: 0, created: 0, attempted: 1, delivered: 0, failed: 1 });
    const [second] = await log(customer, '/retry');
    expect(second).toMatchObject({ status: 'PENDING', attempts: 2, lastResponseCode: 503, lastError: 'HTTP 503' });
    const next2 = Date.parse(second.nextAttemptAt!);
    expect(next2 - next1).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[1]);
    expect(next2 - next1).toBeLessThanOrEqual(RETRY_DELAYS_MS[1] * 1.1);
    expect(await tickUntil(s.app, at(next2), 0)).toEqual({ events: 0, created: 0, attempted: 1, delivered: 1, failed: 0 });
    const [third] = await log(customer, '/retry');
    expect(third).toMatchObject({ status: 'DELIVERED', attempts: 3, lastResponseCode: 200, lastError: null, nextAttemptAt: null, deliveredAt: iso(next2) });

    // Three attempts of one message: one webhook-id, one body, each signed.
    const attempts = at_('/retry');
    expect(attempts.map((r) => r.status)).toEqual([500, 503, 200]);
    expect(new Set(attempts.map((r) => r.headers['webhook-id']))).toEqual(new Set([(await lastEvent('report.dispute_settled')).id]));
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    for (const r of attempts) expect(new Webhook(subs['/retry'].secret).verify(r.body, r.headers)).toMatchObject({ type: 'report.dispute_settled' });
    // Disabled: nothing more goes to /gone, however late.
    expect(await s.app.webhooks.tick(at(clock + 4 * 86_400_000))).toMatchObject({ attempted: 0 });
    expect(at_('/gone').map((r) => r.status)).toEqual([500, 410]);
  }, 180_000);

  it('redelivers a message with its webhook-id, and signs with both secrets for 24 hours after a rotation', async () => {
    const [delivered] = await log(provider, '/wp');
    const first = at_('/wp')[0];
    const t = clock + 1000;
    const again = await provider.at(iso(t)).data(RedeliverWebhookDocument, { input: { deliveryId: delivered.id } });
    expect(again.redeliverWebhook).toMatchObject({ userErrors: [], delivery: { status: 'PENDING', attempts: 1, nextAttemptAt: iso(t) } });
    // Already on its way: refused.
    expect((await provider.at(iso(t)).data(RedeliverWebhookDocument, { input: { deliveryId: delivered.id } })).redeliverWebhook.userErrors.map((e) => [e.field, e.code])).toEqual([
      ['deliveryId', 'ILLEGAL_TRANSITION'],
    ]);
    expect(await tickUntil(s.app, at(t), 0)).toEqual({ events: 0, created: 0, attempted: 1, delivered: 1, failed: 0 });
    const second = at_('/wp')[1];
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body).toBe(first.body);
    expect((await log(provider, '/wp'))[0]).toMatchObject({ status: 'DELIVERED', attempts: 2, deliveredAt: iso(t) });

    // Rotation: the new secret is returned once; the old one signs beside it for 24 hours.
    const old = subs['/wp'].secret;
    const tr = t + 1000;
    const rotated = (await provider.at(iso(tr)).data(RotateWebhookSecretDocument, { input: { id: subs['/wp'].id, expectedVersion: subs['/wp'].version } })).rotateWebhookSecret;
    expect(rotated.userErrors).toEqual([]);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(old);
    expect(rotated.subscription).toMatchObject({ version: subs['/wp'].version + 1, previousSecretExpiresAt: iso(tr + 86_400_000) });
    subs['/wp'] = { ...subs['/wp'], version: rotated.subscription!.version, secret: rotated.secret! };
    // A stale version is a conflict.
    expect((await provider.data(RotateWebhookSecretDocument, { input: { id: subs['/wp'].id, expectedVersion: 1 } })).rotateWebhookSecret.userErrors.map((e) => [e.field, e.code])).toEqual([
      ['expectedVersion', 'CONFLICT'],
    ]);

    const redeliverAt = async (ms: number) => {
      expect((await provider.at(iso(ms)).data(RedeliverWebhookDocument, { input: { deliveryId: delivered.id } })).redeliverWebhook.userErrors).toEqual([]);
      expect(await s.app.webhooks.tick(at(ms))).toMatchObject({ attempted: 1, delivered: 1 });
      return at_('/wp').at(-1)!;
    };
    const during = await redeliverAt(tr + 3_600_000);
    expect(during.headers['webhook-signature'].split(' ').map((x) => x.slice(0, 3))).toEqual(['v1,', 'v1,']);
    expect(new Webhook(old).verify(during.body, during.headers)).toMatchObject({ type: 'report.disputed' });
    expect(new Webhook(subs['/wp'].secret).verify(during.body, during.headers)).toMatchObject({ type: 'report.disputed' });
    const after = await redeliverAt(tr + 86_400_000 + 1000);
    expect(after.headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(new Webhook(subs['/wp'].secret).verify(after.body, after.headers)).toMatchObject({ type: 'report.disputed' });
    expect(() => new Webhook(old).verify(after.body, after.headers)).toThrow('No matching signature found');
    expect(new Set(at_('/wp').map((r) => r.headers['webhook-id'])).size).toBe(1);
  }, 180_000);

  it('disables, enables and deletes a subscription with optimistic versions', async () => {
    const wo = subs['/wo'];
    expect(
      (await other.data(DisableWebhookSubscriptionDocument, { input: { id: wo.id, expectedVersion: wo.version + 1 } })).disableWebhookSubscription.userErrors.map((e) => [e.field, e.code]),
    ).toEqual([['expectedVersion', 'CONFLICT']]);
    const disabled = (await other.at(iso(clock)).data(DisableWebhookSubscriptionDocument, { input: { id: wo.id, expectedVersion: wo.version, reason: 'Moving the receiver' } }))
      .disableWebhookSubscription;
    expect(disabled.userErrors).toEqual([]);
    expect(disabled.subscription).toMatchObject({ status: 'DISABLED', disabledReason: 'Moving the receiver', disabledAt: iso(clock), version: wo.version + 1 });
    const enabled = (await other.data(EnableWebhookSubscriptionDocument, { input: { id: wo.id, expectedVersion: wo.version + 1 } })).enableWebhookSubscription;
    expect(enabled.subscription).toMatchObject({ status: 'ENABLED', disabledReason: null, disabledAt: null, version: wo.version + 2 });
    const before = await countRows();
    const deleted = (await other.data(DeleteWebhookSubscriptionDocument, { input: { id: wo.id, expectedVersion: wo.version + 2 } })).deleteWebhookSubscription;
    expect(deleted).toEqual({ deletedId: wo.id, userErrors: [] });
    expect(await countRows()).toEqual({ subscriptions: before.subscriptions - 1, deliveries: before.deliveries });
    expect((await other.data(DeleteWebhookSubscriptionDocument, { input: { id: wo.id, expectedVersion: 1 } })).deleteWebhookSubscription.userErrors.map((e) => [e.field, e.code])).toEqual([
      ['id', 'NOT_FOUND'],
    ]);
    // The secrets are no field of the API.
    const type = /^type WebhookSubscription (implements Node )?\{[^}]*\}/m.exec(printApiSchema())![0];
    expect(type).toContain('previousSecretExpiresAt: DateTime');
    expect(type).not.toMatch(/^\s+(secret|previousSecret)\b/m);
  }, 180_000);

  it('replays a creation with its idempotency key, secret included, and never follows a redirect', async () => {
    const before = await countRows();
    const input = { department: 'WP', url: `${receiver.url}/redirect`, eventTypes: ['agreement.resumed'], idempotencyKey: 'wh-redirect' };
    const first = (await provider.data(CreateWebhookSubscriptionDocument, { input })).createWebhookSubscription;
    const again = (await provider.data(CreateWebhookSubscriptionDocument, { input })).createWebhookSubscription;
    expect(first.userErrors).toEqual([]);
    expect([again.subscription!.id, again.secret]).toEqual([first.subscription!.id, first.secret]);
    expect(
      (await provider.data(CreateWebhookSubscriptionDocument, { input: { ...input, eventTypes: ['report.disputed'] } })).createWebhookSubscription.userErrors.map((e) => [e.field, e.code]),
    ).toEqual([['idempotencyKey', 'IDEMPOTENCY_KEY_REUSED']]);
    expect(await countRows()).toEqual({ subscriptions: before.subscriptions + 1, deliveries: before.deliveries });
    subs['/redirect'] = { id: first.subscription!.id, version: first.subscription!.version, secret: first.secret! };

    receiver.answers.set('/redirect', [302]);
    await s.app.orm.em
      .fork()
      .transactional((em) =>
        emitEvent(em, { type: 'agreement.resumed', occurredAt: new Date('2026-03-09T00:00:00Z'), agreement: null, payload: { statusBefore: 'SUSPENDED', statusAfter: 'ACTIVE' } }),
      );
    expect(await tickUntil(s.app, at(clock + 1000), 1)).toEqual({ events: 1, created: 1, attempted: 1, delivered: 0, failed: 1 });
    expect((await log(provider, '/redirect'))[0]).toMatchObject({ status: 'PENDING', attempts: 1, lastResponseCode: 302, lastError: 'HTTP 302 (redirect to /elsewhere not followed)' });
    expect(at_('/elsewhere')).toEqual([]);
    // Out of the way of the next tests' exact counts.
    expect(
      (await provider.data(DeleteWebhookSubscriptionDocument, { input: { id: first.subscription!.id, expectedVersion: first.subscription!.version } })).deleteWebhookSubscription.userErrors,
    ).toEqual([]);
    expect(await countRows()).toEqual(before);
  }, 180_000);

  // SQLite serves one process; on PostgreSQL several instances share the outbox and the deliveries.
  it.runIf(engine === 'postgresql')(
    'fans out and delivers each event once with two instances ticking together',
    async () => {
      await subscribe(customer, '/twin', 'WC', ['agreement.terminated']);
      const twin = await createApp(s.app.config, { logger: pino({ level: 'silent' }) });
      try {
        // Thirty CORPORATE events in one transaction: every department's subscription hears them.
        await s.app.orm.em.fork().transactional((em) =>
          emitEvents(
            em,
            Array.from({ length: 30 }, (_, i) => ({
              type: 'agreement.terminated' as const,
              occurredAt: new Date(Date.UTC(2026, 2, 10, 0, i)),
              agreement: null,
              payload: { statusBefore: 'ACTIVE', statusAfter: 'TERMINATED' as const },
            })),
          ),
        );
        const now = at(clock + 1000);
        const deadline = Date.now() + 90_000;
        const totals = { events: 0, created: 0, attempted: 0, delivered: 0, failed: 0 };
        while (totals.delivered < 30 && Date.now() < deadline) {
          for (const r of await Promise.all([s.app.webhooks.tick(now), twin.webhooks.tick(now), s.app.webhooks.tick(now), twin.webhooks.tick(now)])) {
            for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r[k];
          }
        }
        expect(totals).toEqual({ events: 30, created: 30, attempted: 30, delivered: 30, failed: 0 });
        const requests = at_('/twin');
        expect(requests).toHaveLength(30);
        expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(30);
        const rows = await s.app.orm.em.fork().find(WebhookDelivery, { subscription: subs['/twin'].id });
        expect(rows.map((r) => [r.status, r.attempts]).filter(([status, attempts]) => status !== 'DELIVERED' || attempts !== 1)).toEqual([]);
        expect(rows).toHaveLength(30);
      } finally {
        await twin.close();
      }
    },
    180_000,
  );

  it('continues a retry after a restart, and a dead instance’s claim only when its lease ends', async () => {
    await subscribe(customer, '/restart', 'WC', ['report.acknowledged']);
    receiver.answers.set('/restart', [500]);
    expect((await customer.at('2026-03-06T09:00:00Z').data(AcknowledgeReportDocument, { input: { reportId, revision: 2 } })).acknowledgeReport.userErrors).toEqual([]);
    const t1 = clock + 1000;
    expect(await tickUntil(s.app, at(t1), 1)).toEqual({ events: 1, created: 1, attempted: 1, delivered: 0, failed: 1 });
    const [pending] = await log(customer, '/restart');
    expect(pending).toMatchObject({ status: 'PENDING', attempts: 1, lastResponseCode: 500 });
    const next = Date.parse(pending.nextAttemptAt!);

    // The process stops mid-retry; another starts on the same database.
    await s.app.close();
    app2 = await createApp(s.app.config, { logger: pino({ level: 'silent' }) });
    await app2.listen();
    // An instance that claimed the delivery and died: its lease holds the delivery until it ends.
    const em = app2.orm.em.fork();
    const row = await em.findOneOrFail(WebhookDelivery, pending.id);
    row.leaseUntil = new Date(next + 30_000);
    await em.flush();
    expect(await app2.webhooks.tick(at(next))).toMatchObject({ attempted: 0 });
    expect(await tickUntil(app2, at(next + 30_000), 0)).toEqual({ events: 0, created: 0, attempted: 1, delivered: 1, failed: 0 });
    expect(await app2.webhooks.tick(at(next + 7 * 86_400_000))).toMatchObject({ attempted: 0 });

    const requests = at_('/restart');
    expect(requests.map((r) => r.status)).toEqual([500, 200]);
    // The receiver dedupes by webhook-id: one message, delivered once.
    const acknowledged = (await app2.orm.em.fork().find(DomainEvent, { type: 'report.acknowledged' }, { orderBy: { seq: 'desc' }, limit: 1 }))[0];
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([acknowledged.id]));
    expect(requests.filter((r) => r.status === 200)).toHaveLength(1);
    expect(new Webhook(subs['/restart'].secret).verify(requests[1].body, requests[1].headers)).toMatchObject({ type: 'report.acknowledged', data: { payload: { reportId, revision: 2 } } });
    const stored = await app2.orm.em.fork().findOneOrFail(WebhookDelivery, pending.id);
    expect({ status: stored.status, attempts: stored.attempts, code: stored.lastResponseCode, leaseUntil: stored.leaseUntil }).toEqual({
      status: 'DELIVERED',
      attempts: 2,
      code: 200,
      leaseUntil: null,
    });
  }, 180_000);
});
