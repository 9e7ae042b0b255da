import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { OpenSloDocument } from '../../src/modules/exports/openslo';
import { openSloSchemaProblems, openSloSetProblems } from '../support/openslo-schema';
import {
  AgreementOpenSloDocument,
  HandoffFactsDocument,
  MeasurementFactsDocument,
  type HandoffFactsQuery,
  type MeasurementFactsQuery,
  RecordHandoffEventsDocument,
  ReportableObjectivesDocument,
  SubmitReportDocument,
} from '../generated/graphql';
import { generateAgreements } from '../support/generate';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';
import { csvLineOf, MEASUREMENT_CSV_HEADER, parseCsv } from '../support/csv';

type Fact = MeasurementFactsQuery['measurementFacts']['edges'][number]['node'];

/** Every page of a pull; `between` runs after each page (another writer). */
async function pull(client: Client, filter: Record<string, unknown>, first: number, between: (page: number) => Promise<void> = async () => undefined): Promise<{ rows: Fact[]; asOf: string }> {
  const rows: Fact[] = [];
  let after: string | null = null;
  let asOf = '';
  for (let page = 0; ; page++) {
    const r: MeasurementFactsQuery['measurementFacts'] = (await client.data(MeasurementFactsDocument, { filter: filter as never, first, after })).measurementFacts;
    rows.push(...r.edges.map((e) => e.node));
    asOf ||= r.asOf;
    if (!r.pageInfo.hasNextPage) break;
    after = r.pageInfo.endCursor!;
    await between(page);
  }
  return { rows, asOf };
}

describe.each(engines())('BI exports on %s', (engine) => {
  let s: TestServer;
  let analyst: Client;
  let analystToken: string;
  const filter = { from: '2025-01', to: '2025-06' };

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    analystToken = await s.tokenFor(Role.ANALYST);
    analyst = s.as(analystToken);
    // 10 agreements × 6 months × (2 reported objectives + REPORT_DAYS_LATE from the charter) = 180 facts.
    await generateAgreements(s.app.orm.em.fork(), 'F', 10, '2025-01', '2025-06');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('pages through every fact exactly once while another writer adds agreements and reports', async () => {
    let n = 0;
    const { rows, asOf } = await pull(analyst, filter, 25, async () => {
      // New agreements (with their own facts) arrive between pages.
      await generateAgreements(s.app.orm.em.fork(), `N${n++}`, 1, '2025-01', '2025-06');
    });
    expect(n).toBeGreaterThan(5);
    expect(rows).toHaveLength(180);
    expect(new Set(rows.map((r) => r.id)).size).toBe(180);
    expect(rows.every((r) => r.agreementKey.startsWith('F-'))).toBe(true);
    // Stable order: agreement key, month, objective order.
    expect(rows.slice(0, 4).map((r) => [r.agreementKey, r.month, r.metric])).toEqual([
      ['F-A0', '2025-01', 'STATEMENT_ACCURACY'],
      ['F-A0', '2025-01', 'MTTR'],
      ['F-A0', '2025-01', 'REPORT_DAYS_LATE'],
      ['F-A0', '2025-02', 'STATEMENT_ACCURACY'],
    ]);
    expect(rows[0]).toMatchObject({
      tier: 'CUSTOMER',
      provider: 'F-P0',
      customer: 'F-C0',
      service: null,
      unit: 'PERCENT',
      direction: 'HIGHER_IS_BETTER',
      target: 99.5,
      weight: 2,
      value: 99,
      status: 'BREACHED',
      source: 'MANUAL',
      reportRevision: 1,
    });
    // The next incremental pull brings what arrived meanwhile, and nothing older.
    const next = await pull(analyst, { ...filter, updatedSince: asOf }, 500);
    expect(new Set(next.rows.map((r) => r.agreementKey))).toEqual(new Set(Array.from({ length: n }, (_, i) => `N${i}-A0`)));
    expect(next.rows).toHaveLength(n * 18);
  });

  it('brings a corrected value back in an incremental pull', async () => {
    const before = await pull(analyst, filter, 500);
    const objectives = (await s.data(ReportableObjectivesDocument, { key: 'F-A3', at: '2025-03' })).agreement;
    const value = (code: string) => objectives.effectiveObjectives.find((o) => o.metric.code === code)!.id;
    const r = await s.data(SubmitReportDocument, {
      input: {
        agreementId: objectives.id,
        month: '2025-03',
        narrative: 'corrected',
        values: [
          { objectiveId: value('STATEMENT_ACCURACY'), value: 99.95 },
          { objectiveId: value('MTTR'), value: 1 },
        ],
      },
    });
    expect(r.submitReport.userErrors).toEqual([]);
    const changed = await pull(analyst, { ...filter, updatedSince: before.asOf }, 500);
    expect(changed.rows.filter((x) => x.metric !== 'REPORT_DAYS_LATE').map((x) => [x.agreementKey, x.month, x.metric, x.value, x.status, x.reportRevision])).toEqual([
      ['F-A3', '2025-03', 'STATEMENT_ACCURACY', 99.95, 'MET', 2],
      ['F-A3', '2025-03', 'MTTR', 1, 'MET', 2],
    ]);
  });

  it('streams the same rows as CSV, in the same order', async () => {
    const graph = await pull(analyst, { ...filter, provider: 'F-P1' }, 7);
    const res = await fetch(`${s.url}/export/measurements.csv?from=2025-01&to=2025-06&provider=F-P1`, { headers: { authorization: `Bearer ${analystToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header, ...lines] = parseCsv(await res.text());
    expect(header).toEqual(MEASUREMENT_CSV_HEADER);
    const asCsv = (f: Fact) => csvLineOf(f, header);
    expect(lines).toHaveLength(18);
    expect(lines).toEqual(graph.rows.map(asCsv));
  });

  it('refuses an export without a token or with a bad filter', async () => {
    expect((await fetch(`${s.url}/export/measurements.csv?from=2025-01&to=2025-06`)).status).toBe(401);
    const bad = await fetch(`${s.url}/export/measurements.csv?from=2025-13&to=2025-06`, { headers: { authorization: `Bearer ${analystToken}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ errors: [{ message: 'from: expected a month number from 01 to 12, received "2025-13"', extensions: { code: 'BAD_USER_INPUT' } }] });
  });

  it('pulls handoff events incrementally, and as CSV', async () => {
    const crm = s.as(await s.tokenFor(Role.ADMIN));
    const agreementId = (await s.data(ReportableObjectivesDocument, { key: 'F-A0', at: '2025-03' })).agreement.id;
    const events = Array.from({ length: 30 }, (_, i) => ({
      externalId: `h${i}`,
      agreementId,
      stage: 'lead',
      handedOffAt: `2025-03-${String(2 + (i % 20)).padStart(2, '0')}T10:00:00Z`,
      acceptedAt: `2025-03-${String(2 + (i % 20)).padStart(2, '0')}T12:00:00Z`,
    }));
    expect((await crm.data(RecordHandoffEventsDocument, { input: { source: 'crm', events } })).recordHandoffEvents.userErrors).toEqual([]);
    const seen: string[] = [];
    let after: string | null = null;
    let asOf = '';
    for (let page = 0; ; page++) {
      const r: HandoffFactsQuery['handoffFacts'] = (await analyst.data(HandoffFactsDocument, { filter, first: 7, after })).handoffFacts;
      seen.push(...r.edges.map((e) => e.node.externalId));
      asOf ||= r.asOf;
      if (!r.pageInfo.hasNextPage) break;
      after = r.pageInfo.endCursor;
      if (page === 1) {
        // A re-sent event and a new one arrive mid-pull: both wait for the next pull.
        const mid = await crm.data(RecordHandoffEventsDocument, {
          input: {
            source: 'crm',
            events: [
              { ...events[29], respondedAt: '2025-03-11T11:00:00Z' },
              { ...events[0], externalId: 'h-new' },
            ],
          },
        });
        expect(mid.recordHandoffEvents.batch).toMatchObject({ created: 1, updated: 1 });
      }
    }
    // Every event once and none twice; h-new waits for the next pull, and so does h29 if its
    // page had not come yet when it changed (its new state is then past the snapshot).
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => id !== 'h29').sort()).toEqual(
      events
        .map((e) => e.externalId)
        .filter((id) => id !== 'h29')
        .sort(),
    );
    const next = await analyst.data(HandoffFactsDocument, { filter: { ...filter, updatedSince: asOf }, first: 100 });
    expect(next.handoffFacts.edges.map((e) => e.node.externalId).sort()).toEqual(['h-new', 'h29']);
    const csv = await fetch(`${s.url}/export/handoffs.csv?from=2025-01&to=2025-06`, { headers: { authorization: `Bearer ${analystToken}` } });
    expect(parseCsv(await csv.text())).toHaveLength(1 + 31);
  });

  it('streams an export of more than two pages (2,000 rows each) whole: every row once', async () => {
    const crm = s.as(await s.tokenFor(Role.ADMIN));
    const agreementId = (await s.data(ReportableObjectivesDocument, { key: 'F-A1', at: '2025-05' })).agreement.id;
    const url = `${s.url}/export/handoffs.csv?from=2025-05&to=2025-05`;
    const rowsOf = async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${analystToken}` } });
      expect(res.status).toBe(200);
      const [header, ...rows] = parseCsv(await res.text());
      return rows.map((r) => r[header.indexOf('externalId')]);
    };
    const before = await rowsOf();
    const ids = Array.from({ length: 4500 }, (_, i) => `bulk-${i}`);
    const events = ids.map((externalId, i) => ({ externalId, agreementId, stage: 'lead', handedOffAt: `2025-05-${String(1 + (i % 28)).padStart(2, '0')}T09:00:00Z` }));
    expect((await crm.data(RecordHandoffEventsDocument, { input: { source: 'bulk', events } })).recordHandoffEvents.userErrors).toEqual([]);
    const after = await rowsOf();
    expect(after).toHaveLength(before.length + 4500);
    expect(new Set(after).size).toBe(after.length);
    expect(after.filter((id) => id.startsWith('bulk-')).sort()).toEqual([...ids].sort());
  });

  it('refuses a cursor it did not write and a page too large, and reads CORPORATE as every tier', async () => {
    for (const doc of [MeasurementFactsDocument, HandoffFactsDocument] as const) {
      const bad = await analyst.request(doc as typeof MeasurementFactsDocument, { filter, after: 'bm90LWEtY3Vyc29y' });
      expect(bad.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/^after: expected a cursor returned by this list \(endCursor of (measurement|handoff)Facts\), received "bm90LWEtY3Vyc29y"$/),
        extensions: { code: 'BAD_USER_INPUT' },
      });
      const big = await analyst.request(doc as typeof MeasurementFactsDocument, { filter, first: 2001 });
      expect(big.errors?.[0]).toMatchObject({ message: 'first: expected 1 to 2000, received 2001', extensions: { code: 'BAD_USER_INPUT' } });
    }
    // The largest page with every column fits the default cost limit: a row's plain columns cost nothing.
    for (const doc of [MeasurementFactsDocument, HandoffFactsDocument] as const) {
      const full = await analyst.request(doc as typeof MeasurementFactsDocument, { filter, first: 2000 });
      expect(full.errors).toBeUndefined();
    }
    const all = (await analyst.data(HandoffFactsDocument, { filter, first: 100 })).handoffFacts.edges.length;
    const corporate = (await analyst.data(HandoffFactsDocument, { filter: { ...filter, tier: 'CORPORATE' }, first: 100 })).handoffFacts.edges.length;
    expect(all).toBeGreaterThan(0);
    expect(corporate).toBe(all);
  });

  it('exports an agreement’s objectives as OpenSLO documents that follow the spec', async () => {
    const r = await analyst.data(AgreementOpenSloDocument, { key: 'F-A2', at: '2025-02' });
    const docs = r.agreement.openSlo as unknown as OpenSloDocument[];
    // The demo agreements keep the default calendar, in UTC, an IANA name: no problem either.
    expect(docs.filter((d) => d.kind === 'SLO').map((d) => d.spec.timeWindow?.[0].calendar?.timeZone)).toEqual(['UTC', 'UTC', 'UTC']);
    expect(openSloSchemaProblems(docs)).toEqual([]);
    expect(openSloSetProblems(docs)).toEqual([]);
    expect(docs.map((d) => `${d.kind} ${d.metadata.name}`)).toEqual([
      'Service f-a2',
      'SLI f-a2-statement-accuracy-sli',
      'SLO f-a2-statement-accuracy',
      'SLI f-a2-mttr-sli',
      'SLO f-a2-mttr',
      'SLI f-a2-report-days-late-sli',
      'SLO f-a2-report-days-late',
    ]);
    const slo = docs.find((d) => d.metadata.name === 'f-a2-mttr') as Extract<OpenSloDocument, { kind: 'SLO' }>;
    expect(slo.spec.objectives[0]).toMatchObject({ op: 'lte', value: 4 });
    expect(slo.metadata.labels).toMatchObject({ tier: 'customer', provider: 'f-p2', customer: 'f-c2' });
    expect(slo.metadata.annotations?.['tiered-sla.example/credit-percent']).toBe('3');
    // The YAML is the same documents: compared parsed, not as text.
    expect(r.agreement.openSloYaml.startsWith('apiVersion: openslo/v1')).toBe(true);
    const yaml = parseAllDocuments(r.agreement.openSloYaml);
    expect(Array.isArray(yaml) ? yaml.map((d) => d.toJS()) : null).toEqual(docs);
  });
});
