/**
 * Issue 13, first part: DESIGN §4 rule 0. Before a month has ended (in the agreement's time zone)
 * every objective is PENDING, automated ones included: nothing unfinished or future is breached,
 * credited, listed at risk or counted; a report for it is refused; one scored month is no trend;
 * and the request's clock is the "now" of every read. These run at the real clock, on the demo
 * company seeded with the real clock, as a user would meet them today.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMonths } from '../../src/common/month';
import {
  AgreementComplianceDocument,
  AgreementLockDocument,
  ApproveAmendmentDocument,
  ProposeAmendmentDocument,
  AgreementScorecardDocument,
  AtRiskDocument,
  MeasurementFactsDocument,
  OrganisationScorecardDocument,
  SaveReportDraftDocument,
  SubmitReportDocument,
} from '../generated/graphql';
import { berlinMonth } from '../support/clock';
import { engines, Role, startServer, type TestServer } from '../support/server';

describe.each(engines())('phases of a month (%s)', (engine) => {
  let s: TestServer;
  const current = berlinMonth(new Date());

  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('scores nothing of the current month: every objective PENDING, no credit, automated values only so far', async () => {
    const card = (await s.data(AgreementScorecardDocument, { key: 'MKT-SALES', month: current })).agreement.scorecard;
    expect(card.status).toBe('PENDING');
    expect(card.score).toBeNull();
    expect(card.creditPercent).toBe(0);
    expect(card.creditAmount).toBe(0);
    expect(card.compliance).toEqual({ evaluated: 0, met: 0, breaches: 0, rate: null });
    expect(card.objectives.map((o) => o.metric.code)).toContain('HANDOFF_VOLUME');
    for (const o of card.objectives) {
      expect(o.status).toBe('PENDING');
      expect(o.attainment).toBeNull();
      expect(o.value).toBeNull();
      // Manual objectives have nothing to show yet; automated ones show what is measured so far
      // (the leads handed over this month; report lateness has nothing until a report exists).
      if (o.source === 'MANUAL') expect(o.valueSoFar).toBeNull();
      if (o.metric.code === 'HANDOFF_VOLUME') expect(o.valueSoFar).toBeGreaterThanOrEqual(0);
    }
    // The month before has ended: scored, with values and no valueSoFar.
    const last = (await s.data(AgreementScorecardDocument, { key: 'MKT-SALES', month: addMonths(current, -1) })).agreement.scorecard;
    expect(last.objectives.some((o) => o.status !== 'PENDING')).toBe(true);
    for (const o of last.objectives) expect(o.valueSoFar).toBeNull();
  });

  it('owes no credit and counts no breach for months that have not happened', async () => {
    const future = (await s.data(OrganisationScorecardDocument, { from: addMonths(current, 2), to: addMonths(current, 4) })).organisationScorecard;
    expect(future.compliance).toEqual({ evaluated: 0, met: 0, breaches: 0, rate: null });
    expect(future.creditAmount).toBe(0);
    expect(future.score).toBeNull();
    expect(future.trend).toEqual({ slope: null, direction: null });
    for (const p of future.series) expect(p.status === null || p.status === 'PENDING').toBe(true);
  });

  it('lists nothing at risk in the current month', async () => {
    expect((await s.data(AtRiskDocument, { month: current })).atRisk).toEqual([]);
  });

  it('has no trend from one scored month (revised rule 8), and a trend from two', async () => {
    const one = (await s.data(AgreementComplianceDocument, { key: 'IT-SALES-CRM', from: addMonths(current, -1), to: current })).agreement.compliance;
    expect(one.series.filter((p) => p.score !== null)).toHaveLength(1);
    expect(one.trend).toEqual({ slope: null, direction: null });
    const two = (await s.data(AgreementComplianceDocument, { key: 'IT-SALES-CRM', from: addMonths(current, -2), to: current })).agreement.compliance;
    expect(two.trend.slope).not.toBeNull();
    expect(two.trend.direction).not.toBeNull();
  });

  it('refuses a report or a draft for the current month, naming when it ends', async () => {
    const head = s.as(await s.tokenFor(Role.HEAD, 'SALES'));
    const id = await agreementId(s, 'SALES-CS');
    const draft = (await head.data(SaveReportDraftDocument, { input: { agreementId: id, month: current, narrative: 'so far so good' } })).saveReportDraft;
    expect(draft.userErrors).toHaveLength(1);
    expect(draft.userErrors[0]).toMatchObject({ field: 'month', code: 'INVALID' });
    expect(draft.userErrors[0].message).toMatch(
      new RegExp(`^month: ${current} has not ended; it ends at \\d{4}-\\d{2}-\\d{2}T2[23]:00:00.000Z \\(Europe/Berlin\\), and can be reported on from then$`),
    );
    const submitted = (await head.data(SubmitReportDocument, { input: { agreementId: id, month: current, values: [], narrative: 'x', idempotencyKey: 'early' } })).submitReport;
    expect(submitted.userErrors[0]).toMatchObject({ field: 'month', code: 'INVALID' });
  });

  it('moves no past fact when an amendment for a coming month is approved (updatedAt moves only where values can change)', async () => {
    const filter = { from: addMonths(current, -4), to: addMonths(current, -1) };
    const first = (await s.data(MeasurementFactsDocument, { filter, first: 500 })).measurementFacts;
    expect(first.edges.length).toBeGreaterThan(0);
    const marketing = s.as(await s.tokenFor(Role.HEAD, 'MKT'));
    const sales = s.as(await s.tokenFor(Role.HEAD, 'SALES'));
    const lock = (await s.data(AgreementLockDocument, { key: 'MKT-SALES' })).agreement.lockVersion;
    const proposed = await marketing.data(ProposeAmendmentDocument, {
      input: { agreementId: await agreementId(s, 'MKT-SALES'), expectedVersion: lock, effectiveMonth: addMonths(current, 1), reason: 'More budget next month', terms: { monthlyCharge: 12345 } },
    });
    expect(proposed.proposeAmendment.userErrors).toEqual([]);
    const approved = await sales.data(ApproveAmendmentDocument, { input: { id: proposed.proposeAmendment.amendment!.id, expectedVersion: proposed.proposeAmendment.amendment!.version } });
    expect(approved.approveAmendment.userErrors).toEqual([]);
    // An incremental pull of the past months finds nothing changed (it found every month of
    // MKT-SALES: the agreement row's updatedAt moved).
    const next = (await s.data(MeasurementFactsDocument, { filter: { ...filter, updatedSince: first.asOf }, first: 500 })).measurementFacts;
    expect(next.edges.filter((e) => e.node.agreementKey === 'MKT-SALES')).toEqual([]);
  });

  it('reads facts at the request clock: a pull "as of" an earlier day still sees the agreements made since', async () => {
    // The demo was written today (real time); a pull whose clock says two months ago must still
    // return the facts of months before that (it returned none: it compared creation stamps with
    // the test clock).
    const then = `${addMonths(current, -2)}-10T12:00:00Z`;
    const facts = (await s.at(then).data(MeasurementFactsDocument, { filter: { from: addMonths(current, -4), to: addMonths(current, -3) }, first: 100 })).measurementFacts;
    expect(facts.edges.length).toBeGreaterThan(0);
    // Every month in the window had ended by then: none is PENDING for being unfinished.
    for (const e of facts.edges) expect(['MET', 'AT_RISK', 'BREACHED', 'NO_DATA', 'EXCUSED', 'PENDING']).toContain(e.node.status);
    expect(facts.edges.some((e) => e.node.status !== 'PENDING')).toBe(true);
  });
});

/** An agreement's id by key (the report inputs take ids). */
async function agreementId(s: TestServer, key: string): Promise<string> {
  const res = await fetch(`${s.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${s.adminToken}` },
    body: JSON.stringify({ query: 'query($k: String) { agreement(key: $k) { id } }', variables: { k: key } }),
  });
  return ((await res.json()) as { data: { agreement: { id: string } } }).data.agreement.id;
}
