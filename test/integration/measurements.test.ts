import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgreementIdAndLockDocument,
  CreateFedMetricDocument,
  DepartmentDocument,
  MeasuredScorecardDocument,
  type MeasurementInput,
  MeasurementsDocument,
  MetricFeedsDocument,
  RecordMeasurementsDocument,
  UpdateFedMetricDocument,
} from '../generated/graphql';
import { addMonths, monthOf } from '../../src/common/month';
import { Metric, MetricDirection, MetricSource, MetricUnit } from '../../src/modules/catalog/metric.entity';
import { monthEndsAt } from '../../src/common/working-time';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

/*
 * Hand-computed (UTC calendar; March 2026 has 31 days = 44,640 minutes).
 *
 * IT-SALES-CRM, IT → Sales: SYSTEM_AVAILABILITY (EXTERNAL, TIME_WEIGHTED) ≥ 99.9, warning 99.95;
 * RESTORE_HOURS (EXTERNAL, MEAN, created here) ≤ 4.
 *
 * Monitoring pushes, on 1 April 00:00:
 *   up   1 Mar 00:00 → 10 Mar 03:00 (100), down 10 Mar 03:00 → 03:45 (0), up 10 Mar 03:45 → 1 Apr 00:00 (100)
 *   availability 100 × (44,640 − 45) / 44,640 = 99.899193548 (rounded to 1e-9): BREACHED (< 99.9).
 * The down interval re-sent as 03:00 → 03:30: 100 × 44,610 / 44,640 = 99.932795699: AT_RISK
 *   (between the target 99.9 and the warning 99.95); still three measurements, one updated.
 * RESTORE_HOURS: a monthly value 3 for March and an incident interval valued 5 → MEAN 4: MET.
 *
 * March has no MANUAL objective, so it closes at its due instant (5 working days after it ends:
 * the end of Tuesday 7 April). A correction pushed on 20 April is kept but changes nothing: the
 * month shows late data (DESIGN §5).
 */
const PUSH = '2026-04-01T00:00:00Z';
const READ = '2026-04-02T12:00:00Z';
const LATE = '2026-04-20T09:00:00Z';

describe.each(engines())('external measurements on %s', (engine) => {
  let s: TestServer;
  let monitoring: Client;
  let outsider: Client;
  let headIt: Client;
  let analyst: Client;
  const dept: Record<string, string> = {};
  const metric: Record<string, string> = {};

  const availability = (externalId: string, from: string, to: string, value: number): MeasurementInput => ({
    externalId,
    metric: 'SYSTEM_AVAILABILITY',
    agreement: 'IT-SALES-CRM',
    interval: { from, to },
    value,
  });
  const MARCH = [
    availability('up-1', '2026-03-01T00:00:00Z', '2026-03-10T03:00:00Z', 100),
    availability('down', '2026-03-10T03:00:00Z', '2026-03-10T03:45:00Z', 0),
    availability('up-2', '2026-03-10T03:45:00Z', '2026-04-01T00:00:00Z', 100),
  ];
  const scorecard = async (at: string) => (await analyst.at(at).data(MeasuredScorecardDocument, { key: 'IT-SALES-CRM', month: '2026-03' })).agreement!.scorecard!;
  const objective = (card: Awaited<ReturnType<typeof scorecard>>, code: string) => card.objectives.find((o) => o.metric.code === code)!;

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    // The CRM's monitoring runs as Sales's integration (the customer party), as in the demo.
    monitoring = s.as(await s.tokenFor(Role.INTEGRATION, 'SALES')).at(PUSH);
    outsider = s.as(await s.tokenFor(Role.INTEGRATION, 'MKT')).at(PUSH);
    headIt = s.as(await s.tokenFor(Role.HEAD, 'IT')).at(PUSH);
    analyst = s.as(await s.tokenFor(Role.ANALYST));
    for (const code of ['IT', 'SALES']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const restore = await s.data(CreateFedMetricDocument, {
      input: { code: 'RESTORE_HOURS', name: 'Hours to restore', unit: 'HOURS', direction: 'LOWER_IS_BETTER', source: 'AUTOMATED', feed: 'EXTERNAL', aggregation: 'MEAN' },
    });
    expect(restore.createMetric.userErrors).toEqual([]);
    metric.RESTORE_HOURS = restore.createMetric.metric!.id;
    metric.SYSTEM_AVAILABILITY = (await s.data(MetricFeedsDocument, { code: 'SYSTEM_AVAILABILITY' })).metric!.id;
    const charter = await activateAgreement(s, { key: 'CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    await activateAgreement(s, {
      key: 'IT-SALES-CRM',
      tier: 'CUSTOMER',
      title: 'CRM for Sales',
      providerId: dept.IT,
      customerId: dept.SALES,
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [
        { metricId: metric.SYSTEM_AVAILABILITY, target: 99.9, warning: 99.95, weight: 3 },
        { metricId: metric.RESTORE_HOURS, target: 4 },
      ],
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('the demo catalog declares every automated metric’s feed; availability is EXTERNAL and time-weighted', async () => {
    expect((await s.data(MetricFeedsDocument, { code: 'SYSTEM_AVAILABILITY' })).metric).toMatchObject({ source: 'AUTOMATED', feed: 'EXTERNAL', aggregation: 'TIME_WEIGHTED' });
    expect((await s.data(MetricFeedsDocument, { code: 'HANDOFF_VOLUME' })).metric).toMatchObject({ source: 'AUTOMATED', feed: 'HANDOFF_VOLUME', aggregation: null });
    expect((await s.data(MetricFeedsDocument, { code: 'HANDOVER_DAYS' })).metric).toMatchObject({ source: 'MANUAL', feed: null, aggregation: null });
  });

  it('refuses an AUTOMATED metric without a feed, naming the field, and writes nothing', async () => {
    const base = { name: 'Contract cycle time', unit: 'DAYS', direction: 'LOWER_IS_BETTER' } as const;
    const noFeed = await s.data(CreateFedMetricDocument, { input: { ...base, code: 'CONTRACT_CYCLE_TIME', source: 'AUTOMATED' } });
    expect(noFeed.createMetric.metric).toBeNull();
    expect(noFeed.createMetric.userErrors.map((e) => [e.field, e.code])).toEqual([['feed', 'REQUIRED']]);
    expect(noFeed.createMetric.userErrors[0].message).toContain('an AUTOMATED metric names where its values come from');
    const noAggregation = await s.data(CreateFedMetricDocument, { input: { ...base, code: 'CONTRACT_CYCLE_TIME', source: 'AUTOMATED', feed: 'EXTERNAL' } });
    expect(noAggregation.createMetric.userErrors.map((e) => [e.field, e.code])).toEqual([['aggregation', 'REQUIRED']]);
    const manualFed = await s.data(CreateFedMetricDocument, { input: { ...base, code: 'CONTRACT_CYCLE_TIME', source: 'MANUAL', feed: 'HANDOFF_VOLUME', aggregation: 'SUM' } });
    expect(manualFed.createMetric.userErrors.map((e) => [e.field, e.code])).toEqual([
      ['feed', 'INVALID'],
      ['aggregation', 'INVALID'],
    ]);
    expect((await s.request(MetricFeedsDocument, { code: 'CONTRACT_CYCLE_TIME' })).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    // With a feed it is accepted; the feed is fixed once set.
    const ok = await s.data(CreateFedMetricDocument, { input: { ...base, code: 'CONTRACT_CYCLE_TIME', source: 'AUTOMATED', feed: 'EXTERNAL', aggregation: 'LAST' } });
    expect(ok.createMetric.metric).toMatchObject({ code: 'CONTRACT_CYCLE_TIME', feed: 'EXTERNAL', aggregation: 'LAST' });
    const m = ok.createMetric.metric!;
    const moved = await s.data(UpdateFedMetricDocument, { input: { id: m.id, expectedVersion: m.version, feed: 'HANDOFF_VOLUME' } });
    expect(moved.updateMetric.userErrors.map((e) => [e.field, e.code])).toEqual([['feed', 'INVALID']]);
    const cleared = await s.data(UpdateFedMetricDocument, { input: { id: m.id, expectedVersion: m.version, feed: null } });
    expect(cleared.updateMetric.userErrors.map((e) => [e.field, e.code])).toEqual([['feed', 'REQUIRED']]);
    expect((await s.data(MetricFeedsDocument, { code: 'CONTRACT_CYCLE_TIME' })).metric).toMatchObject({ feed: 'EXTERNAL', aggregation: 'LAST' });
  });

  it('an AUTOMATED metric stored without a feed (before feeds) must be given one before any other change', async () => {
    const em = s.app.orm.em.fork();
    const legacy = em.create(Metric, {
      code: 'LEGACY_UPTIME',
      name: 'Legacy uptime',
      unit: MetricUnit.PERCENT,
      direction: MetricDirection.HIGHER_IS_BETTER,
      source: MetricSource.AUTOMATED,
      minValue: 0,
      maxValue: 100,
      description: '',
      integerOnly: false,
      collectsFrictionItems: false,
    });
    await em.flush();
    const renamed = await s.data(UpdateFedMetricDocument, { input: { id: legacy.id, expectedVersion: 1, name: 'Uptime' } });
    expect(renamed.updateMetric.userErrors.map((e) => [e.field, e.code])).toEqual([['feed', 'REQUIRED']]);
    const half = await s.data(UpdateFedMetricDocument, { input: { id: legacy.id, expectedVersion: 1, feed: 'EXTERNAL' } });
    expect(half.updateMetric.userErrors.map((e) => [e.field, e.code])).toEqual([['aggregation', 'REQUIRED']]);
    const fed = await s.data(UpdateFedMetricDocument, { input: { id: legacy.id, expectedVersion: 1, feed: 'EXTERNAL', aggregation: 'TIME_WEIGHTED' } });
    expect(fed.updateMetric).toEqual({ metric: { id: legacy.id, code: 'LEGACY_UPTIME', feed: 'EXTERNAL', aggregation: 'TIME_WEIGHTED', version: 2 }, userErrors: [] });
  });

  it('refuses a bad batch whole, every problem by index', async () => {
    const r = await monitoring.data(RecordMeasurementsDocument, {
      input: {
        source: 'monitoring',
        measurements: [
          availability('ok', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 100),
          { externalId: 'b1', metric: 'HANDOVER_DAYS', agreement: 'IT-SALES-CRM', month: '2026-03', value: 1 },
          { externalId: 'b2', metric: 'SYSTEM_AVAILABILITY', agreement: 'NOPE', month: '2026-03', value: 100 },
          { ...availability('b3', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 101), month: '2026-03' },
          availability('b4', '2026-03-02T00:00:00Z', '2026-03-01T00:00:00Z', 100),
          availability('ok', '2026-03-03T00:00:00Z', '2026-03-04T00:00:00Z', 100),
          availability('b5', '2026-05-01T00:00:00Z', '2026-05-02T00:00:00Z', 100),
        ],
      },
    });
    expect(r.recordMeasurements.batch).toBeNull();
    expect(r.recordMeasurements.userErrors).toEqual([
      { field: 'measurements[1].metric', code: 'INVALID', message: 'metric HANDOVER_DAYS is MANUAL (reported by its provider’s head): only EXTERNAL metrics take measurements' },
      { field: 'measurements[2].agreement', code: 'NOT_FOUND', message: 'no agreement has key NOPE' },
      { field: 'measurements[3].value', code: 'INVALID', message: 'value: expected 0 to 100 for SYSTEM_AVAILABILITY, received 101' },
      { field: 'measurements[3].interval', code: 'INVALID', message: 'interval: give either a month or an interval, not both nor neither' },
      { field: 'measurements[4].interval.to', code: 'INVALID', message: 'interval.to: expected after 2026-03-02T00:00:00.000Z (interval.from), received 2026-03-01T00:00:00.000Z' },
      { field: 'measurements[5].externalId', code: 'INVALID', message: 'externalId: ok appears twice in the batch (measurements[0])' },
      { field: 'measurements[6].interval.to', code: 'INVALID', message: 'interval.to: 2026-05-02T00:00:00.000Z is in the future' },
    ]);
    expect((await analyst.data(MeasurementsDocument, { agreement: 'IT-SALES-CRM' })).measurements.totalCount).toBe(0);
  });

  it('lets only admins and the parties’ integrations push', async () => {
    const outside = await outsider.request(RecordMeasurementsDocument, { input: { source: 'monitoring', measurements: MARCH } });
    expect(outside.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(outside.errors?.[0].message).toBe('A INTEGRATION principal may not record measurements for agreement IT-SALES-CRM (measurements[0]): only admins and the integrations of its parties do');
    const head = await headIt.request(RecordMeasurementsDocument, { input: { source: 'monitoring', measurements: MARCH } });
    expect(head.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('scores the IT objective from pushed intervals, time-weighted', async () => {
    const r = await monitoring.data(RecordMeasurementsDocument, {
      input: {
        source: 'monitoring',
        measurements: [
          ...MARCH,
          { externalId: 'restore-march', metric: 'RESTORE_HOURS', agreement: 'IT-SALES-CRM', month: '2026-03', value: 3 },
          { externalId: 'incident-7', metric: 'restore_hours', agreement: 'it-sales-crm', interval: { from: '2026-03-10T03:00:00Z', to: '2026-03-10T03:45:00Z' }, value: 5 },
        ],
      },
    });
    expect(r.recordMeasurements).toEqual({ batch: { source: 'monitoring', received: 5, created: 5, updated: 0 }, userErrors: [] });
    const card = await scorecard(READ);
    expect(card.phase).toBe('ENDED');
    expect(objective(card, 'SYSTEM_AVAILABILITY')).toMatchObject({ source: 'AUTOMATED', value: 99.899193548, status: 'BREACHED' });
    expect(objective(card, 'SYSTEM_AVAILABILITY').attainment).toBeCloseTo(99.899193548 / 99.9, 9);
    expect(objective(card, 'RESTORE_HOURS')).toMatchObject({ value: 4, status: 'MET', attainment: 1 });
  });

  it('a re-sent external id updates its measurement, never duplicates; the same batch again changes nothing', async () => {
    const corrected = [MARCH[0], availability('down', '2026-03-10T03:00:00Z', '2026-03-10T03:30:00Z', 0), availability('up-2', '2026-03-10T03:30:00Z', '2026-04-01T00:00:00Z', 100)];
    const r = await monitoring.data(RecordMeasurementsDocument, { input: { source: 'monitoring', measurements: corrected } });
    expect(r.recordMeasurements.batch).toEqual({ source: 'monitoring', received: 3, created: 0, updated: 3 });
    const rows = async () =>
      (await analyst.data(MeasurementsDocument, { agreement: 'IT-SALES-CRM', metric: 'SYSTEM_AVAILABILITY' })).measurements.edges.map((e) => [
        e.node.externalId,
        e.node.startsAt,
        e.node.endsAt,
        e.node.value,
      ]);
    const after = await rows();
    expect(after).toEqual([
      ['up-1', '2026-03-01T00:00:00.000Z', '2026-03-10T03:00:00.000Z', 100],
      ['down', '2026-03-10T03:00:00.000Z', '2026-03-10T03:30:00.000Z', 0],
      ['up-2', '2026-03-10T03:30:00.000Z', '2026-04-01T00:00:00.000Z', 100],
    ]);
    expect(objective(await scorecard(READ), 'SYSTEM_AVAILABILITY')).toMatchObject({ value: 99.932795699, status: 'AT_RISK' });
    const again = await monitoring.data(RecordMeasurementsDocument, { input: { source: 'monitoring', measurements: corrected } });
    expect(again.recordMeasurements.batch).toEqual({ source: 'monitoring', received: 3, created: 0, updated: 3 });
    expect(await rows()).toEqual(after);
    expect(objective(await scorecard(READ), 'SYSTEM_AVAILABILITY')).toMatchObject({ value: 99.932795699, status: 'AT_RISK' });
    // Another source's ids are its own: the same external id from `backup-monitoring` is a new row (in February, not to move March).
    const other = await monitoring.data(RecordMeasurementsDocument, {
      input: { source: 'backup-monitoring', measurements: [availability('up-1', '2026-02-01T00:00:00Z', '2026-02-02T00:00:00Z', 100)] },
    });
    expect(other.recordMeasurements.batch).toMatchObject({ created: 1, updated: 0 });
    expect((await rows()).length).toBe(4);
  });

  it('refuses an integration re-sending another agreement’s external id: it may not move a measurement out of an agreement it is no party to', async () => {
    // MKT's integration is a party to MKT-SALES-AV, and sends the same source and external id as IT-SALES-CRM's outage.
    const mkt = (await s.data(DepartmentDocument, { code: 'MKT' })).department.id;
    const charter = (await s.data(AgreementIdAndLockDocument, { key: 'CHARTER' })).agreement!.id;
    await activateAgreement(s, {
      key: 'MKT-SALES-AV',
      tier: 'CUSTOMER',
      title: 'Campaign site for Sales',
      providerId: mkt,
      customerId: dept.SALES,
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [{ metricId: metric.SYSTEM_AVAILABILITY, target: 99 }],
    });
    const before = objective(await scorecard(READ), 'SYSTEM_AVAILABILITY');
    const taken = await outsider.request(RecordMeasurementsDocument, {
      input: { source: 'monitoring', measurements: [{ ...availability('down', '2026-03-10T03:00:00Z', '2026-03-10T03:30:00Z', 0), agreement: 'MKT-SALES-AV' }] },
    });
    expect(taken.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(taken.errors?.[0].message).toBe(
      'A INTEGRATION principal may not change measurement monitoring/down (measurements[0]): it belongs to agreement IT-SALES-CRM, whose parties’ integrations and admins alone record for it',
    );
    expect((await analyst.data(MeasurementsDocument, { agreement: 'MKT-SALES-AV' })).measurements.totalCount).toBe(0);
    expect((await analyst.data(MeasurementsDocument, { agreement: 'IT-SALES-CRM', metric: 'SYSTEM_AVAILABILITY' })).measurements.totalCount).toBe(4); // three in March, one in February (backup-monitoring)
    expect(objective(await scorecard(READ), 'SYSTEM_AVAILABILITY')).toEqual(before);
    expect(before).toMatchObject({ value: 99.932795699, status: 'AT_RISK' });
    // A new external id of its own is its to send.
    const own = await outsider.data(RecordMeasurementsDocument, {
      input: { source: 'monitoring', measurements: [{ ...availability('mkt-down', '2026-03-10T03:00:00Z', '2026-03-10T03:30:00Z', 0), agreement: 'MKT-SALES-AV' }] },
    });
    expect(own.recordMeasurements.batch).toEqual({ source: 'monitoring', received: 1, created: 1, updated: 0 });
  });

  it('refuses the other party’s integration re-sending a measurement under the same source: only its sender or an admin may change it', async () => {
    // IT's integration (the provider) is a party to IT-SALES-CRM too, and re-sends Sales's outage as 100 under Sales's source name.
    const provider = s.as(await s.tokenFor(Role.INTEGRATION, 'IT')).at(PUSH);
    const downRows = async () =>
      (await analyst.data(MeasurementsDocument, { agreement: 'IT-SALES-CRM', metric: 'SYSTEM_AVAILABILITY' })).measurements.edges
        .filter((e) => e.node.externalId === 'down')
        .map((e) => [e.node.source, e.node.endsAt, e.node.value]);
    expect(await downRows()).toEqual([['monitoring', '2026-03-10T03:30:00.000Z', 0]]);
    const forged = await provider.request(RecordMeasurementsDocument, {
      input: {
        source: 'monitoring',
        measurements: [availability('mine', '2026-03-20T00:00:00Z', '2026-03-20T01:00:00Z', 100), availability('down', '2026-03-10T03:00:00Z', '2026-03-10T03:30:00Z', 100)],
      },
    });
    expect(forged.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(forged.errors?.[0].message).toBe(
      'A INTEGRATION principal may not change measurement monitoring/down (measurements[1]): another principal sent it, and only the integration that sent it or an admin may change it',
    );
    // All or nothing: its own new measurement is not written either.
    expect(await downRows()).toEqual([['monitoring', '2026-03-10T03:30:00.000Z', 0]]);
    expect((await analyst.data(MeasurementsDocument, { agreement: 'IT-SALES-CRM', metric: 'SYSTEM_AVAILABILITY' })).measurements.totalCount).toBe(4);
    expect(objective(await scorecard(READ), 'SYSTEM_AVAILABILITY')).toMatchObject({ value: 99.932795699, status: 'AT_RISK' });
    // An admin may correct it: half down for the 30 minutes, 100 × (44,640 − 15) / 44,640 = 99.966397849: MET.
    const corrected = await s
      .as(s.adminToken)
      .at(PUSH)
      .data(RecordMeasurementsDocument, { input: { source: 'monitoring', measurements: [availability('down', '2026-03-10T03:00:00Z', '2026-03-10T03:30:00Z', 50)] } });
    expect(corrected.recordMeasurements.batch).toEqual({ source: 'monitoring', received: 1, created: 0, updated: 1 });
    expect(await downRows()).toEqual([['monitoring', '2026-03-10T03:30:00.000Z', 50]]);
    expect(objective(await scorecard(READ), 'SYSTEM_AVAILABILITY')).toMatchObject({ value: 99.966397849, status: 'MET' });
    // The admin's correction does not take the measurement over: its sender may still re-send it, and the provider still may not.
    const own = await monitoring.data(RecordMeasurementsDocument, { input: { source: 'monitoring', measurements: [availability('down', '2026-03-10T03:00:00Z', '2026-03-10T03:30:00Z', 0)] } });
    expect(own.recordMeasurements.batch).toEqual({ source: 'monitoring', received: 1, created: 0, updated: 1 });
    expect(await downRows()).toEqual([['monitoring', '2026-03-10T03:30:00.000Z', 0]]);
    expect(objective(await scorecard(READ), 'SYSTEM_AVAILABILITY')).toMatchObject({ value: 99.932795699, status: 'AT_RISK' });
    const again = await provider.request(RecordMeasurementsDocument, { input: { source: 'monitoring', measurements: [availability('down', '2026-03-10T03:00:00Z', '2026-03-10T03:30:00Z', 100)] } });
    expect(again.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await downRows()).toEqual([['monitoring', '2026-03-10T03:30:00.000Z', 0]]);
  });

  it('takes 5,000 measurements in one call, and the same 5,000 again as updates, in a bounded number of statements', async () => {
    // January: 5,000 one-minute intervals from Mon 5 January 00:00, every fourth one down: 75 % up.
    const start = Date.UTC(2026, 0, 5);
    const bulk = Array.from({ length: 5000 }, (_, i) => availability(`jan-${i}`, new Date(start + i * 60_000).toISOString(), new Date(start + (i + 1) * 60_000).toISOString(), i % 4 === 0 ? 0 : 100));
    const january = monitoring.at('2026-02-01T00:00:00Z');
    const first = await january.data(RecordMeasurementsDocument, { input: { source: 'bulk', measurements: bulk } });
    expect(first.recordMeasurements.batch).toMatchObject({ received: 5000, created: 5000, updated: 0 });
    let updated = -1;
    // Re-sent: 10 upserts of 500 rows, 6 reads of 900 ids, one read of the month's measurements and
    // the ledger's sync, whatever the batch's size; never a statement per measurement.
    const statements = await s.countStatements(async () => {
      updated = (await january.data(RecordMeasurementsDocument, { input: { source: 'bulk', measurements: bulk } })).recordMeasurements.batch!.updated;
    });
    // 36 on SQLite and 39 on PostgreSQL (its locks) when this was written.
    expect(statements).toBeLessThanOrEqual(45);
    expect(updated).toBe(5000);
    const jan = (await analyst.at('2026-02-02T00:00:00Z').data(MeasuredScorecardDocument, { key: 'IT-SALES-CRM', month: '2026-01' })).agreement!.scorecard!;
    expect(objective(jan, 'SYSTEM_AVAILABILITY')).toMatchObject({ value: 75, status: 'BREACHED' });
    expect((await analyst.data(MeasurementsDocument, { agreement: 'IT-SALES-CRM', metric: 'SYSTEM_AVAILABILITY', first: 1 })).measurements.totalCount).toBe(5004);
  });

  it('a closed month keeps its results; a later measurement is kept and shown as late data', async () => {
    const late = monitoring.at(LATE);
    const r = await late.data(RecordMeasurementsDocument, { input: { source: 'monitoring', measurements: [availability('down', '2026-03-10T03:00:00Z', '2026-03-10T03:30:00Z', 100)] } });
    expect(r.recordMeasurements.batch).toMatchObject({ created: 0, updated: 1 });
    const card = await scorecard(LATE);
    expect(card.phase).toBe('CLOSED');
    expect(card.lateDataAt).toBe('2026-04-20T09:00:00.000Z');
    expect(objective(card, 'SYSTEM_AVAILABILITY')).toMatchObject({ value: 99.932795699, status: 'AT_RISK' });
  });
});

describe.each(engines())('the demo’s measured availability on %s', (engine) => {
  let s: TestServer;
  afterAll(async () => {
    await s?.close();
  });

  it('scores IT → Sales (CRM) availability from the monitoring intervals the demo pushes, not from a report', async () => {
    s = await startServer(engine, { seed: 'all' });
    // Last month is the demo's month 11: a 10-minute incident (seeds/demo-measurements.ts), in Berlin's months.
    const now = new Date();
    const month = addMonths(monthOf(now), -1);
    const berlin = { timeZone: 'Europe/Berlin' };
    const minutes = (monthEndsAt(berlin, month).getTime() - monthEndsAt(berlin, addMonths(month, -1)).getTime()) / 60_000;
    const expected = Math.round(((100 * (minutes - 10)) / minutes) * 1e9) / 1e9;
    const analyst = s.as(await s.tokenFor(Role.ANALYST));
    const card = (await analyst.data(MeasuredScorecardDocument, { key: 'IT-SALES-CRM', month })).agreement!.scorecard!;
    const availability = card.objectives.find((o) => o.metric.code === 'SYSTEM_AVAILABILITY')!;
    expect(availability).toMatchObject({ source: 'AUTOMATED', value: expected, status: 'MET' });
    const rows = await analyst.data(MeasurementsDocument, { agreement: 'IT-SALES-CRM', metric: 'SYSTEM_AVAILABILITY', first: 100 });
    expect(rows.measurements.edges.filter((e) => e.node.externalId.startsWith(`crm-${month}-`)).map((e) => [e.node.externalId, e.node.value])).toEqual([
      [`crm-${month}-up-1`, 100],
      [`crm-${month}-down`, 0],
      [`crm-${month}-up-2`, 100],
    ]);
  });
});
