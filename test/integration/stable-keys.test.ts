/**
 * Issue 16, "an API people can type", on the demo: an objective keeps its key (agreement key and
 * metric code) across versions while its id changes; an inherited objective is keyed by the
 * agreement that defines it; each demo agreement names its parties' contacts; every list and fact
 * filter that names a department, service or agreement takes its id or its code (key), with the
 * same rows either way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgreementIdsByDocument, DepartmentDocument, ListIdsByAgreementDocument, ListIdsByDepartmentDocument, ObjectiveKeysOfDocument } from '../generated/graphql';
import { addMonths, monthOf } from '../../src/common/month';
import { engines, startServer, type TestServer } from '../support/server';

describe.each(engines())('stable keys and the demo’s contacts (%s)', (engine) => {
  let s: TestServer;
  const lastMonth = addMonths(monthOf(new Date()), -1);

  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('keeps an objective’s key across versions while its id changes', async () => {
    const a = (await s.data(ObjectiveKeysOfDocument, { key: 'MKT-SALES', at: lastMonth })).agreement;
    expect(a.versions.map((v) => v.objectives.map((o) => [o.key, o.metric.code, o.target]))).toEqual([
      [
        ['MKT-SALES/HANDOFF_VOLUME', 'HANDOFF_VOLUME', 400],
        ['MKT-SALES/HANDOFF_ACCEPTANCE_RATE', 'HANDOFF_ACCEPTANCE_RATE', 70],
      ],
      [
        ['MKT-SALES/HANDOFF_VOLUME', 'HANDOFF_VOLUME', 450],
        ['MKT-SALES/HANDOFF_ACCEPTANCE_RATE', 'HANDOFF_ACCEPTANCE_RATE', 70],
      ],
    ]);
    const [v1, v2] = a.versions;
    expect(v1.objectives.map((o) => o.id).filter((id) => v2.objectives.some((p) => p.id === id))).toEqual([]);
    // The objectives in force last month are version 2's, the charter's inherited one keyed by the charter.
    expect(a.effectiveObjectives.map((o) => [o.key, o.inheritedFrom?.key ?? null])).toEqual([
      ['MKT-SALES/HANDOFF_VOLUME', null],
      ['MKT-SALES/HANDOFF_ACCEPTANCE_RATE', null],
      ['CHARTER/ESCALATION_RESPONSE_P90', 'CHARTER'],
      ['CHARTER/REPORT_DAYS_LATE', 'CHARTER'],
    ]);
    expect(a.effectiveObjectives.slice(0, 2).map((o) => o.id)).toEqual(v2.objectives.map((o) => o.id));
  });

  it('names both parties’ heads as contacts in every demo agreement between departments', async () => {
    const a = (await s.data(ObjectiveKeysOfDocument, { key: 'IT-SALES-CRM', at: lastMonth })).agreement;
    expect(a.versions.map((v) => v.contacts)).toEqual([
      [
        { party: 'PROVIDER', name: 'Head of IT', email: 'head.it@demo.example', role: 'service owner' },
        { party: 'CUSTOMER', name: 'Head of Sales', email: 'head.sales@demo.example', role: 'customer contact' },
      ],
    ]);
    const charter = (await s.data(ObjectiveKeysOfDocument, { key: 'CHARTER', at: lastMonth })).agreement;
    expect(charter.versions.map((v) => v.contacts)).toEqual([[]]);
  });

  const ids = (c: { edges: Array<{ node: { id: string } }> }) => c.edges.map((e) => e.node.id);
  const codes = (r: { errors?: Array<{ message: string; extensions?: { code?: string } }> }) => r.errors?.map((e) => [e.extensions?.code, e.message]);

  it('filters agreements by provider and customer, by code or id, under either name', async () => {
    const keys = async (filter: Record<string, string>) => ids((await s.data(AgreementIdsByDocument, { filter })).agreements);
    const it = (await s.data(DepartmentDocument, { code: 'IT' })).department.id;
    const byCode = await keys({ provider: 'it' });
    expect(byCode).toHaveLength(3);
    expect(await keys({ provider: it })).toEqual(byCode);
    expect(await keys({ providerId: 'IT' })).toEqual(byCode);
    expect(await keys({ providerId: it })).toEqual(byCode);
    expect(await keys({ customer: 'SALES' })).toHaveLength(4);
    expect(await keys({ provider: 'IT', customer: 'SALES' })).toHaveLength(2);
    expect(await keys({ serviceId: 'crm' })).toHaveLength(1);
    expect(codes(await s.request(AgreementIdsByDocument, { filter: { customer: 'NOPE' } }))).toEqual([['NOT_FOUND', 'Department code NOPE (filter.customer) was not found']]);
  });

  it('gives the same rows for an agreement’s key as for its id, in every list that filters by agreement', async () => {
    const agreementId = ((await s.data(AgreementIdsByDocument, { filter: { provider: 'SALES', customer: 'CS' } })).agreements.edges[0] as { node: { id: string } }).node.id;
    const lists = (r: Awaited<ReturnType<typeof byKey>>) => [r.reports, r.escalations, r.exclusions, r.creditLedger, r.handoffEvents, r.monthReopenings].map(ids);
    const byKey = () => s.data(ListIdsByAgreementDocument, { agreement: 'sales-cs', reopenings: 'SALES-CS' });
    const byKeyLists = lists(await byKey());
    // Twelve reports and credit postings (a year of closed months), a page of five handoffs; the
    // demo's escalations and exclusions vary with the day it is seeded, so only their presence.
    expect(byKeyLists.map((l) => l.length)).toEqual([12, expect.any(Number), 1, 12, 5, 0]);
    expect(byKeyLists[1].length).toBeGreaterThan(0);
    expect(lists(await s.data(ListIdsByAgreementDocument, { agreement: agreementId, reopenings: agreementId }))).toEqual(byKeyLists);
    // Connections are non-null: the first refusal nulls the whole answer.
    expect(codes(await s.request(ListIdsByAgreementDocument, { agreement: 'NO-SUCH' }))?.[0]).toEqual([
      'NOT_FOUND',
      expect.stringMatching(/^Agreement key NO-SUCH \((filter\.)?agreementId\) was not found$/),
    ]);
    expect(codes(await s.request(ListIdsByAgreementDocument, { reopenings: 'no-such' }))).toEqual([['NOT_FOUND', 'Agreement key no-such (agreementId) was not found']]);
  });

  it('gives the same rows for a department’s code as for its id, in every list and fact filter by department', async () => {
    const vars = { from: addMonths(lastMonth, -2), to: lastMonth };
    const lists = (r: Awaited<ReturnType<typeof byCode>>) => [r.departments, r.services, r.users, r.creditLedger, r.measurementFacts].map(ids);
    const byCode = (department: string) => s.data(ListIdsByDepartmentDocument, { department, fact: department, ...vars });
    for (const code of ['EXEC', 'IT']) {
      const id = (await s.data(DepartmentDocument, { code })).department.id;
      const byCodeLists = lists(await byCode(code.toLowerCase()));
      expect(lists(await byCode(id)), code).toEqual(byCodeLists);
      expect(byCodeLists.map((l) => l.length)).toEqual(code === 'EXEC' ? [6, 0, 0, 0, 0] : [0, 3, 0, 24, 21]);
    }
  });
});
