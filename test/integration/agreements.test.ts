import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgreementDocument,
  AgreementHistoryDocument,
  AgreementLifecycleDocument,
  ApproveLifecycleRequestDocument,
  AgreementsDocument,
  ApproveAmendmentDocument,
  ProposeAmendmentDocument,
  RejectAmendmentDocument,
  WithdrawAmendmentDocument,
  ApproveAgreementDocument,
  CreateAgreementDocument,
  type CreateAgreementInput,
  CreateDepartmentDocument,
  DepartmentAgreementsDocument,
  DepartmentDocument,
  MetricDocument,
  ResumeAgreementDocument,
  ServiceDocument,
  SuspendAgreementDocument,
  TerminateAgreementDocument,
} from '../generated/graphql';
import { addMonths, monthOf } from '../../src/common/month';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

// Amendments start no earlier than the current month, so their months follow the clock.
const M0 = monthOf(new Date());
const M1 = addMonths(monthOf(new Date()), 1);
const M2 = addMonths(monthOf(new Date()), 2);
const M3 = addMonths(monthOf(new Date()), 3);
const BUSINESS_WEEK = { timeZone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], dayStart: '09:00', dayEnd: '17:00' };

describe.each(engines())('multi-tier agreements on %s', (engine) => {
  let s: TestServer;
  let headIt: Client;
  let headSales: Client;
  let headMkt: Client;
  let analyst: Client;
  const dept: Record<string, string> = {};
  const metric: Record<string, string> = {};
  let crm: string;
  let helpdesk: string;
  let charter: { id: string; version: number };

  const create = async (client: Client, input: CreateAgreementInput) => (await client.data(CreateAgreementDocument, { input })).createAgreement;
  const ok = async (client: Client, input: CreateAgreementInput) => {
    const r = await create(client, input);
    expect(r.userErrors).toEqual([]);
    return r.agreement!;
  };

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    headIt = s.as(await s.tokenFor(Role.HEAD, 'IT'));
    headSales = s.as(await s.tokenFor(Role.HEAD, 'SALES'));
    headMkt = s.as(await s.tokenFor(Role.HEAD, 'MKT'));
    analyst = s.as(await s.tokenFor(Role.ANALYST));
    for (const code of ['IT', 'SALES', 'MKT', 'CS']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
    for (const code of ['ESCALATION_RESPONSE_P90', 'REPORT_DAYS_LATE', 'SYSTEM_AVAILABILITY', 'MTTR', 'HANDOFF_ACCEPTANCE_RATE']) {
      metric[code] = (await s.data(MetricDocument, { code })).metric.id;
    }
    crm = (await s.data(ServiceDocument, { code: 'CRM' })).service.id;
    helpdesk = (await s.data(ServiceDocument, { code: 'LEAD-GEN' })).service.id;
    const c = await ok(s, {
      key: 'charter',
      tier: 'CORPORATE',
      title: 'Corporate charter',
      terms: { effectiveFrom: '2026-01', complianceTarget: 0.95 },
      objectives: [
        { metricId: metric.ESCALATION_RESPONSE_P90, target: 8 },
        { metricId: metric.REPORT_DAYS_LATE, target: 0 },
        { metricId: metric.SYSTEM_AVAILABILITY, target: 99.5, inheritance: 'MINIMUM' },
      ],
    });
    expect(c).toMatchObject({ key: 'CHARTER', tier: 'CORPORATE', status: 'DRAFT', provider: null, parent: null });
    const active = await s.data(ApproveAgreementDocument, { input: { id: c.id, expectedVersion: c.lockVersion } });
    expect(active.approveAgreement.agreement?.status).toBe('ACTIVE');
    charter = { id: c.id, version: active.approveAgreement.agreement!.lockVersion };
  });
  afterAll(async () => {
    await s?.close();
  });

  it('walks CORPORATE → CUSTOMER → SERVICE with inheritance: own, then APPLIES of ancestors; the lower level wins; MINIMUM not measured', async () => {
    const itSales = await ok(headIt, {
      key: 'IT-SALES',
      tier: 'CUSTOMER',
      title: 'IT for Sales',
      providerId: dept.IT,
      customerId: dept.SALES,
      parentId: charter.id,
      terms: {
        effectiveFrom: '2026-01',
        monthlyCharge: 20000,
        creditCapPercent: 10,
        responsibilities: [{ party: 'CUSTOMER', description: 'Report CRM incidents through the helpdesk' }],
        contacts: [{ party: 'PROVIDER', name: 'Ivo IT', email: 'IVO@it.example', role: 'service owner' }],
        calendar: { timeZone: 'Europe/Berlin', workingDays: [5, 1, 2, 3, 4], dayStart: '08:00', dayEnd: '18:00', holidays: ['2026-12-25', '2026-01-01'] },
      },
      objectives: [{ metricId: metric.ESCALATION_RESPONSE_P90, target: 4, weight: 2, creditPercent: 5 }],
    });
    const crmAgreement = await ok(headIt, {
      key: 'IT-SALES-CRM',
      tier: 'SERVICE',
      title: 'CRM platform for Sales',
      providerId: dept.IT,
      customerId: dept.SALES,
      serviceId: crm,
      parentId: itSales.id,
      terms: { effectiveFrom: '2026-01' },
      objectives: [
        { metricId: metric.SYSTEM_AVAILABILITY, target: 99.9, warning: 99.95, creditPercent: 10 },
        { metricId: metric.MTTR, target: 4 },
      ],
    });
    const r = await s.data(AgreementDocument, { key: 'it-sales-crm', at: '2026-06' });
    expect(r.agreement.effectiveObjectives.map((o) => [o.metric.code, o.target, o.inheritedFrom?.key ?? null])).toEqual([
      ['SYSTEM_AVAILABILITY', 99.9, null],
      ['MTTR', 4, null],
      ['ESCALATION_RESPONSE_P90', 4, 'IT-SALES'],
      ['REPORT_DAYS_LATE', 0, 'CHARTER'],
    ]);
    expect(r.agreement.version).toEqual({ number: 1 });
    expect((await s.data(AgreementDocument, { key: 'IT-SALES-CRM', at: '2025-12' })).agreement.version).toBeNull();
    const parentView = await s.data(AgreementDocument, { id: itSales.id, at: '2026-06' });
    expect(parentView.agreement.children).toEqual([{ key: 'IT-SALES-CRM' }]);
    const v1 = parentView.agreement.versions[0];
    expect(v1).toMatchObject({
      number: 1,
      effectiveMonth: '2026-01',
      effectiveFrom: '2026-01',
      effectiveTo: null,
      complianceTarget: 0.9,
      monthlyCharge: 20000,
      creditCapPercent: 10,
      reportDueWorkingDays: 5,
      reviewCadenceMonths: 12,
      contacts: [{ party: 'PROVIDER', name: 'Ivo IT', email: 'ivo@it.example', role: 'service owner' }],
      escalationPolicy: { CRITICAL: { responseHours: 1, resolutionHours: 8 }, LOW: { responseHours: 16, resolutionHours: 80 } },
      calendar: { timeZone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], dayStart: '08:00', dayEnd: '18:00', holidays: ['2026-01-01', '2026-12-25'] },
      objectives: [{ metric: { code: 'ESCALATION_RESPONSE_P90' }, target: 4, warning: null, weight: 2, creditPercent: 5, inheritance: 'APPLIES' }],
    });
    expect(crmAgreement).toMatchObject({ provider: { code: 'IT' }, customer: { code: 'SALES' }, service: { code: 'CRM' }, parent: { key: 'IT-SALES' } });
    const it = await s.data(DepartmentAgreementsDocument, { code: 'IT' });
    expect(it.department.providedAgreements.map((a) => a.key)).toEqual(['IT-SALES', 'IT-SALES-CRM']);
    const sales = await s.data(DepartmentAgreementsDocument, { code: 'SALES' });
    expect(sales.department.receivedAgreements.map((a) => a.key)).toEqual(['IT-SALES', 'IT-SALES-CRM']);
  });

  it('refuses an objective looser than one it inherits (APPLIES override or under a MINIMUM), naming both agreements and the metric', async () => {
    const parent = (await s.data(AgreementDocument, { key: 'IT-SALES', at: '2026-06' })).agreement;
    const r = await create(headIt, {
      key: 'IT-SALES-LOOSE',
      tier: 'SERVICE',
      title: 'Too loose',
      providerId: dept.IT,
      customerId: dept.SALES,
      serviceId: crm,
      parentId: parent.id,
      terms: { effectiveFrom: '2026-02' },
      objectives: [
        { metricId: metric.MTTR, target: 4 },
        { metricId: metric.SYSTEM_AVAILABILITY, target: 99.0 },
        { metricId: metric.ESCALATION_RESPONSE_P90, target: 6 },
      ],
    });
    expect(r.agreement).toBeNull();
    expect(r.userErrors).toEqual([
      { field: 'objectives[1].target', code: 'LOOSENS', message: 'IT-SALES-LOOSE sets SYSTEM_AVAILABILITY to 99, looser than 99.5 in CHARTER; an objective may only tighten what it inherits' },
      { field: 'objectives[2].target', code: 'LOOSENS', message: 'IT-SALES-LOOSE sets ESCALATION_RESPONSE_P90 to 6, looser than 4 in IT-SALES; an objective may only tighten what it inherits' },
    ]);
  });

  it('checks tiers, parties, services and parents, each refusal on its field', async () => {
    const corpWithParty = await create(s, { key: 'BAD-1', tier: 'CORPORATE', title: 'x', providerId: dept.IT, terms: { effectiveFrom: '2026-01' }, objectives: [] });
    expect(corpWithParty.userErrors).toEqual([{ field: 'providerId', code: 'INVALID', message: 'providerId: a CORPORATE agreement binds every department; leave it out' }]);
    const noParties = await create(s, { key: 'BAD-2', tier: 'CUSTOMER', title: 'x', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    expect(noParties.userErrors.map((e) => [e.field, e.code])).toEqual([
      ['providerId', 'REQUIRED'],
      ['customerId', 'REQUIRED'],
      ['parentId', 'REQUIRED'],
    ]);
    const self = await create(s, { key: 'BAD-3', tier: 'CUSTOMER', title: 'x', providerId: dept.IT, customerId: dept.IT, parentId: charter.id, terms: { effectiveFrom: '2026-01' }, objectives: [] });
    expect(self.userErrors).toEqual([{ field: 'customerId', code: 'INVALID', message: 'customerId: the customer must be another department than the provider' }]);
    const itSales = (await s.data(AgreementDocument, { key: 'IT-SALES', at: '2026-01' })).agreement;
    const wrongService = await create(s, {
      key: 'BAD-4',
      tier: 'SERVICE',
      title: 'x',
      providerId: dept.IT,
      customerId: dept.SALES,
      serviceId: helpdesk,
      parentId: itSales.id,
      terms: { effectiveFrom: '2026-01' },
      objectives: [],
    });
    expect(wrongService.userErrors).toEqual([{ field: 'serviceId', code: 'INVALID', message: 'serviceId: service LEAD-GEN is not provided by IT' }]);
    const wrongParent = await create(s, {
      key: 'BAD-5',
      tier: 'SERVICE',
      title: 'x',
      providerId: dept.IT,
      customerId: dept.MKT,
      serviceId: crm,
      parentId: itSales.id,
      terms: { effectiveFrom: '2026-01' },
      objectives: [],
    });
    expect(wrongParent.userErrors[0]).toMatchObject({ field: 'parentId', code: 'INVALID' });
    const customerUnderCustomer = await create(s, {
      key: 'BAD-6',
      tier: 'CUSTOMER',
      title: 'x',
      providerId: dept.IT,
      customerId: dept.MKT,
      parentId: itSales.id,
      terms: { effectiveFrom: '2026-01' },
      objectives: [],
    });
    expect(customerUnderCustomer.userErrors[0]).toEqual({ field: 'parentId', code: 'INVALID', message: 'parentId: a CUSTOMER agreement sits under a CORPORATE agreement; IT-SALES is CUSTOMER' });
    const taken = await create(s, { key: 'it-sales', tier: 'CORPORATE', title: 'x', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    expect(taken.userErrors).toEqual([{ field: 'key', code: 'TAKEN', message: 'agreement key IT-SALES is already taken' }]);
  });

  it('validates terms and objectives with field paths', async () => {
    const r = await create(s, {
      key: 'BAD-TERMS',
      tier: 'CORPORATE',
      title: 'x',
      terms: {
        effectiveFrom: '2026-05',
        effectiveTo: '2026-04',
        complianceTarget: 1.5,
        creditCapPercent: 101,
        calendar: { timeZone: 'Mars/Olympus', workingDays: [], dayStart: '18:00', dayEnd: '09:00', holidays: [] },
        escalationPolicy: {
          CRITICAL: { responseHours: 2, resolutionHours: 1 },
          HIGH: { responseHours: 4, resolutionHours: 24 },
          MEDIUM: { responseHours: 8, resolutionHours: 40 },
          LOW: { responseHours: 16, resolutionHours: 80 },
        },
      },
      objectives: [
        { metricId: metric.SYSTEM_AVAILABILITY, target: 99.9, warning: 99.0 },
        { metricId: metric.MTTR, target: -1, weight: 0, creditPercent: 120 },
      ],
    });
    expect(r.userErrors.map((e) => e.field).sort()).toEqual(['objectives[1].creditPercent', 'objectives[1].weight', 'terms.complianceTarget', 'terms.creditCapPercent']);
    // Holidays are `Date`s (DESIGN §7): a day that does not exist is refused by the schema, before any rule runs.
    const input = { key: 'BAD-DATE', tier: 'CORPORATE' as const, title: 'x', terms: { effectiveFrom: '2026-05', calendar: { ...BUSINESS_WEEK, holidays: ['2026-02-30'] } }, objectives: [] };
    const badDate = await s.request(CreateAgreementDocument, { input });
    expect(badDate.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(badDate.errors?.[0].message).toContain('Date: expected a calendar date as "YYYY-MM-DD", received "2026-02-30"');
    const tooLate = await s.request(CreateAgreementDocument, { input: { ...input, terms: { ...input.terms, calendar: { ...BUSINESS_WEEK, holidays: ['2100-01-01'] } } } });
    expect(tooLate.errors?.[0].message).toContain('Date: expected a date from 2000-01-01 to 2099-12-31, received "2100-01-01"');
    // Field rules first; with those fixed, the cross-field rules speak.
    const r2 = await create(s, {
      key: 'BAD-TERMS',
      tier: 'CORPORATE',
      title: 'x',
      terms: {
        effectiveFrom: '2026-05',
        effectiveTo: '2026-04',
        calendar: { timeZone: 'Mars/Olympus', workingDays: [], dayStart: '18:00', dayEnd: '09:00', holidays: [] },
        escalationPolicy: {
          CRITICAL: { responseHours: 2, resolutionHours: 1 },
          HIGH: { responseHours: 4, resolutionHours: 24 },
          MEDIUM: { responseHours: 8, resolutionHours: 40 },
          LOW: { responseHours: 16, resolutionHours: 80 },
        },
      },
      objectives: [],
    });
    expect(r2.userErrors.map((e) => e.field)).toEqual([
      'terms.effectiveTo',
      'terms.calendar.timeZone',
      'terms.calendar.workingDays',
      'terms.calendar.dayEnd',
      'terms.escalationPolicy.CRITICAL.resolutionHours',
    ]);
    const r3 = await create(s, {
      key: 'BAD-OBJ',
      tier: 'CORPORATE',
      title: 'x',
      terms: { effectiveFrom: '2026-05' },
      objectives: [
        { metricId: metric.SYSTEM_AVAILABILITY, target: 99.9, warning: 99.0 },
        { metricId: metric.MTTR, target: -1 },
        { metricId: metric.MTTR, target: 2, warning: 3 },
        { metricId: '00000000-0000-4000-8000-000000000009', target: 1 },
      ],
    });
    expect(r3.userErrors).toEqual([
      { field: 'objectives[0].warning', code: 'INVALID', message: 'warning: SYSTEM_AVAILABILITY is HIGHER_IS_BETTER, so the warning must be at or above the target 99.9; received 99' },
      { field: 'objectives[1].target', code: 'INVALID', message: 'target: expected a value of MTTR from 0 to ∞, received -1' },
      { field: 'objectives[2].metricId', code: 'INVALID', message: 'metric MTTR appears twice; one objective per metric' },
      { field: 'objectives[2].warning', code: 'INVALID', message: 'warning: MTTR is LOWER_IS_BETTER, so the warning must be at or below the target 2; received 3' },
      { field: 'objectives[3].metricId', code: 'NOT_FOUND', message: 'no metric has id 00000000-0000-4000-8000-000000000009' },
    ]);
  });

  it('activates only with both heads, refuses illegal transitions and strangers, and keeps one ACTIVE agreement per pair', async () => {
    const a = await ok(headSales, {
      key: 'IT-SALES-2',
      tier: 'CUSTOMER',
      title: 'A second IT for Sales',
      providerId: dept.IT,
      customerId: dept.SALES,
      parentId: charter.id,
      terms: { effectiveFrom: '2026-03' },
      objectives: [],
    });
    const stranger = await headMkt.request(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion } });
    expect(stranger.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const byProvider = (await headIt.data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion } })).approveAgreement;
    expect(byProvider.agreement).toMatchObject({ status: 'DRAFT', customerApprovedAt: null });
    expect(byProvider.agreement?.providerApprovedAt).toEqual(expect.any(String));
    const stale = (await headSales.data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion } })).approveAgreement;
    expect(stale.userErrors[0].code).toBe('CONFLICT');
    const adminNoParty = (await s.data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: byProvider.agreement!.lockVersion } })).approveAgreement;
    expect(adminNoParty.userErrors).toEqual([{ field: 'party', code: 'REQUIRED', message: 'party: an admin approves for the PROVIDER or the CUSTOMER; name which' }]);

    // IT-SALES is still a DRAFT: make it ACTIVE first, then the second one may not join it.
    const itSales = (await s.data(AgreementDocument, { key: 'IT-SALES', at: '2026-03' })).agreement;
    const p1 = (await headIt.data(ApproveAgreementDocument, { input: { id: itSales.id, expectedVersion: itSales.lockVersion } })).approveAgreement.agreement!;
    const p2 = (await headSales.data(ApproveAgreementDocument, { input: { id: itSales.id, expectedVersion: p1.lockVersion } })).approveAgreement.agreement!;
    expect(p2.status).toBe('ACTIVE');
    const again = (await headSales.data(ApproveAgreementDocument, { input: { id: itSales.id, expectedVersion: p2.lockVersion } })).approveAgreement;
    expect(again.userErrors).toEqual([{ field: 'id', code: 'ILLEGAL_TRANSITION', message: 'agreement IT-SALES is ACTIVE; it cannot be approved' }]);
    const second = (await headSales.data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: byProvider.agreement!.lockVersion } })).approveAgreement;
    expect(second.userErrors).toEqual([{ field: 'id', code: 'ILLEGAL_TRANSITION', message: 'IT-SALES is already the ACTIVE CUSTOMER agreement of this pair; terminate it first' }]);

    // Issue 16: a head's suspension or resumption is a request; the other party's head approves it.
    const asked = (await headIt.data(SuspendAgreementDocument, { input: { id: itSales.id, expectedVersion: p2.lockVersion, reason: 'CRM migration' } })).suspendAgreement.agreement!;
    expect(asked.status).toBe('ACTIVE');
    const approve = async (client: Client) => {
      const pending = (await s.data(AgreementLifecycleDocument, { key: 'IT-SALES' })).agreement.pendingLifecycleRequest!;
      return (await client.data(ApproveLifecycleRequestDocument, { input: { id: pending.id, expectedVersion: pending.version } })).approveLifecycleRequest.lifecycleRequest!.agreement;
    };
    const suspended = await approve(headSales);
    expect(suspended.status).toBe('SUSPENDED');
    expect((await headSales.data(ResumeAgreementDocument, { input: { id: itSales.id, expectedVersion: suspended.lockVersion, reason: 'migration done' } })).resumeAgreement.agreement!.status).toBe(
      'SUSPENDED',
    );
    const resumed = await approve(headIt);
    expect(resumed.status).toBe('ACTIVE');
    const resumeAgain = (await headSales.data(ResumeAgreementDocument, { input: { id: itSales.id, expectedVersion: resumed.lockVersion, reason: 'again' } })).resumeAgreement;
    expect(resumeAgain.userErrors[0].code).toBe('ILLEGAL_TRANSITION');
    const withChild = (await s.data(TerminateAgreementDocument, { input: { id: itSales.id, expectedVersion: resumed.lockVersion, reason: 'r', effectiveMonth: M0 } })).terminateAgreement;
    expect(withChild.userErrors).toEqual([{ field: 'id', code: 'IN_USE', message: 'agreement IT-SALES still has 1 live agreement(s) under it; terminate those first' }]);
    // A DRAFT binds no one yet: a party's head ends it at once.
    const ended = (await headSales.data(TerminateAgreementDocument, { input: { id: a.id, expectedVersion: byProvider.agreement!.lockVersion, reason: 'duplicate draft' } })).terminateAgreement
      .agreement!;
    expect(ended.status).toBe('TERMINATED');
  });

  it('lets only admins draft CORPORATE agreements, and only the parties’ heads draft theirs', async () => {
    const corp = await headIt.request(CreateAgreementDocument, { input: { key: 'HEAD-CORP', tier: 'CORPORATE', title: 'x', terms: { effectiveFrom: '2026-01' }, objectives: [] } });
    expect(corp.errors?.[0]).toMatchObject({ message: 'Only an ADMIN drafts CORPORATE agreements', extensions: { code: 'FORBIDDEN' } });
    const outsider = await headMkt.request(CreateAgreementDocument, {
      input: { key: 'IT-CS', tier: 'CUSTOMER', title: 'x', providerId: dept.IT, customerId: dept.CS, parentId: charter.id, terms: { effectiveFrom: '2026-01' }, objectives: [] },
    });
    expect(outsider.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const reader = await analyst.request(CreateAgreementDocument, {
      input: { key: 'IT-CS', tier: 'CUSTOMER', title: 'x', providerId: dept.IT, customerId: dept.CS, parentId: charter.id, terms: { effectiveFrom: '2026-01' }, objectives: [] },
    });
    expect(reader.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('amends through change control: month M−1 keeps version 1, month M gets version 2', async () => {
    const crmNow = (await s.data(AgreementDocument, { key: 'IT-SALES-CRM', at: '2026-06' })).agreement;
    // Activate the chain first (IT-SALES is ACTIVE from the lifecycle test; the CRM agreement is a DRAFT).
    if (crmNow.status === 'DRAFT') {
      const a1 = (await headIt.data(ApproveAgreementDocument, { input: { id: crmNow.id, expectedVersion: crmNow.lockVersion } })).approveAgreement.agreement!;
      await headSales.data(ApproveAgreementDocument, { input: { id: crmNow.id, expectedVersion: a1.lockVersion } });
    }
    const before = (await s.data(AgreementHistoryDocument, { key: 'IT-SALES-CRM', before: M1, after: M2 })).agreement;
    const proposal = {
      agreementId: crmNow.id,
      expectedVersion: before.lockVersion,
      effectiveMonth: M2,
      reason: 'Sales moves to a 24/7 inside-sales team',
      terms: { monthlyCharge: 25000 },
      changeObjectives: [{ metricId: metric.SYSTEM_AVAILABILITY, target: 99.95, warning: null }],
      addObjectives: [{ metricId: metric.HANDOFF_ACCEPTANCE_RATE, target: 80 }],
    };
    const stale = (await headIt.data(ProposeAmendmentDocument, { input: { ...proposal, expectedVersion: before.lockVersion - 1 } })).proposeAmendment;
    expect(stale.userErrors[0]).toMatchObject({ field: 'expectedVersion', code: 'CONFLICT' });
    const past = (await headIt.data(ProposeAmendmentDocument, { input: { ...proposal, effectiveMonth: '2026-01' } })).proposeAmendment;
    expect(past.userErrors[0]).toMatchObject({ field: 'effectiveMonth', code: 'INVALID' });
    const empty = (await headIt.data(ProposeAmendmentDocument, { input: { agreementId: crmNow.id, expectedVersion: before.lockVersion, effectiveMonth: M2, reason: 'nothing' } })).proposeAmendment;
    expect(empty.userErrors).toEqual([{ field: null, code: 'REQUIRED', message: 'an amendment changes terms or objectives; this one changes nothing' }]);
    const loose = (await headIt.data(ProposeAmendmentDocument, { input: { ...proposal, changeObjectives: [{ metricId: metric.SYSTEM_AVAILABILITY, target: 99.0 }] } })).proposeAmendment;
    expect(loose.userErrors).toEqual([
      { field: 'changeObjectives[0].target', code: 'LOOSENS', message: 'IT-SALES-CRM sets SYSTEM_AVAILABILITY to 99, looser than 99.5 in CHARTER; an objective may only tighten what it inherits' },
    ]);

    const proposed = (await headIt.data(ProposeAmendmentDocument, { input: proposal })).proposeAmendment.amendment!;
    expect(proposed).toMatchObject({ status: 'PROPOSED', proposedBy: 'PROVIDER', effectiveMonth: M2, resultingVersion: null });
    const self = await headIt.request(ApproveAmendmentDocument, { input: { id: proposed.id, expectedVersion: proposed.version } });
    expect(self.errors?.[0]).toMatchObject({ message: 'The PROVIDER side proposed this amendment; the other party approves it', extensions: { code: 'FORBIDDEN' } });
    const approved = (await headSales.data(ApproveAmendmentDocument, { input: { id: proposed.id, expectedVersion: proposed.version } })).approveAmendment.amendment!;
    expect(approved).toMatchObject({ status: 'APPROVED', resultingVersion: { number: 2, effectiveMonth: M2 } });
    const again = (await headSales.data(ApproveAmendmentDocument, { input: { id: proposed.id, expectedVersion: approved.version } })).approveAmendment;
    expect(again.userErrors[0].code).toBe('ILLEGAL_TRANSITION');

    const after = (await s.data(AgreementHistoryDocument, { key: 'IT-SALES-CRM', before: M1, after: M2 })).agreement;
    expect(after.versions).toEqual([
      { number: 1, effectiveMonth: '2026-01', monthlyCharge: 0 },
      { number: 2, effectiveMonth: M2, monthlyCharge: 25000 },
    ]);
    expect(after.versionBefore).toEqual({ number: 1 });
    expect(after.versionAfter).toEqual({ number: 2 });
    const targets = (list: typeof after.before) => Object.fromEntries(list.map((o) => [o.metric.code, o.target]));
    expect(targets(after.before)).toEqual({ SYSTEM_AVAILABILITY: 99.9, MTTR: 4, ESCALATION_RESPONSE_P90: 4, REPORT_DAYS_LATE: 0 });
    expect(targets(after.after)).toEqual({ SYSTEM_AVAILABILITY: 99.95, MTTR: 4, HANDOFF_ACCEPTANCE_RATE: 80, ESCALATION_RESPONSE_P90: 4, REPORT_DAYS_LATE: 0 });
    // History is never rewritten: an amendment may not start before a version already scheduled.
    const earlier = (await headIt.data(ProposeAmendmentDocument, { input: { ...proposal, expectedVersion: after.lockVersion, effectiveMonth: M1, addObjectives: [] } })).proposeAmendment;
    expect(earlier.userErrors).toEqual([{ field: 'effectiveMonth', code: 'INVALID', message: `effectiveMonth: version 2 already takes effect in ${M2}; amend from then or later` }]);
  });

  it('refuses a parent change that would leave a child looser, naming both; rejects with a reason; withdraws by the proposer', async () => {
    const corp = (await s.data(AgreementHistoryDocument, { key: 'CHARTER', before: M1, after: M2 })).agreement;
    const tighter = (
      await s.data(ProposeAmendmentDocument, {
        input: {
          agreementId: charter.id,
          expectedVersion: corp.lockVersion,
          effectiveMonth: M1,
          reason: 'Raise the floor',
          changeObjectives: [{ metricId: metric.SYSTEM_AVAILABILITY, target: 99.92 }],
        },
      })
    ).proposeAmendment;
    expect(tighter.userErrors).toEqual([
      {
        field: 'changeObjectives[0].target',
        code: 'LOOSENS',
        message:
          'IT-SALES-CRM sets SYSTEM_AVAILABILITY to 99.9, looser than 99.92 in CHARTER; an objective may only tighten what it inherits; change IT-SALES-CRM first or keep CHARTER at most as tight',
      },
    ]);

    const itSales = (await s.data(AgreementHistoryDocument, { key: 'IT-SALES', before: M1, after: M2 })).agreement;
    const itSalesId = (await s.data(AgreementDocument, { key: 'IT-SALES', at: M1 })).agreement.id;
    const byCustomer = (
      await headSales.data(ProposeAmendmentDocument, {
        input: { agreementId: itSalesId, expectedVersion: itSales.lockVersion, effectiveMonth: M3, reason: 'Cheaper', terms: { monthlyCharge: 15000 } },
      })
    ).proposeAmendment.amendment!;
    expect(byCustomer.proposedBy).toBe('CUSTOMER');
    const noReason = (await headIt.data(RejectAmendmentDocument, { input: { id: byCustomer.id, expectedVersion: byCustomer.version } })).rejectAmendment;
    expect(noReason.userErrors).toEqual([{ field: 'reason', code: 'REQUIRED', message: 'reason: say why the amendment is rejected' }]);
    const rejected = (await headIt.data(RejectAmendmentDocument, { input: { id: byCustomer.id, expectedVersion: byCustomer.version, reason: 'The CRM licence went up' } })).rejectAmendment.amendment!;
    expect(rejected).toMatchObject({ status: 'REJECTED', rejectionReason: 'The CRM licence went up', resultingVersion: null });

    const second = (
      await headSales.data(ProposeAmendmentDocument, {
        input: { agreementId: itSalesId, expectedVersion: itSales.lockVersion, effectiveMonth: M3, reason: 'Cheaper, again', terms: { monthlyCharge: 18000 } },
      })
    ).proposeAmendment.amendment!;
    const otherSide = await headIt.request(WithdrawAmendmentDocument, { input: { id: second.id, expectedVersion: second.version } });
    expect(otherSide.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const withdrawn = (await headSales.data(WithdrawAmendmentDocument, { input: { id: second.id, expectedVersion: second.version } })).withdrawAmendment.amendment!;
    expect(withdrawn.status).toBe('WITHDRAWN');
    const history = (await s.data(AgreementHistoryDocument, { key: 'IT-SALES', before: M1, after: M3 })).agreement;
    expect(history.amendments.map((a) => a.status)).toEqual(['REJECTED', 'WITHDRAWN']);
    expect(history.versions).toHaveLength(1);
  });

  it('filters measured agreements and batches the list: the same statements for 10 and for 100 agreements', async () => {
    // Measured: ACTIVE CUSTOMER or SERVICE agreements without ACTIVE children (IT-SALES has an
    // ACTIVE child, CHARTER is CORPORATE).
    const measured = await s.data(AgreementsDocument, { first: 100, filter: { measuredOnly: true }, at: '2026-06' });
    expect(measured.agreements.edges.map((e) => e.node.key).filter((k) => !k.startsWith('TR-'))).toEqual(['IT-SALES-CRM']);

    let n = 0;
    const growTo = async (total: number) => {
      for (let have = (await s.data(AgreementsDocument, { first: 0, at: '2026-06' })).agreements.totalCount; have < total; have++) {
        const d = (await s.data(CreateDepartmentDocument, { input: { code: `BATCH${++n}`, name: `Batch ${n}` } })).createDepartment.department!;
        await ok(s, {
          key: `IT-BATCH${n}`,
          tier: 'CUSTOMER',
          title: 'batch',
          providerId: dept.IT,
          customerId: d.id,
          parentId: charter.id,
          terms: { effectiveFrom: '2026-01' },
          objectives: [{ metricId: metric.HANDOFF_ACCEPTANCE_RATE, target: 70 + (n % 5) }],
        });
      }
    };
    // The query of the issue: parties, service, parent and effective objectives with their origin.
    const measure = async (expected: number) => {
      let edges = 0;
      const statements = await s.countStatements(async () => {
        edges = (await s.data(AgreementsDocument, { first: 100, at: '2026-06' })).agreements.edges.length;
      });
      expect(edges).toBe(expected);
      return statements;
    };
    await growTo(10);
    const small = await measure(10);
    await growTo(100);
    const large = await measure(100);
    expect(large).toBe(small);
  }, 120_000);

  it('allows exactly the transitions of DESIGN §5 from each state, and names the state otherwise', async () => {
    type Action = 'approve' | 'suspend' | 'resume' | 'terminate';
    const docs = { approve: ApproveAgreementDocument, suspend: SuspendAgreementDocument, resume: ResumeAgreementDocument, terminate: TerminateAgreementDocument } as const;
    // state → action → resulting state, or null when illegal
    const table: Record<'DRAFT' | 'ACTIVE' | 'SUSPENDED' | 'TERMINATED', Record<Action, string | null>> = {
      DRAFT: { approve: 'DRAFT', suspend: null, resume: null, terminate: 'TERMINATED' },
      ACTIVE: { approve: null, suspend: 'SUSPENDED', resume: null, terminate: 'TERMINATED' },
      SUSPENDED: { approve: null, suspend: null, resume: 'ACTIVE', terminate: 'TERMINATED' },
      TERMINATED: { approve: null, suspend: null, resume: null, terminate: null },
    };
    let n = 0;
    const run = async (action: Action, a: { id: string; lockVersion: number }, party?: 'PROVIDER' | 'CUSTOMER') => {
      const r = await s.request(docs[action] as never, { input: { id: a.id, expectedVersion: a.lockVersion, party, reason: 'r', effectiveMonth: M0 } });
      const payload = (r.data as Record<string, { agreement: { id: string; lockVersion: number; status: string } | null; userErrors: Array<{ code: string; message: string }> }>)[`${action}Agreement`];
      return payload;
    };
    const inState = async (state: keyof typeof table) => {
      const d = (await s.data(CreateDepartmentDocument, { input: { code: `TR${++n}`, name: 'x' } })).createDepartment.department!;
      let a: { id: string; lockVersion: number } = await ok(s, {
        key: `TR-${n}`,
        tier: 'CUSTOMER',
        title: 'x',
        providerId: dept.MKT,
        customerId: d.id,
        parentId: charter.id,
        terms: { effectiveFrom: '2026-01' },
        objectives: [],
      });
      if (state === 'DRAFT') return a;
      if (state === 'TERMINATED') return (await run('terminate', a)).agreement!;
      a = (await run('approve', a, 'PROVIDER')).agreement!;
      a = (await run('approve', a, 'CUSTOMER')).agreement!;
      if (state === 'ACTIVE') return a;
      return (await run('suspend', a)).agreement!;
    };
    for (const [state, actions] of Object.entries(table) as Array<[keyof typeof table, Record<Action, string | null>]>) {
      for (const [action, next] of Object.entries(actions) as Array<[Action, string | null]>) {
        const a = await inState(state);
        const r = await run(action, a, 'PROVIDER');
        if (next) {
          expect(r.userErrors, `${action} from ${state}`).toEqual([]);
          expect(r.agreement?.status, `${action} from ${state}`).toBe(next);
        } else {
          expect(r.userErrors[0]?.code, `${action} from ${state}`).toBe('ILLEGAL_TRANSITION');
          expect(r.userErrors[0]?.message).toContain(`is ${state}`);
        }
      }
    }
  }, 120_000);
});

describe.each(engines())('the demo agreements on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('seeds the agreements of DESIGN §9, ACTIVE for the last twelve months, with an amendment mid-year', async () => {
    const now = new Date();
    const month = (delta: number) => {
      const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + delta, 1));
      return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    };
    const all = await s.data(AgreementsDocument, { first: 50, at: month(0) });
    expect(all.agreements.edges.map((e) => e.node.key)).toEqual(['CHARTER', 'FIN-SALES', 'IT-MKT', 'IT-SALES', 'IT-SALES-CRM', 'MKT-SALES', 'SALES-CS']);
    const measured = await s.data(AgreementsDocument, { first: 50, at: month(0), filter: { measuredOnly: true } });
    expect(measured.agreements.edges.map((e) => e.node.key)).toEqual(['FIN-SALES', 'IT-MKT', 'IT-SALES-CRM', 'MKT-SALES', 'SALES-CS']);
    const crm = (await s.data(AgreementDocument, { key: 'IT-SALES-CRM', at: month(-1) })).agreement;
    expect(crm.status).toBe('ACTIVE');
    expect(crm.effectiveObjectives.map((o) => [o.metric.code, o.target, o.inheritedFrom?.key ?? null])).toEqual([
      ['SYSTEM_AVAILABILITY', 99.9, null],
      ['MTTR', 4, null],
      ['ESCALATION_RESPONSE_P90', 4, 'IT-SALES'],
      ['REPORT_DAYS_LATE', 0, 'CHARTER'],
    ]);
    const leads = (await s.data(AgreementHistoryDocument, { key: 'MKT-SALES', before: month(-7), after: month(-6) })).agreement;
    expect(leads.amendments.map((x) => [x.status, x.effectiveMonth])).toEqual([['APPROVED', month(-6)]]);
    expect(leads.versionBefore).toEqual({ number: 1 });
    expect(leads.versionAfter).toEqual({ number: 2 });
    expect(leads.before.find((o) => o.metric.code === 'HANDOFF_VOLUME')?.target).toBe(400);
    expect(leads.after.find((o) => o.metric.code === 'HANDOFF_VOLUME')?.target).toBe(450);
    expect((await s.data(AgreementDocument, { key: 'CHARTER', at: month(-12) })).agreement.version).toEqual({ number: 1 });
    expect((await s.data(AgreementDocument, { key: 'CHARTER', at: month(-13) })).agreement.version).toBeNull();
  });
});

describe.each(engines())('agreement edge cases on %s', (engine) => {
  let s: TestServer;
  const dept: Record<string, string> = {};
  let charterId: string;
  let availability: string;
  let n = 0;
  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    for (const code of ['IT', 'SALES']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
    availability = (await s.data(MetricDocument, { code: 'SYSTEM_AVAILABILITY' })).metric.id;
    const c = (await s.data(CreateAgreementDocument, { input: { key: 'EDGE-CORP', tier: 'CORPORATE', title: 'x', terms: { effectiveFrom: '2026-01' }, objectives: [] } })).createAgreement.agreement!;
    await s.data(ApproveAgreementDocument, { input: { id: c.id, expectedVersion: c.lockVersion } });
    charterId = c.id;
  });
  afterAll(async () => {
    await s?.close();
  });

  /** An ACTIVE CUSTOMER agreement of a fresh pair (IT → a new department), or of IT → customerId. */
  async function active(customerId?: string) {
    const customer = customerId ?? (await s.data(CreateDepartmentDocument, { input: { code: `EDGE${++n}`, name: 'x' } })).createDepartment.department!.id;
    let a = (
      await s.data(CreateAgreementDocument, {
        input: {
          key: `EDGE-A${++n}`,
          tier: 'CUSTOMER',
          title: 'x',
          providerId: dept.IT,
          customerId: customer,
          parentId: charterId,
          terms: { effectiveFrom: '2026-01' },
          objectives: [{ metricId: availability, target: 99.6 }],
        },
      })
    ).createAgreement.agreement!;
    a = (await s.data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, party: 'PROVIDER' } })).approveAgreement.agreement!;
    return (await s.data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, party: 'CUSTOMER' } })).approveAgreement;
  }

  it('keeps one live CUSTOMER agreement per pair, through suspend and resume too', async () => {
    const first = (await active(dept.SALES)).agreement!;
    const suspended = (await s.data(SuspendAgreementDocument, { input: { id: first.id, expectedVersion: first.lockVersion, reason: 'r' } })).suspendAgreement.agreement!;
    const second = await active(dept.SALES);
    expect(second.userErrors[0]).toMatchObject({ code: 'ILLEGAL_TRANSITION', message: `${first.key} is already the SUSPENDED CUSTOMER agreement of this pair; terminate it first` });
    const resumed = (await s.data(ResumeAgreementDocument, { input: { id: suspended.id, expectedVersion: suspended.lockVersion, reason: 'r' } })).resumeAgreement;
    expect(resumed.agreement?.status).toBe('ACTIVE');
  });

  it('answers concurrent approvals of amendments with one new version and CONFLICT or ILLEGAL_TRANSITION, never INTERNAL', async () => {
    const a = (await active()).agreement!;
    // Proposed by the provider's head; an admin decides, three times at once.
    const head = s.as(await s.tokenFor(Role.HEAD, 'IT'));
    const propose = async (charge: number) =>
      (await head.data(ProposeAmendmentDocument, { input: { agreementId: a.id, expectedVersion: a.lockVersion, effectiveMonth: M1, reason: 'r', terms: { monthlyCharge: charge } } })).proposeAmendment
        .amendment!;
    const [x, y] = [await propose(1), await propose(2)];
    const results = await Promise.all([x, y, x].map((m) => s.request(ApproveAmendmentDocument, { input: { id: m.id, expectedVersion: m.version } })));
    for (const r of results) expect(r.errors).toBeUndefined();
    const codes = results.flatMap((r) => r.data!.approveAmendment.userErrors.map((e) => e.code));
    const approved = results.filter((r) => r.data!.approveAmendment.amendment?.status === 'APPROVED');
    expect(approved.length + codes.length).toBe(3);
    const history = (await s.data(AgreementHistoryDocument, { key: a.key, before: M1, after: M2 })).agreement;
    expect(new Set(history.versions.map((v) => v.number)).size).toBe(history.versions.length);
  });

  it('treats null as "keep" where a value cannot be absent, and refuses an end before the amendment', async () => {
    const a = (await active()).agreement!;
    const r = (
      await s.data(ProposeAmendmentDocument, {
        input: {
          agreementId: a.id,
          expectedVersion: a.lockVersion,
          effectiveMonth: M1,
          reason: 'r',
          terms: { complianceTarget: null, monthlyCharge: 5 },
          changeObjectives: [{ metricId: availability, target: null, weight: 2 }],
        },
      })
    ).proposeAmendment;
    expect(r.userErrors).toEqual([]);
    expect(r.amendment?.changes).toEqual({ terms: { monthlyCharge: 5 }, addObjectives: [], changeObjectives: [{ metricId: availability, weight: 2 }], removeObjectives: [] });
    const early = (await s.data(ProposeAmendmentDocument, { input: { agreementId: a.id, expectedVersion: a.lockVersion, effectiveMonth: M2, reason: 'r', terms: { effectiveTo: M1 } } }))
      .proposeAmendment;
    expect(early.userErrors).toEqual([{ field: 'terms.effectiveTo', code: 'INVALID', message: `effectiveTo: expected ${M2} (the amendment's first month) or later, received ${M1}` }]);
  });

  it('moves lockVersion when a version is added, withdraws pending amendments on termination', async () => {
    const a = (await active()).agreement!;
    const head = s.as(await s.tokenFor(Role.HEAD, 'IT'));
    const m = (await head.data(ProposeAmendmentDocument, { input: { agreementId: a.id, expectedVersion: a.lockVersion, effectiveMonth: M1, reason: 'r', terms: { monthlyCharge: 7 } } }))
      .proposeAmendment.amendment!;
    expect((await s.data(ApproveAmendmentDocument, { input: { id: m.id, expectedVersion: m.version } })).approveAmendment.amendment?.status).toBe('APPROVED');
    const stale = (await s.data(ProposeAmendmentDocument, { input: { agreementId: a.id, expectedVersion: a.lockVersion, effectiveMonth: M2, reason: 'r', terms: { monthlyCharge: 8 } } }))
      .proposeAmendment;
    expect(stale.userErrors[0]).toMatchObject({ field: 'expectedVersion', code: 'CONFLICT' });
    const now = (await s.data(AgreementHistoryDocument, { key: a.key, before: M1, after: M2 })).agreement;
    const pending = (await s.data(ProposeAmendmentDocument, { input: { agreementId: a.id, expectedVersion: now.lockVersion, effectiveMonth: M2, reason: 'r', terms: { monthlyCharge: 9 } } }))
      .proposeAmendment.amendment!;
    const ended = (await s.data(TerminateAgreementDocument, { input: { id: a.id, expectedVersion: now.lockVersion, reason: 'r', effectiveMonth: M0 } })).terminateAgreement;
    expect(ended.agreement?.status).toBe('TERMINATED');
    const after = (await s.data(AgreementHistoryDocument, { key: a.key, before: M1, after: M2 })).agreement;
    expect(after.amendments.map((x) => x.status)).toEqual(['APPROVED', 'WITHDRAWN']);
    const withdrawn = after.amendments.find((x) => x.id === pending.id)!;
    const late = (await head.data(ApproveAmendmentDocument, { input: { id: pending.id, expectedVersion: withdrawn.version } })).approveAmendment;
    expect(late.userErrors[0]).toMatchObject({ code: 'ILLEGAL_TRANSITION', message: 'the amendment is WITHDRAWN; only PROPOSED amendments can be approved' });
  });

  it('needs both heads for an amendment an admin proposed', async () => {
    const d = (await s.data(CreateDepartmentDocument, { input: { code: `EDGE${++n}`, name: 'x' } })).createDepartment.department!;
    const a = (await active(d.id)).agreement!;
    const provider = s.as(await s.tokenFor(Role.HEAD, 'IT'));
    const customer = s.as(await s.tokenFor(Role.HEAD, d.code));
    const m = (await s.data(ProposeAmendmentDocument, { input: { agreementId: a.id, expectedVersion: a.lockVersion, effectiveMonth: M1, reason: 'r', terms: { monthlyCharge: 3 } } })).proposeAmendment
      .amendment!;
    expect(m).toMatchObject({ proposedBy: 'ADMIN', providerApprovedAt: null, customerApprovedAt: null });
    const selfApproval = await s.request(ApproveAmendmentDocument, { input: { id: m.id, expectedVersion: m.version } });
    expect(selfApproval.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const one = (await provider.data(ApproveAmendmentDocument, { input: { id: m.id, expectedVersion: m.version } })).approveAmendment.amendment!;
    expect(one).toMatchObject({ status: 'PROPOSED', customerApprovedAt: null, resultingVersion: null });
    expect(one.providerApprovedAt).toEqual(expect.any(String));
    const both = (await customer.data(ApproveAmendmentDocument, { input: { id: m.id, expectedVersion: one.version } })).approveAmendment.amendment!;
    expect(both).toMatchObject({ status: 'APPROVED', resultingVersion: { number: 2, effectiveMonth: M1 } });
  });

  it('shows no effective objective before the first version, and sees one department in two spellings of its id', async () => {
    const a = (await active()).agreement!;
    const before = (await s.data(AgreementDocument, { id: a.id, at: '2025-06' })).agreement;
    expect(before.version).toBeNull();
    expect(before.effectiveObjectives).toEqual([]);
    const same = (
      await s.data(CreateAgreementDocument, {
        input: { key: 'EDGE-SELF', tier: 'CUSTOMER', title: 'x', providerId: dept.IT, customerId: dept.IT.toUpperCase(), parentId: charterId, terms: { effectiveFrom: '2026-01' }, objectives: [] },
      })
    ).createAgreement;
    expect(same.userErrors[0]).toMatchObject({ field: 'customerId', code: 'INVALID' });
  });
});

describe('expired agreements', () => {
  it('shows EXPIRED after the last month, refuses suspending it, and refuses EXPIRED as a stored-state filter', async () => {
    const s = await startServer('sqlite', { seed: true });
    try {
      const c = (await s.data(CreateAgreementDocument, { input: { key: 'OLD', tier: 'CORPORATE', title: 'x', terms: { effectiveFrom: '2024-01', effectiveTo: '2024-12' }, objectives: [] } }))
        .createAgreement.agreement!;
      const a = (await s.data(ApproveAgreementDocument, { input: { id: c.id, expectedVersion: c.lockVersion } })).approveAgreement.agreement!;
      expect(a.status).toBe('EXPIRED');
      const r = (await s.data(SuspendAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, reason: 'r' } })).suspendAgreement;
      expect(r.userErrors).toEqual([{ field: 'id', code: 'ILLEGAL_TRANSITION', message: 'agreement OLD is EXPIRED; it cannot be suspended' }]);
      // Not measured either: a measured agreement is ACTIVE now.
      const corp = (await s.data(CreateAgreementDocument, { input: { key: 'NOW', tier: 'CORPORATE', title: 'x', terms: { effectiveFrom: '2024-01' }, objectives: [] } })).createAgreement.agreement!;
      await s.data(ApproveAgreementDocument, { input: { id: corp.id, expectedVersion: corp.lockVersion } });
      const [it, mkt] = await Promise.all(['IT', 'MKT'].map(async (code) => (await s.data(DepartmentDocument, { code })).department.id));
      const child = (
        await s.data(CreateAgreementDocument, {
          input: { key: 'OLD-IT-MKT', tier: 'CUSTOMER', title: 'x', providerId: it, customerId: mkt, parentId: corp.id, terms: { effectiveFrom: '2024-01', effectiveTo: '2024-12' }, objectives: [] },
        })
      ).createAgreement.agreement!;
      const p1 = (await s.data(ApproveAgreementDocument, { input: { id: child.id, expectedVersion: child.lockVersion, party: 'PROVIDER' } })).approveAgreement.agreement!;
      const p2 = (await s.data(ApproveAgreementDocument, { input: { id: child.id, expectedVersion: p1.lockVersion, party: 'CUSTOMER' } })).approveAgreement.agreement!;
      expect(p2.status).toBe('EXPIRED');
      const measured = await s.data(AgreementsDocument, { filter: { measuredOnly: true }, at: '2024-06' });
      expect(measured.agreements.edges.map((e) => e.node.key)).toEqual([]);
      const filter = await s.request(AgreementsDocument, { filter: { status: 'EXPIRED' }, at: '2024-06' });
      expect(filter.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.status' });
      const ended = (await s.data(TerminateAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, reason: 'r', effectiveMonth: M0 } })).terminateAgreement;
      expect(ended.agreement?.status).toBe('TERMINATED');
    } finally {
      await s.close();
    }
  });
});

describe.each(engines())('tighten-only across months on %s', (engine) => {
  it('checks every month a version begins in: a later floor of the parent, and a later version of a child', async () => {
    const s = await startServer(engine, { seed: true });
    try {
      const [it, sales, mkt] = await Promise.all(['IT', 'SALES', 'MKT'].map(async (code) => (await s.data(DepartmentDocument, { code })).department.id));
      const availability = (await s.data(MetricDocument, { code: 'SYSTEM_AVAILABILITY' })).metric.id;
      let corp = (await s.data(CreateAgreementDocument, { input: { key: 'FLOOR', tier: 'CORPORATE', title: 'x', terms: { effectiveFrom: '2026-01' }, objectives: [] } })).createAgreement.agreement!;
      corp = (await s.data(ApproveAgreementDocument, { input: { id: corp.id, expectedVersion: corp.lockVersion } })).approveAgreement.agreement!;
      // A child that starts later, at 99.85 from M3.
      const later = (
        await s.data(CreateAgreementDocument, {
          input: {
            key: 'FLOOR-IT-MKT',
            tier: 'CUSTOMER',
            title: 'x',
            providerId: it,
            customerId: mkt,
            parentId: corp.id,
            terms: { effectiveFrom: M3 },
            objectives: [{ metricId: availability, target: 99.85 }],
          },
        })
      ).createAgreement;
      expect(later.userErrors).toEqual([]);
      // The charter raising the floor to 99.9 from M2 would leave that child looser from M3.
      const raise = (
        await s.data(ProposeAmendmentDocument, {
          input: { agreementId: corp.id, expectedVersion: corp.lockVersion, effectiveMonth: M2, reason: 'r', addObjectives: [{ metricId: availability, target: 99.9, inheritance: 'MINIMUM' }] },
        })
      ).proposeAmendment;
      expect(raise.userErrors).toEqual([
        {
          field: 'addObjectives[0].target',
          code: 'LOOSENS',
          message: `FLOOR-IT-MKT sets SYSTEM_AVAILABILITY to 99.85, looser than 99.9 in FLOOR from ${M3}; an objective may only tighten what it inherits; change FLOOR-IT-MKT first or keep FLOOR at most as tight`,
        },
      ]);
      // A floor of 99.8 from M2 is fine for that child; then a new child at 99.6 from 2026-01 is
      // refused, because from M2 on it would be looser.
      const ok = (
        await s.data(ProposeAmendmentDocument, {
          input: { agreementId: corp.id, expectedVersion: corp.lockVersion, effectiveMonth: M2, reason: 'r', addObjectives: [{ metricId: availability, target: 99.8, inheritance: 'MINIMUM' }] },
        })
      ).proposeAmendment.amendment!;
      expect((await s.data(ApproveAmendmentDocument, { input: { id: ok.id, expectedVersion: ok.version } })).approveAmendment.amendment?.status).toBe('APPROVED');
      const early = (
        await s.data(CreateAgreementDocument, {
          input: {
            key: 'FLOOR-IT-SALES',
            tier: 'CUSTOMER',
            title: 'x',
            providerId: it,
            customerId: sales,
            parentId: corp.id,
            terms: { effectiveFrom: '2026-01' },
            objectives: [{ metricId: availability, target: 99.6 }],
          },
        })
      ).createAgreement;
      expect(early.userErrors).toEqual([
        {
          field: 'objectives[0].target',
          code: 'LOOSENS',
          message: `FLOOR-IT-SALES sets SYSTEM_AVAILABILITY to 99.6, looser than 99.8 in FLOOR from ${M2}; an objective may only tighten what it inherits`,
        },
      ]);
    } finally {
      await s.close();
    }
  });
});
