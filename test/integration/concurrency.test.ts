import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcknowledgeReportDocument,
  AgreementScorecardDocument,
  DepartmentDocument,
  DisputeReportDocument,
  type HandoffEventInput,
  MetricDocument,
  RecordHandoffEventsDocument,
  ReportableObjectivesDocument,
  StoredHandoffEventsDocument,
  type StoredHandoffEventsQuery,
  SubmitReportDocument,
} from '../generated/graphql';
import { handoffMetricValues, handoffStats } from '../../src/modules/handoffs/handoff.service';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

/*
 * Concurrent writers (issue 12): derived handoff months under concurrent batches, overlapping
 * batches in opposite orders, and simultaneous verdicts on one report. Every request is sent at
 * the same time with Promise.all; the assertions are about results, never about timing.
 */
const NOW = '2026-05-01T00:00:00Z';
const HANDOFF_CODES = ['HANDOFF_VOLUME', 'HANDOFF_ACCEPTANCE_RATE', 'HANDOFF_RESPONSE_MEDIAN', 'HANDOFF_RESPONSE_P90', 'HANDOFF_CONVERSION_RATE', 'HANDOFF_QUALITY'];

describe.each(engines())('concurrent writers on %s', (engine) => {
  let s: TestServer;
  let crm: Client;
  let analyst: Client;
  let headSales: Client;
  const dept: Record<string, string> = {};
  const metric: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    crm = s.as(await s.tokenFor(Role.INTEGRATION, 'MKT')).at(NOW);
    analyst = s.as(await s.tokenFor(Role.ANALYST)).at(NOW);
    headSales = s.as(await s.tokenFor(Role.HEAD, 'SALES')).at(NOW);
    for (const code of ['MKT', 'SALES', 'CS']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
    for (const code of [...HANDOFF_CODES, 'HANDOVER_DAYS']) metric[code] = (await s.data(MetricDocument, { code })).metric.id;
    const charter = await activateAgreement(s, { key: 'CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    ids.LEADS = await activateAgreement(s, {
      key: 'LEADS',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: dept.MKT,
      customerId: dept.SALES,
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: HANDOFF_CODES.map((code) => ({ metricId: metric[code], target: code === 'HANDOFF_VOLUME' ? 100 : code.includes('RESPONSE') ? 8 : 50 })),
    });
    ids.HANDOVER = await activateAgreement(s, {
      key: 'HANDOVER',
      tier: 'CUSTOMER',
      title: 'Handover',
      providerId: dept.SALES,
      customerId: dept.CS,
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [{ metricId: metric.HANDOVER_DAYS, target: 2 }],
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  /** A lead on a March or April working day, with a spread of responses, decisions and scores. */
  const lead = (externalId: string, n: number, month: '2026-03' | '2026-04'): HandoffEventInput => {
    const day = 2 + (n % 20);
    const at = new Date(`${month}-${String(day).padStart(2, '0')}T09:00:00Z`);
    at.setUTCMinutes((n * 7) % 420);
    const later = (hours: number) => new Date(at.getTime() + hours * 3_600_000).toISOString();
    const e: HandoffEventInput = { externalId, agreementId: ids.LEADS, stage: 'lead', handedOffAt: at.toISOString() };
    if (n % 5 !== 0) e.respondedAt = later(1 + (n % 13));
    if (n % 3 === 0) Object.assign(e, { rejectedAt: later(20), rejectionReason: 'duplicate' });
    else if (n % 3 === 1) e.acceptedAt = later(20);
    if (n % 3 === 1 && n % 2 === 0) e.convertedAt = later(30);
    if (n % 4 !== 0) e.qualityScore = n % 101;
    return e;
  };

  /** Every stored event of LEADS in a month, read over the API page by page. */
  const storedEvents = async (month: string) => {
    const out: StoredHandoffEventsQuery['handoffEvents']['edges'][number]['node'][] = [];
    let after: string | null = null;
    for (;;) {
      const page: StoredHandoffEventsQuery['handoffEvents'] = (await analyst.data(StoredHandoffEventsDocument, { agreementId: ids.LEADS, month, first: 500, after })).handoffEvents;
      out.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) return out;
      after = page.pageInfo.endCursor;
    }
  };

  /** The handoff metrics of a month as scorecards read them (the stored handoff_month row) and as a recount of its events gives them. */
  const derivedAndRecount = async (month: string) => {
    const card = (await analyst.data(AgreementScorecardDocument, { key: 'LEADS', month })).agreement.scorecard;
    const derived = Object.fromEntries(HANDOFF_CODES.map((code) => [code, card.objectives.find((o) => o.metric.code === code)?.value ?? null]));
    const events = await storedEvents(month);
    const recount = handoffMetricValues(
      handoffStats(
        events.map((e) => ({ accepted: e.acceptedAt != null, rejected: e.rejectedAt != null, converted: e.convertedAt != null, responseHours: e.responseHours, qualityScore: e.qualityScore })),
      ),
    );
    return { derived, recount, stored: events.length };
  };

  const expectEqualFigures = (derived: Record<string, number | null>, recount: Record<string, number | null>) => {
    expect(derived.HANDOFF_VOLUME).toBe(recount.HANDOFF_VOLUME);
    for (const code of HANDOFF_CODES) {
      if (recount[code] === null) expect(derived[code], code).toBeNull();
      else expect(derived[code], code).toBeCloseTo(recount[code] as number, 6);
    }
  };

  it('keeps derived handoff months equal to a recount under twelve concurrent batches of new events', async () => {
    // SQLite needs no lock because its one connection runs one transaction at a time: pin that.
    if (engine === 'sqlite') expect(s.app.orm.config.get('pool')).toMatchObject({ min: 1, max: 1 });
    const batches = Array.from({ length: 12 }, (_, b) => Array.from({ length: 100 }, (_, i) => lead(`c-${b}-${i}`, b * 100 + i, '2026-03')));
    // Sent in March's reporting period: after March falls due its events would be late (DESIGN §5).
    const results = await Promise.all(batches.map((events) => crm.at('2026-04-01T00:00:00Z').request(RecordHandoffEventsDocument, { input: { source: 'crm', events } })));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(r.data?.recordHandoffEvents.userErrors).toEqual([]);
      expect(r.data?.recordHandoffEvents.batch).toMatchObject({ received: 100, created: 100, updated: 0 });
    }
    const { derived, recount, stored } = await derivedAndRecount('2026-03');
    expect(stored).toBe(1200);
    // Every third lead is rejected: 1,200 handed over, 800 qualified (what a volume commitment counts).
    expect(derived.HANDOFF_VOLUME).toBe(800);
    expectEqualFigures(derived, recount);
  });

  it('takes overlapping batches in opposite orders without a deadlock, and counts every event once', async () => {
    const events = Array.from({ length: 300 }, (_, i) => lead(`o-${String(i).padStart(3, '0')}`, i, '2026-04'));
    // Round 1: both batches create the same 300 events; round 2: both re-send them, changed.
    for (const round of [1, 2]) {
      const sent = round === 1 ? events : events.map((e, i) => ({ ...e, qualityScore: (i * 3) % 101 }));
      const pairs = [sent, [...sent].reverse(), sent, [...sent].reverse()];
      const results = await Promise.all(pairs.map((list) => crm.request(RecordHandoffEventsDocument, { input: { source: 'crm', events: list } })));
      for (const r of results) {
        expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
        expect(r.data?.recordHandoffEvents.userErrors).toEqual([]);
      }
      const batches = results.map((r) => r.data?.recordHandoffEvents.batch);
      const created = batches.reduce((n, b) => n + (b?.created ?? 0), 0);
      const updated = batches.reduce((n, b) => n + (b?.updated ?? 0), 0);
      // Each event is created once, by whichever batch came first; every other sending updated it.
      expect([created, updated]).toEqual(round === 1 ? [300, 900] : [0, 1200]);
    }
    const { derived, recount, stored } = await derivedAndRecount('2026-04');
    expect(stored).toBe(300);
    expect(derived.HANDOFF_VOLUME).toBe(200);
    expectEqualFigures(derived, recount);
  });

  it('tells the losers of simultaneous verdicts on one report that someone else decided first (CONFLICT)', async () => {
    const objectiveId = (await s.data(ReportableObjectivesDocument, { key: 'HANDOVER', at: '2026-02' })).agreement.effectiveObjectives.find((o) => o.metric.code === 'HANDOVER_DAYS')?.id as string;
    // Six customer heads (six users of Customer Service) and an admin decide at once.
    const deciders = [...(await Promise.all(Array.from({ length: 6 }, () => s.tokenFor(Role.HEAD, 'CS')))).map((t) => s.as(t).at(NOW)), s.at(NOW)];
    for (const month of ['2026-01', '2026-02', '2026-03']) {
      const submitted = await headSales.data(SubmitReportDocument, { input: { agreementId: ids.HANDOVER, month, values: [{ objectiveId, value: 1.5 }], narrative: `${month} went fine` } });
      expect(submitted.submitReport.userErrors).toEqual([]);
      const reportId = submitted.submitReport.report?.id as string;
      const answers = await Promise.all(
        deciders.map(async (client, i) => {
          if (i % 2 === 0) {
            const r = await client.data(AcknowledgeReportDocument, { input: { reportId, revision: 1 } });
            return { verb: 'acknowledge', ...r.acknowledgeReport };
          }
          const r = await client.data(DisputeReportDocument, { input: { reportId, revision: 1, reason: `objection ${i}` } });
          return { verb: 'dispute', ...r.disputeReport };
        }),
      );
      const winners = answers.filter((a) => a.userErrors.length === 0);
      expect(winners).toHaveLength(1);
      const outcome = winners[0].report?.status as string;
      expect(outcome).toBe(winners[0].verb === 'acknowledge' ? 'ACKNOWLEDGED' : 'DISPUTED');
      const decided = outcome === 'ACKNOWLEDGED' ? 'acknowledged' : 'disputed';
      for (const loser of answers.filter((a) => a.userErrors.length)) {
        expect(loser.userErrors).toEqual([{ field: 'revision', code: 'CONFLICT', message: expect.stringContaining(`already ${decided} by someone else`) }]);
      }
      // A decider repeating a decision it can see was taken is an illegal transition, not a conflict.
      const winner = deciders[answers.indexOf(winners[0])];
      const again = await winner.data(AcknowledgeReportDocument, { input: { reportId, revision: 1 } });
      expect(again.acknowledgeReport.userErrors).toEqual([expect.objectContaining({ field: 'reportId', code: 'ILLEGAL_TRANSITION' })]);
    }
  });
});
