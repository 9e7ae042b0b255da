/**
 * BI measurement facts read from the score ledger (DESIGN §8 read side, issue 13 point 5): one
 * statement per page whatever the number of agreements, tombstones in incremental pulls, updatedAt
 * moving only where a shown value changed, stale rows re-evaluated at the request's instant.
 */
import { execute, type OperationDefinitionNode, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMonths, monthRange, type Month } from '../../src/common/month';
import {
  AgreementLockDocument,
  AgreementScorecardDocument,
  ApproveAmendmentDocument,
  MeasurementFactsAliasedDocument,
  MeasurementFactsByFragmentDocument,
  MeasurementFactsDocument,
  type MeasurementFactsQuery,
  OpenEscalationDocument,
  ProposeAmendmentDocument,
  ReportableObjectivesDocument,
  SubmitReportDocument,
  SuspendAgreementDocument,
} from '../generated/graphql';
import { berlinMonth } from '../support/clock';
import { generateAgreements } from '../support/generate';
import { engines, post, Role, startServer, type Client, type TestServer } from '../support/server';
import { csvLineOf, MEASUREMENT_CSV_HEADER, parseCsv } from '../support/csv';
import { createContext } from '../../src/common/context';
import { authenticateBearer } from '../../src/http/authenticate';
import { executeFactQuery, stringifyResult } from '../../src/http/facts-execution';
import { buildApiSchema } from '../../src/schema';

type Fact = MeasurementFactsQuery['measurementFacts']['edges'][number]['node'];

/** Every page of a pull; `between` runs after each page (another writer). */
async function pull(
  client: Client,
  filter: Record<string, unknown>,
  first: number,
  between: (page: number) => Promise<void> = async () => undefined,
): Promise<{ rows: Fact[]; asOf: string; pages: number }> {
  const rows: Fact[] = [];
  let after: string | null = null;
  let asOf = '';
  let pages = 0;
  for (let page = 0; ; page++) {
    const r: MeasurementFactsQuery['measurementFacts'] = (await client.data(MeasurementFactsDocument, { filter: filter as never, first, after })).measurementFacts;
    rows.push(...r.edges.map((e) => e.node));
    asOf ||= r.asOf;
    pages++;
    if (!r.pageInfo.hasNextPage) break;
    after = r.pageInfo.endCursor!;
    await between(page);
  }
  return { rows, asOf, pages };
}

/**
 * The MANUAL facts `generateAgreements` writes for agreement `i` in the `m`-th month of its range:
 * availability 99 + ((i + m) % 10) / 10 against ≥ 99.5 (weight 2), MTTR 2 + ((7i + m) % 5) against
 * ≤ 4 (excused every third month), revision 1, nothing disputed.
 */
function expectedManual(prefix: string, i: number, month: Month, m: number) {
  const availability = 99 + ((i + m) % 10) / 10;
  const mttr = 2 + ((i * 7 + m) % 5);
  const base = {
    agreementKey: `${prefix}-A${i}`,
    month,
    tier: 'CUSTOMER',
    provider: `${prefix}-P${i}`,
    customer: `${prefix}-C${i}`,
    service: null,
    source: 'MANUAL',
    reportRevision: 1,
    disputed: false,
    deleted: false,
  };
  return [
    {
      ...base,
      metric: 'STATEMENT_ACCURACY',
      unit: 'PERCENT',
      direction: 'HIGHER_IS_BETTER',
      target: 99.5,
      warning: null,
      weight: 2,
      value: availability,
      excused: false,
      status: availability >= 99.5 ? 'MET' : 'BREACHED',
    },
    { ...base, metric: 'MTTR', direction: 'LOWER_IS_BETTER', target: 4, weight: 1, value: mttr, excused: m % 3 === 0, status: m % 3 === 0 ? 'EXCUSED' : mttr <= 4 ? 'MET' : 'BREACHED' },
  ];
}

describe.each(engines())('BI facts from the score ledger on %s', (engine) => {
  let s: TestServer;
  let analyst: Client;
  let analystToken: string;
  const current = berlinMonth(new Date());
  const gen = (prefix: string, count: number, from: Month, to: Month) => generateAgreements(s.app.orm.em.fork(), prefix, count, from, to);
  const idOf = async (key: string, at: Month) => (await s.data(ReportableObjectivesDocument, { key, at })).agreement;

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    analystToken = await s.tokenFor(Role.ANALYST);
    analyst = s.as(analystToken);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('returns every non-deleted fact of a full pull exactly once, with its exact values, while writes happen between pages', async () => {
    // 6 agreements × 3 months × 3 objectives (two reported, REPORT_DAYS_LATE from the charter).
    await gen('L', 6, '2025-01', '2025-03');
    const filter = { from: '2025-01', to: '2025-03' };
    const months = monthRange('2025-01', '2025-03');
    const corrected = await idOf('L-A4', '2025-02');
    const objective = (code: string) => corrected.effectiveObjectives.find((o) => o.metric.code === code)!.id;
    let n = 0;
    const { rows, pages } = await pull(analyst, filter, 5, async (page) => {
      // Another writer: new agreements (after the snapshot: the next pull's), and on the second
      // page a corrected report for an agreement the pull has not reached yet.
      await gen(`LN${n++}`, 1, '2025-01', '2025-03');
      if (page === 1) {
        const r = await s.data(SubmitReportDocument, {
          input: {
            agreementId: corrected.id,
            month: '2025-02',
            narrative: 'corrected',
            values: [
              { objectiveId: objective('STATEMENT_ACCURACY'), value: 99.95 },
              { objectiveId: objective('MTTR'), value: 1 },
            ],
          },
        });
        expect(r.submitReport.userErrors).toEqual([]);
      }
    });
    expect(pages).toBe(11);
    const own = rows.filter((r) => r.agreementKey.startsWith('L-'));
    expect(own).toHaveLength(54);
    expect(rows).toHaveLength(54);
    expect(new Set(rows.map((r) => r.id)).size).toBe(54);
    // Stable order, and every value as generated (the correction, read after it was written, shows).
    expect(rows.map((r) => `${r.agreementKey} ${r.month} ${r.metric}`)).toEqual(
      Array.from({ length: 6 }, (_, i) => months.flatMap((month) => ['STATEMENT_ACCURACY', 'MTTR', 'REPORT_DAYS_LATE'].map((code) => `L-A${i} ${month} ${code}`))).flat(),
    );
    for (let i = 0; i < 6; i++) {
      months.forEach((month, m) => {
        const [availability, mttr] = rows.filter((r) => r.agreementKey === `L-A${i}` && r.month === month && r.source === 'MANUAL');
        const [a, b] = expectedManual('L', i, month, m);
        if (i === 4 && month === '2025-02') {
          expect(availability).toMatchObject({ ...a, value: 99.95, status: 'MET', reportRevision: 2 });
          expect(mttr).toMatchObject({ ...b, value: 1, status: 'MET', reportRevision: 2 });
        } else {
          expect(availability).toMatchObject(a);
          expect(mttr).toMatchObject(b);
        }
      });
    }
    // A pull in one page now returns the same facts (and the new agreements).
    const after = await pull(analyst, filter, 2000);
    expect(after.rows.filter((r) => r.agreementKey.startsWith('L-'))).toEqual(rows);
    expect(after.rows).toHaveLength(54 + n * 9);
  });

  it('returns a suspended agreement’s facts as tombstones (deleted: true) in the next incremental pull, and as CSV', async () => {
    await gen('S', 2, addMonths(current, -2), addMonths(current, -1));
    const filter = { from: addMonths(current, -2), to: addMonths(current, 1) };
    const before = await pull(analyst, { from: filter.from, to: filter.to }, 500);
    const mine = (rows: Fact[]) => rows.filter((r) => r.agreementKey.startsWith('S-'));
    expect(mine(before.rows)).toHaveLength(2 * 4 * 3);
    expect(mine(before.rows).every((r) => !r.deleted)).toBe(true);
    // Next month has not begun: no value yet (rule 0), every objective PENDING.
    expect(
      mine(before.rows)
        .filter((r) => r.month === addMonths(current, 1))
        .map((r) => [r.value, r.status]),
    ).toEqual(Array.from({ length: 6 }, () => [null, 'PENDING']));

    const a = await idOf('S-A0', addMonths(current, -1));
    const lock = (await s.data(AgreementLockDocument, { key: 'S-A0' })).agreement.lockVersion;
    const suspended = await s.data(SuspendAgreementDocument, { input: { id: a.id, expectedVersion: lock, reason: 'Paused' } });
    expect(suspended.suspendAgreement.userErrors).toEqual([]);

    // Suspended from today with no end: next month is covered whole and leaves the measured set;
    // this month, only partly covered, stays (DESIGN §3).
    const next = await pull(analyst, { from: filter.from, to: filter.to, updatedSince: before.asOf }, 500);
    expect(next.rows.map((r) => [r.agreementKey, r.month, r.metric, r.deleted])).toEqual([
      ['S-A0', addMonths(current, 1), 'STATEMENT_ACCURACY', true],
      ['S-A0', addMonths(current, 1), 'MTTR', true],
      ['S-A0', addMonths(current, 1), 'REPORT_DAYS_LATE', true],
    ]);
    for (const r of next.rows) expect(Date.parse(r.updatedAt)).toBeGreaterThan(Date.parse(before.asOf));
    // A full pull leaves the tombstones out.
    const full = await pull(analyst, { from: filter.from, to: filter.to }, 500);
    expect(mine(full.rows).map((r) => r.id)).toEqual(
      mine(before.rows)
        .filter((r) => !(r.agreementKey === 'S-A0' && r.month === addMonths(current, 1)))
        .map((r) => r.id),
    );
    expect(full.rows.some((r) => r.deleted)).toBe(false);
    // The CSV of the incremental pull carries them too, `deleted` last.
    const res = await fetch(`${s.url}/export/measurements.csv?from=${filter.from}&to=${filter.to}&updatedSince=${encodeURIComponent(before.asOf)}`, {
      headers: { authorization: `Bearer ${analystToken}` },
    });
    const [header, ...lines] = parseCsv(await res.text());
    expect(header[header.length - 1]).toBe('deleted');
    expect(lines.map((l) => [l[header.indexOf('id')], l[header.length - 1]])).toEqual(next.rows.map((r) => [r.id, 'true']));
  });

  it('moves updatedAt only for the months an approved amendment governs', async () => {
    await gen('M', 1, addMonths(current, -2), addMonths(current, -1));
    const filter = { from: addMonths(current, -2), to: addMonths(current, 1), provider: 'M-P0' };
    const before = await pull(analyst, filter, 500);
    expect(before.rows).toHaveLength(4 * 3);
    const provider = s.as(await s.tokenFor(Role.HEAD, 'M-P0'));
    const customer = s.as(await s.tokenFor(Role.HEAD, 'M-C0'));
    const agreement = await idOf('M-A0', addMonths(current, -1));
    const lock = (await s.data(AgreementLockDocument, { key: 'M-A0' })).agreement.lockVersion;
    const proposed = await provider.data(ProposeAmendmentDocument, {
      input: { agreementId: agreement.id, expectedVersion: lock, effectiveMonth: addMonths(current, 1), reason: 'A bigger budget next month', terms: { monthlyCharge: 12345 } },
    });
    expect(proposed.proposeAmendment.userErrors).toEqual([]);
    const approved = await customer.data(ApproveAmendmentDocument, { input: { id: proposed.proposeAmendment.amendment!.id, expectedVersion: proposed.proposeAmendment.amendment!.version } });
    expect(approved.approveAmendment.userErrors).toEqual([]);

    // The new terms carry new objectives (new ids): next month's old objective rows leave as
    // tombstones, the new ones arrive, and the charter's inherited objective is the same one with
    // a new version above it. Tombstone and successor share a position; the id orders them.
    const changed = await pull(analyst, { ...filter, updatedSince: before.asOf }, 500);
    const next = addMonths(current, 1);
    expect(changed.rows.map((r) => [r.month, r.metric, r.deleted]).sort()).toEqual([
      [next, 'MTTR', false],
      [next, 'MTTR', true],
      [next, 'REPORT_DAYS_LATE', false],
      [next, 'STATEMENT_ACCURACY', false],
      [next, 'STATEMENT_ACCURACY', true],
    ]);
    // One row a page pages through the same rows (a tombstone and its successor share a position).
    expect((await pull(analyst, { ...filter, updatedSince: before.asOf }, 1)).rows).toEqual(changed.rows);
    const old = before.rows.filter((r) => r.month === next);
    expect(
      changed.rows
        .filter((r) => r.deleted)
        .map((r) => r.id)
        .sort(),
    ).toEqual(
      old
        .filter((r) => r.metric !== 'REPORT_DAYS_LATE')
        .map((r) => r.id)
        .sort(),
    );
    const after = await pull(analyst, filter, 500);
    const stamp = (rows: Fact[]) => rows.map((r) => [r.id, r.updatedAt]);
    const governed = (r: Fact) => r.month === addMonths(current, 1);
    expect(stamp(after.rows.filter((r) => !governed(r)))).toEqual(stamp(before.rows.filter((r) => !governed(r))));
    for (const r of after.rows.filter(governed)) expect(Date.parse(r.updatedAt)).toBeGreaterThan(Date.parse(before.asOf));
  });

  it('shows a row whose evaluation stopped holding as a reader at the request instant sees it, changed at that instant', async () => {
    // This month's rows were evaluated now, valid until the month ends. A reader after its due
    // instant (the scheduler has not run) sees them as the scorecard does: NO_DATA, not PENDING.
    const filter = { from: current, to: current, provider: 'M-P0' };
    const now = await pull(analyst, filter, 500);
    expect(now.rows.map((r) => r.status)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    const later = `${addMonths(current, 1)}-25T12:00:00Z`;
    const facts = await pull(analyst.at(later), filter, 500);
    const card = (await s.at(later).data(AgreementScorecardDocument, { key: 'M-A0', month: current })).agreement.scorecard;
    expect(facts.rows.map((r) => [r.metric, r.value, r.status, r.attainment, r.excused])).toEqual(
      card.objectives.map((o) => [o.metric.code, o.value ?? null, o.status, o.attainment ?? null, o.excused]),
    );
    expect(facts.rows.filter((r) => r.source === 'MANUAL').map((r) => r.status)).toEqual(['NO_DATA', 'NO_DATA']);
    // Changed when its stored evaluation stopped holding (the month's end), so an incremental pull
    // from before then finds it although no write touched it.
    for (const r of facts.rows) expect(Date.parse(r.updatedAt)).toBeGreaterThan(Date.parse(now.asOf));
    const incremental = await pull(analyst.at(later), { ...filter, updatedSince: now.asOf }, 500);
    expect(incremental.rows.map((r) => r.id)).toEqual(facts.rows.map((r) => r.id));
  });

  it('scores a stale month live when an unanswered escalation’s deadline passed since its evaluation', async () => {
    await gen('E', 1, addMonths(current, -2), addMonths(current, -1));
    const agreement = await idOf('E-A0', addMonths(current, -1));
    const customer = s.as(await s.tokenFor(Role.HEAD, 'E-C0'));
    const opened = await customer.data(OpenEscalationDocument, { input: { agreementId: agreement.id, severity: 'HIGH', title: 'Slow answers', description: 'Nobody answers' } });
    expect(opened.openEscalation.userErrors).toEqual([]);
    // Unanswered past its deadline: the stored inputs cannot say what the month shows then.
    const later = `${addMonths(current, 1)}-25T12:00:00Z`;
    const filter = { from: current, to: current, provider: 'E-P0' };
    let facts: Fact[] = [];
    const statements = await s.countStatements(async () => {
      facts = (await pull(analyst.at(later), filter, 500)).rows;
    });
    const card = (await s.at(later).data(AgreementScorecardDocument, { key: 'E-A0', month: current })).agreement.scorecard;
    expect(facts.map((r) => [r.metric, r.value, r.status, r.attainment, r.excused])).toEqual(card.objectives.map((o) => [o.metric.code, o.value ?? null, o.status, o.attainment ?? null, o.excused]));
    // Read live: more than the token check and the page's one statement.
    expect(statements).toBeGreaterThan(2);
  });

  it('answers through its plan exactly as graphql-js does: the same pages by fragment, and by aliases with __typename', async () => {
    // Everything the earlier tests wrote (tombstones of the suspension among them, in the incremental pull).
    const filters = [
      { from: '2024-01', to: '2025-12' },
      { from: addMonths(current, -2), to: addMonths(current, 1), updatedSince: '2000-01-01T00:00:00Z' },
    ];
    let compared = 0;
    let tombstones = 0;
    let bytesCompared = 0;
    // The response's bytes, as a BI client receives them.
    const text = async (query: string, variables: Record<string, unknown>) => {
      const r = await post(`${s.url}/graphql`, JSON.stringify({ query, variables }), { authorization: `Bearer ${analystToken}` });
      expect(r.status).toBe(200);
      return r.text;
    };
    for (const filter of filters) {
      let after: string | null = null;
      for (;;) {
        const plain: MeasurementFactsQuery['measurementFacts'] = (await analyst.data(MeasurementFactsDocument, { filter, first: 40, after })).measurementFacts;
        // A fragment makes the plan step aside: graphql-js executes this one.
        const byFragment = (await analyst.data(MeasurementFactsByFragmentDocument, { filter, first: 40, after })).measurementFacts;
        // The first page's snapshot instant (asOf, and in its cursor) is each request's own; later pages carry the same cursor.
        const comparable = (c: typeof plain) => ({ edges: c.edges, hasNextPage: c.pageInfo.hasNextPage, endCursor: after ? c.pageInfo.endCursor : null });
        expect(comparable(plain)).toEqual(comparable(byFragment));
        if (after) {
          // The plan writes the JSON itself: the same bytes as Apollo's JSON.stringify of graphql-js's result.
          const variables = { filter, first: 40, after };
          const planned = await text(print(MeasurementFactsDocument), variables);
          expect(planned).toBe(await text(print(MeasurementFactsByFragmentDocument), variables));
          expect(planned).toContain('"edges":[{"node":{"id":');
          bytesCompared += planned.length;
        }
        compared += plain.edges.length;
        tombstones += plain.edges.filter((e) => e.node.deleted).length;
        if (!plain.pageInfo.hasNextPage) break;
        after = plain.pageInfo.endCursor!;
      }
    }
    expect(compared).toBeGreaterThan(100);
    expect(tombstones).toBeGreaterThan(0);
    expect(bytesCompared).toBeGreaterThan(10_000);

    const filter = filters[0];
    const first = (await analyst.data(MeasurementFactsDocument, { filter, first: 30 })).measurementFacts;
    const aliased = (await analyst.data(MeasurementFactsAliasedDocument, { filter, first: 30 })).facts;
    expect(aliased.__typename).toBe('MeasurementFactConnection');
    expect(aliased.rows[0].cursor).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(aliased.page).toEqual({ __typename: 'PageInfo', more: true, hasPreviousPage: false, startCursor: null });
    expect(aliased.rows).toEqual(
      first.edges.map((e) => ({
        __typename: 'MeasurementFactEdge',
        // The page's end cursor (its snapshot instant is this request's own, so not the other query's).
        cursor: aliased.rows[0].cursor,
        fact: {
          __typename: 'MeasurementFact',
          key: e.node.id,
          metric: e.node.metric,
          target: e.node.target,
          value: e.node.value,
          status: e.node.status,
          excused: e.node.excused,
          updatedAt: e.node.updatedAt,
          reportRevision: e.node.reportRevision,
        },
      })),
    );
    // In process, the same operation both ways on one snapshot instant: the plan answers (it did
    // not step aside) and its text is Apollo's JSON.stringify of graphql-js's result, byte for byte.
    const schema = buildApiSchema();
    const contextAt = async (receivedAt: Date) => {
      const ctx = createContext(s.app.orm, 'plan-test', analystToken);
      ctx.request.receivedAt = receivedAt;
      ctx.principal = await authenticateBearer(ctx.em, analystToken);
      return ctx;
    };
    for (const [doc, variables] of [
      [MeasurementFactsDocument, { filter, first: 25 }],
      [MeasurementFactsAliasedDocument, { filter, first: 25 }],
      [MeasurementFactsDocument, { filter: filters[1], first: 2000 }],
    ] as const) {
      const document = parse(print(doc));
      const operation = document.definitions[0] as OperationDefinitionNode;
      const receivedAt = new Date();
      const planned = await executeFactQuery(schema, { operation, contextValue: await contextAt(receivedAt), request: { variables } } as never);
      expect(planned).not.toBeNull();
      const byGraphqlJs = await execute({ schema, document, contextValue: await contextAt(receivedAt), variableValues: variables });
      expect(byGraphqlJs.errors).toBeUndefined();
      expect(stringifyResult({ data: planned! })).toBe(`${JSON.stringify(byGraphqlJs)}\n`);
    }
    // No token: refused as before (the plan needs a principal; graphql-js reports its absence).
    const anonymous = await s.as(null).request(MeasurementFactsDocument, { filter, first: 1 });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('streams the same rows as CSV as the GraphQL pages, deleted last', async () => {
    const graph = await pull(analyst, { from: '2025-01', to: '2025-03', provider: 'L-P1' }, 4);
    const res = await fetch(`${s.url}/export/measurements.csv?from=2025-01&to=2025-03&provider=L-P1`, { headers: { authorization: `Bearer ${analystToken}` } });
    expect(res.status).toBe(200);
    const [header, ...lines] = parseCsv(await res.text());
    expect(header).toEqual(MEASUREMENT_CSV_HEADER);
    const asCsv = (f: Fact) => csvLineOf(f, header);
    expect(lines).toHaveLength(9);
    expect(lines).toEqual(graph.rows.map(asCsv));
  });

  it('sends as many SQL statements per facts page for 200 agreements as for 10', async () => {
    const filter = { from: '2024-01', to: '2024-03' };
    const page = async () => {
      const first = (await analyst.data(MeasurementFactsDocument, { filter, first: 20 })).measurementFacts;
      let statements = await s.countStatements(() => analyst.data(MeasurementFactsDocument, { filter, first: 20 }));
      statements += await s.countStatements(() => analyst.data(MeasurementFactsDocument, { filter, first: 20, after: first.pageInfo.endCursor }));
      return statements;
    };
    await gen('C', 10, '2024-01', '2024-03');
    expect((await pull(analyst, filter, 2000)).rows).toHaveLength(10 * 9);
    const ten = await page();
    await gen('D', 190, '2024-01', '2024-03');
    expect((await pull(analyst, filter, 2000)).rows).toHaveLength(200 * 9);
    const twoHundred = await page();
    console.log(`facts statements (${engine}): two pages, 10 agreements ${ten}, 200 agreements ${twoHundred}`);
    expect(twoHundred).toBe(ten);
    // The token check, then one statement per page.
    expect(ten).toBe(2 * 2);
  });
});
