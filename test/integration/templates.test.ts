/**
 * Issue 16, templates: `createAgreement(copyTermsFrom:)` drafts an agreement with another's terms
 * and objectives (its version in force now), so onboarding a pair is one mutation. On the demo:
 * MKT-SALES (amended to 450 leads in its second version) and IT-SALES-CRM as templates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgreementDocument, CreateFromTemplateDocument, DepartmentDocument, MetricDocument } from '../generated/graphql';
import { addMonths, monthOf } from '../../src/common/month';
import { engines, startServer, type TestServer } from '../support/server';

describe.each(engines())('agreements from a template (%s)', (engine) => {
  let s: TestServer;
  const dept: Record<string, string> = {};
  let charter: string;
  const now = monthOf(new Date());
  const next = addMonths(now, 1);

  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
    for (const code of ['MKT', 'CS', 'IT', 'HR']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
    charter = (await s.data(AgreementDocument, { key: 'CHARTER', at: now })).agreement.id;
  });
  afterAll(async () => {
    await s?.close();
  });

  const create = async (input: Record<string, unknown>) =>
    (await s.data(CreateFromTemplateDocument, { input: { tier: 'CUSTOMER', title: 'From a template', parentId: charter, terms: { effectiveFrom: next }, ...input } as never })).createAgreement;

  it('refuses a template it cannot find, on copyTermsFrom', async () => {
    expect((await create({ key: 'T-NONE', providerId: dept.MKT, customerId: dept.CS, copyTermsFrom: 'NO-SUCH' })).userErrors).toEqual([
      { field: 'copyTermsFrom', code: 'NOT_FOUND', message: 'no agreement has key NO-SUCH' },
    ]);
  });

  it('copies the terms and own objectives of the version in force now, not the pair’s contacts', async () => {
    const r = await create({ key: 'MKT-CS', providerId: dept.MKT, customerId: dept.CS, copyTermsFrom: 'mkt-sales' });
    expect(r.userErrors).toEqual([]);
    const [v] = r.agreement?.versions ?? [];
    expect(r.agreement?.versions).toHaveLength(1);
    expect(v).toEqual({
      number: 1,
      effectiveFrom: next,
      effectiveTo: null,
      complianceTarget: 0.9,
      monthlyCharge: 40000,
      creditCapPercent: 10,
      reportDueWorkingDays: 5,
      acceptanceWorkingDays: 5,
      reviewCadenceMonths: 12,
      responsibilities: [
        { party: 'PROVIDER', description: 'MKT delivers and reports monthly on: HANDOFF_VOLUME, HANDOFF_ACCEPTANCE_RATE' },
        { party: 'CUSTOMER', description: 'SALES gives what the provider needs on time and acknowledges each monthly report' },
      ],
      contacts: [],
      escalationPolicy: { CRITICAL: { responseHours: 1, resolutionHours: 8 } },
      calendar: { timeZone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], dayStart: '09:00', dayEnd: '17:00' },
      // Version 2's 450 leads (the amendment), not version 1's 400.
      objectives: [
        { key: 'MKT-CS/HANDOFF_VOLUME', target: 450, warning: 480, weight: 2, creditPercent: 5, inheritance: 'APPLIES' },
        { key: 'MKT-CS/HANDOFF_ACCEPTANCE_RATE', target: 70, warning: 75, weight: 2, creditPercent: 5, inheritance: 'APPLIES' },
      ],
    });
  });

  it('lets given terms win and given objectives replace the copied one on their metric or add to them', async () => {
    const mttr = (await s.data(MetricDocument, { code: 'MTTR' })).metric.id;
    const statement = (await s.data(MetricDocument, { code: 'TICKET_FIRST_RESPONSE' })).metric.id;
    const r = await create({
      key: 'IT-HR',
      providerId: dept.IT,
      customerId: dept.HR,
      copyTermsFrom: 'IT-SALES-CRM',
      terms: { effectiveFrom: next, monthlyCharge: 12000, reviewCadenceMonths: 6 },
      objectives: [
        { metricId: statement, target: 8 },
        { metricId: mttr, target: 6, warning: 5 },
      ],
    });
    expect(r.userErrors).toEqual([]);
    const [v] = r.agreement?.versions ?? [];
    expect([v.monthlyCharge, v.creditCapPercent, v.reviewCadenceMonths, v.calendar.timeZone]).toEqual([12000, 15, 6, 'Europe/Berlin']);
    expect(v.objectives).toEqual([
      { key: 'IT-HR/TICKET_FIRST_RESPONSE', target: 8, warning: null, weight: 1, creditPercent: 0, inheritance: 'APPLIES' },
      { key: 'IT-HR/MTTR', target: 6, warning: 5, weight: 1, creditPercent: 0, inheritance: 'APPLIES' },
      { key: 'IT-HR/SYSTEM_AVAILABILITY', target: 99.9, warning: 99.95, weight: 3, creditPercent: 10, inheritance: 'APPLIES' },
    ]);
  });
});
