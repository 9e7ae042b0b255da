/**
 * Issue 15, point 1, the events nobody's write causes and the ledger's news (docs/events.md):
 * report due soon and overdue, review due, an escalation's deadline near (75 %) and missed, each
 * written once by the scheduler however often it ticks and on however many instances; an
 * objective-month at risk, breached and recovered as the ledger's statuses move; an escalation
 * acknowledged; a reopening requested and rejected.
 *
 * The agreement NPC (fresh departments NP → NC), from January 2026, reviewed every two months (so
 * due on 1 March), reports due on the fifth working day after the month (January's: Friday 6
 * February), one MANUAL objective QUALIFIED_LEADS ≥ 400 with a warning band up to 450. The default
 * calendar: Monday–Friday 09:00–17:00 UTC; a HIGH escalation must be answered in 4 working hours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcknowledgeEscalationDocument,
  AcknowledgeReportDocument,
  CreateDepartmentDocument,
  DepartmentDocument,
  MetricDocument,
  OpenEscalationDocument,
  RejectMonthReopeningDocument,
  ReportableObjectivesDocument,
  RequestMonthReopeningDocument,
  SubmitReportDocument,
} from '../generated/graphql';
import { setActor } from '../../src/common/actor';
import { DomainEvent } from '../../src/common/events';
import { fireNotices } from '../../src/jobs/notices';
import { createApp } from '../../src/server';
import { activateAgreement } from '../support/agreements';
import { invalidEvents } from '../support/event-schemas';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

describe.each(engines())('time-driven notices and the ledger’s news (%s)', (engine) => {
  let s: TestServer;
  let provider: Client;
  let customer: Client;
  let agreementId: string;
  let objectiveId: string;
  const ids: Record<string, string> = {};

  /** The events of NPC written after `seq`, as type and payload. */
  const since = async (seq: number) =>
    (await s.app.orm.em.fork().find(DomainEvent, { seq: { $gt: seq }, agreementKey: 'NPC' }, { orderBy: { seq: 'asc' } })).map((e) => ({ type: e.type, payload: e.payload, requestId: e.requestId }));
  const lastSeq = async () => (await s.app.orm.em.fork().find(DomainEvent, {}, { orderBy: { seq: 'desc' }, limit: 1 }))[0]?.seq ?? 0;
  const tick = (at: string) => s.app.scheduler.tick(new Date(at));

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    for (const code of ['NP', 'NC']) expect((await s.data(CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    for (const code of ['NP', 'NC']) ids[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const leads = (await s.data(MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    const charter = await activateAgreement(s, { key: 'NPC-CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    agreementId = await activateAgreement(s, {
      key: 'NPC',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: ids.NP,
      customerId: ids.NC,
      parentId: charter,
      terms: { effectiveFrom: '2026-01', monthlyCharge: 10000, creditCapPercent: 10, reviewCadenceMonths: 2 },
      objectives: [{ metricId: leads, target: 400, warning: 450, creditPercent: 5 }],
    });
    objectiveId = (await s.data(ReportableObjectivesDocument, { key: 'NPC', at: '2026-01' })).agreement.effectiveObjectives[0].id;
    provider = s.as(await s.tokenFor(Role.HEAD, 'NP'));
    customer = s.as(await s.tokenFor(Role.HEAD, 'NC'));
  });
  afterAll(async () => {
    await s?.close();
  });

  it('tells the provider a report is due two working days ahead, once, and the ledger’s verdicts as they move', async () => {
    const start = await lastSeq();
    // Tuesday 3 February: Wednesday, Thursday and Friday remain before the due date.
    await tick('2026-02-03T10:00:00Z');
    expect(await since(start)).toEqual([]);
    // Wednesday: two working days remain. Told once, however often the scheduler ticks.
    await tick('2026-02-04T10:00:00Z');
    await tick('2026-02-04T11:00:00Z');
    expect(await since(start)).toEqual([
      { type: 'report.due_soon', payload: { month: '2026-01', dueDate: '2026-02-06', dueAt: '2026-02-07T00:00:00.000Z', workingDaysLeft: 2 }, requestId: 'scheduler:notices' },
    ]);

    // 420 against ≥ 400 with a warning band to 450: at risk. A correction to 460 recovers it.
    const submitted = async (at: string, value: number, key: string) => {
      const r = await provider.at(at).data(SubmitReportDocument, { input: { agreementId, month: '2026-01', narrative: 'January', values: [{ objectiveId, value }], idempotencyKey: key } });
      expect(r.submitReport.userErrors).toEqual([]);
      return r.submitReport.revision!;
    };
    const before = await lastSeq();
    await submitted('2026-02-05T09:00:00Z', 420, 'npc-jan-1');
    await submitted('2026-02-05T10:00:00Z', 460, 'npc-jan-2');
    const written = await since(before);
    const reportId = written.find((e) => e.type === 'report.submitted')!.payload.reportId as string;
    const news = written.filter((e) => e.type.startsWith('objective.'));
    const transition = { month: '2026-01', objectiveId, metricCode: 'QUALIFIED_LEADS', target: 400, warning: 450 };
    expect(news.map((e) => [e.type, e.payload])).toEqual([
      // Before its due date a month without its report has no verdict yet: PENDING, not NO_DATA.
      ['objective.at_risk', { ...transition, statusBefore: 'PENDING', statusAfter: 'AT_RISK', value: 420 }],
      ['objective.recovered', { ...transition, statusBefore: 'AT_RISK', statusAfter: 'MET', value: 460 }],
    ]);
    // Submitted in time: no overdue notice when its due instant passes.
    expect((await customer.at('2026-02-05T11:00:00Z').data(AcknowledgeReportDocument, { input: { reportId, revision: 2 } })).acknowledgeReport.userErrors).toEqual([]);
    const afterDue = await lastSeq();
    await tick('2026-02-09T10:00:00Z');
    expect((await since(afterDue)).map((e) => e.type)).toEqual(['month.closed']);
  });

  it('tells of an overdue report and a review due once each, a notice overtaken never given', async () => {
    const start = await lastSeq();
    // February's report was due on Friday 6 March; the scheduler was down until the 10th, so the
    // "due soon" moment passed unseen: only "overdue" is told. The review came due on 1 March.
    await tick('2026-03-10T10:00:00Z');
    await tick('2026-03-10T10:01:00Z');
    expect((await since(start)).map((e) => [e.type, e.payload])).toEqual([
      ['report.overdue', { month: '2026-02', dueDate: '2026-03-06', dueAt: '2026-03-07T00:00:00.000Z' }],
      ['agreement.review_due', { reviewDate: '2026-03-01', basis: 'CADENCE' }],
    ]);
  });

  it('tells of an escalation’s deadline near at 75 % and missed at 100 %, and of its acknowledgement', async () => {
    const open = async (title: string) => {
      const r = await customer.at('2026-03-13T15:00:00Z').data(OpenEscalationDocument, { input: { agreementId, severity: 'HIGH', title, description: title } });
      expect(r.openEscalation.userErrors).toEqual([]);
      return r.openEscalation.escalation!;
    };
    const late = await open('Leads without phone numbers');
    const answered = await open('Leads without e-mail');
    const start = await lastSeq();
    // Opened Friday 15:00: two working hours that day, then Monday from 09:00. 3 h (75 %) at Monday 10:00; 4 h at 11:00.
    await tick('2026-03-16T09:30:00Z');
    expect(await since(start)).toEqual([]);
    const ack = await provider.at('2026-03-16T09:45:00Z').data(AcknowledgeEscalationDocument, { input: { id: answered.id, expectedVersion: answered.version } });
    expect(ack.acknowledgeEscalation.userErrors).toEqual([]);
    await tick('2026-03-16T10:00:00Z');
    await tick('2026-03-16T10:30:00Z');
    await tick('2026-03-16T11:00:00Z');
    await tick('2026-03-16T12:00:00Z');
    const base = { month: '2026-03', severity: 'HIGH', deadlineAt: '2026-03-16T11:00:00.000Z' };
    expect((await since(start)).map((e) => [e.type, e.payload])).toEqual([
      ['escalation.acknowledged', { escalationId: answered.id, month: '2026-03', severity: 'HIGH', statusBefore: 'OPEN', statusAfter: 'ACKNOWLEDGED' }],
      ['escalation.deadline_near', { escalationId: late.id, ...base, fraction: 0.75 }],
      ['escalation.deadline_missed', { escalationId: late.id, ...base }],
    ]);
  });

  it('tells of a reopening requested by a party and rejected by the other', async () => {
    const start = await lastSeq();
    const asked = await provider.at('2026-03-17T09:00:00Z').data(RequestMonthReopeningDocument, { input: { agreementId, month: '2026-01', reason: 'Webinar leads came late' } });
    expect(asked.requestMonthReopening.userErrors).toEqual([]);
    const reopening = asked.requestMonthReopening.reopening!;
    const refused = await customer.at('2026-03-17T10:00:00Z').data(RejectMonthReopeningDocument, { input: { id: reopening.id, expectedVersion: reopening.version, note: 'They were counted' } });
    expect(refused.rejectMonthReopening.userErrors).toEqual([]);
    expect((await since(start)).map((e) => [e.type, e.payload])).toEqual([
      ['reopening.requested', { month: '2026-01', reopeningId: reopening.id, reason: 'Webinar leads came late', requestedBy: 'PROVIDER', status: 'REQUESTED' }],
      ['reopening.rejected', { month: '2026-01', reopeningId: reopening.id, note: 'They were counted', statusBefore: 'REQUESTED', statusAfter: 'REJECTED' }],
    ]);
  });

  it('writes every payload as its type’s schema says (docs/events.schema.json)', async () => {
    const all = await s.app.orm.em.fork().find(DomainEvent, {}, { orderBy: { seq: 'asc' } });
    expect(new Set(all.map((e) => e.type))).toEqual(
      new Set([
        'agreement.awaiting_approval',
        'agreement.activated',
        'report.due_soon',
        'report.submitted',
        'objective.at_risk',
        'objective.recovered',
        'report.acknowledged',
        'month.closed',
        'report.overdue',
        'agreement.review_due',
        'escalation.opened',
        'escalation.acknowledged',
        'escalation.deadline_near',
        'escalation.deadline_missed',
        'reopening.requested',
        'reopening.rejected',
      ]),
    );
    expect(invalidEvents(all)).toEqual([]);
  });

  // Several instances share one PostgreSQL; SQLite has one process and one writer.
  it.skipIf(engine === 'sqlite')('gives each notice once with two instances ticking at the same instants', async () => {
    const second = await createApp(s.app.config, { logger: s.app.logger });
    try {
      const opened = await customer.at('2026-03-20T15:00:00Z').data(OpenEscalationDocument, { input: { agreementId, severity: 'HIGH', title: 'Both instances', description: 'x' } });
      expect(opened.openEscalation.userErrors).toEqual([]);
      const start = await lastSeq();
      // March's report is due on Tuesday 7 April, the escalation's response by Monday 23 March 11:00.
      for (const at of ['2026-03-23T10:00:00Z', '2026-03-23T11:00:00Z', '2026-04-03T10:00:00Z', '2026-04-08T10:00:00Z']) {
        await Promise.all([s.app.scheduler.tick(new Date(at)), second.scheduler.tick(new Date(at))]);
      }
      expect((await since(start)).map((e) => e.type)).toEqual(['escalation.deadline_near', 'escalation.deadline_missed', 'report.due_soon', 'report.overdue']);
    } finally {
      await second.close();
    }
  });
  // A missed deadline stays OPEN: told once, it must leave the batch of candidates, or enough old
  // ignored escalations would keep every newer one from being told (here a batch of one).
  it('does not let escalations already told of a missed deadline starve newer ones', async () => {
    const r = await customer.at('2026-04-20T15:00:00Z').data(OpenEscalationDocument, { input: { agreementId, severity: 'HIGH', title: 'Behind the ignored ones', description: 'x' } });
    expect(r.openEscalation.userErrors).toEqual([]);
    const newer = r.openEscalation.escalation!;
    const start = await lastSeq();
    const fire = (at: string) =>
      s.app.orm.em.fork().transactional(async (em) => {
        setActor(em, { userId: null, role: 'SYSTEM', requestId: 'test:notices' });
        return fireNotices(em, new Date(at), 1);
      });
    await fire('2026-04-27T10:00:00Z');
    await fire('2026-04-27T10:01:00Z');
    expect((await since(start)).filter((e) => e.type.startsWith('escalation.')).map((e) => [e.type, e.payload])).toEqual([
      ['escalation.deadline_missed', { escalationId: newer.id, month: '2026-04', severity: 'HIGH', deadlineAt: '2026-04-21T11:00:00.000Z' }],
    ]);
  });
});
