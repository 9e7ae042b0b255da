/**
 * Issue 13 (DESIGN §5): the customer's acceptance window and deemed acknowledgement, recorded by
 * the scheduler and seen by every read at its own instant; an admin's ruling on a dispute; the
 * disputed mark on results. On the demo company, with Finance's missing report (FIN-SALES, the
 * tenth of the twelve demo months) submitted late by the head of Finance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/jobs/scheduler';
import { addMonths } from '../../src/common/month';
import {
  AgreementMonthDisputeDocument,
  AgreementReportDocument,
  AuditLogDocument,
  MeasurementFactsDocument,
  OrganisationScorecardDocument,
  DisputeReportDocument,
  ReportableObjectivesDocument,
  ReportSummariesDocument,
  SaveReportDraftDocument,
  SettleDisputeDocument,
  SubmitReportDocument,
} from '../generated/graphql';
import { berlinMonth } from '../support/clock';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';
import pino from 'pino';
import { acceptanceDue } from '../../src/common/working-time';
import { AgreementVersion } from '../../src/modules/agreements/agreement.entity';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.each(engines())('acceptance windows, rulings and disputed months (%s)', (engine) => {
  let s: TestServer;
  let finance: Client;
  let sales: Client;
  let agreementId: string;
  let values: Array<{ objectiveId: string; value: number }>;
  // The demo's twelve months end with last month; Finance never sent the tenth.
  const missing = addMonths(berlinMonth(new Date()), -3);
  let submittedAt = '';
  let windowEnds = '';

  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
    finance = s.as(await s.tokenFor(Role.HEAD, 'FIN'));
    sales = s.as(await s.tokenFor(Role.HEAD, 'SALES'));
    const objectives = (await s.data(ReportableObjectivesDocument, { key: 'FIN-SALES', at: missing })).agreement;
    agreementId = objectives.id;
    values = objectives.effectiveObjectives.filter((o) => o.metric.source === 'MANUAL').map((o) => ({ objectiveId: o.id, value: o.target }));
    expect(values.length).toBeGreaterThan(0);
  });
  afterAll(async () => {
    await s?.close();
  });

  const report = async (at: string) => (await s.at(at).data(AgreementReportDocument, { key: 'FIN-SALES', month: missing })).agreement.report!;

  it('marks a disputed month, and an admin settles the dispute: upheld, corrected, disputed again, rejected', async () => {
    // The demo's last month: Marketing's report to Sales, which Sales never answered. Inside its
    // acceptance window (an hour after it was sent) Sales disputes it.
    const last = addMonths(berlinMonth(new Date()), -1);
    const marketing = s.as(await s.tokenFor(Role.HEAD, 'MKT'));
    const sent = (await s.data(AgreementReportDocument, { key: 'MKT-SALES', month: last })).agreement.report!;
    const at = (hours: number) => new Date(Date.parse(sent.latestRevision!.submittedAt) + hours * 3_600_000).toISOString();
    const disputed = await sales.at(at(1)).data(DisputeReportDocument, { input: { reportId: sent.id, revision: 1, reason: 'The lead counts miss the webinar leads' } });
    expect(disputed.disputeReport.userErrors).toEqual([]);
    expect((await s.at(at(1)).data(AgreementMonthDisputeDocument, { key: 'MKT-SALES', month: last })).agreement.scorecard).toEqual({ disputed: true, creditProvisional: true });
    // Marked wherever the month shows: the roll-ups count it, the BI facts flag its rows.
    const org = (await s.at(at(1)).data(OrganisationScorecardDocument, { from: last, to: last })).organisationScorecard;
    expect(org.disputedMonths).toBe(1);
    const facts = (await s.at(at(1)).data(MeasurementFactsDocument, { filter: { from: last, to: last }, first: 200 })).measurementFacts.edges.map((e) => e.node);
    expect(facts.filter((f) => f.agreementKey === 'MKT-SALES').every((f) => f.disputed)).toBe(true);
    expect(facts.filter((f) => f.agreementKey !== 'MKT-SALES').some((f) => f.disputed)).toBe(false);
    // Only admins rule; a dispute is never deemed away.
    expect((await sales.at(at(2)).request(SettleDisputeDocument, { input: { reportId: sent.id, revision: 1, ruling: 'REJECTED', note: 'x' } })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const monthLater = (await s.at(at(24 * 30)).data(AgreementReportDocument, { key: 'MKT-SALES', month: last })).agreement.report!;
    expect(monthLater).toMatchObject({ status: 'DISPUTED', deemedAcknowledged: false });

    const upheld = await s.at(at(2)).data(SettleDisputeDocument, { input: { reportId: sent.id, revision: 1, ruling: 'UPHELD', note: 'Webinar leads count; correct the figures' } });
    expect(upheld.settleDispute.userErrors).toEqual([]);
    expect(upheld.settleDispute.report).toMatchObject({ status: 'DISPUTED', latestRevision: { number: 1, ruling: 'UPHELD', rulingNote: 'Webinar leads count; correct the figures' } });
    const twice = await s.at(at(2)).data(SettleDisputeDocument, { input: { reportId: sent.id, revision: 1, ruling: 'REJECTED', note: 'changed my mind' } });
    expect(twice.settleDispute.userErrors).toEqual([expect.objectContaining({ field: 'revision', code: 'ILLEGAL_TRANSITION' })]);

    const objectives = (await s.data(ReportableObjectivesDocument, { key: 'MKT-SALES', at: last })).agreement;
    const corrected = await marketing.at(at(3)).data(SubmitReportDocument, {
      input: {
        agreementId: objectives.id,
        month: last,
        values: objectives.effectiveObjectives.filter((o) => o.metric.source === 'MANUAL').map((o) => ({ objectiveId: o.id, value: o.target })),
        narrative: 'With the webinar leads',
        idempotencyKey: 'mkt-corrected',
      },
    });
    expect(corrected.submitReport.userErrors).toEqual([]);
    expect(corrected.submitReport.report).toMatchObject({ status: 'SUBMITTED', revisionCount: 2 });
    expect((await sales.at(at(4)).data(DisputeReportDocument, { input: { reportId: sent.id, revision: 2, reason: 'Still short' } })).disputeReport.userErrors).toEqual([]);

    const rejected = await s.at(at(5)).data(SettleDisputeDocument, { input: { reportId: sent.id, revision: 2, ruling: 'REJECTED', note: 'The corrected figures match the CRM' } });
    expect(rejected.settleDispute.userErrors).toEqual([]);
    expect(rejected.settleDispute.report).toMatchObject({ status: 'ACKNOWLEDGED', deemedAcknowledged: false, latestRevision: { number: 2, ruling: 'REJECTED', acknowledgedAt: at(5) } });
    expect((await s.at(at(6)).data(AgreementMonthDisputeDocument, { key: 'MKT-SALES', month: last })).agreement.scorecard).toEqual({ disputed: false, creditProvisional: false });
    expect((await s.at(at(6)).data(OrganisationScorecardDocument, { from: last, to: last })).organisationScorecard).toMatchObject({ disputedMonths: 0, provisionalCreditAmount: 0 });
  });

  it('gives the customer its working days, then deems the revision acknowledged at every read', async () => {
    // Sent three days ago (the window's exact instants are hand-computed in the working-time unit
    // tests; here it is the demo calendar's, whatever today is).
    const version = await s.app.orm.em.fork().findOneOrFail(AgreementVersion, { agreement: agreementId }, { orderBy: { number: 'desc' } });
    submittedAt = new Date(Date.now() - 3 * DAY).toISOString();
    windowEnds = acceptanceDue(version.calendar, new Date(submittedAt), 5).toISOString();
    const ms = (iso: string, delta: number) => new Date(Date.parse(iso) + delta).toISOString();

    const r = await finance.at(submittedAt).data(SubmitReportDocument, { input: { agreementId, month: missing, values, narrative: 'Sent at last', idempotencyKey: 'fin-late' } });
    expect(r.submitReport.userErrors).toEqual([]);
    expect(r.submitReport.revision?.acceptanceDueAt).toBe(windowEnds);

    const before = await report(windowEnds);
    expect(before).toMatchObject({ status: 'SUBMITTED', deemedAcknowledged: false, acceptanceDueAt: windowEnds });
    const after = await report(ms(windowEnds, 1));
    expect(after).toMatchObject({ status: 'ACKNOWLEDGED', deemedAcknowledged: true });
    // Lists filter by the status at the request's instant, before the scheduler has run.
    const submitted = await s.at(ms(windowEnds, 1000)).data(ReportSummariesDocument, { filter: { agreementId, status: 'SUBMITTED' } });
    expect(submitted.reports.edges.map((e) => e.node.month)).not.toContain(missing);
    const acknowledged = await s.at(ms(windowEnds, 1000)).data(ReportSummariesDocument, { filter: { agreementId, status: 'ACKNOWLEDGED' } });
    expect(acknowledged.reports.edges.find((e) => e.node.month === missing)?.node).toMatchObject({ status: 'ACKNOWLEDGED', deemedAcknowledged: true });
    const early = await s.at(ms(submittedAt, HOUR)).data(ReportSummariesDocument, { filter: { agreementId, status: 'SUBMITTED' } });
    expect(early.reports.edges.map((e) => e.node.month)).toContain(missing);
    // A verdict after the window is too late, and so is the provider's new revision or draft:
    // the month is closed, although the scheduler has not recorded it yet.
    const late = await sales.at(ms(windowEnds, HOUR)).data(DisputeReportDocument, { input: { reportId: before.id, revision: 1, reason: 'Too late to matter' } });
    const deemed = `the report of FIN-SALES for ${missing} was deemed acknowledged when its acceptance window ended at ${windowEnds}`;
    expect(late.disputeReport.userErrors).toEqual([{ field: 'reportId', code: 'ILLEGAL_TRANSITION', message: `${deemed}; it can no longer be disputed` }]);
    const resent = await finance.at(ms(windowEnds, HOUR)).data(SubmitReportDocument, { input: { agreementId, month: missing, values, narrative: 'Second thoughts', idempotencyKey: 'fin-late-2' } });
    expect(resent.submitReport.userErrors).toEqual([
      {
        field: 'month',
        code: 'ILLEGAL_TRANSITION',
        message: `the report of FIN-SALES for ${missing} was deemed acknowledged when the customer's acceptance window ended at ${windowEnds}; it is closed`,
      },
    ]);
    const draft = await finance.at(ms(windowEnds, HOUR)).data(SaveReportDraftDocument, { input: { agreementId, month: missing, narrative: 'x', expectedVersion: before.version } });
    expect(draft.saveReportDraft.userErrors).toEqual([expect.objectContaining({ field: 'month', code: 'ILLEGAL_TRANSITION' })]);
  });

  it('records the deemed acknowledgement once, by one scheduler of two, as of the end of the window', async () => {
    const ms = (iso: string, delta: number) => new Date(Date.parse(iso) + delta);
    // Before Finance's window ends, a tick records only the demo's older silences.
    await s.app.scheduler.tick(ms(windowEnds, -HOUR));
    expect(await report(ms(submittedAt, HOUR).toISOString())).toMatchObject({ status: 'SUBMITTED', latestRevision: { deemed: false, acknowledgedAt: null } });
    // Then two schedulers at once (two instances): Finance's report is recorded exactly once.
    const other = new Scheduler(s.app.orm, pino({ level: 'silent' }), 0);
    const [a, b] = await Promise.all([s.app.scheduler.tick(ms(windowEnds, HOUR)), other.tick(ms(windowEnds, HOUR))]);
    const changed = [a['deem-acknowledgements'], b['deem-acknowledgements']];
    expect(changed.filter((x) => x === 1)).toHaveLength(1);
    expect(changed.filter((x) => x !== 1).every((x) => x === 0 || x === 'skipped')).toBe(true);
    expect((await s.app.scheduler.tick(ms(windowEnds, DAY)))['deem-acknowledgements']).toBe(0);

    const stored = await report(ms(windowEnds, 2 * HOUR).toISOString());
    expect(stored).toMatchObject({ status: 'ACKNOWLEDGED', deemedAcknowledged: true, latestRevision: { deemed: true, acknowledgedAt: windowEnds } });
    // Recorded, it is still read at each instant: before the window ended, the report awaited a verdict.
    expect(await report(ms(submittedAt, HOUR).toISOString())).toMatchObject({ status: 'SUBMITTED', deemedAcknowledged: false });
    const log = await s.data(AuditLogDocument, { first: 5, filter: { entityId: stored.id } });
    expect(log.auditLog.edges[0].node).toMatchObject({ actorRole: 'SYSTEM', after: { status: 'ACKNOWLEDGED' } });
  });
});
