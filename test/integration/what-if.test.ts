/**
 * Issue 16, what-if for "set a good base number": an agreement's last months re-scored under
 * proposed targets from the score ledger's stored values, against how they were scored, writing
 * nothing; and the same for an amendment under review.
 *
 * WP-WC (fresh departments WP → WC) from January 2026: HANDOVER_DAYS ≤ 2 (MANUAL, lower is
 * better), credit 10 % of a 1,000 charge per breach, cap 20 %. Reported: January 1.4, February
 * 1.9, March 2.5. Proposed: ≤ 1.5, warning at 1.2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgreementIdAndLockDocument,
  AmendmentWhatIfDocument,
  CreateDepartmentDocument,
  DepartmentDocument,
  MetricDocument,
  ProposeAmendmentDocument,
  SubmitReportDocument,
  WhatIfDocument,
} from '../generated/graphql';
import { sqlOf } from '../../src/common/sql';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

describe.each(engines())('what-if (%s)', (engine) => {
  let s: TestServer;
  let provider: Client;
  let handover: string;
  const april = '2026-04-20T09:00:00Z';

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    const ids: Record<string, string> = {};
    for (const code of ['WP', 'WC']) expect((await s.data(CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    for (const code of ['WP', 'WC']) ids[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const charter = await activateAgreement(s, { key: 'WPC-CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    handover = (await s.data(MetricDocument, { code: 'HANDOVER_DAYS' })).metric.id;
    await activateAgreement(s, {
      key: 'WP-WC',
      tier: 'CUSTOMER',
      title: 'Handover',
      providerId: ids.WP,
      customerId: ids.WC,
      parentId: charter,
      terms: { effectiveFrom: '2026-01', monthlyCharge: 1000, creditCapPercent: 20 },
      objectives: [{ metricId: handover, target: 2, creditPercent: 10 }],
    });
    provider = s.as(await s.tokenFor(Role.HEAD, 'WP'));
    for (const [month, at, value] of [
      ['2026-01', '2026-02-02T09:00:00Z', 1.4],
      ['2026-02', '2026-03-02T09:00:00Z', 1.9],
      ['2026-03', '2026-04-01T09:00:00Z', 2.5],
    ] as const) {
      const r = await provider.at(at).data(SubmitReportDocument, { input: { agreementId: 'WP-WC', month, narrative: month, values: [{ metric: 'HANDOVER_DAYS', value }], idempotencyKey: month } });
      expect(r.submitReport.userErrors).toEqual([]);
    }
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Row counts and the latest change of the tables a write would touch. */
  const snapshot = async () => {
    const sql = sqlOf(s.app.orm.em.fork());
    const out: Record<string, string> = {};
    for (const t of ['ledger_month', 'ledger_objective', 'credit_entry', 'audit_entry', 'domain_event', 'agreement', 'amendment', 'report']) {
      const [r] = await sql.rows<{ n: unknown; u: unknown }>(
        `select count(*) as n, max(${t === 'audit_entry' ? 'at' : t === 'domain_event' ? 'seq' : t === 'credit_entry' ? 'posted_at' : 'updated_at'}) as u from "${t}"`,
      );
      out[t] = `${String(r.n)}|${String(r.u)}`;
    }
    return out;
  };

  const outcome = (status: string | null, score: number | null, evaluated: number, breaches: number, complianceRate: number | null, creditPercent: number, creditAmount: number) => ({
    status,
    score,
    evaluated,
    breaches,
    complianceRate,
    creditPercent,
    creditAmount,
  });

  it('re-scores the last months under proposed targets, against how they were scored, writing nothing', async () => {
    const before = await snapshot();
    const r = (await provider.at(april).data(WhatIfDocument, { agreement: 'wp-wc', objectives: [{ metric: 'handover_days', target: 1.5, warning: 1.2 }], months: 3 })).whatIf;
    expect(await snapshot()).toEqual(before);
    expect(r.agreement.key).toBe('WP-WC');
    expect([r.from, r.to]).toEqual(['2026-01', '2026-03']);
    expect(r.months.map((m) => m.objectives)).toEqual([
      [{ metricCode: 'HANDOVER_DAYS', value: 1.4, actualTarget: 2, proposedTarget: 1.5, actualStatus: 'MET', proposedStatus: 'AT_RISK' }],
      [{ metricCode: 'HANDOVER_DAYS', value: 1.9, actualTarget: 2, proposedTarget: 1.5, actualStatus: 'MET', proposedStatus: 'BREACHED' }],
      [{ metricCode: 'HANDOVER_DAYS', value: 2.5, actualTarget: 2, proposedTarget: 1.5, actualStatus: 'BREACHED', proposedStatus: 'BREACHED' }],
    ]);
    expect(r.months.map((m) => [m.month, m.actual.creditAmount, m.proposed.creditAmount])).toEqual([
      ['2026-01', 0, 0],
      ['2026-02', 0, 100],
      ['2026-03', 100, 100],
    ]);
    expect(r.actual).toEqual(outcome(null, null, 3, 1, 0.666667, 10, 100));
    expect(r.proposed).toEqual(outcome(null, null, 3, 2, 0.333333, 20, 200));
  });

  it('with the terms as they are, proposes exactly what was scored', async () => {
    const r = (await provider.at(april).data(WhatIfDocument, { agreement: 'WP-WC', objectives: [{ metric: handover, target: 2 }] })).whatIf;
    expect([r.from, r.to]).toEqual(['2025-04', '2026-03']);
    expect(r.months).toHaveLength(3);
    for (const m of r.months) expect(m.proposed).toEqual(m.actual);
    expect(r.proposed).toEqual(r.actual);
  });

  it('refuses a metric the agreement has no objective on, a metric proposed twice, a warning on the wrong side, and a window out of range', async () => {
    const codes = async (vars: Parameters<typeof provider.request<unknown, unknown>>[1]) =>
      (await provider.at(april).request(WhatIfDocument, vars as never)).errors?.map((e) => [e.extensions?.code, e.message]);
    expect(await codes({ agreement: 'WP-WC', objectives: [{ metric: 'MTTR', target: 1 }] })).toEqual([
      ['BAD_USER_INPUT', 'objectives[0].metric: WP-WC has no objective on metric MTTR from 2025-04 to 2026-03'],
    ]);
    expect(
      await codes({
        agreement: 'WP-WC',
        objectives: [
          { metric: 'HANDOVER_DAYS', target: 1 },
          { metric: handover, target: 3 },
        ],
      }),
    ).toEqual([['BAD_USER_INPUT', 'objectives[1].metric: metric HANDOVER_DAYS is proposed twice (objectives[0] too); send one set of terms per metric']]);
    expect(await codes({ agreement: 'WP-WC', objectives: [{ metric: 'HANDOVER_DAYS', target: 1.5, warning: 1.8 }] })).toEqual([
      ['BAD_USER_INPUT', 'objectives[0].warning: expected a number at or below the target 1.5 (LOWER_IS_BETTER warns before the value rises above the target), received 1.8'],
    ]);
    expect(await codes({ agreement: 'WP-WC', objectives: [], months: 37 })).toEqual([['BAD_USER_INPUT', 'months: expected a whole number from 1 to 36, received 37']]);
    expect(await codes({ agreement: 'NOPE', objectives: [] })).toEqual([['NOT_FOUND', 'Agreement key NOPE (agreement) was not found']]);
  });

  it('re-scores an amendment under review as its changed objectives would have scored', async () => {
    const { id, lockVersion } = (await s.data(AgreementIdAndLockDocument, { key: 'WP-WC' })).agreement;
    const proposed = await provider.at(april).data(ProposeAmendmentDocument, {
      input: { agreementId: id, expectedVersion: lockVersion, effectiveMonth: '2026-05', reason: 'Faster handovers', changeObjectives: [{ metricId: handover, target: 1.5, warning: 1.2 }] },
    });
    expect(proposed.proposeAmendment.userErrors).toEqual([]);
    const before = await snapshot();
    const [amendment] = (await provider.at(april).data(AmendmentWhatIfDocument, { key: 'WP-WC', months: 3 })).amendments.edges;
    expect(await snapshot()).toEqual(before);
    const direct = (await provider.at(april).data(WhatIfDocument, { agreement: 'WP-WC', objectives: [{ metric: 'HANDOVER_DAYS', target: 1.5, warning: 1.2 }], months: 3 })).whatIf;
    const { agreement: _agreement, ...expected } = direct;
    expect(amendment.node.whatIf).toEqual(expected);
    expect(amendment.node.whatIf.proposed.breaches).toBe(2);
  });
});
