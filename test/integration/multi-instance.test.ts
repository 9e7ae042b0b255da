/**
 * Issue 18, point 3: two instances in CI. Two compiled server processes (`dist/src/main.js`, as
 * `npm start` runs them) on one PostgreSQL database of this file's own, migrated and seeded with
 * the demo company by the seed CLI; requests alternate between them:
 *
 * - idempotency replays and version races split across the two (the torture suite's scenarios,
 *   torture/concurrency.ts): one effect and identical answers per key, exactly one winner per race;
 * - both schedulers ticking every 200 ms at one chosen instant (`SCHEDULER_CLOCK`): each
 *   time-driven event exactly once in the outbox;
 * - both webhook workers polling: each event delivered once to a real receiver, signatures checked
 *   by the independent `standardwebhooks` package;
 * - graphql-ws subscribers on either instance: every event, in the outbox's order, none twice.
 *
 * PostgreSQL only (skipped when TEST_POSTGRES_URL is unset): SQLite serves one process.
 *
 * The agreement NPC (fresh departments NP → NC), from January 2026, reviewed every two months (so
 * due on 1 March), reports due on the fifth working day after the month (February's: Friday 6
 * March), one MANUAL objective; the default calendar, Monday–Friday 09:00–17:00 UTC. The schedulers'
 * instant is Wednesday 4 March 2026, 10:00 UTC.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  ApproveAgreementDocument,
  CreateAgreementDocument,
  type CreateAgreementInput,
  CreateDepartmentDocument,
  CreateWebhookSubscriptionDocument,
  DepartmentDocument,
  LiveEventsDocument,
  type LiveEventsSubscription,
  MeDocument,
  MetricDocument,
  OpenEscalationDocument,
  RateLimitBudgetDocument,
} from '../generated/graphql';
import { idempotencyReplays, versionRaces } from '../../torture/concurrency';
import { type Db, openDb } from '../../torture/db';
import { ensureBuilt, launch, type Launched, mainScript, root } from '../support/process';
import { fields, meAs } from '../support/rate-limit';
import { engines, freshDatabase, memoryLogger, Role, startServer, type TestServer } from '../support/server';

const pgUrl = process.env.TEST_POSTGRES_URL;

/** The instant both schedulers tick at (`SCHEDULER_CLOCK`). */
const SCHEDULER_AT = '2026-03-04T10:00:00.000Z';

/** The environment of both processes. */
const ENV = {
  NODE_ENV: 'test',
  // `debug`: each scheduler tick is logged ("scheduler tick"), so the test counts them per instance.
  LOG_LEVEL: 'debug',
  CLOCK_OVERRIDE: 'true',
  SCHEDULER_CLOCK: SCHEDULER_AT,
  SCHEDULER_INTERVAL_MS: '200',
  WEBHOOK_POLL_MS: '200',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  // Off here: the shared rate limit (issue 18, point 1) is tested with a budget of its own below.
  RATE_LIMIT_PER_MINUTE: '0',
  SHUTDOWN_TIMEOUT_MS: '3000',
};

/** Sends typed operations to one instance with one token, optionally at a test-clock instant. */
function clientOf(url: string, token: string) {
  return async function data<R, V>(doc: TypedDocumentNode<R, V>, variables: V, now?: string): Promise<R> {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(now ? { 'x-clock-now': now } : {}) },
      body: JSON.stringify({ query: print(doc), variables }),
    });
    const body = (await res.json()) as { data?: R; errors?: unknown[] };
    if (res.status !== 200 || body.errors?.length || !body.data) throw new Error(`unexpected answer ${res.status}: ${JSON.stringify(body)}`);
    return body.data;
  };
}

/** Polls `done` every 50 ms until it holds; fails after `ms` (a minute: CI machines are shared) with `what`. */
async function until(what: () => string, done: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The "scheduler tick" lines an instance has logged: the instant and what each job did. */
function ticksOf(p: Launched): Array<{ at: string; result: Record<string, number | 'skipped'> }> {
  return p.lines
    .filter((l) => l.startsWith('{') && l.includes('"scheduler tick"'))
    .map((l) => JSON.parse(l) as { at: string; result: Record<string, number | 'skipped'> })
    .map(({ at, result }) => ({ at, result }));
}

type Message = LiveEventsSubscription['events'];

describe.skipIf(!pgUrl)('two server processes on one PostgreSQL database', () => {
  let drop: () => Promise<void> = async () => undefined;
  let databaseUrl: string;
  let tokens: Record<string, string>;
  let db: Db;
  const instances: Launched[] = [];
  let urls: string[] = [];
  const ids: Record<string, string> = {};
  let agreementId: string;
  /** Admin clients of instance A and B. */
  let admins: Array<ReturnType<typeof clientOf>>;

  const openEscalation = (i: number, title: string, now: string) =>
    admins[i % 2](OpenEscalationDocument, { input: { agreementId, severity: 'HIGH' as const, title, description: title } }, now).then((r) => {
      expect(r.openEscalation.userErrors).toEqual([]);
      return r.openEscalation.escalation!;
    });

  /** Drafts an agreement through instance A and approves it through B (for both parties unless CORPORATE). */
  const activate = async (input: CreateAgreementInput): Promise<string> => {
    const created = (await admins[0](CreateAgreementDocument, { input })).createAgreement;
    expect(created.userErrors).toEqual([]);
    let a = created.agreement!;
    for (const party of input.tier === 'CORPORATE' ? [undefined] : (['PROVIDER', 'CUSTOMER'] as const)) {
      a = (await admins[1](ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, party } }, '2026-01-05T00:00:00Z')).approveAgreement.agreement!;
    }
    expect(a.status).toBe('ACTIVE');
    return a.id;
  };

  beforeAll(async () => {
    ensureBuilt();
    const fresh = await freshDatabase('postgresql');
    drop = fresh.drop;
    databaseUrl = fresh.config.database.url;
    // The seed CLI creates the database, migrates it and seeds the demo company, printing the demo tokens.
    const seeded = await promisify(execFile)(process.execPath, [path.join(root, 'dist', 'seeds', 'seed.cli.js')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, NODE_ENV: 'development', LOG_LEVEL: 'warn' },
    });
    tokens = Object.fromEntries([...seeded.stdout.matchAll(/^([A-Z_]+)\s+(tsla_\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(Object.keys(tokens)).toContain('ADMIN');
    db = await openDb(databaseUrl);
    instances.push(launch(mainScript, { ...ENV, DATABASE_URL: databaseUrl }), launch(mainScript, { ...ENV, DATABASE_URL: databaseUrl }));
    urls = await Promise.all(instances.map((p) => p.serving));
    admins = urls.map((u) => clientOf(u, tokens.ADMIN));

    for (const [i, code] of ['NP', 'NC'].entries()) expect((await admins[i](CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    for (const code of ['NP', 'NC']) ids[code] = (await admins[1](DepartmentDocument, { code })).department.id;
    const leads = (await admins[0](MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    const charter = await activate({ key: 'NPC-CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    agreementId = await activate({
      key: 'NPC',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: ids.NP,
      customerId: ids.NC,
      parentId: charter,
      terms: { effectiveFrom: '2026-01', monthlyCharge: 10000, creditCapPercent: 10, reviewCadenceMonths: 2 },
      objectives: [{ metricId: leads, target: 400, creditPercent: 5 }],
    });
  }, 240_000);

  afterAll(async () => {
    for (const p of instances) p.child.kill('SIGTERM');
    const exits = await Promise.all(instances.map((p) => p.exit));
    await db?.close();
    await drop();
    // Both stopped cleanly on SIGTERM (a crash of either would show here).
    expect(exits).toEqual(instances.map(() => ({ code: 0, signal: null })));
  }, 60_000);

  it('answers idempotency replays split across both with one effect and identical answers', async () => {
    const check = await idempotencyReplays(urls, tokens, 30, 'multi', db);
    expect(check.failures).toEqual([]);
    expect(check.figures).toEqual([
      'createDepartment: 30 concurrent replays of one key → 1 row, 1 distinct answer(s)',
      'openEscalation: 30 concurrent replays of one key → 1 row, 1 distinct answer(s)',
      expect.stringMatching(/^submitReport \(\S+ \d{4}-\d{2}\): 30 concurrent replays of one key → 1 revision added, 1 distinct answer\(s\)$/),
      'reused key with another input × 40: 40× IDEMPOTENCY_KEY_REUSED',
    ]);
    expect(check.requests).toBe(30 * 3 + 40);
  }, 180_000);

  it('lets exactly one of the updates with one expected version split across both win; the rest are CONFLICT', async () => {
    const check = await versionRaces(urls, tokens, 3, 10, 'multi');
    expect(check.failures).toEqual([]);
    expect(check.figures).toEqual(['3 version races × 10 contenders (1× updateDepartment; 1× updateService; 1× suspendAgreement/resumeAgreement): 3 with exactly one winner and the rest CONFLICT']);
  }, 180_000);

  it('gives each time-driven event once with both schedulers ticking at the same instant', async () => {
    // Monday 2 March 09:00: 4 working hours to answer, by 13:00 that day, missed at the schedulers' instant.
    const missed = await openEscalation(0, 'Missed', '2026-03-02T09:00:00Z');
    // Tuesday 15:00: two hours that day, the third (75 %) at Wednesday 10:00, the deadline at 11:00.
    const near = await openEscalation(1, 'Near', '2026-03-03T15:00:00Z');
    const escalation = { month: '2026-03', severity: 'HIGH' };
    const expected = [
      ['agreement.review_due', { reviewDate: '2026-03-01', basis: 'CADENCE' }],
      ['escalation.deadline_missed', { ...escalation, escalationId: missed.id, deadlineAt: '2026-03-02T13:00:00.000Z' }],
      ['escalation.deadline_near', { ...escalation, escalationId: near.id, deadlineAt: '2026-03-04T11:00:00.000Z', fraction: 0.75 }],
      // Two working days (Thursday, Friday) before February's due date; January's is overdue.
      ['report.due_soon', { month: '2026-02', dueDate: '2026-03-06', dueAt: '2026-03-07T00:00:00.000Z', workingDaysLeft: 2 }],
      ['report.overdue', { month: '2026-01', dueDate: '2026-02-06', dueAt: '2026-02-07T00:00:00.000Z' }],
    ];
    const NOTICES = ['agreement.review_due', 'escalation.deadline_missed', 'escalation.deadline_near', 'report.due_soon', 'report.overdue'];
    const notices = async () =>
      (
        await db.all<{ type: string; payload: Record<string, unknown> }>(
          `select "type", "payload", "occurred_at" from "domain_event" where "agreement_key" = 'NPC' and "type" in (${NOTICES.map(() => '?').join(', ')}) order by "type", "seq"`,
          NOTICES,
        )
      ).map((e) => [e.type, e.payload]);
    await until(
      () => `the five notices of NPC (ticks at ${[...new Set(instances.flatMap((p) => ticksOf(p).map((t) => t.at)))]}: is dist/ built from these sources? npm run build)`,
      async () => (await notices()).length >= expected.length,
    );
    // Then at least five more ticks on each instance: none of them may give a notice again.
    const seen = instances.map((p) => ticksOf(p).length);
    await until(
      () => `five more ticks on each instance (${instances.map((p) => ticksOf(p).length)} after ${seen})`,
      () => instances.every((p, i) => ticksOf(p).length >= seen[i] + 5),
    );
    expect(await notices()).toEqual(expected);

    // Every tick of both ran at the chosen instant.
    for (const p of instances) expect(new Set(ticksOf(p).map((t) => t.at))).toEqual(new Set([SCHEDULER_AT]));
    // And nothing the schedulers wrote, for any agreement of the demo either, is there twice.
    const twice = await db.all<{ type: string; agreement_key: string | null; n: string }>(
      `select "type", "agreement_key", count(*) as n from "domain_event" where "request_id" like 'scheduler:%'
       group by "type", "agreement_key", "occurred_at", cast("payload" as text) having count(*) > 1`,
    );
    expect(twice).toEqual([]);
    // One notice key taken for each, by whichever instance ran the job first.
    const keys = await db.all<{ key: string }>(`select "key" from "fired_notice" where "key" like ? or "key" like ? or "key" like ? order by "key"`, [
      `%|${agreementId}|%`,
      `%|${missed.id}`,
      `%|${near.id}`,
    ]);
    expect(keys.map((k) => k.key)).toEqual([
      `agreement.review_due|${agreementId}|2026-03-01`,
      `escalation.deadline_missed|${missed.id}`,
      `escalation.deadline_near|${near.id}`,
      `report.due_soon|${agreementId}|2026-02`,
      `report.overdue|${agreementId}|2026-01`,
    ]);
  }, 180_000);

  it('delivers each event of a burst made through both instances once, signed', async () => {
    const received: Array<{ headers: Record<string, string>; body: string }> = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')])), body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
      const created = (await admins[1](CreateWebhookSubscriptionDocument, { input: { department: 'NC', url, eventTypes: ['escalation.opened'], description: 'multi-instance' } }))
        .createWebhookSubscription;
      expect(created.userErrors).toEqual([]);
      const secret = created.secret!;
      // 20 escalations, 5 at a time, alternating between the instances.
      const opened: string[] = [];
      for (let i = 0; i < 20; i += 5) {
        opened.push(...(await Promise.all(Array.from({ length: 5 }, (_, j) => openEscalation(i + j, `Burst ${i + j}`, '2026-03-20T10:00:00Z')))).map((e) => e.id));
      }
      const events = await db.all<{ id: string; escalation_id: string }>(
        `select "id", "payload"->>'escalationId' as "escalation_id" from "domain_event" where "type" = 'escalation.opened' and "payload"->>'escalationId' in (${opened.map(() => '?').join(', ')})`,
        opened,
      );
      expect(events).toHaveLength(20);
      const deliveries = () =>
        db.all<{ status: string; attempts: number }>(`select d."status", d."attempts" from "webhook_delivery" d join "webhook_subscription" s on s."id" = d."subscription_id" where s."id" = ?`, [
          created.subscription!.id,
        ]);
      await until(
        () => `20 deliveries (received ${received.length})`,
        async () => received.length >= 20 && (await deliveries()).filter((d) => d.status === 'DELIVERED').length >= 20,
      );
      // Delivered rows are never attempted again: what arrived is all that will.
      expect((await deliveries()).map((d) => [d.status, d.attempts])).toEqual(Array.from({ length: 20 }, () => ['DELIVERED', 1]));
      expect(received).toHaveLength(20);
      expect(received.map((r) => r.headers['webhook-id']).sort()).toEqual(events.map((e) => e.id).sort());
      const verifier = new Webhook(secret);
      const verified = received.map((r) => verifier.verify(r.body, r.headers) as { type: string; data: { id: string; payload: { escalationId: string } } });
      expect(verified.map((v) => [v.type, v.data.id, v.data.payload.escalationId]).sort()).toEqual(events.map((e) => ['escalation.opened', e.id, e.escalation_id]).sort());
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  }, 180_000);

  it('gives every subscriber on either instance every event made through either, in order, none twice', async () => {
    const clients: WsClient[] = [];
    const streams: Array<{ messages: Message[]; errors: unknown[] }> = [];
    try {
      // Two subscribers on each instance, for the customer's escalations opened.
      for (const url of [...urls, ...urls]) {
        const client = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${tokens.ADMIN}` }, retryAttempts: 0 });
        clients.push(client);
        const stream = { messages: [] as Message[], errors: [] as unknown[] };
        streams.push(stream);
        client.subscribe<LiveEventsSubscription>(
          { query: print(LiveEventsDocument), variables: { types: ['escalation.opened'], departments: [ids.NC] } },
          { next: (r) => (r.data ? stream.messages.push(r.data.events) : stream.errors.push(r.errors)), error: (e) => stream.errors.push(e), complete: () => undefined },
        );
      }
      // graphql-ws does not acknowledge a subscription: probes, one at a time, until each subscriber heard one.
      let probes = 0;
      await until(
        () => `every subscriber to hear a probe (${streams.map((s) => s.messages.length)})`,
        async () => {
          if (streams.every((s) => s.messages.length > 0)) return true;
          await openEscalation(probes, `Probe ${probes++}`, '2026-03-21T10:00:00Z');
          await new Promise((resolve) => setTimeout(resolve, 200));
          return false;
        },
      );
      // 20 escalations, 5 at a time, alternating between the instances.
      const opened: string[] = [];
      for (let i = 0; i < 20; i += 5) {
        opened.push(...(await Promise.all(Array.from({ length: 5 }, (_, j) => openEscalation(i + j, `Live ${i + j}`, '2026-03-21T11:00:00Z')))).map((e) => e.id));
      }
      const last = new Set(opened);
      await until(
        () => `every subscriber to hear the 20 (${streams.map((s) => s.messages.filter((m) => last.has(m.payload.escalationId as string)).length)})`,
        () => streams.every((s) => s.messages.filter((m) => last.has(m.payload.escalationId as string)).length >= 20),
      );
      // The outbox's order of NC's escalations opened: (transaction, seq), as every consumer reads it.
      const outbox = await db.all<{ id: string; seq: number }>(`select "id", "seq" from "domain_event" where "type" = 'escalation.opened' and "customer_department_id" = ? order by "tx", "seq"`, [
        ids.NC,
      ]);
      for (const s of streams) {
        expect(s.errors).toEqual([]);
        // From the first event a subscriber heard: each event of the outbox, in its order, once, up to the last of the burst.
        const first = outbox.findIndex((e) => e.id === s.messages[0].id);
        expect(first).toBeGreaterThanOrEqual(0);
        expect(s.messages.map((m) => m.id)).toEqual(outbox.slice(first).map((e) => e.id));
        expect(s.messages.filter((m) => last.has(m.payload.escalationId as string))).toHaveLength(20);
      }
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  }, 180_000);
});

// Issue 18, point 1: two app instances on one PostgreSQL database share the rate limits (the
// process pair above runs with limits off; these are two apps in this process, each with its own pool).
describe.runIf(engines().includes('postgresql'))('two instances on one PostgreSQL database share the rate limits', () => {
  const N = 6;
  let a: TestServer;
  let b: TestServer;
  const logged = memoryLogger();
  beforeAll(async () => {
    a = await startServer('postgresql', { env: { RATE_LIMIT_PER_MINUTE: String(N) }, logger: logged.logger });
    b = await startServer('postgresql', { sameDatabaseAs: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** Runs SQL on the instances' database. */
  async function sql(text: string): Promise<void> {
    const client = new pg.Client({ connectionString: a.app.config.database.url });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  }

  it(`serves ${N} requests of one token split between them, then refuses the next on either`, async () => {
    const token = await a.tokenFor(Role.ANALYST);
    const served: Array<{ status: number; remaining: number }> = [];
    for (let i = 0; i < N; i++) {
      const r = await (i % 2 ? b : a).as(token).request(MeDocument);
      served.push({ status: r.status, remaining: fields(r.headers).remaining });
    }
    expect(served).toEqual(Array.from({ length: N }, (_, i) => ({ status: 200, remaining: N - 1 - i })));
    const onA = await a.as(token).request(MeDocument);
    const onB = await b.as(token).request(MeDocument);
    expect([onA.status, onB.status]).toEqual([429, 429]);
    expect([onA.errors?.[0]?.extensions?.code, onB.errors?.[0]?.extensions?.code]).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    expect(Number(onB.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // rateLimit reads the shared bucket too: a fresh token, one request on each.
    const other = await b.tokenFor(Role.ANALYST);
    expect((await a.as(other).data(RateLimitBudgetDocument)).rateLimit).toMatchObject({ limit: N, remaining: N - 1 });
    expect((await b.as(other).data(RateLimitBudgetDocument)).rateLimit).toMatchObject({ limit: N, remaining: N - 2 });
  });

  it('limits each instance in memory while the shared store fails, and says so in the log', async () => {
    const token = await a.tokenFor(Role.ANALYST);
    await sql('alter table "rate_limit" rename to "rate_limit_away"');
    try {
      const onA: number[] = [];
      for (let i = 0; i <= N; i++) onA.push((await a.as(token).request(MeDocument)).status);
      expect(onA).toEqual([...Array<number>(N).fill(200), 429]);
      // The other instance's insurance bucket is its own: the budget is per instance meanwhile.
      expect((await b.as(token).request(MeDocument)).status).toBe(200);
      expect(logged.lines.filter((l) => l.msg === 'rate limit: the shared store in PostgreSQL failed; limiting in this process until it answers again').length).toBeGreaterThanOrEqual(1);
    } finally {
      await sql('alter table "rate_limit_away" rename to "rate_limit"');
    }
    // Back on the shared store: a fresh token is counted there again.
    const fresh = await a.tokenFor(Role.ANALYST);
    expect(fields((await a.as(fresh).request(MeDocument)).headers).remaining).toBe(N - 1);
    expect(fields((await b.as(fresh).request(MeDocument)).headers).remaining).toBe(N - 2);
  });

  it(`shares the failed-authentication budget of an address: ${N} 401s split between them, then 429 on either`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i < N; i++) statuses.push((await meAs(i % 2 ? b : a, `tsla_made_up_${i}_${'x'.repeat(20)}`)).status);
    expect(statuses).toEqual(Array<number>(N).fill(401));
    // A 401 is charged once its answer is out: the last one may still be on its way to the store.
    await expect.poll(async () => (await meAs(a, `tsla_made_up_next_${'x'.repeat(20)}`)).status).toBe(429);
    expect((await meAs(b, b.adminToken)).status).toBe(429);
  });
});
