/**
 * Issue 16, "an API people can type", on the demo: an objective keeps its key (agreement key and
 * metric code) across versions while its id changes; an inherited objective is keyed by the
 * agreement that defines it; each demo agreement names its parties' contacts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectiveKeysOfDocument } from '../generated/graphql';
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
});
