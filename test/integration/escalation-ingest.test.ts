import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgreementIdAndLockDocument,
  DepartmentDocument,
  type EscalationRecordInput,
  IngestedEscalationsDocument,
  MeasuredScorecardDocument,
  MetricDocument,
  RecordEscalationsDocument,
} from '../generated/graphql';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

/*
 * Hand-computed (UTC calendar, Monday–Friday 09:00–17:00; policy defaults: HIGH 4 h / 24 h,
 * MEDIUM 8 h / 40 h, LOW 16 h / 80 h in working hours). OPS, IT → Sales, March 2026; the
 * ticketing system sends on 1 April:
 *   T1 HIGH   opened Mon 2 10:00, acknowledged 11:00 (1 h, met), resolved 15:00 (5 h)
 *   T2 MEDIUM opened Tue 3 09:00, acknowledged Wed 4 09:00 (8 h, met: ≤ 8), resolved Wed 4 17:00 (16 h)
 *   T3 LOW    opened Thu 5 16:00, unanswered: due after 16 working hours, Mon 9 16:00: missed by 1 April
 *   on time 2 of 3 = 66.666666667 % (target 90: BREACHED); MTTR (5 + 16) / 2 = 10.5 h (≤ 24: MET).
 * T3 re-sent, acknowledged Fri 6 10:00 (Thu 16–17 + Fri 9–10 = 2 h, met): on time 3 of 3 = 100 %, MET.
 */
const PUSH = '2026-04-01T00:00:00Z';
const READ = '2026-04-02T12:00:00Z';

describe.each(engines())('escalations from a ticketing system on %s', (engine) => {
  let s: TestServer;
  let ticketing: Client;
  let analyst: Client;
  let ops: string;

  const T1: EscalationRecordInput = {
    externalId: 'T1',
    agreement: 'OPS',
    severity: 'HIGH',
    title: 'CRM down',
    openedAt: '2026-03-02T10:00:00Z',
    acknowledgedAt: '2026-03-02T11:00:00Z',
    resolvedAt: '2026-03-02T15:00:00Z',
  };
  const T2: EscalationRecordInput = {
    externalId: 'T2',
    agreement: 'OPS',
    severity: 'MEDIUM',
    title: 'Slow reports',
    openedAt: '2026-03-03T09:00:00Z',
    acknowledgedAt: '2026-03-04T09:00:00Z',
    resolvedAt: '2026-03-04T17:00:00Z',
    resolution: 'Index added',
  };
  const T3: EscalationRecordInput = { externalId: 'T3', agreement: 'OPS', severity: 'LOW', title: 'Typo in a form', openedAt: '2026-03-05T16:00:00Z' };
  const card = async () => (await analyst.at(READ).data(MeasuredScorecardDocument, { key: 'OPS', month: '2026-03' })).agreement!.scorecard!;
  const values = async () => Object.fromEntries((await card()).objectives.map((o) => [o.metric.code, [o.value, o.status]]));
  const rows = async () =>
    (await analyst.data(IngestedEscalationsDocument, { filter: { agreementId: ops }, first: 10 })).escalations.edges
      .map((e) => e.node)
      .map((n) => [n.externalId, n.status, n.responseHours, n.resolutionHours, n.responseMet, n.resolution]);

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    ticketing = s.as(await s.tokenFor(Role.INTEGRATION, 'IT')).at(PUSH);
    analyst = s.as(await s.tokenFor(Role.ANALYST));
    const dept = async (code: string) => (await s.data(DepartmentDocument, { code })).department.id;
    const metric = async (code: string) => (await s.data(MetricDocument, { code })).metric.id;
    const charter = await activateAgreement(s, { key: 'CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    ops = await activateAgreement(s, {
      key: 'OPS',
      tier: 'CUSTOMER',
      title: 'Operations',
      providerId: await dept('IT'),
      customerId: await dept('SALES'),
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [
        { metricId: await metric('ESCALATION_RESPONSE_ON_TIME'), target: 90 },
        { metricId: await metric('ESCALATION_MTTR'), target: 24 },
      ],
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('refuses a bad batch whole, every problem by index', async () => {
    const r = await ticketing.data(RecordEscalationsDocument, {
      input: {
        source: 'ticketing',
        escalations: [
          T1,
          { ...T2, acknowledgedAt: '2026-03-02T09:00:00Z' },
          { ...T2, externalId: 'T5', resolvedAt: '2026-03-03T12:00:00Z' },
          { ...T3, agreement: 'NOPE' },
          { ...T3, externalId: 'T1', resolution: 'nothing' },
          { ...T3, externalId: 'T9', openedAt: '2026-05-01T00:00:00Z' },
        ],
      },
    });
    expect(r.recordEscalations.batch).toBeNull();
    expect(r.recordEscalations.userErrors).toEqual([
      { field: 'escalations[1].acknowledgedAt', code: 'INVALID', message: 'acknowledgedAt: expected 2026-03-03T09:00:00.000Z (openedAt) or later, received 2026-03-02T09:00:00.000Z' },
      { field: 'escalations[2].resolvedAt', code: 'INVALID', message: 'resolvedAt: expected 2026-03-04T09:00:00.000Z (acknowledgedAt) or later, received 2026-03-03T12:00:00.000Z' },
      { field: 'escalations[3].agreement', code: 'NOT_FOUND', message: 'no agreement has key NOPE' },
      { field: 'escalations[4].externalId', code: 'INVALID', message: 'externalId: T1 appears twice in the batch (escalations[0])' },
      { field: 'escalations[4].resolution', code: 'INVALID', message: 'resolution: only a resolved escalation has one' },
      { field: 'escalations[5].openedAt', code: 'INVALID', message: 'openedAt: 2026-05-01T00:00:00.000Z is in the future' },
    ]);
    expect((await analyst.data(IngestedEscalationsDocument, { filter: { agreementId: ops } })).escalations.totalCount).toBe(0);
  });

  it('lets only admins and the parties’ integrations send', async () => {
    const outsider = await s
      .as(await s.tokenFor(Role.INTEGRATION, 'MKT'))
      .at(PUSH)
      .request(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [T1] } });
    expect(outsider.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(outsider.errors?.[0].message).toBe('A INTEGRATION principal may not record escalations for agreement OPS (escalations[0]): only admins and the integrations of its parties do');
    const head = await s
      .as(await s.tokenFor(Role.HEAD, 'IT'))
      .at(PUSH)
      .request(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [T1] } });
    expect(head.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('stores a batch as openEscalation would, and scores the month from it', async () => {
    const r = await ticketing.data(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [T1, T2, T3] } });
    expect(r.recordEscalations).toEqual({ batch: { source: 'ticketing', received: 3, created: 3, updated: 0 }, userErrors: [] });
    expect((await rows()).sort()).toEqual([
      ['T1', 'RESOLVED', 1, 5, true, 'resolved in ticketing'],
      ['T2', 'RESOLVED', 8, 16, true, 'Index added'],
      ['T3', 'OPEN', null, null, null, null],
    ]);
    expect(await values()).toEqual({ ESCALATION_RESPONSE_ON_TIME: [66.666666667, 'BREACHED'], ESCALATION_MTTR: [10.5, 'MET'] });
  });

  it('a re-sent ticket updates its escalation, never duplicates; the same batch again changes nothing', async () => {
    const answered = { ...T3, acknowledgedAt: '2026-03-06T10:00:00Z' };
    const r = await ticketing.data(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [T1, T2, answered] } });
    expect(r.recordEscalations.batch).toEqual({ source: 'ticketing', received: 3, created: 0, updated: 3 });
    const after = (await rows()).sort();
    expect(after).toEqual([
      ['T1', 'RESOLVED', 1, 5, true, 'resolved in ticketing'],
      ['T2', 'RESOLVED', 8, 16, true, 'Index added'],
      ['T3', 'ACKNOWLEDGED', 2, null, true, null],
    ]);
    expect(await values()).toEqual({ ESCALATION_RESPONSE_ON_TIME: [100, 'MET'], ESCALATION_MTTR: [10.5, 'MET'] });
    const again = await ticketing.data(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [T1, T2, answered] } });
    expect(again.recordEscalations.batch).toMatchObject({ created: 0, updated: 3 });
    expect((await rows()).sort()).toEqual(after);
  });

  it('refuses an integration re-sending another agreement’s ticket: it may not move or rewrite an escalation of an agreement it is no party to', async () => {
    const before = (await rows()).sort();
    const scored = await values();
    const mkt = s.as(await s.tokenFor(Role.INTEGRATION, 'MKT')).at(PUSH);
    await activateAgreement(s, {
      key: 'MKT-OPS',
      tier: 'CUSTOMER',
      title: 'Marketing operations',
      providerId: (await s.data(DepartmentDocument, { code: 'MKT' })).department.id,
      customerId: (await s.data(DepartmentDocument, { code: 'SALES' })).department.id,
      parentId: (await s.data(AgreementIdAndLockDocument, { key: 'CHARTER' })).agreement!.id,
      terms: { effectiveFrom: '2026-01' },
      objectives: [{ metricId: (await s.data(MetricDocument, { code: 'ESCALATION_MTTR' })).metric.id, target: 24 }],
    });
    const taken = await mkt.request(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [{ ...T1, agreement: 'MKT-OPS', title: 'Taken over' }] } });
    expect(taken.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(taken.errors?.[0].message).toBe(
      'A INTEGRATION principal may not change escalation ticketing/T1 (escalations[0]): it belongs to agreement OPS, whose parties’ integrations and admins alone record for it',
    );
    expect((await rows()).sort()).toEqual(before);
    expect(await values()).toEqual(scored);
  });

  it('refuses the other party’s integration re-sending a ticket under the same source: only its sender or an admin may change it', async () => {
    // Sales's ticketing (the customer) raises C1 on OPS, LOW, opened Mon 9 March 09:00 and unanswered: due after 16 working
    // hours (Tue 10 17:00), missed by 2 April. On time 3 of 4 = 75 %: BREACHED; MTTR unchanged (C1 is not resolved).
    const customer = s.as(await s.tokenFor(Role.INTEGRATION, 'SALES')).at(PUSH);
    const C1: EscalationRecordInput = { externalId: 'C1', agreement: 'OPS', severity: 'LOW', title: 'CRM exports fail', openedAt: '2026-03-09T09:00:00Z' };
    const raised = await customer.data(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [C1] } });
    expect(raised.recordEscalations.batch).toEqual({ source: 'ticketing', received: 1, created: 1, updated: 0 });
    const c1 = async () => (await rows()).find((r) => r[0] === 'C1');
    expect(await c1()).toEqual(['C1', 'OPEN', null, null, null, null]);
    expect(await values()).toEqual({ ESCALATION_RESPONSE_ON_TIME: [75, 'BREACHED'], ESCALATION_MTTR: [10.5, 'MET'] });
    // IT's integration (the provider, also a party) re-sends it as answered within the hour, under the same source name.
    const forged = await ticketing.request(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [T1, { ...C1, acknowledgedAt: '2026-03-09T10:00:00Z' }] } });
    expect(forged.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(forged.errors?.[0].message).toBe(
      'A INTEGRATION principal may not change escalation ticketing/C1 (escalations[1]): another principal sent it, and only the integration that sent it or an admin may change it',
    );
    expect(await c1()).toEqual(['C1', 'OPEN', null, null, null, null]);
    expect(await values()).toEqual({ ESCALATION_RESPONSE_ON_TIME: [75, 'BREACHED'], ESCALATION_MTTR: [10.5, 'MET'] });
    // Its sender may: acknowledged Tue 10 09:00, 8 working hours (met, ≤ 16): on time 4 of 4.
    const own = await customer.data(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [{ ...C1, acknowledgedAt: '2026-03-10T09:00:00Z' }] } });
    expect(own.recordEscalations.batch).toEqual({ source: 'ticketing', received: 1, created: 0, updated: 1 });
    expect(await c1()).toEqual(['C1', 'ACKNOWLEDGED', 8, null, true, null]);
    expect(await values()).toEqual({ ESCALATION_RESPONSE_ON_TIME: [100, 'MET'], ESCALATION_MTTR: [10.5, 'MET'] });
    // An admin may correct it: acknowledged Wed 11 10:00, 8 + 8 + 1 = 17 h (missed): on time 3 of 4 again.
    const admin = await s
      .as(s.adminToken)
      .at(PUSH)
      .data(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [{ ...C1, acknowledgedAt: '2026-03-11T10:00:00Z' }] } });
    expect(admin.recordEscalations.batch).toEqual({ source: 'ticketing', received: 1, created: 0, updated: 1 });
    expect(await c1()).toEqual(['C1', 'ACKNOWLEDGED', 17, null, false, null]);
    expect(await values()).toEqual({ ESCALATION_RESPONSE_ON_TIME: [75, 'BREACHED'], ESCALATION_MTTR: [10.5, 'MET'] });
    // IT's own tickets stay its own to re-send.
    const mine = await ticketing.data(RecordEscalationsDocument, { input: { source: 'ticketing', escalations: [T1] } });
    expect(mine.recordEscalations.batch).toMatchObject({ created: 0, updated: 1 });
  });
});
