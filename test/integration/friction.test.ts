/**
 * Issue 16, "Conduct": friction reports. FRICTION_REPORT_DELIVERED is AUTOMATED (a revision with
 * at least one friction item submitted by the due date), a corrected revision carries its items
 * forward unless it replaces them, and friction is summed by month, department pair, category and
 * severity (`frictionSummary`) and pulled item by item for BI (`frictionFacts`, the CSV).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DepartmentDocument,
  FrictionFactsDocument,
  type FrictionFactsQuery,
  FrictionMetricDocument,
  FrictionRevisionsDocument,
  FrictionScoreDocument,
  FrictionSummaryDocument,
  MeasurementFactsDocument,
  MetricDocument,
  SaveFrictionDraftDocument,
  SubmitFrictionReportDocument,
  type SubmitReportInput,
} from '../generated/graphql';
import { addMonths, monthOf } from '../../src/common/month';
import { activateAgreement } from '../support/agreements';
import { csvLineOf, parseCsv } from '../support/csv';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

// Due on the 2nd working day after the month ends, Berlin, Easter 2026 as holidays (as reports.test.ts).
const BERLIN = { timeZone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5], dayStart: '09:00', dayEnd: '17:00', holidays: ['2026-01-01', '2026-04-03', '2026-04-06'] };

const ONBOARDING = { category: 'ONBOARDING', description: 'Welcome e-mail arrived late', customersAffected: 12, severity: 'MEDIUM' } as const;
const BILLING = { category: 'BILLING', description: 'Invoice address taken from the lead', customersAffected: 5, severity: 'LOW' } as const;
const HANDOVER = { category: 'HANDOVER', description: 'Contract terms missing at handover', customersAffected: 3, severity: 'HIGH' } as const;
const BILLING_2 = { category: 'BILLING', description: 'Discount missing on the first invoice', customersAffected: 2, severity: 'LOW' } as const;

type Fact = FrictionFactsQuery['frictionFacts']['edges'][number]['node'];

describe.each(engines())('friction reports on %s', (engine) => {
  let s: TestServer;
  let sales: Client;
  let analyst: Client;
  let analystToken: string;
  const reportOf: Record<string, string> = {};

  const submit = (who: Client, at: string, input: Partial<SubmitReportInput> & { month: string }) =>
    who.at(at).data(SubmitFrictionReportDocument, { input: { agreementId: 'SALES-CS', values: [{ metric: 'HANDOVER_DAYS', value: 1.2 }], narrative: `${input.month}`, ...input } });
  const friction = async (month: string, at: string) => {
    const r = await analyst.at(at).data(FrictionScoreDocument, { key: 'SALES-CS', month });
    return r.agreement.scorecard.objectives.filter((o) => o.metric.code === 'FRICTION_REPORT_DELIVERED').map((o) => [o.source, o.value, o.status]);
  };
  const content = (items: ReadonlyArray<{ category: string; description: string; customersAffected: number; severity: string }>) =>
    items.map(({ category, description, customersAffected, severity }) => ({ category, description, customersAffected, severity }));

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    sales = s.as(await s.tokenFor(Role.HEAD, 'SALES'));
    analystToken = await s.tokenFor(Role.ANALYST);
    analyst = s.as(analystToken);
    const dept: Record<string, string> = {};
    for (const code of ['SALES', 'CS', 'MKT']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const metric: Record<string, string> = {};
    for (const code of ['HANDOVER_DAYS', 'FRICTION_REPORT_DELIVERED']) metric[code] = (await s.data(MetricDocument, { code })).metric.id;
    const objectives = [
      { metricId: metric.HANDOVER_DAYS, target: 2 },
      { metricId: metric.FRICTION_REPORT_DELIVERED, target: 1, creditPercent: 2 },
    ];
    const terms = { effectiveFrom: '2026-01', reportDueWorkingDays: 2, calendar: BERLIN };
    const parentId = await activateAgreement(s, { key: 'CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    await activateAgreement(s, { key: 'SALES-CS', tier: 'CUSTOMER', title: 'Handover', providerId: dept.SALES, customerId: dept.CS, parentId, terms, objectives });
    await activateAgreement(s, { key: 'MKT-SALES', tier: 'CUSTOMER', title: 'Leads', providerId: dept.MKT, customerId: dept.SALES, parentId, terms, objectives });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('makes FRICTION_REPORT_DELIVERED an AUTOMATED metric and refuses a typed value for it, on the field sent', async () => {
    expect((await analyst.data(FrictionMetricDocument, { code: 'FRICTION_REPORT_DELIVERED' })).metric.source).toBe('AUTOMATED');
    const typed = await submit(sales, '2026-02-02T10:00:00Z', {
      month: '2026-01',
      values: [
        { metric: 'HANDOVER_DAYS', value: 1 },
        { metric: 'FRICTION_REPORT_DELIVERED', value: 1 },
      ],
    });
    expect(typed.submitReport.userErrors).toEqual([
      { field: 'values[1].metric', code: 'INVALID', message: 'objective FRICTION_REPORT_DELIVERED is measured automatically (AUTOMATED metric); reports do not carry it' },
    ]);
  });

  it('carries a revision’s friction items forward to a correction that omits them, keeping their ids', async () => {
    // January: due Tue 3 February (31 January is a Saturday); revision 1 on time with two items.
    const first = await submit(sales, '2026-02-02T10:00:00Z', { month: '2026-01', frictionItems: [ONBOARDING, BILLING] });
    expect(first.submitReport.userErrors).toEqual([]);
    reportOf['2026-01'] = first.submitReport.report!.id;
    const items = first.submitReport.revision!.frictionItems;
    expect(content(items)).toEqual([ONBOARDING, BILLING]);
    expect(new Set(items.map((i) => i.id)).size).toBe(2);
    // A correction of the handover time alone: the items stay, with their ids.
    const second = await submit(sales, '2026-02-04T10:00:00Z', { month: '2026-01', values: [{ metric: 'HANDOVER_DAYS', value: 1.9 }], narrative: 'corrected' });
    expect(second.submitReport.userErrors).toEqual([]);
    expect(second.submitReport.revision).toEqual({ number: 2, frictionItems: items });
    // A draft that leaves them out shows them, and a submission of it (`frictionItems: null`) keeps them.
    const draft = await sales.at('2026-02-04T11:00:00Z').data(SaveFrictionDraftDocument, {
      input: { agreementId: 'SALES-CS', month: '2026-01', narrative: 'draft', expectedVersion: second.submitReport.report!.version },
    });
    expect(draft.saveReportDraft.userErrors).toEqual([]);
    expect(draft.saveReportDraft.report?.draft?.frictionItems).toEqual(items);
    const third = await submit(sales, '2026-02-04T12:00:00Z', { month: '2026-01', frictionItems: null, narrative: 'again' });
    expect(third.submitReport.revision).toEqual({ number: 3, frictionItems: items });
  });

  it('replaces the items with an explicit list: an unchanged item keeps its id, a new one gets one, `[]` clears', async () => {
    const before = (await analyst.data(FrictionRevisionsDocument, { id: reportOf['2026-01'] })).report.revisions[2].frictionItems;
    const replaced = await submit(sales, '2026-02-05T10:00:00Z', { month: '2026-01', frictionItems: [HANDOVER, ONBOARDING] });
    expect(replaced.submitReport.userErrors).toEqual([]);
    const now = replaced.submitReport.revision!.frictionItems;
    expect(content(now)).toEqual([HANDOVER, ONBOARDING]);
    expect(now[1].id).toBe(before[0].id);
    expect(before.map((i) => i.id)).not.toContain(now[0].id);
    // February: due Tue 3 March; submitted late with an item, then cleared by `[]`.
    const feb = await submit(sales, '2026-03-05T10:00:00Z', { month: '2026-02', frictionItems: [BILLING_2] });
    expect(feb.submitReport.report).toMatchObject({ lateByWorkingDays: 2 });
    reportOf['2026-02'] = feb.submitReport.report!.id;
    const cleared = await submit(sales, '2026-03-06T10:00:00Z', { month: '2026-02', frictionItems: [] });
    expect(cleared.submitReport.revision).toEqual({ number: 2, frictionItems: [] });
    const febRevisions = (await analyst.data(FrictionRevisionsDocument, { id: reportOf['2026-02'] })).report.revisions;
    expect(febRevisions.map((r) => content(r.frictionItems))).toEqual([[BILLING_2], []]);
  });

  it('scores 1 for a report with items submitted by the due date, and 0 for one late, without items or missing once due', async () => {
    expect(await friction('2026-01', '2026-02-10T10:00:00Z')).toEqual([['AUTOMATED', 1, 'MET']]);
    // February: late (its items came two working days after the due date), then cleared.
    expect(await friction('2026-02', '2026-03-10T10:00:00Z')).toEqual([['AUTOMATED', 0, 'BREACHED']]);
    // March: no report. Due Thu 2 April (end of day, 22:00 UTC on summer time): no value before, 0 after.
    expect(await friction('2026-03', '2026-04-02T22:00:00Z')).toEqual([['AUTOMATED', null, 'PENDING']]);
    expect(await friction('2026-03', '2026-04-02T22:00:01Z')).toEqual([['AUTOMATED', 0, 'BREACHED']]);
    // April: due Mon 4 May; on time without an item is not a friction report; items sent after the due date come too late.
    const april = await submit(sales, '2026-05-04T08:00:00Z', { month: '2026-04', frictionItems: [] });
    expect(april.submitReport.userErrors).toEqual([]);
    expect(await friction('2026-04', '2026-05-04T09:00:00Z')).toEqual([['AUTOMATED', null, 'PENDING']]);
    await submit(sales, '2026-05-05T08:00:00Z', { month: '2026-04', frictionItems: [HANDOVER] });
    expect(await friction('2026-04', '2026-05-06T08:00:00Z')).toEqual([['AUTOMATED', 0, 'BREACHED']]);
  });

  it('keeps the score ledger’s facts in step: each submission re-scores its month, and a month falls to 0 at its due instant', async () => {
    const r = await analyst.data(MeasurementFactsDocument, { filter: { from: '2026-01', to: '2026-04', provider: 'SALES', customer: 'CS' }, first: 100 });
    const values = r.measurementFacts.edges.map((e) => e.node).filter((f) => f.metric === 'FRICTION_REPORT_DELIVERED');
    expect(values.map((f) => [f.month, f.source, f.value, f.status])).toEqual([
      ['2026-01', 'AUTOMATED', 1, 'MET'],
      ['2026-02', 'AUTOMATED', 0, 'BREACHED'],
      ['2026-03', 'AUTOMATED', 0, 'BREACHED'],
      ['2026-04', 'AUTOMATED', 0, 'BREACHED'],
    ]);
  });

  it('sums friction by month, department pair, category and severity, for one department by code or id', async () => {
    // Marketing hears something from Sales in January too.
    const mkt = s.as(await s.tokenFor(Role.HEAD, 'MKT'));
    const m = await mkt.at('2026-02-02T10:00:00Z').data(SubmitFrictionReportDocument, {
      input: { agreementId: 'MKT-SALES', month: '2026-01', values: [{ metric: 'HANDOVER_DAYS', value: 1 }], narrative: 'leads', frictionItems: [BILLING, BILLING_2, HANDOVER] },
    });
    expect(m.submitReport.userErrors).toEqual([]);
    const all = (await analyst.data(FrictionSummaryDocument, { from: '2026-01', to: '2026-04' })).frictionSummary;
    const rows = all.map((r) => [r.month, r.provider.code, r.customer.code, r.category, r.severity, r.items, r.customersAffected]);
    expect(rows).toEqual([
      ['2026-01', 'MKT', 'SALES', 'BILLING', 'LOW', 2, 7],
      ['2026-01', 'MKT', 'SALES', 'HANDOVER', 'HIGH', 1, 3],
      ['2026-01', 'SALES', 'CS', 'ONBOARDING', 'MEDIUM', 1, 12],
      ['2026-01', 'SALES', 'CS', 'HANDOVER', 'HIGH', 1, 3],
      ['2026-04', 'SALES', 'CS', 'HANDOVER', 'HIGH', 1, 3],
    ]);
    // Customer Service sees what Sales hears: the agreements CS provides or receives.
    const cs = s.as(await s.tokenFor(Role.HEAD, 'CS'));
    const forCs = (await cs.data(FrictionSummaryDocument, { from: '2026-01', to: '2026-04', department: 'cs' })).frictionSummary;
    expect(forCs).toEqual(all.filter((r) => r.customer.code === 'CS' || r.provider.code === 'CS'));
    expect(forCs).toHaveLength(3);
    const salesId = (await s.data(DepartmentDocument, { code: 'SALES' })).department.id;
    expect((await analyst.data(FrictionSummaryDocument, { from: '2026-01', to: '2026-04', department: salesId })).frictionSummary).toEqual(all);
    expect((await analyst.data(FrictionSummaryDocument, { from: '2026-02', to: '2026-03' })).frictionSummary).toEqual([]);
  });

  const pull = async (filter: Record<string, unknown>, first: number) => {
    const rows: Fact[] = [];
    let after: string | null = null;
    let asOf = '';
    for (let pages = 0; pages < 50; pages++) {
      const r: FrictionFactsQuery = await analyst.data(FrictionFactsDocument, { filter: { from: '2026-01', to: '2026-04', ...filter }, first, after });
      rows.push(...r.frictionFacts.edges.map((e) => e.node));
      asOf = r.frictionFacts.asOf as string;
      if (!r.frictionFacts.pageInfo.hasNextPage) break;
      after = r.frictionFacts.pageInfo.endCursor ?? null;
    }
    return { rows, asOf };
  };

  it('pulls one fact per item of each latest revision, the same whatever the page size, with tombstones for dropped items', async () => {
    const full = await pull({}, 500);
    expect(full.rows.map((f) => [f.agreementKey, f.provider, f.customer, f.month, f.category, f.severity, f.customersAffected, f.revision, f.deleted])).toEqual(
      expect.arrayContaining([
        ['SALES-CS', 'SALES', 'CS', '2026-01', 'HANDOVER', 'HIGH', 3, 4, false],
        ['SALES-CS', 'SALES', 'CS', '2026-01', 'ONBOARDING', 'MEDIUM', 12, 4, false],
        ['SALES-CS', 'SALES', 'CS', '2026-04', 'HANDOVER', 'HIGH', 3, 2, false],
        ['MKT-SALES', 'MKT', 'SALES', '2026-01', 'BILLING', 'LOW', 5, 1, false],
        ['MKT-SALES', 'MKT', 'SALES', '2026-01', 'BILLING', 'LOW', 2, 1, false],
        ['MKT-SALES', 'MKT', 'SALES', '2026-01', 'HANDOVER', 'HIGH', 3, 1, false],
      ]),
    );
    expect(full.rows).toHaveLength(6);
    expect(new Set(full.rows.map((f) => f.id)).size).toBe(6);
    // Every page size gives the same rows in the same order.
    for (const first of [1, 2, 5]) expect((await pull({}, first)).rows).toEqual(full.rows);
    expect((await pull({ provider: 'mkt' }, 2)).rows).toEqual(full.rows.filter((f) => f.provider === 'MKT'));
    // The tier filter as every fact table reads it: CUSTOMER keeps all six, CORPORATE (the charter, which collects no reports) none.
    expect((await pull({ tier: 'CUSTOMER' }, 500)).rows).toEqual(full.rows);
    expect((await pull({ tier: 'CORPORATE' }, 500)).rows).toEqual([]);
    // The January items carry the ids the revisions show.
    const jan = (await analyst.data(FrictionRevisionsDocument, { id: reportOf['2026-01'] })).report.revisions;
    expect(full.rows.filter((f) => f.agreementKey === 'SALES-CS' && f.month === '2026-01').map((f) => f.id)).toEqual(jan[3].frictionItems.map((i) => i.id));
    // An incremental pull: the reports changed since, and a tombstone for each item a correction dropped.
    const correction = await submit(sales, '2026-02-05T12:00:00Z', { month: '2026-01', frictionItems: [ONBOARDING] });
    expect(correction.submitReport.userErrors).toEqual([]);
    const since = await pull({ updatedSince: full.asOf }, 500);
    expect(since.rows.map((f) => [f.id, f.category, f.revision, f.deleted])).toEqual([
      [jan[3].frictionItems[1].id, 'ONBOARDING', 5, false],
      [jan[3].frictionItems[0].id, 'HANDOVER', 5, true],
      [jan[0].frictionItems[1].id, 'BILLING', 5, true],
    ]);
  });

  it('streams the same rows as CSV, in the same order', async () => {
    const graph = await pull({}, 3);
    const res = await fetch(`${s.url}/export/friction-items.csv?from=2026-01&to=2026-04`, { headers: { authorization: `Bearer ${analystToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header, ...lines] = parseCsv(await res.text());
    expect(header).toEqual(['id', 'reportId', 'agreementKey', 'provider', 'customer', 'month', 'category', 'severity', 'customersAffected', 'description', 'revision', 'updatedAt', 'deleted']);
    expect(lines).toHaveLength(5);
    expect(lines).toEqual(graph.rows.map((f) => csvLineOf(f, header)));
    expect((await fetch(`${s.url}/export/friction-items.csv?from=2026-01&to=2026-04`)).status).toBe(401);
  });
});

describe.each(engines())('the demo’s friction reports on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('delivers every seeded Sales → Customer Service friction report with its items, on time', async () => {
    const to = addMonths(monthOf(new Date()), -1);
    const from = addMonths(to, -11);
    const r = await s.data(MeasurementFactsDocument, { filter: { from, to, provider: 'SALES', customer: 'CS' }, first: 500 });
    const delivered = r.measurementFacts.edges.map((e) => e.node).filter((f) => f.metric === 'FRICTION_REPORT_DELIVERED');
    expect(delivered.map((f) => [f.source, f.value])).toEqual(Array.from({ length: 12 }, () => ['AUTOMATED', 1]));
    const summary = (await s.data(FrictionSummaryDocument, { from, to, department: 'CS' })).frictionSummary;
    expect(new Set(summary.map((g) => g.month)).size).toBe(12);
    expect(summary.every((g) => g.provider.code === 'SALES' && g.customer.code === 'CS' && g.items === 1)).toBe(true);
  });
});
