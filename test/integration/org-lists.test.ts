import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrgListsAtRiskDocument, OrgListsHeatMapDocument, OrgListsOverdueDocument } from '../generated/graphql';
import { generateAgreements } from '../support/generate';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';
import { createContext } from '../../src/common/context';
import { Department } from '../../src/modules/departments/department.entity';
import { PartyRole } from '../../src/modules/scorecards/scorecard.types';
import { atRiskRescored, departmentScorecardAlone } from '../../src/modules/scorecards/scorecard.views';
import { overdueReportsRescored } from '../../src/modules/reports/report.service';

/*
 * The dashboard's organisation-wide lists (issues 13, 19) read the score ledger's stored rows with a
 * few set-based statements: the department scorecards of a page in one batch, `atRisk` from the
 * objective rows, `overdueReports` from the months' due instants. Their answers are the ones the
 * previous paths give (re-scoring from the facts, one roll-up per department), and the number of
 * statements a request sends does not grow with the number of agreements.
 *
 * The generated agreements (test/support/generate.ts), G1-A0 … G1-A9, report every month of
 * 2025-01..2025-06 on the 3rd of the next month (on time). In 2025-05 (m = 4):
 *   STATEMENT_ACCURACY (≥ 99.5, weight 2) = 99 + ((i + 4) mod 10) / 10: BREACHED for i = 0 (99.4),
 *     6 (99.0), 7 (99.1), 8 (99.2), 9 (99.3); attainment value / 99.5.
 *   MTTR (≤ 4, weight 1, not excused: 4 mod 3 ≠ 0) = 2 + ((7i + 4) mod 5): BREACHED for i = 0 and
 *     5 (6 h, attainment 4/6) and i = 2 and 7 (5 h, attainment 4/5).
 * Worst first, then lowest attainment, then key: A0 and A5 MTTR, A2 and A7 MTTR, then A6, A7, A8,
 * A9, A0 STATEMENT_ACCURACY.
 * No report exists after 2025-06, so as of 20 December 2025 the months 2025-07 … 2025-11 of each
 * are overdue (November's report was due on Friday 5 December): 50. July's was due on the 5th
 * working day after 31 July (UTC, Monday–Friday): Thursday 7 August 2025.
 */
describe.each(engines())('organisation-wide lists on %s', (engine) => {
  let s: TestServer;
  let analyst: Client;
  const FROM = '2025-01';
  const TO = '2025-06';
  const AS_OF = '2025-12-20T00:00:00.000Z';

  const heat = () => analyst.data(OrgListsHeatMapDocument, { from: FROM, to: TO });
  const risk = () => analyst.data(OrgListsAtRiskDocument, { month: '2025-05' });
  const overdue = () => analyst.data(OrgListsOverdueDocument, { from: FROM, asOf: AS_OF });

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    analyst = s.as(await s.tokenFor(Role.ANALYST));
    await generateAgreements(s.app.orm.em.fork(), 'G1', 10, FROM, TO);
  }, 120_000);

  afterAll(async () => {
    await s?.close();
  });

  it('lists the objective-months at risk as re-scoring from the facts does, worst first', async () => {
    const { atRisk } = await risk();
    const generated = atRisk.filter((r) => r.agreement.key.startsWith('G1-'));
    expect(generated.map((r) => `${r.agreement.key} ${r.objective.metric.code} ${r.objective.status} ${r.objective.value}`)).toEqual([
      'G1-A0 MTTR BREACHED 6',
      'G1-A5 MTTR BREACHED 6',
      'G1-A2 MTTR BREACHED 5',
      'G1-A7 MTTR BREACHED 5',
      'G1-A6 STATEMENT_ACCURACY BREACHED 99',
      'G1-A7 STATEMENT_ACCURACY BREACHED 99.1',
      'G1-A8 STATEMENT_ACCURACY BREACHED 99.2',
      'G1-A9 STATEMENT_ACCURACY BREACHED 99.3',
      'G1-A0 STATEMENT_ACCURACY BREACHED 99.4',
    ]);
    expect(generated[0].objective).toMatchObject({ target: 4, warning: null, weight: 1, creditPercent: 3, excused: false, source: 'MANUAL', valueSoFar: null, inheritedFrom: null, baseline: null });
    expect(generated[0].objective.attainment).toBeCloseTo(4 / 6, 12);
    expect(generated[4].objective).toMatchObject({ target: 99.5, weight: 2, creditPercent: 5 });
    expect(generated[4].objective.attainment).toBeCloseTo(99 / 99.5, 12);
    // Everything, the demo company's agreements included, as the path that scores from the facts.
    const ctx = createContext(s.app.orm, 'test', null, new Date());
    const before = await atRiskRescored(ctx, '2025-05');
    expect(atRisk.map((r) => [r.agreement.key, r.month, r.objective.objectiveId, r.objective.status, r.objective.value, r.objective.attainment, r.objective.target])).toEqual(
      before.map((r) => [r.agreement.key, r.month, r.objective.objectiveId, r.objective.status, r.objective.value, r.objective.attainment, r.objective.target]),
    );
  });

  it('scores again the months whose stored evaluation does not hold at the request clock, with the same answer', async () => {
    // The ledger's rows were evaluated at the real clock: on a clock of June 2025 none of them holds.
    const at = '2025-06-20T00:00:00.000Z';
    const { atRisk } = await analyst.at(at).data(OrgListsAtRiskDocument, { month: '2025-05' });
    const generated = atRisk.filter((r) => r.agreement.key.startsWith('G1-'));
    expect(generated.map((r) => `${r.agreement.key} ${r.objective.metric.code}`)).toEqual([
      'G1-A0 MTTR',
      'G1-A5 MTTR',
      'G1-A2 MTTR',
      'G1-A7 MTTR',
      'G1-A6 STATEMENT_ACCURACY',
      'G1-A7 STATEMENT_ACCURACY',
      'G1-A8 STATEMENT_ACCURACY',
      'G1-A9 STATEMENT_ACCURACY',
      'G1-A0 STATEMENT_ACCURACY',
    ]);
    const before = await atRiskRescored(createContext(s.app.orm, 'test', null, new Date(at)), '2025-05');
    expect(atRisk.map((r) => [r.agreement.key, r.objective.objectiveId, r.objective.status, r.objective.value, r.objective.attainment])).toEqual(
      before.map((r) => [r.agreement.key, r.objective.objectiveId, r.objective.status, r.objective.value, r.objective.attainment]),
    );
  });

  it('lists the overdue reports from the ledger as walking every agreement month by month does', async () => {
    const { overdueReports } = await overdue();
    const generated = overdueReports.filter((r) => r.agreement.key.startsWith('G1-'));
    expect(generated).toHaveLength(50);
    expect(new Set(generated.map((r) => r.month))).toEqual(new Set(['2025-07', '2025-08', '2025-09', '2025-10', '2025-11']));
    const july = generated.find((r) => r.agreement.key === 'G1-A3' && r.month === '2025-07');
    expect(july).toMatchObject({ dueDate: '2025-08-07', agreement: { title: 'Generated 3', provider: { code: 'G1-P3' } } });
    // Oldest due first, then by key.
    expect(generated.slice(0, 3).map((r) => `${r.agreement.key} ${r.month}`)).toEqual(['G1-A0 2025-07', 'G1-A1 2025-07', 'G1-A2 2025-07']);
    const ctx = createContext(s.app.orm, 'test', null, new Date());
    const before = await overdueReportsRescored(ctx, new Date(AS_OF), FROM);
    expect(overdueReports.map((r) => [r.agreement.key, r.month, r.dueDate, new Date(r.dueAt).toISOString(), r.workingDaysOverdue])).toEqual(
      before.map((r) => [r.agreement.key, r.month, r.dueDate, r.dueAt.toISOString(), r.workingDaysOverdue]),
    );
  });

  it('gives each department of a page its scorecard as one roll-up per department does', async () => {
    const { departments } = await heat();
    const p6 = departments.edges.find((e) => e.node.code === 'G1-P6')?.node;
    // G1-A6 in 2025-05: accuracy 99.0 BREACHED (weight 2, attainment 99/99.5), MTTR 3 h MET, days late 0 MET.
    expect(p6?.scorecard.agreementMonths).toBe(6);
    expect(p6?.scorecard.series.find((p) => p.month === '2025-05')).toMatchObject({ status: 'BREACHED' });
    expect(p6?.scorecard.series.find((p) => p.month === '2025-05')?.score).toBeCloseTo((100 * (2 * (99 / 99.5) + 1 + 1)) / 4, 6);
    const ctx = createContext(s.app.orm, 'test', null, new Date());
    const page = await ctx.em.find(Department, {}, { orderBy: { code: 'asc' }, limit: 100 });
    expect(departments.edges.map((e) => e.node.code)).toEqual(page.map((d) => d.code));
    for (const [i, d] of page.entries()) {
      const alone = await departmentScorecardAlone(ctx, d, FROM, TO, PartyRole.PROVIDER);
      expect(departments.edges[i].node.scorecard).toEqual({
        agreementMonths: alone.agreementMonths,
        score: alone.score,
        creditAmount: alone.creditAmount,
        series: alone.series.map((p) => ({ month: p.month, score: p.score, status: p.status, creditAmount: p.creditAmount })),
      });
    }
  });

  it('sends the same number of statements with 10 and with 200 agreements', async () => {
    // Each asked once first: generating takes long enough for the token's throttled last-used
    // stamp to fall due, an UPDATE that is the token's bookkeeping, not the list's.
    const count = async () => {
      const out: number[] = [];
      for (const ask of [heat, risk, overdue]) {
        await ask();
        out.push(await s.countStatements(ask));
      }
      return out;
    };
    const ten = await count();
    await generateAgreements(s.app.orm.em.fork(), 'G2', 190, FROM, TO);
    expect((await overdue()).overdueReports.filter((r) => r.agreement.key.startsWith('G2-'))).toHaveLength(950);
    const twoHundred = await count();
    console.log(`statements per request (10 / 200 agreements): heat map ${ten[0]} / ${twoHundred[0]}, atRisk ${ten[1]} / ${twoHundred[1]}, overdueReports ${ten[2]} / ${twoHundred[2]}`);
    expect(twoHundred).toEqual(ten);
    // Besides the token's look-up: heat map, the page and its count, the ledger's horizon, three
    // roll-up statements and the departments (7: it asks for no byAgreement, so no agreements); atRisk, the horizon, the rows at
    // risk, their agreements and metrics (4); overdueReports, the horizon, the overdue months, their
    // agreements, versions and providers (5).
    expect(ten).toEqual([8, 5, 6]);
  }, 240_000);
});
