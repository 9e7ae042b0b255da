/**
 * Issue 15, point 1 (DESIGN §10, docs/events.md): every change writes its domain event to the
 * outbox, `domain_event`, in the same transaction: exact types in order, exact payloads, every
 * payload valid against its type's JSON Schema (docs/events.schema.json), and nothing for a refusal.
 *
 * The agreement EP → EC (fresh departments), from January 2026, 10,000 a month, credit cap 10 %,
 * one MANUAL objective QUALIFIED_LEADS ≥ 400 with a 5 % credit. February's report says 300
 * (BREACHED): the provider asks to excuse it and the customer refuses; the customer disputes the
 * report, an admin upholds the dispute, the provider corrects it (still 300), the customer
 * acknowledges, and the month closes at its due instant with a credit of 5 % = 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcknowledgeReportDocument,
  AgreementDocument,
  AgreementLifecycleDocument,
  ApproveLifecycleRequestDocument,
  ApproveAmendmentDocument,
  CreateDepartmentDocument,
  DepartmentDocument,
  DisputeReportDocument,
  MetricDocument,
  ProposeAmendmentDocument,
  RejectExclusionDocument,
  ReportableObjectivesDocument,
  RequestExclusionDocument,
  RequestMonthReopeningDocument,
  SettleDisputeDocument,
  SubmitReportDocument,
  SuspendAgreementDocument,
} from '../generated/graphql';
import { DomainEvent, EVENT_TYPES } from '../../src/common/events';
import { activateAgreement } from '../support/agreements';
import { EVENT_SCHEMA as SCHEMA, eventValidators as validators } from '../support/event-schemas';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

describe.each(engines())('domain events in the outbox (%s)', (engine) => {
  let s: TestServer;
  let provider: Client;
  let customer: Client;
  let agreementId: string;
  let leadsObjective: string;
  let leadsMetric: string;
  const ids: Record<string, string> = {};

  /** The outbox as stored, in its order. */
  const events = async () => (await s.app.orm.em.fork().find(DomainEvent, {}, { orderBy: { seq: 'asc' } })).map((e) => ({ ...e }));

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    for (const code of ['EP', 'EC']) expect((await s.data(CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    for (const code of ['EP', 'EC']) ids[code] = (await s.data(DepartmentDocument, { code })).department.id;
    leadsMetric = (await s.data(MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    const charter = await activateAgreement(s, { key: 'EPC-CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    ids.charter = charter;
    agreementId = await activateAgreement(s, {
      key: 'EPC',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: ids.EP,
      customerId: ids.EC,
      parentId: charter,
      terms: { effectiveFrom: '2026-01', monthlyCharge: 10000, creditCapPercent: 10 },
      objectives: [{ metricId: leadsMetric, target: 400, creditPercent: 5 }],
    });
    leadsObjective = (await s.data(ReportableObjectivesDocument, { key: 'EPC', at: '2026-02' })).agreement.effectiveObjectives[0].id;
    provider = s.as(await s.tokenFor(Role.HEAD, 'EP'));
    customer = s.as(await s.tokenFor(Role.HEAD, 'EC'));
  });
  afterAll(async () => {
    await s?.close();
  });

  it('writes one event per change, in order, with the agreement, its parties, the actor and the request', async () => {
    const setup = await events();
    expect(setup.map((e) => [e.type, e.agreementKey])).toEqual([
      ['agreement.awaiting_approval', 'EPC-CHARTER'],
      ['agreement.activated', 'EPC-CHARTER'],
      ['agreement.awaiting_approval', 'EPC'],
      ['agreement.activated', 'EPC'],
    ]);
    expect(setup[2].payload).toEqual({ status: 'DRAFT', tier: 'CUSTOMER', title: 'Leads', providerCode: 'EP', customerCode: 'EC' });
    expect(setup[0]).toMatchObject({ providerDepartmentId: null, customerDepartmentId: null, payload: { tier: 'CORPORATE', providerCode: null, customerCode: null } });

    const submit = async (at: string, key: string, month = '2026-02') => {
      const r = await provider.at(at).data(SubmitReportDocument, { input: { agreementId, month, narrative: month, values: [{ objectiveId: leadsObjective, value: 300 }], idempotencyKey: key } });
      expect(r.submitReport.userErrors).toEqual([]);
      return r.submitReport.revision!;
    };
    const first = await submit('2026-03-03T09:00:00Z', 'feb-1');
    const lastSubmitted = async () => (await events()).filter((e) => e.type === 'report.submitted').at(-1)!.payload.reportId as string;
    const reportId = await lastSubmitted();

    const requested = await provider.at('2026-03-03T10:00:00Z').data(RequestExclusionDocument, {
      input: { agreementId, month: '2026-02', objectiveId: leadsObjective, reasonCode: 'CUSTOMER_DEPENDENCY', explanation: 'The customer paused the campaign' },
    });
    expect(requested.requestExclusion.userErrors).toEqual([]);
    const exclusion = requested.requestExclusion.exclusion!;
    const rejected = await customer.at('2026-03-03T11:00:00Z').data(RejectExclusionDocument, { input: { exclusionId: exclusion.id, expectedVersion: exclusion.version, note: 'The campaign ran' } });
    expect(rejected.rejectExclusion.userErrors).toEqual([]);

    expect((await customer.at('2026-03-04T09:00:00Z').data(DisputeReportDocument, { input: { reportId, revision: 1, reason: 'Webinar leads are missing' } })).disputeReport.userErrors).toEqual([]);
    expect((await s.at('2026-03-04T10:00:00Z').data(SettleDisputeDocument, { input: { reportId, revision: 1, ruling: 'UPHELD', note: 'Count the webinar leads' } })).settleDispute.userErrors).toEqual(
      [],
    );
    const second = await submit('2026-03-04T11:00:00Z', 'feb-2');
    expect((await customer.at('2026-03-05T09:00:00Z').data(AcknowledgeReportDocument, { input: { reportId, revision: 2 } })).acknowledgeReport.userErrors).toEqual([]);
    // Acknowledged before it fell due: the month closes at its due instant, recorded by the scheduler.
    await s.app.scheduler.tick(new Date('2026-03-08T00:00:00Z'));
    // January, sent late and never answered: deemed acknowledged when its window ends (below).
    const january = await submit('2026-03-09T09:00:00Z', 'jan-1', '2026-01');
    const januaryReportId = await lastSubmitted();

    const agreement = (await s.data(AgreementDocument, { key: 'EPC', at: '2026-03' })).agreement;
    const proposed = await provider.at('2026-03-10T09:00:00Z').data(ProposeAmendmentDocument, {
      input: { agreementId, expectedVersion: agreement.lockVersion, effectiveMonth: '2026-04', reason: 'More leads', changeObjectives: [{ metricId: leadsMetric, target: 450 }] },
    });
    expect(proposed.proposeAmendment.userErrors).toEqual([]);
    const amendment = proposed.proposeAmendment.amendment!;
    expect((await customer.at('2026-03-10T10:00:00Z').data(ApproveAmendmentDocument, { input: { id: amendment.id, expectedVersion: amendment.version } })).approveAmendment.userErrors).toEqual([]);
    const current = (await s.data(AgreementDocument, { key: 'EPC', at: '2026-03' })).agreement;
    // Issue 16: the provider asks to suspend, the customer approves; each its own event.
    const asked = await provider.at('2026-03-11T08:00:00Z').data(SuspendAgreementDocument, { input: { id: agreementId, expectedVersion: current.lockVersion, reason: 'Office move' } });
    expect(asked.suspendAgreement.userErrors).toEqual([]);
    const request = (await s.data(AgreementLifecycleDocument, { key: 'EPC' })).agreement.pendingLifecycleRequest!;
    const approved = await customer.at('2026-03-11T09:00:00Z').data(ApproveLifecycleRequestDocument, { input: { id: request.id, expectedVersion: request.version } });
    expect(approved.approveLifecycleRequest.userErrors).toEqual([]);
    await s.app.scheduler.tick(new Date('2026-03-20T00:00:00Z'));

    const written = (await events()).slice(setup.length);
    expect(written.map((e) => e.type)).toEqual([
      'report.submitted',
      'objective.breached',
      'exclusion.requested',
      'exclusion.decided',
      'report.disputed',
      'report.dispute_settled',
      'report.submitted',
      'report.acknowledged',
      'month.closed',
      'report.overdue',
      'report.submitted',
      'objective.breached',
      'amendment.proposed',
      'amendment.decided',
      'agreement.suspension_requested',
      'agreement.suspended',
      'report.deemed_acknowledged',
      'month.closed',
    ]);
    const month = { reportId, month: '2026-02' };
    expect(written.map((e) => e.payload)).toEqual([
      { ...month, revision: 1, statusBefore: null, statusAfter: 'SUBMITTED', revisionId: first.id, correction: false, lateByWorkingDays: 0 },
      // The ledger's news of the same write: the running month had no verdict; 300 against ≥ 400 breaches.
      { month: '2026-02', objectiveId: leadsObjective, metricCode: 'QUALIFIED_LEADS', statusBefore: 'PENDING', statusAfter: 'BREACHED', value: 300, target: 400, warning: null },
      {
        exclusionId: exclusion.id,
        month: '2026-02',
        objectiveId: leadsObjective,
        metricCode: 'QUALIFIED_LEADS',
        reasonCode: 'CUSTOMER_DEPENDENCY',
        statusWhenRequested: 'BREACHED',
        status: 'REQUESTED',
      },
      { exclusionId: exclusion.id, month: '2026-02', objectiveId: leadsObjective, statusBefore: 'REQUESTED', statusAfter: 'REJECTED', note: 'The campaign ran' },
      { ...month, revision: 1, statusBefore: 'SUBMITTED', statusAfter: 'DISPUTED', reason: 'Webinar leads are missing' },
      { ...month, revision: 1, statusBefore: 'DISPUTED', statusAfter: 'DISPUTED', ruling: 'UPHELD', note: 'Count the webinar leads' },
      { ...month, revision: 2, statusBefore: 'DISPUTED', statusAfter: 'SUBMITTED', revisionId: second.id, correction: true, lateByWorkingDays: 0 },
      { ...month, revision: 2, statusBefore: 'SUBMITTED', statusAfter: 'ACKNOWLEDGED' },
      { month: '2026-02', closedAt: '2026-03-07T00:00:00.001Z', cause: 'ACKNOWLEDGED', kind: 'CLOSE', percent: 5, amount: 500, delta: 500 },
      // The scheduler's notice: January's report was due on the fifth working day of February (the 6th).
      { month: '2026-01', dueDate: '2026-02-06', dueAt: '2026-02-07T00:00:00.000Z' },
      // Sent on 9 March, 21 working days late; its objective had no data until then.
      { reportId: januaryReportId, month: '2026-01', revision: 1, statusBefore: null, statusAfter: 'SUBMITTED', revisionId: january.id, correction: false, lateByWorkingDays: 21 },
      { month: '2026-01', objectiveId: leadsObjective, metricCode: 'QUALIFIED_LEADS', statusBefore: 'NO_DATA', statusAfter: 'BREACHED', value: 300, target: 400, warning: null },
      { amendmentId: amendment.id, effectiveMonth: '2026-04', proposedBy: 'PROVIDER', reason: 'More leads', status: 'PROPOSED' },
      { amendmentId: amendment.id, effectiveMonth: '2026-04', statusBefore: 'PROPOSED', statusAfter: 'APPROVED', reason: null },
      { requestId: request.id, reason: 'Office move', requestedBy: 'PROVIDER', status: 'PENDING' },
      { statusBefore: 'ACTIVE', statusAfter: 'SUSPENDED', requestId: request.id, reason: 'Office move' },
      // Five working days from Monday 9 March: the window ends with Monday 16 March.
      { reportId: januaryReportId, month: '2026-01', revision: 1, statusBefore: 'SUBMITTED', statusAfter: 'ACKNOWLEDGED', acceptanceDueAt: '2026-03-17T00:00:00.000Z' },
      { month: '2026-01', closedAt: '2026-03-17T00:00:00.001Z', cause: 'DEEMED', kind: 'CLOSE', percent: 5, amount: 500, delta: 500 },
    ]);
    // The envelope: the agreement and its parties on every row; the actor and request of the
    // write, the system (no user; the job as its request) for the scheduler's close; the write's clock.
    for (const e of written) {
      expect(e).toMatchObject({ version: 1, agreementId, agreementKey: 'EPC', providerDepartmentId: ids.EP, customerDepartmentId: ids.EC });
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const system = written.filter((e) => e.actorUserId === null);
    expect(system.map((e) => [e.type, e.requestId, e.occurredAt])).toEqual([
      ['month.closed', 'scheduler:advance-ledger', new Date('2026-03-08T00:00:00Z')],
      ['report.overdue', 'scheduler:notices', new Date('2026-03-08T00:00:00Z')],
      ['report.deemed_acknowledged', 'scheduler:deem-acknowledgements', new Date('2026-03-20T00:00:00Z')],
      ['month.closed', 'scheduler:deem-acknowledgements', new Date('2026-03-20T00:00:00Z')],
    ]);
    const human = written.filter((e) => e.actorUserId !== null);
    expect(human.every((e) => e.requestId !== null)).toBe(true);
    // One request per change; the ledger's news comes in the request of the write that caused it.
    const news = human.filter((e) => e.type.startsWith('objective.'));
    expect(news.map((e) => human[human.indexOf(e) - 1]).map((e) => [e.type, e.requestId])).toEqual(news.map((e) => ['report.submitted', e.requestId]));
    expect(new Set(human.map((e) => e.requestId)).size).toBe(human.length - news.length);
    expect(written[0].occurredAt).toEqual(new Date('2026-03-03T09:00:00Z'));
    expect(human.at(-1)!.occurredAt).toEqual(new Date('2026-03-11T09:00:00Z'));
    expect(written.map((e) => e.seq)).toEqual([...written.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it('validates every payload against its type’s schema, and the schema file names every type', async () => {
    expect(Object.keys(SCHEMA.definitions).sort()).toEqual([...EVENT_TYPES].sort());
    const all = await events();
    expect(all.length).toBeGreaterThan(10);
    for (const e of all) {
      const validate = validators.get(e.type);
      expect(validate, e.type).toBeDefined();
      expect(validate!(e.payload) ? [] : validate!.errors, `${e.type} #${e.seq}`).toEqual([]);
    }
  });

  it('writes nothing for a refused change', async () => {
    const before = (await events()).length;
    const report = (await events()).find((e) => e.type === 'report.acknowledged')!.payload;
    // Acknowledged already: ILLEGAL_TRANSITION, rolled back with whatever it had written.
    const again = await customer.at('2026-03-12T09:00:00Z').data(DisputeReportDocument, { input: { reportId: report.reportId as string, revision: 2, reason: 'Too late' } });
    expect(again.disputeReport.userErrors).toEqual([expect.objectContaining({ field: 'reportId', code: 'ILLEGAL_TRANSITION' })]);
    const stale = await s.at('2026-03-12T09:00:00Z').data(SuspendAgreementDocument, { input: { id: agreementId, expectedVersion: 1, reason: 'r' } });
    expect(stale.suspendAgreement.userErrors).toEqual([expect.objectContaining({ field: 'expectedVersion', code: 'CONFLICT' })]);
    expect((await events()).length).toBe(before);
  });

  it('reopens a closed month on an admin’s request, by the admin', async () => {
    const before = (await events()).length;
    const asked = await s.at('2026-03-21T09:00:00Z').data(RequestMonthReopeningDocument, { input: { agreementId, month: '2026-02', reason: 'Leads were logged late by the CRM' } });
    expect(asked.requestMonthReopening.userErrors).toEqual([]);
    const written = (await events()).slice(before);
    expect(written.map((e) => [e.type, e.payload])).toEqual([
      ['month.reopened', { month: '2026-02', reopeningId: asked.requestMonthReopening.reopening!.id, reason: 'Leads were logged late by the CRM' }],
    ]);
    expect(written[0]).toMatchObject({ agreementKey: 'EPC', occurredAt: new Date('2026-03-21T09:00:00Z') });
    expect(validators.get('month.reopened')!(written[0].payload)).toBe(true);
  });
});
