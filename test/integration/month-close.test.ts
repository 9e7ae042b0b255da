/**
 * Issue 13 (DESIGN §5, §8): months close and stay closed. A month closes when its report is
 * acknowledged (or deemed so when the customer stays silent past the acceptance window, or when an
 * admin rejects a dispute); closing freezes its results and posts its credit to the credit ledger;
 * late data is kept and marked but changes nothing until a reopening, approved by the other party's
 * head, which puts the month's report under review again (a correction may follow) and posts an
 * adjusting entry when the month closes again. Everything on the test clock, over HTTP.
 *
 * The agreement LP → LC (fresh departments), from January 2026, 10,000 a month, credit cap 10 %:
 *   QUALIFIED_LEADS (MANUAL) ≥ 400, credit 5 %;  HANDOFF_VOLUME (AUTOMATED) ≥ 4 leads, credit 3 %.
 * February: 3 leads by the 20th (BREACHED, a = 0.75), report 420 (MET): score 100 × (1 + 0.75) / 2
 * = 87.5, credit 3 % = 300. Two more leads for February arrive in April: 5 leads (MET), score 100,
 * credit 0 — but only once the month is reopened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcknowledgeReportDocument,
  AgreementReportDocument,
  DepartmentDocument,
  HandoffEventsDocument,
  ApproveMonthReopeningDocument,
  CreateDepartmentDocument,
  CreditLedgerDocument,
  CreditTotalsDocument,
  DisputeReportDocument,
  MetricDocument,
  MonthStateDocument,
  RecordHandoffEventsDocument,
  RejectMonthReopeningDocument,
  ReportableObjectivesDocument,
  RequestMonthReopeningDocument,
  SettleDisputeDocument,
  SubmitReportDocument,
} from '../generated/graphql';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

describe.each(engines())('months that close and stay closed (%s)', (engine) => {
  let s: TestServer;
  let provider: Client;
  let customer: Client;
  let integration: Client;
  let agreementId: string;
  let leadsObjective: string;
  let n = 0;
  const ids: Record<string, string> = {};

  const lead = (handedOffAt: string) => ({ externalId: `L${++n}`, agreementId, stage: 'lead', handedOffAt, respondedAt: handedOffAt, acceptedAt: handedOffAt });
  const state = async (month: string, at: string) => (await s.at(at).data(MonthStateDocument, { key: 'LPC', month })).agreement.scorecard;
  const volume = (card: Awaited<ReturnType<typeof state>>) => card.objectives.find((o) => o.metric.code === 'HANDOFF_VOLUME');
  const submit = async (month: string, at: string, value: number) => {
    const r = await provider.at(at).data(SubmitReportDocument, { input: { agreementId, month, narrative: month, values: [{ objectiveId: leadsObjective, value }] } });
    expect(r.submitReport.userErrors).toEqual([]);
    return r.submitReport.report!;
  };

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    for (const code of ['LP', 'LC']) expect((await s.data(CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    for (const code of ['LP', 'LC']) ids[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const metric = async (code: string) => (await s.data(MetricDocument, { code })).metric.id;
    const charter = await activateAgreement(s, { key: 'LPC-CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    agreementId = await activateAgreement(s, {
      key: 'LPC',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: ids.LP,
      customerId: ids.LC,
      parentId: charter,
      terms: { effectiveFrom: '2026-01', monthlyCharge: 10000, creditCapPercent: 10 },
      objectives: [
        { metricId: await metric('QUALIFIED_LEADS'), target: 400, creditPercent: 5 },
        { metricId: await metric('HANDOFF_VOLUME'), target: 4, creditPercent: 3 },
      ],
    });
    leadsObjective = (await s.data(ReportableObjectivesDocument, { key: 'LPC', at: '2026-02' })).agreement.effectiveObjectives.find((o) => o.metric.code === 'QUALIFIED_LEADS')!.id;
    provider = s.as(await s.tokenFor(Role.HEAD, 'LP'));
    customer = s.as(await s.tokenFor(Role.HEAD, 'LC'));
    integration = s.as(await s.tokenFor(Role.INTEGRATION, 'LP'));
  });
  afterAll(async () => {
    await s?.close();
  });

  it('closes a month when its report is acknowledged, freezing it and posting its credit', async () => {
    const sent = await integration
      .at('2026-02-20T12:00:00Z')
      .data(RecordHandoffEventsDocument, { input: { source: 'crm', events: ['2026-02-03T10:00:00Z', '2026-02-10T10:00:00Z', '2026-02-17T10:00:00Z'].map(lead) } });
    expect(sent.recordHandoffEvents.userErrors).toEqual([]);
    // While February runs, nothing is scored: the volume so far is shown, PENDING.
    const running = await state('2026-02', '2026-02-21T00:00:00Z');
    expect(running).toMatchObject({ phase: 'RUNNING', status: 'PENDING', creditAmount: 0, closedAt: null });
    expect(volume(running)).toMatchObject({ value: null, valueSoFar: 3, status: 'PENDING' });

    const report = await submit('2026-02', '2026-03-03T09:00:00Z', 420);
    expect(await state('2026-02', '2026-03-03T10:00:00Z')).toMatchObject({ phase: 'ENDED', score: 87.5, status: 'BREACHED', creditAmount: 300, closedAt: null });
    const ack = await customer.at('2026-03-04T09:00:00Z').data(AcknowledgeReportDocument, { input: { reportId: report.id, revision: 1 } });
    expect(ack.acknowledgeReport.userErrors).toEqual([]);
    // Acknowledged before its report fell due (the end of Friday 6 March, in the agreement's UTC calendar): the
    // month closes just after that instant, when automation's time to send February is over.
    const ended = await state('2026-02', '2026-03-05T00:00:00Z');
    expect(ended).toMatchObject({ phase: 'ENDED', dueAt: '2026-03-07T00:00:00.000Z', closedAt: null, creditAmount: 300 });
    const closedAt = '2026-03-07T00:00:00.001Z';
    expect(await state('2026-02', '2026-03-08T00:00:00Z')).toMatchObject({ phase: 'CLOSED', closedAt, score: 87.5, creditPercent: 3, creditAmount: 300, lateDataAt: null });
    // Read closed at once; recorded, with its credit posted, by the scheduler.
    expect((await s.data(CreditLedgerDocument, { filter: { agreementId } })).creditLedger.totalCount).toBe(0);
    await s.app.scheduler.tick(new Date('2026-03-08T00:00:00Z'));
    const ledger = (await s.data(CreditLedgerDocument, { filter: { agreementId } })).creditLedger;
    expect(ledger.edges.map((e) => e.node)).toMatchObject([
      { month: '2026-02', kind: 'CLOSE', percent: 3, amount: 300, delta: 300, objectives: ['HANDOFF_VOLUME'], postedAt: closedAt, reason: null, agreement: { key: 'LPC' } },
    ]);
  });

  it('keeps a closed month as it was when late data arrives, marking it', async () => {
    const late = await integration.at('2026-04-10T12:00:00Z').data(RecordHandoffEventsDocument, { input: { source: 'crm', events: ['2026-02-24T10:00:00Z', '2026-02-25T10:00:00Z'].map(lead) } });
    expect(late.recordHandoffEvents.userErrors).toEqual([]);
    const card = await state('2026-02', '2026-04-11T00:00:00Z');
    expect(card).toMatchObject({ phase: 'CLOSED', score: 87.5, status: 'BREACHED', creditAmount: 300 });
    expect(Date.parse(card.lateDataAt!)).toBeGreaterThan(0);
    expect(volume(card)).toMatchObject({ value: 3, status: 'BREACHED' });
    // The events are kept: the facts of handoffs show all five.
    expect((await s.data(HandoffEventsDocument, { agreementId, month: '2026-02' })).handoffEvents.totalCount).toBe(5);
    expect((await s.data(CreditLedgerDocument, { filter: { agreementId } })).creditLedger.totalCount).toBe(1);
  });

  it('reopens only on the other party’s approval, then counts the late data and posts an adjustment', async () => {
    // Not closed: nothing to reopen.
    const open = await provider.at('2026-04-12T00:00:00Z').data(RequestMonthReopeningDocument, { input: { agreementId, month: '2026-03', reason: 'x' } });
    expect(open.requestMonthReopening.userErrors).toMatchObject([{ field: 'month', code: 'ILLEGAL_TRANSITION' }]);

    const asked = await provider.at('2026-04-12T00:00:00Z').data(RequestMonthReopeningDocument, { input: { agreementId, month: '2026-02', reason: 'Two leads were logged late by the CRM' } });
    expect(asked.requestMonthReopening.userErrors).toEqual([]);
    const reopening = asked.requestMonthReopening.reopening!;
    expect(reopening).toMatchObject({ status: 'REQUESTED', requestedBySide: 'PROVIDER' });
    // The asking side does not approve its own request; the month stays closed meanwhile.
    expect((await provider.at('2026-04-12T01:00:00Z').request(ApproveMonthReopeningDocument, { input: { id: reopening.id, expectedVersion: reopening.version } })).errors?.[0].extensions?.code).toBe(
      'FORBIDDEN',
    );
    expect(await state('2026-02', '2026-04-12T02:00:00Z')).toMatchObject({ phase: 'CLOSED', creditAmount: 300 });

    const approved = await customer.at('2026-04-13T09:00:00Z').data(ApproveMonthReopeningDocument, { input: { id: reopening.id, expectedVersion: reopening.version } });
    expect(approved.approveMonthReopening.userErrors).toEqual([]);
    // Recomputed with every fact; its report is under review again (a fresh acceptance window),
    // so the provider may correct it before the month closes again.
    const reopened = await state('2026-02', '2026-04-13T10:00:00Z');
    expect(reopened).toMatchObject({ phase: 'ENDED', closedAt: null, score: 100, status: 'MET', creditAmount: 0, lateDataAt: null, report: { status: 'SUBMITTED', revisionCount: 1 } });
    expect(volume(reopened)).toMatchObject({ value: 5, status: 'MET' });
    const corrected = await provider
      .at('2026-04-13T12:00:00Z')
      .data(SubmitReportDocument, { input: { agreementId, month: '2026-02', narrative: 'corrected', values: [{ objectiveId: leadsObjective, value: 430 }] } });
    expect(corrected.submitReport.userErrors).toEqual([]);
    const ack = await customer.at('2026-04-14T09:00:00Z').data(AcknowledgeReportDocument, { input: { reportId: corrected.submitReport.report!.id, revision: 2 } });
    expect(ack.acknowledgeReport.userErrors).toEqual([]);
    const card = await state('2026-02', '2026-04-15T00:00:00Z');
    expect(card).toMatchObject({ phase: 'CLOSED', closedAt: '2026-04-14T09:00:00.000Z', score: 100, status: 'MET', creditAmount: 0, lateDataAt: null, report: { revisionCount: 2 } });
    expect(card.objectives.find((o) => o.metric.code === 'QUALIFIED_LEADS')).toMatchObject({ value: 430, status: 'MET' });
    const entries = (await s.data(CreditLedgerDocument, { filter: { agreementId } })).creditLedger.edges.map((e) => e.node);
    expect(entries.map((e) => [e.kind, e.amount, e.delta, e.reason, e.postedAt])).toEqual([
      ['CLOSE', 300, 300, null, '2026-03-07T00:00:00.001Z'],
      ['ADJUSTMENT', 0, -300, 'Two leads were logged late by the CRM', '2026-04-14T09:00:00.000Z'],
    ]);
    // Per department for the charging period: what the provider owes after the adjustment.
    const totals = (await s.data(CreditTotalsDocument, { from: '2026-02', to: '2026-02' })).creditTotals;
    expect(totals.find((t) => t.department.code === 'LP')).toMatchObject({ amount: 0, entries: 2, months: 1 });
    // Filters: by department (either party), by window.
    expect((await s.data(CreditLedgerDocument, { filter: { departmentId: ids.LC, from: '2026-02', to: '2026-02' } })).creditLedger.totalCount).toBe(2);
    expect((await s.data(CreditLedgerDocument, { filter: { agreementId, from: '2026-03' } })).creditLedger.totalCount).toBe(0);
  });

  it('lets the other party refuse a reopening, with a reason', async () => {
    const asked = await customer.at('2026-04-15T00:00:00Z').data(RequestMonthReopeningDocument, { input: { agreementId, month: '2026-02', reason: 'Recount' } });
    const r = asked.requestMonthReopening.reopening!;
    expect(r.requestedBySide).toBe('CUSTOMER');
    const noNote = await provider.at('2026-04-15T01:00:00Z').data(RejectMonthReopeningDocument, { input: { id: r.id, expectedVersion: r.version } });
    expect(noNote.rejectMonthReopening.userErrors).toMatchObject([{ field: 'note', code: 'REQUIRED' }]);
    const refused = await provider.at('2026-04-15T01:00:00Z').data(RejectMonthReopeningDocument, { input: { id: r.id, expectedVersion: r.version, note: 'Nothing changed since' } });
    expect(refused.rejectMonthReopening.reopening).toMatchObject({ status: 'REJECTED', note: 'Nothing changed since' });
    expect(await state('2026-02', '2026-04-16T00:00:00Z')).toMatchObject({ phase: 'CLOSED', closedAt: '2026-04-14T09:00:00.000Z' });
  });

  it('closes a silent customer’s month when the acceptance window passes, in reads at once and in the ledger by the scheduler', async () => {
    await integration
      .at('2026-03-25T12:00:00Z')
      .data(RecordHandoffEventsDocument, { input: { source: 'crm', events: ['2026-03-02T10:00:00Z', '2026-03-09T10:00:00Z', '2026-03-16T10:00:00Z', '2026-03-23T10:00:00Z'].map(lead) } });
    await submit('2026-03', '2026-04-01T09:00:00Z', 380);
    const windowEnds = (await s.at('2026-04-01T10:00:00Z').data(AgreementReportDocument, { key: 'LPC', month: '2026-03' })).agreement.report!.latestRevision!.acceptanceDueAt!;
    const before = new Date(Date.parse(windowEnds) - 60_000).toISOString();
    const after = new Date(Date.parse(windowEnds) + 60_000).toISOString();
    // 380 < 400: BREACHED (a = 0.95), 5 %; volume 4 MET. Score 100 × (0.95 + 1) / 2 = 97.5; credit 500.
    expect(await state('2026-03', before)).toMatchObject({ phase: 'ENDED', score: 97.5, creditAmount: 500, closedAt: null });
    // The scheduler has not run: the read still sees the month closed at the window's end.
    expect(await state('2026-03', after)).toMatchObject({ phase: 'CLOSED', closedAt: new Date(Date.parse(windowEnds) + 1).toISOString(), score: 97.5, creditAmount: 500 });
    expect((await s.data(CreditLedgerDocument, { filter: { agreementId, from: '2026-03', to: '2026-03' } })).creditLedger.totalCount).toBe(0);
    // The scheduler records it: the report deemed acknowledged, the close and its credit posted.
    await s.app.scheduler.tick(new Date(after));
    expect(await state('2026-03', after)).toMatchObject({ phase: 'CLOSED', closedAt: new Date(Date.parse(windowEnds) + 1).toISOString(), creditAmount: 500 });
    const entries = (await s.data(CreditLedgerDocument, { filter: { agreementId, from: '2026-03', to: '2026-03' } })).creditLedger.edges.map((e) => e.node);
    expect(entries).toMatchObject([{ kind: 'CLOSE', amount: 500, objectives: ['QUALIFIED_LEADS'], postedAt: new Date(Date.parse(windowEnds) + 1).toISOString() }]);
    // A correction of a closed month waits for a reopening.
    const correction = await provider
      .at('2026-04-20T09:00:00Z')
      .data(SubmitReportDocument, { input: { agreementId, month: '2026-03', narrative: 'fix', values: [{ objectiveId: leadsObjective, value: 410 }] } });
    expect(correction.submitReport.userErrors).toMatchObject([{ field: 'month', code: 'ILLEGAL_TRANSITION' }]);
    expect(await state('2026-03', '2026-04-21T00:00:00Z')).toMatchObject({ phase: 'CLOSED', creditAmount: 500 });
  });

  it('marks a disputed month and its provisional credit until an admin rules; a rejected dispute closes it', async () => {
    await integration
      .at('2026-04-28T12:00:00Z')
      .data(RecordHandoffEventsDocument, { input: { source: 'crm', events: ['2026-04-06T10:00:00Z', '2026-04-13T10:00:00Z', '2026-04-20T10:00:00Z', '2026-04-27T10:00:00Z'].map(lead) } });
    const report = await submit('2026-04', '2026-05-04T09:00:00Z', 390);
    const disputed = await customer.at('2026-05-05T09:00:00Z').data(DisputeReportDocument, { input: { reportId: report.id, revision: 1, reason: 'Leads double counted' } });
    expect(disputed.disputeReport.userErrors).toEqual([]);
    // Never deemed while disputed, however long the customer waits.
    expect(await state('2026-04', '2026-05-11T00:00:00Z')).toMatchObject({ phase: 'ENDED', disputed: true, creditProvisional: true, creditAmount: 500, closedAt: null });
    const ruled = await s.at('2026-05-12T09:00:00Z').data(SettleDisputeDocument, { input: { reportId: report.id, revision: 1, ruling: 'REJECTED', note: 'The counts are right' } });
    expect(ruled.settleDispute.userErrors).toEqual([]);
    // Ruled after the month fell due: it closes at the ruling, and the ruling's write posts it.
    expect(await state('2026-04', '2026-05-13T00:00:00Z')).toMatchObject({ phase: 'CLOSED', closedAt: '2026-05-12T09:00:00.000Z', disputed: false, creditProvisional: false, creditAmount: 500 });
    const entries = (await s.data(CreditLedgerDocument, { filter: { agreementId, from: '2026-04', to: '2026-04' } })).creditLedger.edges.map((e) => e.node);
    expect(entries).toMatchObject([{ kind: 'CLOSE', amount: 500, postedAt: '2026-05-12T09:00:00.000Z' }]);
  });
  it('reopens a month closed by silence before the scheduler recorded it, putting its report under review', async () => {
    await submit('2026-05', '2026-06-02T09:00:00Z', 420);
    // The acceptance window ended on 9 June; no tick has recorded the deemed acknowledgement.
    expect(await state('2026-05', '2026-06-20T08:00:00Z')).toMatchObject({ phase: 'CLOSED', report: { status: 'ACKNOWLEDGED' } });
    const r = await s.at('2026-06-20T09:00:00Z').data(RequestMonthReopeningDocument, { input: { agreementId, month: '2026-05', reason: 'Recount the leads' } });
    expect(r.requestMonthReopening.userErrors).toEqual([]);
    expect(r.requestMonthReopening.reopening).toMatchObject({ status: 'APPROVED', requestedBySide: 'ADMIN' });
    // Under review again (not closed again at once), so the provider may correct it.
    expect(await state('2026-05', '2026-06-20T10:00:00Z')).toMatchObject({ phase: 'ENDED', closedAt: null, report: { status: 'SUBMITTED', revisionCount: 1 } });
    const corrected = await provider
      .at('2026-06-20T11:00:00Z')
      .data(SubmitReportDocument, { input: { agreementId, month: '2026-05', narrative: 'recounted', values: [{ objectiveId: leadsObjective, value: 450 }] } });
    expect(corrected.submitReport.userErrors).toEqual([]);
    expect(await state('2026-05', '2026-06-20T12:00:00Z')).toMatchObject({ phase: 'ENDED', report: { status: 'SUBMITTED', revisionCount: 2 } });
  });
});
