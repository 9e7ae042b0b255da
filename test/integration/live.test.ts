/**
 * Issue 15, point 5: live updates. GraphQL subscriptions over graphql-ws on the API's own port
 * (/graphql), spoken by a real graphql-ws client over `ws`, fed from the outbox by one tail per
 * instance, authenticated by the token in the connection parameters and authorized per event by
 * the policy (`mayReadEvent`).
 *
 * The agreement LPC, LP → LC (fresh departments), from January 2026, one MANUAL objective
 * QUALIFIED_LEADS ≥ 400. LP's head submits February's report (300); LC's head disputes it. LX is a
 * department with no agreement: its head hears only of CORPORATE agreements' events. A silent
 * subscriber is proved silent by a later event it does hear arriving first, never by a sleep.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { print } from 'graphql';
import WebSocket from 'ws';
import {
  CreateAgreementDocument,
  CreateDepartmentDocument,
  DepartmentDocument,
  DisputeReportDocument,
  LiveEventsDocument,
  MetricDocument,
  ReportableObjectivesDocument,
  SubmitReportDocument,
} from '../generated/graphql';
import type { LiveEventsSubscription, LiveEventsSubscriptionVariables } from '../generated/graphql';
import { DomainEvent, emitEvents, EVENT_TYPES } from '../../src/common/events';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type TestServer } from '../support/server';

type Message = LiveEventsSubscription['events'];

/** What one subscription received: events, errors, how it ended. */
interface Stream {
  messages: Message[];
  errors: Array<{ message: string; extensions?: Record<string, unknown> }>;
  closed: { code: number; reason: string } | null;
  completed: boolean;
  /** Resolves once `done(stream)` holds (checked at every message), failing after 10 s. */
  until(done: (s: Stream) => boolean): Promise<void>;
}

/** Subscribes over a real graphql-ws client; `params` are the connection parameters. */
function subscribe(url: string, params: Record<string, unknown>, variables: LiveEventsSubscriptionVariables = {}, query = print(LiveEventsDocument)): { stream: Stream; client: WsClient } {
  const client = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: params, retryAttempts: 0, lazy: true });
  const checks: Array<() => void> = [];
  const stream: Stream = {
    messages: [],
    errors: [],
    closed: null,
    completed: false,
    until: (done) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting; received ${JSON.stringify(stream)}`)), 10_000);
        const check = () => {
          if (!done(stream)) return;
          clearTimeout(timer);
          resolve();
        };
        checks.push(check);
        check();
      }),
  };
  const changed = () => checks.forEach((c) => c());
  client.subscribe<LiveEventsSubscription>(
    { query, variables },
    {
      next: (r) => {
        if (r.errors) stream.errors.push(...(r.errors as Stream['errors']));
        if (r.data) stream.messages.push(r.data.events);
        changed();
      },
      error: (e) => {
        if (Array.isArray(e)) stream.errors.push(...(e as Stream['errors']));
        else if (e && typeof e === 'object' && 'code' in e) {
          const close = e as unknown as { code: number; reason: unknown };
          stream.closed = { code: Number(close.code), reason: String(close.reason) };
        } else stream.errors.push({ message: String(e) });
        changed();
      },
      complete: () => {
        stream.completed = true;
        changed();
      },
    },
  );
  return { stream, client };
}

describe.each(engines())('live updates over graphql-ws (%s)', (engine) => {
  let s: TestServer;
  const ids: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  let agreementId: string;
  let reportId: string;
  const clients: WsClient[] = [];

  const open = (server: TestServer, params: Record<string, unknown>, variables?: LiveEventsSubscriptionVariables, query?: string) => {
    const { stream, client } = subscribe(server.url, params, variables, query);
    clients.push(client);
    return stream;
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  /** Waits until the server holds `n` subscriptions: graphql-ws has no acknowledgement of a subscribe. */
  const subscribed = (server: TestServer, n: number) => vi.waitFor(() => expect(server.app.live.feed.size).toBe(n), { timeout: 10_000, interval: 10 });
  /** The outbox row of the last event of `type`, as a subscriber should receive it. */
  const expected = async (type: string, summary: string): Promise<Message> => {
    const [row] = await s.app.orm.em.fork().find(DomainEvent, { type }, { orderBy: { seq: 'desc' }, limit: 1 });
    return {
      id: row.id,
      seq: row.seq,
      type,
      version: 1,
      occurredAt: row.occurredAt.toISOString(),
      agreementId: row.agreementId ?? null,
      agreementKey: row.agreementKey ?? null,
      providerDepartmentId: row.providerDepartmentId ?? null,
      customerDepartmentId: row.customerDepartmentId ?? null,
      payload: row.payload,
      summary,
    };
  };
  const corporateDraft = async (key: string) => {
    const r = await s.data(CreateAgreementDocument, { input: { key, tier: 'CORPORATE', title: key, terms: { effectiveFrom: '2026-01' }, objectives: [] } });
    expect(r.createAgreement.userErrors).toEqual([]);
  };

  beforeAll(async () => {
    // A queue of 10 events per subscription, so that the overflow test can fill one.
    s = await startServer(engine, { seed: true, env: { LIVE_QUEUE_LIMIT: '10' } });
    for (const code of ['LP', 'LC', 'LX']) expect((await s.data(CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    for (const code of ['LP', 'LC', 'LX']) ids[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const metric = (await s.data(MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    const charter = await activateAgreement(s, { key: 'LPC-CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    agreementId = await activateAgreement(s, {
      key: 'LPC',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: ids.LP,
      customerId: ids.LC,
      parentId: charter,
      terms: { effectiveFrom: '2026-01', monthlyCharge: 10000, creditCapPercent: 10 },
      objectives: [{ metricId: metric, target: 400, creditPercent: 5 }],
    });
    const objective = (await s.data(ReportableObjectivesDocument, { key: 'LPC', at: '2026-02' })).agreement.effectiveObjectives[0].id;
    for (const code of ['LP', 'LC', 'LX']) tokens[code] = await s.tokenFor(Role.HEAD, code);
    const submitted = await s
      .as(tokens.LP)
      .at('2026-03-03T09:00:00Z')
      .data(SubmitReportDocument, { input: { agreementId, month: '2026-02', narrative: 'February', values: [{ objectiveId: objective, value: 300 }], idempotencyKey: 'live-feb' } });
    expect(submitted.submitReport.userErrors).toEqual([]);
    reportId = (await s.app.orm.em.fork().find(DomainEvent, { type: 'report.submitted' }, { orderBy: { seq: 'desc' }, limit: 1 }))[0].payload.reportId as string;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await s?.close();
  });

  it('gives the provider head one report.disputed message, nothing to an unrelated head, and only the asked types', async () => {
    const provider = open(s, bearer(tokens.LP));
    const stranger = open(s, { token: tokens.LX });
    const customerDrafts = open(s, bearer(tokens.LC), { types: ['agreement.awaiting_approval'] });
    const providerOwn = open(s, bearer(tokens.LP), { departments: [ids.LP] });
    await subscribed(s, 4);

    const disputed = await s
      .as(tokens.LC)
      .at('2026-03-04T09:00:00Z')
      .data(DisputeReportDocument, { input: { reportId, revision: 1, reason: 'Webinar leads are missing' } });
    expect(disputed.disputeReport.userErrors).toEqual([]);
    // A later event every head may read: a CORPORATE agreement's draft (no parties).
    await corporateDraft('LIVE-LATER');

    await provider.until((x) => x.messages.length >= 2);
    await stranger.until((x) => x.messages.length >= 1);
    await customerDrafts.until((x) => x.messages.length >= 1);
    await providerOwn.until((x) => x.messages.length >= 1);
    const dispute = await expected('report.disputed', 'report.disputed · LPC · 2026-02 · revision 1');
    expect(dispute).toMatchObject({
      type: 'report.disputed',
      agreementId,
      agreementKey: 'LPC',
      occurredAt: '2026-03-04T09:00:00.000Z',
      providerDepartmentId: ids.LP,
      customerDepartmentId: ids.LC,
      payload: { reportId, month: '2026-02', revision: 1, statusBefore: 'SUBMITTED', statusAfter: 'DISPUTED', reason: 'Webinar leads are missing' },
    });
    const draft = await expected('agreement.awaiting_approval', 'agreement.awaiting_approval · LIVE-LATER · DRAFT');
    expect(draft).toMatchObject({ agreementKey: 'LIVE-LATER', providerDepartmentId: null, customerDepartmentId: null, payload: { status: 'DRAFT', tier: 'CORPORATE', title: 'LIVE-LATER' } });

    expect(provider.messages).toEqual([dispute, draft]);
    // The dispute committed before the draft and events arrive in commit order: had the
    // stranger been sent the dispute, it would be first here.
    expect(stranger.messages).toEqual([draft]);
    expect(customerDrafts.messages).toEqual([draft]);
    // Filtered by the provider's department: the CORPORATE draft has no parties, so not it.
    expect(providerOwn.messages).toEqual([dispute]);
    for (const x of [provider, stranger, customerDrafts, providerOwn]) expect([x.errors, x.closed, x.completed]).toEqual([[], null, false]);
  });

  it('refuses a connection without a valid token: 4401 with the reason HTTP would give', async () => {
    const none = open(s, {});
    const unknown = open(s, { token: 'tsla_not_a_token' });
    const malformed = open(s, { authorization: 'Basic abc' });
    for (const x of [none, unknown, malformed]) await x.until((y) => y.closed !== null);
    expect(none.closed).toEqual({ code: 4401, reason: 'Authentication required: send Authorization: Bearer <token>' });
    expect(unknown.closed).toEqual({ code: 4401, reason: 'The bearer token is not known' });
    expect(malformed.closed).toEqual({ code: 4401, reason: 'Malformed Authorization header: expected "Bearer <token>"' });
    for (const x of [none, unknown, malformed]) expect(x.messages).toEqual([]);
  });

  it('refuses unknown types and departments the principal may not read, naming the argument', async () => {
    const before = s.app.live.feed.size;
    const badType = open(s, bearer(tokens.LP), { types: ['report.disputed', 'report.lost'] });
    const foreign = open(s, bearer(tokens.LP), { departments: [ids.LC] });
    const missing = open(s, bearer(s.adminToken), { departments: ['00000000-0000-4000-8000-000000000000'] });
    const notAnId = open(s, bearer(s.adminToken), { departments: ['LP'] });
    for (const x of [badType, foreign, missing, notAnId]) await x.until((y) => y.completed);
    expect(badType.errors).toEqual([
      expect.objectContaining({ message: `types: unknown event type "report.lost"; expected some of ${EVENT_TYPES.join(', ')}`, extensions: { code: 'BAD_USER_INPUT', field: 'types' } }),
    ]);
    expect(foreign.errors).toEqual([
      expect.objectContaining({ message: `departments: this HEAD principal may read only the events of its own department, not of ${ids.LC}`, extensions: { code: 'FORBIDDEN' } }),
    ]);
    expect(missing.errors).toEqual([
      expect.objectContaining({ message: 'departments: no department has the id 00000000-0000-4000-8000-000000000000', extensions: { code: 'BAD_USER_INPUT', field: 'departments' } }),
    ]);
    expect(notAnId.errors).toEqual([expect.objectContaining({ message: 'departments: expected an id (UUID), received "LP"', extensions: { code: 'BAD_USER_INPUT', field: 'departments' } })]);
    for (const x of [badType, foreign, missing, notAnId]) expect([x.messages, x.closed]).toEqual([[], null]);
    expect(s.app.live.feed.size).toBe(before);
  });

  it('serves only subscriptions over WebSocket, within the query limits; subscriptions are not served over HTTP', async () => {
    const query = open(s, bearer(tokens.LP), {}, '{ me { id } }');
    const deep = open(s, bearer(tokens.LP), {}, `subscription { events { ${Array.from({ length: 31 }, (_, i) => `a${i}: id`).join(' ')} } }`);
    for (const x of [query, deep]) await x.until((y) => y.errors.length > 0);
    expect(query.errors).toEqual([{ message: 'Only subscriptions are served over WebSocket; send this query over HTTP (POST /graphql)', extensions: { code: 'BAD_USER_INPUT' } }]);
    expect(deep.errors[0]).toMatchObject({ message: 'The document has more than 30 aliased fields', extensions: { code: 'TOO_MANY_ALIASES' } });

    const overHttp = await s.as(tokens.LP).request(LiveEventsDocument, {});
    expect(overHttp.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
      ['Subscriptions are served over WebSocket (the graphql-transport-ws protocol) at /graphql, not over HTTP', 'BAD_REQUEST'],
    ]);
  });

  it('closes a subscriber that falls more than LIVE_QUEUE_LIMIT events behind with 4413, and keeps serving the others', async () => {
    const before = s.app.live.feed.size;
    const slow = open(s, bearer(s.adminToken), { types: ['escalation.opened'] });
    const other = open(s, bearer(tokens.LX), { types: ['agreement.awaiting_approval'] });
    await subscribed(s, before + 2);
    // 30 events in one transaction reach the feed in one batch, handed out in one go: the
    // subscriber's queue of 10 overflows whatever the speed of its socket.
    await s.app.orm.em.fork().transactional((em) =>
      emitEvents(
        em,
        Array.from({ length: 30 }, (_, i) => ({
          type: 'escalation.opened' as const,
          occurredAt: new Date('2026-03-05T09:00:00Z'),
          agreement: null,
          payload: { escalationId: '00000000-0000-4000-8000-000000000000', month: '2026-03', severity: 'HIGH', title: `burst ${i}`, status: 'OPEN' },
        })),
      ),
    );
    await slow.until((x) => x.closed !== null);
    expect(slow.closed).toEqual({ code: 4413, reason: 'Subscriber too slow: 10 events waiting; reconnect and catch up' });
    // The first event went straight to the waiting reader; what it got is a prefix of the burst.
    expect(slow.messages.map((m) => m.payload.title)).toEqual(Array.from({ length: slow.messages.length }, (_, i) => `burst ${i}`));
    await corporateDraft('LIVE-AFTER-BURST');
    await other.until((x) => x.messages.length >= 1);
    expect(other.messages.map((m) => m.agreementKey)).toEqual(['LIVE-AFTER-BURST']);
  });

  it('closes its WebSockets with 1001 when an instance shuts down, and stops its feed', async () => {
    const b = await startServer(engine, { sameDatabaseAs: s });
    const onB = open(b, bearer(tokens.LX));
    await subscribed(b, 1);
    await b.close();
    await onB.until((x) => x.closed !== null);
    expect(onB.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    expect([b.app.live.feed.size, b.app.live.edge.connections]).toEqual([0, 0]);
  });

  it.runIf(engine === 'postgresql')('delivers to a subscriber on instance B an event committed through instance A', async () => {
    const b = await startServer(engine, { sameDatabaseAs: s });
    try {
      const onB = open(b, bearer(tokens.LX), { types: ['agreement.awaiting_approval'] });
      await subscribed(b, 1);
      await corporateDraft('LIVE-VIA-A');
      await onB.until((x) => x.messages.length >= 1);
      expect(onB.messages).toEqual([await expected('agreement.awaiting_approval', 'agreement.awaiting_approval · LIVE-VIA-A · DRAFT')]);
    } finally {
      await b.close();
    }
  });
});
