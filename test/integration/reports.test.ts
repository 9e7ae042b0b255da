import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcknowledgeReportDocument,
  AgreementReportDocument,
  ApproveAgreementDocument,
  ApproveExclusionDocument,
  CreateMetricDocument,
  AuditLogDocument,
  CreateAgreementDocument,
  type CreateAgreementInput,
  DepartmentDocument,
  DisputeReportDocument,
  ExclusionsDocument,
  MetricDocument,
  OverdueReportsDocument,
  RejectExclusionDocument,
  ReportableObjectivesDocument,
  ReportDocument,
  ReportsDocument,
  ReportSummariesDocument,
  RequestExclusionDocument,
  SaveReportDraftDocument,
  SubmitReportDocument,
  type SubmitReportInput,
  SuspendAgreementDocument,
} from '../generated/graphql';
import { addMonths, monthOf } from '../../src/common/month';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

// Sales → Customer Service reports on a Berlin calendar with Easter 2026 and New Year as holidays,
// due on the 2nd working day after the month ends. Times are sent on the test clock.
const BERLIN = { timeZone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], dayStart: '09:00', dayEnd: '17:00', holidays: ['2026-01-01', '2026-04-03', '2026-04-06'] };

describe.each(engines())('monthly reports on %s', (engine) => {
  let s: TestServer;
  let headSales: Client;
  let headCs: Client;
  let headMkt: Client;
  let analyst: Client;
  const metric: Record<string, string> = {};
  const dept: Record<string, string> = {};
  let salesCs: string;
  let leads: string;
  /** Effective objective ids by metric code, per agreement key. */
  const objective: Record<string, Record<string, string>> = {};

  const activate = (input: CreateAgreementInput) => activateAgreement(s, input);
  const objectivesOf = async (key: string, at: string) => {
    const r = await s.data(ReportableObjectivesDocument, { key, at });
    return Object.fromEntries(r.agreement.effectiveObjectives.map((o) => [o.metric.code, o.id]));
  };

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    headSales = s.as(await s.tokenFor(Role.HEAD, 'SALES'));
    headCs = s.as(await s.tokenFor(Role.HEAD, 'CS'));
    headMkt = s.as(await s.tokenFor(Role.HEAD, 'MKT'));
    analyst = s.as(await s.tokenFor(Role.ANALYST));
    for (const code of ['SALES', 'CS', 'MKT', 'IT']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
    for (const code of ['REPORT_DAYS_LATE', 'SYSTEM_AVAILABILITY', 'HANDOVER_DAYS', 'FRICTION_REPORT_DELIVERED', 'QUALIFIED_LEADS', 'STATEMENT_ACCURACY', 'TICKET_FIRST_RESPONSE']) {
      metric[code] = (await s.data(MetricDocument, { code })).metric.id;
    }
    const charter = await activate({
      key: 'CHARTER',
      tier: 'CORPORATE',
      title: 'Charter',
      terms: { effectiveFrom: '2026-01' },
      objectives: [
        { metricId: metric.REPORT_DAYS_LATE, target: 0 },
        { metricId: metric.SYSTEM_AVAILABILITY, target: 99.5, inheritance: 'MINIMUM' },
      ],
    });
    salesCs = await activate({
      key: 'SALES-CS',
      tier: 'CUSTOMER',
      title: 'Handover',
      providerId: dept.SALES,
      customerId: dept.CS,
      parentId: charter,
      terms: { effectiveFrom: '2026-01', reportDueWorkingDays: 2, calendar: BERLIN },
      objectives: [
        { metricId: metric.HANDOVER_DAYS, target: 2, warning: 1.5, creditPercent: 4 },
        { metricId: metric.FRICTION_REPORT_DELIVERED, target: 1, creditPercent: 2 },
      ],
    });
    leads = await activate({
      key: 'LEADS',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: dept.MKT,
      customerId: dept.SALES,
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [
        { metricId: metric.QUALIFIED_LEADS, target: 400 },
        { metricId: metric.STATEMENT_ACCURACY, target: 95 },
        { metricId: metric.TICKET_FIRST_RESPONSE, target: 8 },
      ],
    });
    objective['SALES-CS'] = await objectivesOf('SALES-CS', '2026-03');
    objective.LEADS = await objectivesOf('LEADS', '2026-03');
    objective.CHARTER = await objectivesOf('CHARTER', '2026-03');
  });
  afterAll(async () => {
    await s?.close();
  });

  // FRICTION_REPORT_DELIVERED is AUTOMATED (issue 16): only the handover time is typed.
  const salesCsValues = (handover: number) => [{ objectiveId: objective['SALES-CS'].HANDOVER_DAYS, value: handover }];
  const leadsInput = (month: string, n: number, extra: Partial<SubmitReportInput> = {}): SubmitReportInput => ({
    agreementId: leads,
    month,
    values: [
      { objectiveId: objective.LEADS.QUALIFIED_LEADS, value: n },
      { objectiveId: objective.LEADS.STATEMENT_ACCURACY, value: n % 101 },
      { objectiveId: objective.LEADS.TICKET_FIRST_RESPONSE, value: n },
    ],
    narrative: `submission ${n}`,
    ...extra,
  });

  describe('the workflow', () => {
    it('is on time at 23:59 Berlin on the due day (2nd working day after Sat 31 January: Tue 3 February)', async () => {
      const r = await headSales.at('2026-02-03T22:59:00Z').data(SubmitReportDocument, {
        input: { agreementId: salesCs, month: '2026-01', values: salesCsValues(1), narrative: 'January' },
      });
      expect(r.submitReport.userErrors).toEqual([]);
      expect(r.submitReport.report).toMatchObject({
        month: '2026-01',
        status: 'SUBMITTED',
        revisionCount: 1,
        dueDate: '2026-02-03',
        // Midnight at the end of the due day in Berlin (CET, UTC+1).
        dueAt: '2026-02-03T23:00:00.000Z',
        firstSubmittedAt: '2026-02-03T22:59:00.000Z',
        late: false,
        lateByWorkingDays: 0,
      });
    });

    it('is one working day late across a weekend (due Fri 2 October, submitted Mon 5 October)', async () => {
      const r = await headSales.at('2026-10-05T08:00:00Z').data(SubmitReportDocument, {
        input: { agreementId: salesCs, month: '2026-09', values: salesCsValues(1), narrative: 'September' },
      });
      expect(r.submitReport.report).toMatchObject({ dueDate: '2026-10-02', dueAt: '2026-10-02T22:00:00.000Z', late: true, lateByWorkingDays: 1 });
    });

    it('saves a draft, which changes no status and is checked for what it holds', async () => {
      const first = await headSales.data(SaveReportDraftDocument, {
        input: { agreementId: salesCs, month: '2026-03', values: [], narrative: 'March draft' },
      });
      expect(first.saveReportDraft.userErrors).toEqual([]);
      const report = first.saveReportDraft.report!;
      expect(report).toMatchObject({ status: 'DRAFT', revisionCount: 0, latestRevision: null, late: null, firstSubmittedAt: null });
      expect(report.draft).toEqual({ values: [], narrative: 'March draft', frictionItems: [] });
      // A second save needs the version read: no stale overwrite.
      const stale = await headSales.data(SaveReportDraftDocument, { input: { agreementId: salesCs, month: '2026-03', narrative: 'x' } });
      expect(stale.saveReportDraft.userErrors).toEqual([expect.objectContaining({ field: 'expectedVersion', code: 'REQUIRED' })]);
      const conflict = await headSales.data(SaveReportDraftDocument, { input: { agreementId: salesCs, month: '2026-03', narrative: 'x', expectedVersion: report.version + 5 } });
      expect(conflict.saveReportDraft.userErrors).toEqual([expect.objectContaining({ field: 'expectedVersion', code: 'CONFLICT' })]);
    });

    it('refuses a submission of the incomplete draft, naming what is missing', async () => {
      const r = await headSales.at('2026-04-07T08:00:00Z').data(SubmitReportDocument, { input: { agreementId: salesCs, month: '2026-03' } });
      expect(r.submitReport.userErrors).toEqual([
        {
          field: 'values',
          code: 'REQUIRED',
          message: `values: no value for objective HANDOVER_DAYS (objectiveId ${objective['SALES-CS'].HANDOVER_DAYS}); every MANUAL objective needs one`,
        },
      ]);
    });

    let reportId: string;
    let version: number;
    let firstRevision: string;
    const march = (): SubmitReportInput => ({
      agreementId: salesCs,
      month: '2026-03',
      values: salesCsValues(1.8),
      narrative: 'March: handovers on time',
      frictionItems: [{ category: 'ONBOARDING', description: 'Welcome e-mail arrived late', customersAffected: 12, severity: 'MEDIUM' }],
      idempotencyKey: 'march-1',
    });

    it('submits revision 1 late by one working day across Good Friday, a weekend and Easter Monday', async () => {
      // March ends Tue 31: working days Wed 1 (1st), Thu 2 (2nd: due); Fri 3 and Mon 6 are holidays.
      const r = await headSales.at('2026-04-07T08:00:00Z').data(SubmitReportDocument, { input: march() });
      expect(r.submitReport.userErrors).toEqual([]);
      const report = r.submitReport.report!;
      expect(report).toMatchObject({
        status: 'SUBMITTED',
        revisionCount: 1,
        dueDate: '2026-04-02',
        // Berlin is on summer time (UTC+2) since 29 March.
        dueAt: '2026-04-02T22:00:00.000Z',
        firstSubmittedAt: '2026-04-07T08:00:00.000Z',
        late: true,
        lateByWorkingDays: 1,
        draft: null,
      });
      expect(r.submitReport.revision).toMatchObject({
        number: 1,
        narrative: 'March: handovers on time',
        values: [{ value: 1.8, metric: { code: 'HANDOVER_DAYS' } }],
        frictionItems: [{ category: 'ONBOARDING', description: 'Welcome e-mail arrived late', customersAffected: 12, severity: 'MEDIUM' }],
      });
      reportId = report.id;
      version = report.version;
      firstRevision = r.submitReport.revision!.id;
    });

    it('replays the same idempotency key without writing, and refuses the key with another payload', async () => {
      const replay = await s.countStatements(() => headSales.at('2026-04-08T08:00:00Z').data(SubmitReportDocument, { input: march() }));
      const again = await headSales.data(SubmitReportDocument, { input: march() });
      expect(again.submitReport.revision?.id).toBe(firstRevision);
      expect(again.submitReport.report?.revisionCount).toBe(1);
      expect(replay).toBeLessThan(25);
      const other = await headSales.data(SubmitReportDocument, { input: { ...march(), narrative: 'other' } });
      expect(other.submitReport.userErrors).toEqual([expect.objectContaining({ field: 'idempotencyKey', code: 'IDEMPOTENCY_KEY_REUSED' })]);
    });

    it('lets only the customer side acknowledge or dispute, and a dispute needs a reason', async () => {
      const byProvider = await headSales.request(AcknowledgeReportDocument, { input: { reportId, revision: 1 } });
      expect(byProvider.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const byAnalyst = await analyst.request(DisputeReportDocument, { input: { reportId, revision: 1, reason: 'x' } });
      expect(byAnalyst.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      // Within the customer's acceptance window (5 working days from Tue 7 April: to the end of Tue 14 April).
      const cs = headCs.at('2026-04-08T10:00:00Z');
      const blank = await cs.data(DisputeReportDocument, { input: { reportId, revision: 1, reason: '   ' } });
      expect(blank.disputeReport.userErrors).toEqual([{ field: 'reason', code: 'REQUIRED', message: 'reason: expected some text, not only spaces' }]);
      const disputed = await cs.data(DisputeReportDocument, { input: { reportId, revision: 1, reason: 'Two handovers took 3 days' } });
      expect(disputed.disputeReport.userErrors).toEqual([]);
      expect(disputed.disputeReport.report).toMatchObject({ status: 'DISPUTED', latestRevision: { number: 1, disputeReason: 'Two handovers took 3 days' } });
      version = disputed.disputeReport.report!.version;
      const twice = await cs.data(AcknowledgeReportDocument, { input: { reportId, revision: 1 } });
      expect(twice.acknowledgeReport.userErrors).toEqual([expect.objectContaining({ field: 'reportId', code: 'ILLEGAL_TRANSITION' })]);
    });

    it('takes a corrected revision after the dispute; lateness stays that of the first submission', async () => {
      const r = await headSales.at('2026-04-09T08:00:00Z').data(SubmitReportDocument, {
        input: { ...march(), values: salesCsValues(2.4), narrative: 'Corrected: two handovers took 3 days', idempotencyKey: 'march-2' },
      });
      expect(r.submitReport.userErrors).toEqual([]);
      expect(r.submitReport.report).toMatchObject({ status: 'SUBMITTED', revisionCount: 2, lateByWorkingDays: 1, firstSubmittedAt: '2026-04-07T08:00:00.000Z' });
      const all = await s.data(ReportDocument, { id: reportId });
      expect(all.report.revisions.map((x) => [x.number, x.values[0].value, x.disputeReason])).toEqual([
        [1, 1.8, 'Two handovers took 3 days'],
        [2, 2.4, null],
      ]);
      expect(all.report.latestRevision?.number).toBe(2);
      version = all.report.version;
    });

    it('acknowledges the latest revision only, whatever drafts were saved meanwhile, and closes the report', async () => {
      // A draft saved after the submission does not hold the customer's verdict up.
      const draft = await headSales
        .at('2026-04-10T09:00:00Z')
        .data(SaveReportDraftDocument, { input: { agreementId: salesCs, month: '2026-03', narrative: 'Notes for next time', expectedVersion: version } });
      expect(draft.saveReportDraft.report).toMatchObject({ status: 'SUBMITTED', revisionCount: 2, draft: { narrative: 'Notes for next time' } });
      // Revision 2 came on Thu 9 April: its window runs to the end of Thu 16 April.
      const cs = headCs.at('2026-04-10T10:00:00Z');
      const stale = await cs.data(AcknowledgeReportDocument, { input: { reportId, revision: 1 } });
      expect(stale.acknowledgeReport.userErrors).toEqual([{ field: 'revision', code: 'CONFLICT', message: 'revision: expected the latest revision, 2, received 1; read the new revision first' }]);
      const ok = await cs.data(AcknowledgeReportDocument, { input: { reportId, revision: 2 } });
      expect(ok.acknowledgeReport.report).toMatchObject({ status: 'ACKNOWLEDGED', latestRevision: { number: 2, acknowledgedAt: expect.any(String) } });
      const after = await headSales.data(SubmitReportDocument, { input: { ...march(), idempotencyKey: 'march-3' } });
      expect(after.submitReport.userErrors).toEqual([expect.objectContaining({ field: 'month', code: 'ILLEGAL_TRANSITION' })]);
    });

    it('writes every transition to the audit log', async () => {
      const log = await s.data(AuditLogDocument, { first: 100, filter: { entityId: reportId } });
      // Newest first.
      const states = log.auditLog.edges.map((e) => [e.node.action, (e.node.after as { status?: string } | null)?.status]).reverse();
      expect(states).toEqual([
        ['create', 'DRAFT'],
        ['update', 'SUBMITTED'],
        ['update', 'DISPUTED'],
        ['update', 'SUBMITTED'],
        ['update', undefined],
        ['update', 'ACKNOWLEDGED'],
      ]);
      const revisions = await s.data(AuditLogDocument, { first: 100, filter: { entityType: 'ReportRevision' } });
      expect(revisions.auditLog.edges.filter((e) => e.node.action === 'create')).toHaveLength(4);
    });

    it('lists reports and finds a month by agreement', async () => {
      const list = await analyst.data(ReportsDocument, { filter: { agreementId: salesCs } });
      // At the real clock the customer's silence on January and September has long been an
      // acknowledgement (deemed); March was acknowledged by the customer.
      expect(list.reports.edges.map((e) => [e.node.month, e.node.status, e.node.deemedAcknowledged])).toEqual([
        ['2026-01', 'ACKNOWLEDGED', true],
        ['2026-03', 'ACKNOWLEDGED', false],
        ['2026-09', 'ACKNOWLEDGED', true],
      ]);
      const one = await analyst.data(AgreementReportDocument, { key: 'SALES-CS', month: '2026-03' });
      expect(one.agreement.report?.revisions).toHaveLength(2);
    });

    it('lists overdue agreement-months as of a time, with working days overdue', async () => {
      const r = await analyst.data(OverdueReportsDocument, { asOf: '2026-04-07T07:00:00Z' });
      const mine = r.overdueReports.filter((o) => o.agreement.key === 'SALES-CS');
      // 2026-01 was on time; 2026-03 was submitted an hour later; 2026-04 is not due yet.
      // 2026-02: due Tue 3 March; working days from Wed 4 March to Tue 7 April, without Good
      // Friday and Easter Monday: 3 + 5 + 5 + 5 + 2 (March) + 2 + 1 (April) = 23.
      expect(mine).toEqual([
        { agreement: { key: 'SALES-CS' }, month: '2026-02', dueDate: '2026-03-03', dueAt: '2026-03-03T23:00:00.000Z', workingDaysOverdue: 23 },
        { agreement: { key: 'SALES-CS' }, month: '2026-03', dueDate: '2026-04-02', dueAt: '2026-04-02T22:00:00.000Z', workingDaysOverdue: 1 },
      ]);
      const later = await analyst.data(OverdueReportsDocument, { asOf: '2026-04-07T09:00:00Z', from: '2026-03' });
      expect(later.overdueReports.filter((o) => o.agreement.key === 'SALES-CS')).toEqual([]);
    });
  });

  describe('validation', () => {
    const refused = async (input: SubmitReportInput, client: Client = headMkt) => (await client.data(SubmitReportDocument, { input })).submitReport;

    it('refuses a month that has not ended, the current one included (DESIGN §4 rule 0)', async () => {
      const r = await refused(leadsInput('2026-05', 500), headMkt.at('2026-04-15T10:00:00Z'));
      expect(r.userErrors).toEqual([{ field: 'month', code: 'INVALID', message: 'month: 2026-05 has not ended; it ends at 2026-06-01T00:00:00.000Z (UTC), and can be reported on from then' }]);
      const current = await refused(leadsInput('2026-04', 500), headMkt.at('2026-04-30T23:59:59Z'));
      expect(current.userErrors).toEqual([{ field: 'month', code: 'INVALID', message: 'month: 2026-04 has not ended; it ends at 2026-05-01T00:00:00.000Z (UTC), and can be reported on from then' }]);
      const draft = (await headMkt.at('2026-04-30T23:59:59Z').data(SaveReportDraftDocument, { input: { agreementId: leadsInput('2026-04', 500).agreementId, month: '2026-04', narrative: 'early' } }))
        .saveReportDraft;
      expect(draft.userErrors).toEqual([{ field: 'month', code: 'INVALID', message: 'month: 2026-04 has not ended; it ends at 2026-05-01T00:00:00.000Z (UTC), and can be reported on from then' }]);
    });

    it('refuses a month in which the agreement was not ACTIVE', async () => {
      const r = await refused(leadsInput('2025-12', 500));
      expect(r.userErrors).toEqual([{ field: 'month', code: 'INVALID', message: 'month: agreement LEADS was not ACTIVE in 2025-12' }]);
    });

    it('refuses months of a suspension that covered them', async () => {
      const created = await s.data(CreateAgreementDocument, {
        input: {
          key: 'IT-CS',
          tier: 'CUSTOMER',
          title: 'x',
          providerId: dept.IT,
          customerId: dept.CS,
          parentId: (await s.data(ReportableObjectivesDocument, { key: 'CHARTER', at: '2026-01' })).agreement.id,
          terms: { effectiveFrom: '2026-01' },
          objectives: [],
        },
      });
      let a = created.createAgreement.agreement!;
      const draft = await refused({ agreementId: a.id, month: '2026-02', values: [], narrative: 'x' }, s);
      expect(draft.userErrors).toEqual([{ field: 'month', code: 'INVALID', message: 'month: agreement IT-CS was not ACTIVE in 2026-02' }]);
      for (const party of ['PROVIDER', 'CUSTOMER'] as const)
        a = (await s.at('2026-01-05T00:00:00Z').data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, party } })).approveAgreement.agreement!;
      // Suspended on 1 March at 00:00 and still suspended: March is covered; February is not.
      a = (await s.at('2026-03-01T00:00:00Z').data(SuspendAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, reason: 'IT-CS is paused' } })).suspendAgreement.agreement!;
      expect((await refused({ agreementId: a.id, month: '2026-03', values: [], narrative: 'x' }, s)).userErrors).toEqual([
        { field: 'month', code: 'INVALID', message: 'month: agreement IT-CS was not ACTIVE in 2026-03' },
      ]);
      expect((await refused({ agreementId: a.id, month: '2026-02', values: [], narrative: 'x' }, s)).userErrors).toEqual([]);
    });

    it('does not hold a report due before the agreement asking for it was activated', async () => {
      const charter = (await s.data(ReportableObjectivesDocument, { key: 'CHARTER', at: '2026-01' })).agreement.id;
      const created = await s.data(CreateAgreementDocument, {
        input: {
          key: 'FIN-CS',
          tier: 'CUSTOMER',
          title: 'x',
          providerId: (await s.data(DepartmentDocument, { code: 'FIN' })).department.id,
          customerId: dept.CS,
          parentId: charter,
          terms: { effectiveFrom: '2026-01' },
          objectives: [],
        },
      });
      let a = created.createAgreement.agreement!;
      // Signed on Sunday 15 March for terms from January: January's report is due on the 5th
      // working day after the signing, Friday 20 March, not on 6 February.
      for (const party of ['PROVIDER', 'CUSTOMER'] as const)
        a = (await s.at('2026-03-15T12:00:00Z').data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, party } })).approveAgreement.agreement!;
      const overdue = await analyst.data(OverdueReportsDocument, { asOf: '2026-03-20T12:00:00Z' });
      expect(overdue.overdueReports.filter((o) => o.agreement.key === 'FIN-CS')).toEqual([]);
      const r = await s.at('2026-03-20T12:00:00Z').data(SubmitReportDocument, { input: { agreementId: a.id, month: '2026-01', values: [], narrative: 'x' } });
      expect(r.submitReport.report).toMatchObject({ dueDate: '2026-03-20', dueAt: '2026-03-21T00:00:00.000Z', late: false, lateByWorkingDays: 0 });
      const later = await analyst.data(OverdueReportsDocument, { asOf: '2026-03-23T00:00:00Z' });
      expect(later.overdueReports.filter((o) => o.agreement.key === 'FIN-CS').map((o) => [o.month, o.dueDate])).toEqual([['2026-02', '2026-03-20']]);
    });

    it('holds a unit to its own limits even where the catalog is looser', async () => {
      const m = await s.data(CreateMetricDocument, { input: { code: 'LOOSE_PCT', name: 'x', unit: 'PERCENT', direction: 'HIGHER_IS_BETTER', source: 'MANUAL', maxValue: 1000 } });
      const metricId = m.createMetric.metric!.id;
      const charter = (await s.data(ReportableObjectivesDocument, { key: 'CHARTER', at: '2026-01' })).agreement.id;
      const hr = (await s.data(DepartmentDocument, { code: 'HR' })).department.id;
      const id = (
        await s.data(CreateAgreementDocument, {
          input: { key: 'HR-CS', tier: 'CUSTOMER', title: 'x', providerId: hr, customerId: dept.CS, parentId: charter, terms: { effectiveFrom: '2026-01' }, objectives: [{ metricId, target: 50 }] },
        })
      ).createAgreement.agreement!;
      let a = id;
      for (const party of ['PROVIDER', 'CUSTOMER'] as const) a = (await s.data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, party } })).approveAgreement.agreement!;
      const objectiveId = (await objectivesOf('HR-CS', '2026-02')).LOOSE_PCT;
      const r = await s.data(SubmitReportDocument, { input: { agreementId: a.id, month: '2026-02', values: [{ objectiveId, value: 150 }], narrative: 'x' } });
      expect(r.submitReport.userErrors).toEqual([{ field: 'values[0].value', code: 'INVALID', message: 'value: expected LOOSE_PCT (PERCENT) from 0 to 100, received 150' }]);
    });

    it('refuses CORPORATE agreements, which are roll-ups', async () => {
      const charter = (await s.data(ReportableObjectivesDocument, { key: 'CHARTER', at: '2026-01' })).agreement.id;
      const r = await refused({ agreementId: charter, month: '2026-02', values: [], narrative: 'x' }, s);
      expect(r.userErrors).toEqual([{ field: 'agreementId', code: 'INVALID', message: 'agreement CHARTER is CORPORATE: its results are roll-ups of the agreements under it, which are reported on' }]);
    });

    it('needs exactly one value per manual objective', async () => {
      const missing = await refused({ ...leadsInput('2026-04', 500), values: leadsInput('2026-04', 500).values!.slice(0, 2) });
      expect(missing.userErrors).toEqual([
        { field: 'values', code: 'REQUIRED', message: `values: no value for objective TICKET_FIRST_RESPONSE (objectiveId ${objective.LEADS.TICKET_FIRST_RESPONSE}); every MANUAL objective needs one` },
      ]);
      const values = leadsInput('2026-04', 500).values!;
      const twice = await refused({ ...leadsInput('2026-04', 500), values: [...values, values[0]] });
      expect(twice.userErrors).toEqual([{ field: 'values[3].objectiveId', code: 'INVALID', message: 'objective QUALIFIED_LEADS has a value already; one value per objective' }]);
    });

    it('refuses values outside the metric bounds, naming the path', async () => {
      const values = [
        { objectiveId: objective.LEADS.QUALIFIED_LEADS, value: 10.5 },
        { objectiveId: objective.LEADS.STATEMENT_ACCURACY, value: 100.5 },
        { objectiveId: objective.LEADS.TICKET_FIRST_RESPONSE, value: -1 },
      ];
      const r = await refused({ ...leadsInput('2026-04', 1), values });
      expect(r.userErrors).toEqual([
        { field: 'values[0].value', code: 'INVALID', message: 'value: QUALIFIED_LEADS (COUNT) takes whole numbers, received 10.5' },
        { field: 'values[1].value', code: 'INVALID', message: 'value: expected STATEMENT_ACCURACY (PERCENT) from 0 to 100, received 100.5' },
        { field: 'values[2].value', code: 'INVALID', message: 'value: expected TICKET_FIRST_RESPONSE (HOURS) from 0 to ∞, received -1' },
      ]);
      const negativeCount = await refused({
        ...leadsInput('2026-04', 1),
        values: [{ ...values[0], value: -3 }, values[1], { ...values[2], value: 1 }].map((v, i) => (i === 1 ? { ...v, value: 50 } : v)),
      });
      expect(negativeCount.userErrors).toEqual([{ field: 'values[0].value', code: 'INVALID', message: 'value: expected QUALIFIED_LEADS (COUNT) from 0 to ∞, received -3' }]);
    });

    it('refuses a non-finite value before it reaches the service', async () => {
      // JSON has no Infinity: 1e999 parses to it, and GraphQL's Float refuses it at coercion.
      const body = JSON.stringify({ query: 'mutation($input: SubmitReportInput!) { submitReport(input: $input) { userErrors { field } } }', variables: { input: leadsInput('2026-04', 1) } }).replace(
        '"value":1}',
        '"value":1e999}',
      );
      const res = await fetch(`${s.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.adminToken}` }, body });
      const json = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      expect(json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(json.errors[0].message).toMatch(/input\.values\[0\]\.value.*Float cannot represent non numeric value: Infinity/);
    });

    it('refuses objectives not in the version in force, and automated ones', async () => {
      const values = leadsInput('2026-04', 500).values!;
      const r = await refused({
        ...leadsInput('2026-04', 500),
        values: [...values, { objectiveId: objective['SALES-CS'].HANDOVER_DAYS, value: 1 }, { objectiveId: objective.LEADS.REPORT_DAYS_LATE, value: 0 }],
      });
      expect(r.userErrors).toEqual([
        {
          field: 'values[3].objectiveId',
          code: 'INVALID',
          message: `objective ${objective['SALES-CS'].HANDOVER_DAYS} is not in force for LEADS in 2026-04 (version 1); read effectiveObjectives(at: "2026-04")`,
        },
        { field: 'values[4].objectiveId', code: 'INVALID', message: 'objective REPORT_DAYS_LATE is measured automatically (AUTOMATED metric); reports do not carry it' },
      ]);
    });

    it('takes friction items only where a friction objective is in force, and checks each', async () => {
      const none = await refused({ ...leadsInput('2026-04', 500), frictionItems: [{ category: 'BILLING', description: 'x', customersAffected: 1, severity: 'LOW' }] });
      expect(none.userErrors).toEqual([{ field: 'frictionItems', code: 'INVALID', message: 'frictionItems: LEADS carries no customer-friction objective in 2026-04' }]);
      const bad = await refused(
        { agreementId: salesCs, month: '2026-04', values: salesCsValues(1), narrative: 'x', frictionItems: [{ category: 'BILLING', description: ' ', customersAffected: -2, severity: 'LOW' }] },
        headSales,
      );
      expect(bad.userErrors).toEqual([
        { field: 'frictionItems[0].description', code: 'REQUIRED', message: 'description: expected some text, not only spaces' },
        { field: 'frictionItems[0].customersAffected', code: 'INVALID', message: 'customersAffected: expected 0 or more' },
      ]);
    });

    it('needs a narrative', async () => {
      const r = await refused({ ...leadsInput('2026-04', 500), narrative: '  ' });
      expect(r.userErrors).toEqual([{ field: 'narrative', code: 'REQUIRED', message: 'narrative: expected some text, not only spaces' }]);
    });

    it('lets only the provider side submit', async () => {
      for (const client of [headSales, analyst]) {
        const r = await client.request(SubmitReportDocument, { input: leadsInput('2026-04', 500) });
        expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      }
    });
  });

  describe('exclusions', () => {
    let breachId: string;

    it('excuses only BREACHED or NO_DATA objective-months', async () => {
      // January (due Fri 6 February on the UTC calendar): 350 leads breaches 400; the rest is met.
      const sub = await headMkt.at('2026-02-05T10:00:00Z').data(SubmitReportDocument, {
        input: {
          ...leadsInput('2026-01', 350),
          values: [
            { objectiveId: objective.LEADS.QUALIFIED_LEADS, value: 350 },
            { objectiveId: objective.LEADS.STATEMENT_ACCURACY, value: 99 },
            { objectiveId: objective.LEADS.TICKET_FIRST_RESPONSE, value: 5 },
          ],
        },
      });
      expect(sub.submitReport.userErrors).toEqual([]);
      const met = await headMkt.at('2026-02-10T00:00:00Z').data(RequestExclusionDocument, {
        input: { agreementId: leads, month: '2026-01', objectiveId: objective.LEADS.STATEMENT_ACCURACY, reasonCode: 'DATA_ERROR', explanation: 'x' },
      });
      expect(met.requestExclusion.userErrors).toEqual([
        { field: 'objectiveId', code: 'INVALID', message: 'objective STATEMENT_ACCURACY of LEADS is MET in 2026-01; only BREACHED or NO_DATA objective-months can be excused' },
      ]);
      const breach = await headMkt.at('2026-02-10T00:00:00Z').data(RequestExclusionDocument, {
        input: {
          agreementId: leads,
          month: '2026-01',
          objectiveId: objective.LEADS.QUALIFIED_LEADS,
          reasonCode: 'CUSTOMER_DEPENDENCY',
          explanation: 'Sales froze campaigns for two weeks',
          evidenceUrl: 'https://wiki.example/freeze',
        },
      });
      expect(breach.requestExclusion.userErrors).toEqual([]);
      expect(breach.requestExclusion.exclusion).toMatchObject({
        status: 'REQUESTED',
        statusWhenRequested: 'BREACHED',
        reasonCode: 'CUSTOMER_DEPENDENCY',
        evidenceUrl: 'https://wiki.example/freeze',
        metric: { code: 'QUALIFIED_LEADS' },
      });
      breachId = breach.requestExclusion.exclusion!.id;
      const again = await headMkt.at('2026-02-10T00:00:00Z').data(RequestExclusionDocument, {
        input: { agreementId: leads, month: '2026-01', objectiveId: objective.LEADS.QUALIFIED_LEADS, reasonCode: 'OTHER', explanation: 'again' },
      });
      expect(again.requestExclusion.userErrors).toEqual([expect.objectContaining({ field: 'objectiveId', code: 'TAKEN' })]);
    });

    it('is PENDING before the due date and NO_DATA after it', async () => {
      const input = { agreementId: leads, month: '2026-02', objectiveId: objective.LEADS.TICKET_FIRST_RESPONSE, reasonCode: 'PLANNED_MAINTENANCE' as const, explanation: 'Ticketing migration' };
      // February ends Sat 28: due on the 5th working day, Fri 6 March (UTC calendar).
      const early = await headMkt.at('2026-03-06T23:59:59Z').data(RequestExclusionDocument, { input });
      expect(early.requestExclusion.userErrors).toEqual([expect.objectContaining({ field: 'objectiveId', code: 'INVALID', message: expect.stringContaining('is PENDING in 2026-02') })]);
      const late = await headMkt.at('2026-03-07T00:00:01Z').data(RequestExclusionDocument, { input });
      expect(late.requestExclusion.exclusion).toMatchObject({ status: 'REQUESTED', statusWhenRequested: 'NO_DATA' });
      const decision = { exclusionId: late.requestExclusion.exclusion!.id, expectedVersion: late.requestExclusion.exclusion!.version };
      const byProvider = await headMkt.request(ApproveExclusionDocument, { input: decision });
      expect(byProvider.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const approved = await headSales.data(ApproveExclusionDocument, { input: { ...decision, note: 'Agreed maintenance' } });
      expect(approved.approveExclusion.exclusion).toMatchObject({ status: 'APPROVED', decisionNote: 'Agreed maintenance', decidedAt: expect.any(String) });
      const twice = await headSales.data(RejectExclusionDocument, { input: { ...decision, expectedVersion: approved.approveExclusion.exclusion!.version, note: 'no' } });
      expect(twice.rejectExclusion.userErrors).toEqual([expect.objectContaining({ field: 'exclusionId', code: 'ILLEGAL_TRANSITION' })]);
    });

    it('rejects with a note only, after which the provider may ask again', async () => {
      const noNote = await headSales.data(RejectExclusionDocument, { input: { exclusionId: breachId, expectedVersion: 1 } });
      expect(noNote.rejectExclusion.userErrors).toEqual([{ field: 'note', code: 'REQUIRED', message: 'note: a rejection says why' }]);
      const rejected = await headSales.data(RejectExclusionDocument, { input: { exclusionId: breachId, expectedVersion: 1, note: 'The freeze was announced in December' } });
      expect(rejected.rejectExclusion.exclusion).toMatchObject({ status: 'REJECTED', decisionNote: 'The freeze was announced in December' });
      const again = await headMkt.at('2026-02-12T00:00:00Z').data(RequestExclusionDocument, {
        input: { agreementId: leads, month: '2026-01', objectiveId: objective.LEADS.QUALIFIED_LEADS, reasonCode: 'OTHER', explanation: 'New evidence' },
      });
      expect(again.requestExclusion.userErrors).toEqual([]);
      const list = await analyst.data(ExclusionsDocument, { filter: { agreementId: leads } });
      expect(list.exclusions.edges.map((e) => [e.node.month, e.node.metric.code, e.node.status])).toEqual(
        expect.arrayContaining([
          ['2026-01', 'QUALIFIED_LEADS', 'REJECTED'],
          ['2026-01', 'QUALIFIED_LEADS', 'REQUESTED'],
          ['2026-02', 'TICKET_FIRST_RESPONSE', 'APPROVED'],
        ]),
      );
      expect(list.exclusions.totalCount).toBe(3);
    });

    it('scores automated objectives as the scorecards do: an on-time report is MET, not excusable', async () => {
      const r = await headSales.at('2026-03-01T00:00:00Z').data(RequestExclusionDocument, {
        input: { agreementId: salesCs, month: '2026-01', objectiveId: objective['SALES-CS'].REPORT_DAYS_LATE, reasonCode: 'OTHER', explanation: 'x' },
      });
      expect(r.requestExclusion.userErrors).toEqual([
        { field: 'objectiveId', code: 'INVALID', message: 'objective REPORT_DAYS_LATE of SALES-CS is MET in 2026-01; only BREACHED or NO_DATA objective-months can be excused' },
      ]);
    });

    it('needs an explanation and a proper evidence link', async () => {
      const r = await headMkt.data(RequestExclusionDocument, {
        input: { agreementId: leads, month: '2026-01', objectiveId: objective.LEADS.TICKET_FIRST_RESPONSE, reasonCode: 'OTHER', explanation: ' ', evidenceUrl: 'ftp://x' },
      });
      expect(r.requestExclusion.userErrors).toEqual([
        { field: 'explanation', code: 'REQUIRED', message: 'explanation: expected some text, not only spaces' },
        { field: 'evidenceUrl', code: 'INVALID', message: 'evidenceUrl: expected an http(s) URL' },
      ]);
    });
  });

  describe('batching', () => {
    it('submits with the terms read once for its checks and its ledger upkeep, in a bounded number of statements', async () => {
      // LEADS sits under CHARTER: its effective objectives come from a chain of two versions. The
      // terms (agreements, versions, objectives, metrics) are read once, level by level batched, and
      // the ledger sync at the end of the transaction finds them in the write's loaders (38 statements before).
      const query = 'mutation($input: SubmitReportInput!) { submitReport(input: $input) { revision { number } userErrors { field } } }';
      let reply: { data?: { submitReport: { revision: { number: number } | null; userErrors: unknown[] } } } = {};
      const statements = await s.countStatements(async () => {
        const res = await fetch(`${s.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${s.adminToken}` },
          body: JSON.stringify({ query, variables: { input: leadsInput('2026-07', 7) } }),
        });
        reply = (await res.json()) as typeof reply;
      });
      expect(reply.data?.submitReport).toEqual({ revision: { number: 1 }, userErrors: [] });
      expect(statements).toBeLessThanOrEqual(engine === 'postgresql' ? 28 : 26);
    });
  });

  describe('concurrency', () => {
    it('turns 50 concurrent submissions for one agreement-month into 50 whole revisions', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => headMkt.data(SubmitReportDocument, { input: leadsInput('2026-05', 1000 + i) })));
      for (const r of results) expect(r.submitReport.userErrors).toEqual([]);
      const report = await s.data(AgreementReportDocument, { key: 'LEADS', month: '2026-05' });
      const revisions = report.agreement.report!.revisions;
      expect(revisions.map((r) => r.number)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      // Whole: every revision's values and narrative come from one submission.
      for (const r of revisions) {
        const n = Number(r.narrative.replace('submission ', ''));
        expect(r.values.map((v) => v.value)).toEqual([n, n % 101, n]);
      }
      expect(new Set(revisions.map((r) => r.narrative)).size).toBe(50);
      expect(report.agreement.report!.revisionCount).toBe(50);
    });

    it('turns 50 concurrent replays of one key into exactly one revision', async () => {
      const input = leadsInput('2026-06', 777, { idempotencyKey: 'june-once' });
      const results = await Promise.all(Array.from({ length: 50 }, () => headMkt.data(SubmitReportDocument, { input })));
      const ids = new Set(results.map((r) => r.submitReport.revision?.id));
      expect(results.every((r) => r.submitReport.userErrors.length === 0)).toBe(true);
      expect(ids.size).toBe(1);
      const report = await s.data(AgreementReportDocument, { key: 'LEADS', month: '2026-06' });
      expect(report.agreement.report!.revisions).toHaveLength(1);
    });
  });
});

describe.each(engines())('demo reports on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
  });
  afterAll(async () => {
    await s?.close();
  });
  const now = new Date();
  const month = (i: number) => addMonths(monthOf(now), i - 12);

  it('has twelve months of reports for each reported agreement, but one Finance never sent', async () => {
    const r = await s.data(ReportSummariesDocument, { first: 500 });
    const byKey = new Map<string, string[]>();
    for (const e of r.reports.edges) byKey.set(e.node.agreement.key, [...(byKey.get(e.node.agreement.key) ?? []), e.node.month]);
    const all = Array.from({ length: 12 }, (_, i) => month(i));
    expect(Object.fromEntries([...byKey].sort())).toEqual({
      'FIN-SALES': all.filter((_, i) => i !== 9),
      'IT-MKT': all,
      'IT-SALES-CRM': all,
      'MKT-SALES': all,
      'SALES-CS': all,
    });
    // The last month's reports were never answered by the customers: their acceptance windows
    // have passed, so they are deemed acknowledged; earlier ones were acknowledged.
    expect(r.reports.edges.filter((e) => e.node.status !== 'ACKNOWLEDGED')).toEqual([]);
    expect(r.reports.edges.filter((e) => e.node.deemedAcknowledged).map((e) => e.node.month)).toEqual(Array(5).fill(month(11)));
    expect(r.reports.edges.filter((e) => e.node.late).map((e) => [e.node.agreement.key, e.node.month, e.node.lateByWorkingDays])).toEqual([['IT-MKT', month(3), 3]]);
  });

  it('has a disputed report and its corrected revision', async () => {
    const r = await s.data(AgreementReportDocument, { key: 'SALES-CS', month: month(5) });
    expect(r.agreement.report).toMatchObject({ status: 'ACKNOWLEDGED', revisionCount: 2 });
    expect(r.agreement.report!.revisions.map((x) => [x.number, x.values.find((v) => v.metric.code === 'HANDOVER_DAYS')?.value, x.disputeReason])).toEqual([
      [1, 1.2, 'Three handovers in week 2 took three days; the CRM timestamps show it.'],
      [2, 1.9, null],
    ]);
  });

  it('has an approved and a rejected exclusion', async () => {
    const r = await s.data(ExclusionsDocument, {});
    expect(r.exclusions.edges.map((e) => [e.node.agreement.key, e.node.month, e.node.metric.code, e.node.status]).sort()).toEqual([
      ['IT-SALES-CRM', month(8), 'SYSTEM_AVAILABILITY', 'APPROVED'],
      ['SALES-CS', month(2), 'HANDOVER_DAYS', 'REJECTED'],
    ]);
  });

  it('lists the missing Finance report as overdue', async () => {
    const r = await s.data(OverdueReportsDocument, {});
    expect(r.overdueReports.filter((o) => o.month !== monthOf(now) && o.month !== month(11)).map((o) => [o.agreement.key, o.month])).toEqual([['FIN-SALES', month(9)]]);
  });
});
