/**
 * Issue 16, "an API people can type": what a head deals with, found without UUIDs. On the demo:
 * each department's head (readable by every principal), `atRisk` and `overdueReports` of one
 * department (by id or code: the agreements it provides or receives), and `escalation(id)`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AmendmentChangesOfDocument,
  AmendmentsOfDocument,
  AtRiskOfDocument,
  CreateDepartmentDocument,
  CreateUserDocument,
  DepartmentDocument,
  DepartmentHeadDocument,
  EscalationByIdDocument,
  EscalationsDocument,
  OverdueReportsOfDocument,
} from '../generated/graphql';
import { addMonths, monthOf } from '../../src/common/month';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

describe.each(engines())('a head’s lists, by department code (%s)', (engine) => {
  let s: TestServer;
  let analyst: Client;
  const lastMonth = addMonths(monthOf(new Date()), -1);

  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
    analyst = s.as(await s.tokenFor(Role.ANALYST));
  });
  afterAll(async () => {
    await s?.close();
  });

  const parties = (a: { provider?: { code: string } | null; customer?: { code: string } | null }) => [a.provider?.code, a.customer?.code];

  it('names each department’s head to every principal, and none for a department without one', async () => {
    const sales = (await s.data(DepartmentDocument, { code: 'SALES' })).department.id;
    expect((await s.data(CreateUserDocument, { input: { name: 'Sam Sales', email: 'sam@sales.example', role: 'HEAD', departmentId: sales } })).createUser.userErrors).toEqual([]);
    expect((await analyst.data(DepartmentHeadDocument, { code: 'SALES' })).department).toEqual({ code: 'SALES', head: { name: 'Sam Sales', email: 'sam@sales.example' } });
    const integration = s.as(await s.tokenFor(Role.INTEGRATION, 'IT'));
    expect((await integration.data(DepartmentHeadDocument, { code: 'sales' })).department.head?.email).toBe('sam@sales.example');
    expect((await s.data(CreateDepartmentDocument, { input: { code: 'HL', name: 'Headless' } })).createDepartment.userErrors).toEqual([]);
    expect((await analyst.data(DepartmentHeadDocument, { code: 'HL' })).department).toEqual({ code: 'HL', head: null });
  });

  it('lists what is at risk for one department, by code or id: the agreements it provides or receives', async () => {
    const all = (await analyst.data(AtRiskOfDocument, { month: lastMonth })).atRisk;
    expect(all.length).toBeGreaterThan(0);
    const sales = (await analyst.data(AtRiskOfDocument, { month: lastMonth, department: 'sales' })).atRisk;
    expect(sales).toEqual(all.filter((i) => parties(i.agreement).includes('SALES')));
    const cs = (await analyst.data(AtRiskOfDocument, { month: lastMonth, department: 'CS' })).atRisk;
    expect(cs).toEqual(all.filter((i) => parties(i.agreement).includes('CS')));
    const salesId = (await s.data(DepartmentDocument, { code: 'SALES' })).department.id;
    expect((await analyst.data(AtRiskOfDocument, { month: lastMonth, department: salesId })).atRisk).toEqual(sales);
    const unknown = await analyst.request(AtRiskOfDocument, { month: lastMonth, department: 'NOPE' });
    expect(unknown.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['NOT_FOUND', expect.stringContaining('code NOPE (department)')]]);
  });

  it('lists one department’s overdue reports', async () => {
    const all = (await analyst.data(OverdueReportsOfDocument, {})).overdueReports;
    const fin = (await analyst.data(OverdueReportsOfDocument, { department: 'FIN' })).overdueReports;
    expect(fin.length).toBeGreaterThan(0);
    expect(fin).toEqual(all.filter((r) => parties(r.agreement).includes('FIN')));
    expect((await analyst.data(OverdueReportsOfDocument, { department: 'CS' })).overdueReports).toEqual(all.filter((r) => parties(r.agreement).includes('CS')));
  });

  it('lists amendments across agreements by status, department and agreement key', async () => {
    const nodes = async (filter?: Record<string, unknown>) => (await analyst.data(AmendmentsOfDocument, { filter, first: 500 })).amendments.edges.map((e) => e.node);
    const all = await nodes();
    expect(all.length).toBeGreaterThan(1);
    const proposed = await nodes({ status: 'PROPOSED' });
    expect(proposed.length).toBeGreaterThan(0);
    expect(proposed).toEqual(all.filter((a) => a.status === 'PROPOSED'));
    expect(await nodes({ department: 'MKT' })).toEqual(all.filter((a) => parties(a.agreement).includes('MKT')));
    expect(await nodes({ agreement: 'mkt-sales', status: 'APPROVED' })).toEqual(all.filter((a) => a.agreement.key === 'MKT-SALES' && a.status === 'APPROVED'));
    const unknown = await analyst.request(AmendmentsOfDocument, { filter: { department: 'NOPE' } });
    expect(unknown.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['NOT_FOUND', expect.stringContaining('code NOPE (filter.department)')]]);
  });

  it('shows what an amendment changes by metric code, before and after', async () => {
    // The demo's approved amendment of MKT-SALES raises the leads commitment from 400 to 450 (warning 440 → 480).
    const [approved] = (await analyst.data(AmendmentChangesOfDocument, { filter: { agreement: 'MKT-SALES', status: 'APPROVED' } })).amendments.edges.map((e) => e.node);
    expect(approved.objectiveChanges).toEqual([
      { kind: 'CHANGE', metric: { code: 'HANDOFF_VOLUME' }, before: { target: 400, warning: 440, weight: 2, creditPercent: 5 }, after: { target: 450, warning: 480, weight: 2, creditPercent: 5 } },
    ]);
  });

  it('finds one escalation by id, and says so when there is none', async () => {
    const some = (await analyst.data(EscalationsDocument, { first: 1 })).escalations.edges[0].node;
    expect((await analyst.data(EscalationByIdDocument, { id: some.id })).escalation).toEqual({ id: some.id, title: some.title, severity: some.severity, agreement: { key: some.agreement.key } });
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      const r = await analyst.request(EscalationByIdDocument, { id });
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    }
  });
});
