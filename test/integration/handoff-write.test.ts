import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DepartmentDocument, type HandoffEventInput, MetricDocument, RecordHandoffEventsDocument } from '../generated/graphql';
import { handoffStats } from '../../src/modules/handoffs/handoff.service';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

/*
 * How a batch is written and its months recounted (issue 19 goal 3): on PostgreSQL new events go
 * by COPY (text format, escaped) and each touched month is tallied by the database, counts, the
 * quality sum and the two response hours on either side of each percentile's rank. Whatever the
 * engine, the stored events are the ones sent, character for character, and each stored month is
 * exactly what handoffStats makes of its stored events.
 */
const NOW = '2026-05-01T00:00:00Z';
const MONTHS = ['2026-01', '2026-02', '2026-03', '2026-04'] as const;

describe.each(engines())('handoff writes on %s', (engine) => {
  let s: TestServer;
  let crm: Client;
  let agreementId: string;

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    crm = s.as(await s.tokenFor(Role.INTEGRATION, 'MKT')).at(NOW);
    const dept: Record<string, string> = {};
    for (const code of ['MKT', 'SALES']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const volume = (await s.data(MetricDocument, { code: 'HANDOFF_VOLUME' })).metric.id;
    const charter = await activateAgreement(s, { key: 'CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    agreementId = await activateAgreement(s, {
      key: 'FEED',
      tier: 'CUSTOMER',
      title: 'Feed',
      providerId: dept.MKT,
      customerId: dept.SALES,
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [{ metricId: volume, target: 10 }],
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  const rows = <T>(statement: string, params: unknown[] = []) => s.app.orm.em.fork().getConnection().execute(statement, params) as Promise<T[]>;

  /** Every stored month of FEED next to handoffStats of its stored events: equal, to the last bit. */
  const expectMonthsRecounted = async () => {
    const months = await rows<Record<string, unknown>>(
      `select "month", "volume", "accepted", "rejected", "converted", "responded", "response_median_hours", "response_p90_hours", "mean_quality" from "handoff_month" where "agreement_id" = ? order by "month"`,
      [agreementId],
    );
    const events = await rows<{ month: string; accepted: unknown; rejected: unknown; converted: unknown; response_hours: number | null; quality_score: number | null }>(
      `select "month", "accepted_at" is not null as "accepted", "rejected_at" is not null as "rejected", "converted_at" is not null as "converted", "response_hours", "quality_score" from "handoff_event" where "agreement_id" = ?`,
      [agreementId],
    );
    const num = (v: unknown) => (v === null ? null : Number(v));
    const stored = months.map((m) => ({
      month: m.month,
      volume: num(m.volume),
      accepted: num(m.accepted),
      rejected: num(m.rejected),
      converted: num(m.converted),
      responded: num(m.responded),
      responseMedianHours: num(m.response_median_hours),
      responseP90Hours: num(m.response_p90_hours),
      meanQuality: num(m.mean_quality),
    }));
    const recount = months.map((m) => ({
      month: m.month,
      ...handoffStats(
        events
          .filter((e) => e.month === m.month)
          .map((e) => ({ accepted: Boolean(e.accepted), rejected: Boolean(e.rejected), converted: Boolean(e.converted), responseHours: num(e.response_hours), qualityScore: num(e.quality_score) })),
      ),
    }));
    expect(stored).toEqual(recount);
    return stored;
  };

  /** Event `n` of a month: responses of odd working-hour fractions, ties, decisions and scores. */
  const event = (externalId: string, month: string, n: number): HandoffEventInput => {
    const at = new Date(`${month}-${String(2 + (n % 25)).padStart(2, '0')}T08:00:00Z`);
    at.setUTCMinutes((n * 37) % 600);
    const later = (minutes: number) => new Date(at.getTime() + minutes * 60_000).toISOString();
    const e: HandoffEventInput = { externalId, agreementId, stage: 'lead', handedOffAt: at.toISOString() };
    if (n % 7 !== 3) e.respondedAt = later(n % 4 === 0 ? 90 : 13 + ((n * 53) % 2000));
    if (n % 3 === 0) Object.assign(e, { rejectedAt: later(3000), rejectionReason: 'duplicate' });
    else if (n % 3 === 1) e.acceptedAt = later(3000);
    if (n % 3 === 1 && n % 2 === 0) e.convertedAt = later(4000);
    if (n % 4 !== 2) e.qualityScore = ((n * 17) % 1001) / 10;
    return e;
  };

  it('stores each month as handoffStats makes of its events: medians, 90th percentiles and means of 0 to 23 responses', async () => {
    // Month sizes 1, 2, 10 and 23: ranks on a value and between two, the last rank, ties.
    const sizes = [1, 2, 10, 23];
    const first = MONTHS.flatMap((month, m) => Array.from({ length: sizes[m] }, (_, n) => event(`t-${month}-${n}`, month, n + m)));
    const created = await crm.data(RecordHandoffEventsDocument, { input: { source: 'tally', events: first } });
    expect(created.recordHandoffEvents.userErrors).toEqual([]);
    expect((await expectMonthsRecounted()).map((m) => m.volume)).toEqual(sizes);
    // Re-sent: April's first five move to January (both months recounted), February's two change.
    const moved = first.filter((e) => e.externalId.startsWith('t-2026-04-')).slice(0, 5);
    const again = [
      ...moved.map((e, i) => ({ ...event(e.externalId, '2026-01', 40 + i), externalId: e.externalId })),
      ...first.filter((e) => e.externalId.startsWith('t-2026-02-')).map((e) => ({ ...e, qualityScore: 12.3, respondedAt: null })),
      event('t-new', '2026-03', 99),
    ];
    const resent = await crm.data(RecordHandoffEventsDocument, { input: { source: 'tally', events: again } });
    expect(resent.recordHandoffEvents.batch).toMatchObject({ created: 1, updated: 7 });
    expect((await expectMonthsRecounted()).map((m) => [m.month, m.volume, m.responded])).toEqual([
      ['2026-01', 6, expect.any(Number)],
      ['2026-02', 2, 0],
      ['2026-03', 11, expect.any(Number)],
      ['2026-04', 18, expect.any(Number)],
    ]);
  });

  it('stores tabs, newlines, carriage returns and backslashes as sent', async () => {
    const odd = ['a\tb', 'line\nbreak', 'cr\rhere', 'back\\slash', '\\N', 'tab\\t', 'ünï\\\tcode'];
    const events = odd.map((text, i) => ({
      ...event(`odd ${text} ${i}`, '2026-03', i * 3),
      stage: text,
      rejectedAt: '2026-03-28T10:00:00Z',
      rejectionReason: `why: ${text}`,
      acceptedAt: null,
      convertedAt: null,
    }));
    const recorded = await crm.data(RecordHandoffEventsDocument, { input: { source: 'odd\tsource\\', events } });
    expect(recorded.recordHandoffEvents.userErrors).toEqual([]);
    const stored = await rows<{ source: string; external_id: string; stage: string; rejection_reason: string }>(
      `select "source", "external_id", "stage", "rejection_reason" from "handoff_event" where "source" = ? order by "stage"`,
      ['odd\tsource\\'],
    );
    expect(stored.map((r) => [r.external_id, r.stage, r.rejection_reason]).sort()).toEqual(events.map((e) => [e.externalId, e.stage, e.rejectionReason]).sort());
  });

  // Row ids are UUIDv7 (src/common/ids.ts), on SQLite's inserts and PostgreSQL's COPY alike.
  it('gives new events and months UUIDv7 ids stamped with the time they were written', async () => {
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const millisOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    const before = Date.now();
    const recorded = await crm.data(RecordHandoffEventsDocument, { input: { source: 'v7', events: MONTHS.map((month, m) => event(`v7-${m}`, month, m)) } });
    const after = Date.now();
    expect(recorded.recordHandoffEvents.userErrors).toEqual([]);
    const events = await rows<{ id: string }>(`select "id" from "handoff_event" where "source" = 'v7'`);
    expect(events).toHaveLength(MONTHS.length);
    for (const { id } of events) {
      expect(String(id)).toMatch(v7);
      expect(millisOf(String(id))).toBeGreaterThanOrEqual(before);
      expect(millisOf(String(id))).toBeLessThanOrEqual(after);
    }
    const months = await rows<{ id: string }>(`select "id" from "handoff_month" where "agreement_id" = ?`, [agreementId]);
    expect(months.length).toBeGreaterThan(0);
    for (const { id } of months) expect(String(id)).toMatch(v7);
  });

  it('creates an external id sent at once by batches about different months once, and moves it for the others', async () => {
    // Each batch's lookup may find it new; the writes then meet on the unique key, and the losers run again.
    for (let round = 0; round < 3; round++) {
      const batches = MONTHS.map((month, m) => [event(`race-${round}`, month, m), event(`race-${round}-${month}`, month, m + 1)]);
      const results = await Promise.all(batches.map((events) => crm.request(RecordHandoffEventsDocument, { input: { source: 'race', events } })));
      for (const r of results) expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      const counts = results.map((r) => r.data?.recordHandoffEvents.batch);
      expect(counts.reduce((n, b) => n + (b?.created ?? 0), 0)).toBe(5);
      expect(counts.reduce((n, b) => n + (b?.updated ?? 0), 0)).toBe(3);
      expect(await rows(`select "id" from "handoff_event" where "source" = 'race' and "external_id" = ?`, [`race-${round}`])).toHaveLength(1);
    }
    await expectMonthsRecounted();
  });

  it("keeps the ledger with the ingest's locks and terms: no second lock of its months, no second read of its agreement", async () => {
    const batch = (quality: number): HandoffEventInput[] =>
      MONTHS.map((m, i) => ({ externalId: `upkeep-${i}`, agreementId, stage: 'lead', handedOffAt: `${m}-10T10:00:00Z`, respondedAt: `${m}-10T12:00:00Z`, qualityScore: quality }));
    for (const quality of [10, 20]) {
      s.app.statements.log = [];
      try {
        await crm.data(RecordHandoffEventsDocument, { input: { source: 'upkeep', events: batch(quality) } });
        const log = s.app.statements.log.map((x) => x.toLowerCase().replace(/\s+/g, ' '));
        // The months are locked once (PostgreSQL; SQLite takes none), the table lock and the horizon's read go together.
        expect(log.filter((x) => x.includes('pg_advisory_xact_lock'))).toHaveLength(engine === 'postgresql' ? 1 : 0);
        expect(log.filter((x) => x.includes('from "agreement_version"') || x.includes('from `agreement_version`'))).toHaveLength(2);
        expect(log.filter((x) => x.includes('from ledger_state'))).toHaveLength(1);
      } finally {
        s.app.statements.log = null;
      }
    }
    await expectMonthsRecounted();
  });
});
