/**
 * BI for every entity (issue 16): each entity fact table's connection and CSV agree row for row on
 * the demo company, incremental pulls return only what changed, paging is stable, tombstones show
 * rows that went, and signed CSV links work, expire, refuse tampering and die with their token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { addMonths } from '../../src/common/month';
import { FACT_TABLES } from '../../src/modules/exports/fact-tables';
import {
  AcknowledgeEscalationDocument,
  AcknowledgeReportDocument,
  AgreementLockDocument,
  AgreementVersionFactsDocument,
  AmendmentFactsDocument,
  CreateExportLinkDocument,
  CreditFactsDocument,
  EscalationFactsDocument,
  ExclusionFactsDocument,
  OpenEscalationDocument,
  ReportRevisionFactsDocument,
  ReportableObjectivesDocument,
  RevokeApiTokenDocument,
  ScorecardFactsDocument,
  SubmitReportDocument,
  SuspendAgreementDocument,
} from '../generated/graphql';
import { berlinMonth } from '../support/clock';
import { csvLineOf, parseCsv } from '../support/csv';
import { generateAgreements } from '../support/generate';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

type Node = Record<string, unknown> & { id: string; updatedAt: string };
type Page = { asOf: string; pageInfo: { hasNextPage: boolean; endCursor?: string | null }; edges: Array<{ node: Node }> };
type Doc = TypedDocumentNode<Record<string, Page>, { filter: Record<string, unknown>; first?: number | null; after?: string | null }>;

/** Each entity table: its typed query, its field, its CSV. */
const TABLES = [
  { file: 'reports', query: 'reportRevisionFacts', doc: ReportRevisionFactsDocument },
  { file: 'exclusions', query: 'exclusionFacts', doc: ExclusionFactsDocument },
  { file: 'amendments', query: 'amendmentFacts', doc: AmendmentFactsDocument },
  { file: 'agreement-versions', query: 'agreementVersionFacts', doc: AgreementVersionFactsDocument },
  { file: 'escalations', query: 'escalationFacts', doc: EscalationFactsDocument },
  { file: 'credits', query: 'creditFacts', doc: CreditFactsDocument },
  { file: 'scorecards', query: 'scorecardFacts', doc: ScorecardFactsDocument },
] as const;

/** Every page of a pull. */
async function pull(client: Client, t: (typeof TABLES)[number], filter: Record<string, unknown>, first: number): Promise<{ rows: Node[]; asOf: string; pages: number }> {
  const rows: Node[] = [];
  let after: string | null = null;
  let asOf = '';
  let pages = 0;
  for (;;) {
    const data: Record<string, Page> = await client.data(t.doc as unknown as Doc, { filter, first, after });
    const page: Page = data[t.query];
    rows.push(...page.edges.map((e) => e.node));
    asOf ||= page.asOf;
    pages++;
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor ?? null;
  }
  return { rows, asOf, pages };
}

const query = (filter: Record<string, string>) => new URLSearchParams(filter).toString();

describe.each(engines())('BI facts for every entity on %s', (engine) => {
  let s: TestServer;
  let analyst: Client;
  let analystToken: string;
  const current = berlinMonth(new Date());
  const filter = { from: addMonths(current, -13), to: addMonths(current, 1) };
  const csv = async (file: string, params: Record<string, string>, headers: Record<string, string> = { authorization: `Bearer ${analystToken}` }) => {
    const res = await fetch(`${s.url}/export/${file}.csv?${query(params)}`, { headers });
    return { status: res.status, text: await res.text() };
  };

  /** A second revision of a generated agreement's report for `month` (values by metric code). */
  const secondRevision = async (key: string, month: string, narrative: string, accuracy: number, mttr: number) => {
    const r = await s.data(SubmitReportDocument, {
      input: {
        agreementId: key,
        month,
        narrative,
        values: [
          { metric: 'STATEMENT_ACCURACY', value: accuracy },
          { metric: 'MTTR', value: mttr },
        ],
      },
    });
    expect(r.submitReport.userErrors).toEqual([]);
    return r.submitReport.report!;
  };

  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
    analystToken = await s.tokenFor(Role.ANALYST);
    analyst = s.as(analystToken);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('declares a connection and a CSV for every table, from one definition', () => {
    expect(FACT_TABLES.map((t) => [t.file, t.query])).toEqual([
      ['measurements', 'measurementFacts'],
      ['handoffs', 'handoffFacts'],
      ...TABLES.map((t) => [t.file, t.query]),
      ['friction-items', 'frictionFacts'],
    ]);
  });

  it.each(TABLES)('$query and its CSV agree row for row on the demo, and page stably', async (t) => {
    const one = await pull(analyst, t, filter, 2000);
    expect(one.rows.length).toBeGreaterThan(1);
    // Pages of a third of the rows (or one row): at least two pages, the last one short or full.
    const first = Math.max(1, Math.floor(one.rows.length / 3));
    const paged = await pull(analyst, t, filter, first);
    expect(paged.pages).toBe(Math.ceil(one.rows.length / first));
    // Stable: small pages return the same rows in the same order as one big page, each once.
    expect(paged.rows.map((r) => r.id)).toEqual(one.rows.map((r) => r.id));
    expect(new Set(one.rows.map((r) => r.id)).size).toBe(one.rows.length);
    // Every row belongs to a demo agreement, with its key and department codes.
    expect(one.rows.every((r) => typeof r.agreementKey === 'string' && (r.agreementKey as string).length > 0)).toBe(true);
    const res = await csv(t.file, filter);
    expect(res.status).toBe(200);
    const [header, ...lines] = parseCsv(res.text);
    expect(header).toEqual(Object.keys(FACT_TABLES.find((x) => x.file === t.file)!.columns));
    expect(header).toEqual(Object.keys(one.rows[0]));
    expect(lines).toEqual(one.rows.map((r) => csvLineOf(r, header)));
  });

  it('reads a page of a keyset table with one statement, whatever its size', async () => {
    // A fresh token's first use stamps its last use; later ones within the minute do not.
    const client = s.as(await s.tokenFor(Role.ANALYST));
    await client.data(TABLES[0].doc as unknown as Doc, { filter, first: 1 });
    for (const t of TABLES.slice(0, 6)) {
      const small = await s.countStatements(() => client.data(t.doc as unknown as Doc, { filter, first: 1 }));
      const large = await s.countStatements(() => client.data(t.doc as unknown as Doc, { filter, first: 2000 }));
      // The token's SELECT (its last-used stamp is written at most once a minute) and the page's.
      expect([t.file, small, large]).toEqual([t.file, 2, 2]);
    }
  });

  it('returns exactly the demo’s rows', async () => {
    const counts: Record<string, number> = {};
    for (const t of TABLES) counts[t.file] = (await pull(analyst, t, filter, 2000)).rows.length;
    // Seven agreements' versions (one amendment approved), the demo's amendments, 12 months of
    // reports, escalations and closes of the six measured agreements.
    expect(counts).toEqual({ reports: 60, exclusions: 2, amendments: 3, 'agreement-versions': 8, escalations: 37, credits: 59, scorecards: 70 });
  });

  it('returns only the rows changed after updatedSince', async () => {
    const before = await Promise.all(TABLES.map((t) => pull(analyst, t, filter, 2000)));
    const asOf = before.map((b) => b.asOf).sort()[TABLES.length - 1];
    // Nothing changed since: every incremental pull is empty.
    for (const t of TABLES) expect((await pull(analyst, t, { ...filter, updatedSince: asOf }, 100)).rows).toEqual([]);
    const agreement = (await s.data(ReportableObjectivesDocument, { key: 'IT-SALES-CRM', at: current })).agreement;
    const opened = await s.data(OpenEscalationDocument, { input: { agreementId: agreement.id, severity: 'HIGH', title: 'CRM down', description: 'since 09:00' } });
    expect(opened.openEscalation.userErrors).toEqual([]);
    const escalations = await pull(analyst, TABLES[4], { ...filter, updatedSince: asOf }, 100);
    expect(escalations.rows.map((r) => [r.id, r.agreementKey, r.provider, r.customer, r.service, r.severity, r.status, r.responseHours, r.responseMet])).toEqual([
      [opened.openEscalation.escalation!.id, 'IT-SALES-CRM', 'IT', 'SALES', 'CRM', 'HIGH', 'OPEN', null, null],
    ]);
    expect(Date.parse(escalations.rows[0].updatedAt)).toBeGreaterThan(Date.parse(asOf));
    for (const t of [TABLES[0], TABLES[1], TABLES[2], TABLES[3], TABLES[5]]) expect((await pull(analyst, t, { ...filter, updatedSince: asOf }, 100)).rows).toEqual([]);
  });

  it('pages through a snapshot while another writer changes rows: each row once, the changes in the next pull', async () => {
    const agreement = (await s.data(ReportableObjectivesDocument, { key: 'IT-MKT', at: current })).agreement;
    const open = async (title: string) => {
      const r = await s.data(OpenEscalationDocument, { input: { agreementId: agreement.id, severity: 'LOW', title, description: 'paging' } });
      expect(r.openEscalation.userErrors).toEqual([]);
      return r.openEscalation.escalation!;
    };
    const a = await open('paging A');
    const b = await open('paging B');
    const seen: Node[] = [];
    let after: string | null = null;
    let asOf = '';
    let third = '';
    for (let page = 0; ; page++) {
      const data: Record<string, Page> = await analyst.data(EscalationFactsDocument as unknown as Doc, { filter, first: 5, after });
      const r: Page = data.escalationFacts;
      seen.push(...r.edges.map((e) => e.node));
      asOf ||= r.asOf;
      if (page === 0) {
        // B (the newest row, not paged yet) changes, and a new escalation arrives: both wait for the next pull.
        const acked = await s.data(AcknowledgeEscalationDocument, { input: { id: b.id, expectedVersion: b.version } });
        expect(acked.acknowledgeEscalation.userErrors).toEqual([]);
        third = (await open('paging C')).id;
      }
      if (!r.pageInfo.hasNextPage) break;
      after = r.pageInfo.endCursor ?? null;
    }
    const ids = seen.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(a.id);
    expect(ids).not.toContain(b.id);
    expect(ids).not.toContain(third);
    const next = await pull(analyst, TABLES[4], { ...filter, updatedSince: asOf }, 100);
    expect(next.rows.map((r) => [r.id, r.status])).toEqual([
      [b.id, 'ACKNOWLEDGED'],
      [third, 'OPEN'],
    ]);
  });

  it('brings every revision of a report back when the report changes, with its status', async () => {
    const month = addMonths(current, -4);
    await generateAgreements(s.app.orm.em.fork(), 'R', 1, month, month);
    const window = { from: month, to: month, provider: 'R-P0' };
    const before = await pull(analyst, TABLES[0], window, 100);
    expect(before.rows.map((r) => [r.revision, r.latest, r.reportStatus])).toEqual([[1, true, 'SUBMITTED']]);
    const report = await secondRevision('R-A0', month, 'second', 99.9, 1);
    const second = await pull(analyst, TABLES[0], { ...window, updatedSince: before.asOf }, 100);
    expect(second.rows.map((r) => [r.revision, r.latest, r.reportStatus, r.narrative]).sort()).toEqual([
      [1, false, 'SUBMITTED', 'generated'],
      [2, true, 'SUBMITTED', 'second'],
    ]);
    const acked = await s.data(AcknowledgeReportDocument, { input: { reportId: report.id, revision: 2 } });
    expect(acked.acknowledgeReport.userErrors).toEqual([]);
    const third = await pull(analyst, TABLES[0], { ...window, updatedSince: second.asOf }, 100);
    expect(third.rows.map((r) => [r.revision, r.reportStatus, r.acknowledgedAt !== null]).sort()).toEqual([
      [1, 'ACKNOWLEDGED', false],
      [2, 'ACKNOWLEDGED', true],
    ]);
  });

  it('shows an agreement-month that left the measured set as a tombstone in the next incremental pull only', async () => {
    await generateAgreements(s.app.orm.em.fork(), 'T', 1, addMonths(current, -2), addMonths(current, -1));
    const window = { from: addMonths(current, -2), to: addMonths(current, 1) };
    const mine = (rows: Node[]) => rows.filter((r) => r.agreementKey === 'T-A0');
    const before = await pull(analyst, TABLES[6], window, 500);
    expect(mine(before.rows).map((r) => [r.month, r.deleted])).toEqual([
      [addMonths(current, -2), false],
      [addMonths(current, -1), false],
      [current, false],
      [addMonths(current, 1), false],
    ]);
    const { id } = (await s.data(ReportableObjectivesDocument, { key: 'T-A0', at: current })).agreement;
    const lock = (await s.data(AgreementLockDocument, { key: 'T-A0' })).agreement.lockVersion;
    const suspended = await s.data(SuspendAgreementDocument, { input: { id, expectedVersion: lock, reason: 'The shared platform is being replaced' } });
    expect(suspended.suspendAgreement.userErrors).toEqual([]);
    // Suspended from today with no end: next month leaves the measured set (DESIGN §3).
    const next = await pull(analyst, TABLES[6], { ...window, updatedSince: before.asOf }, 500);
    expect(mine(next.rows).map((r) => [r.month, r.deleted])).toEqual([[addMonths(current, 1), true]]);
    const full = await pull(analyst, TABLES[6], window, 500);
    expect(mine(full.rows).map((r) => r.month)).toEqual([addMonths(current, -2), addMonths(current, -1), current]);
    // The CSV of the incremental pull carries the tombstone too.
    const res = await csv('scorecards', { ...window, updatedSince: before.asOf });
    const [header, ...lines] = parseCsv(res.text);
    expect(lines.filter((l) => l[header.indexOf('agreementKey')] === 'T-A0').map((l) => [l[header.indexOf('month')], l[header.indexOf('deleted')]])).toEqual([[addMonths(current, 1), 'true']]);
  });

  it('shows a credit entry taken back (a write at an instant before its close) as a tombstone, then the new entry', async () => {
    const month = addMonths(current, -3);
    await generateAgreements(s.app.orm.em.fork(), 'K', 1, month, month);
    const agreement = (await s.data(ReportableObjectivesDocument, { key: 'K-A0', at: month })).agreement;
    // A corrected revision (accuracy breached: 5 % credit), acknowledged two hours from now:
    // the month closes then and posts its credit.
    const later = new Date(Date.now() + 2 * 3600_000).toISOString();
    const report = await secondRevision('K-A0', month, 'corrected', 99, 2);
    const acked = await s.at(later).data(AcknowledgeReportDocument, { input: { reportId: report.id, revision: 2 } });
    expect(acked.acknowledgeReport.userErrors).toEqual([]);
    const window = { from: month, to: month, provider: 'K-P0' };
    const posted = await pull(analyst, TABLES[5], window, 100);
    expect(posted.rows.map((r) => [r.kind, r.percent, r.amount, r.delta, r.objectives, r.postedAt, r.deleted])).toEqual([
      ['CLOSE', 5, 50, 50, 'STATEMENT_ACCURACY', new Date(later).toISOString(), false],
    ]);
    // Now (before the close) an escalation is opened in that month: the ledger is kept in the order
    // of instants, so the close and its entry are taken back until the acknowledgement's instant.
    const opened = await s.data(OpenEscalationDocument, {
      input: { agreementId: agreement.id, severity: 'LOW', title: 'late', description: 'found later', openedAt: `${month}-10T10:00:00Z` },
    });
    expect(opened.openEscalation.userErrors).toEqual([]);
    const next = await pull(analyst, TABLES[5], { ...window, updatedSince: posted.asOf }, 100);
    expect(next.rows.map((r) => [r.id, r.kind, r.amount, r.deleted])).toEqual([[posted.rows[0].id, null, null, true]]);
    expect((await pull(analyst, TABLES[5], window, 100)).rows).toEqual([]);
    // Once the acknowledgement's instant passes (the scheduler's tick), the month closes again, with a new entry.
    await s.app.scheduler.tick(new Date(Date.parse(later) + 1000));
    const again = await pull(analyst, TABLES[5], { ...window, updatedSince: next.asOf }, 100);
    expect(again.rows.map((r) => [r.kind, r.amount, r.postedAt, r.deleted])).toEqual([['CLOSE', 50, new Date(later).toISOString(), false]]);
    expect(again.rows[0].id).not.toBe(posted.rows[0].id);
  });

  describe('signed export links', () => {
    const linkFilter = { from: addMonths(current, -13), to: current, provider: 'IT' };
    const create = (client: Client, entity: string, ttlSeconds?: number) => client.data(CreateExportLinkDocument, { input: { entity, filter: linkFilter, ttlSeconds } });

    it('works without a header until it expires, for the same rows as the header', async () => {
      const r = await create(analyst, 'exclusions', 600);
      expect(r.createExportLink.userErrors).toEqual([]);
      const link = r.createExportLink.link!;
      expect(link.url.endsWith(link.path)).toBe(true);
      expect(link.path).toMatch(/^\/export\/exclusions\.csv\?from=.*&provider=IT&expires=\d+&token=[0-9a-f-]{36}&sig=[A-Za-z0-9_-]{43}$/);
      const byLink = await fetch(`${s.url}${link.path}`);
      expect(byLink.status).toBe(200);
      const byHeader = await csv('exclusions', linkFilter);
      expect(await byLink.text()).toBe(byHeader.text);
      // 600 s later (the server's test clock), the link has expired.
      const expiresAt = Date.parse(link.expiresAt);
      const late = await fetch(`${s.url}${link.path}`, { headers: { 'x-clock-now': new Date(expiresAt).toISOString() } });
      expect(late.status).toBe(401);
      expect(await late.json()).toEqual({
        errors: [{ message: `The export link expired at ${new Date(expiresAt).toISOString()}; create a new one with createExportLink`, extensions: { code: 'UNAUTHENTICATED' } }],
      });
      const justBefore = await fetch(`${s.url}${link.path}`, { headers: { 'x-clock-now': new Date(expiresAt - 1000).toISOString() } });
      expect(justBefore.status).toBe(200);
    });

    it('is refused when its filter, table, token or signature is altered', async () => {
      const link = (await create(analyst, 'credits', 600)).createExportLink.link!;
      const url = new URL(`${s.url}${link.path}`);
      const altered = (change: (u: URL) => void) => {
        const u = new URL(url);
        change(u);
        return u;
      };
      const forbidden = {
        errors: [
          {
            message: 'The export link’s signature does not match its parameters: it was altered or not made by this server; create a new one with createExportLink',
            extensions: { code: 'FORBIDDEN' },
          },
        ],
      };
      for (const u of [
        altered((x) => x.searchParams.set('provider', 'SALES')),
        altered((x) => x.searchParams.delete('provider')),
        altered((x) => x.searchParams.set('to', addMonths(current, 1))),
        altered((x) => x.searchParams.set('expires', String(Number(x.searchParams.get('expires')) + 3600))),
        altered((x) => (x.pathname = '/export/scorecards.csv')),
        altered((x) => x.searchParams.set('sig', `${x.searchParams.get('sig')!.slice(0, 42)}${x.searchParams.get('sig')!.endsWith('A') ? 'B' : 'A'}`)),
        // The last character's two unused bits: another spelling of the same bytes is refused too.
        altered((x) => {
          const sig = x.searchParams.get('sig')!;
          const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(sig[42]);
          x.searchParams.set('sig', `${sig.slice(0, 42)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last ^ 1]}`);
        }),
      ]) {
        const res = await fetch(u);
        expect(res.status).toBe(403);
        expect(await res.json()).toEqual(forbidden);
      }
      const malformed = await fetch(altered((x) => x.searchParams.delete('sig')));
      expect(malformed.status).toBe(401);
      expect(((await malformed.json()) as { errors: Array<{ message: string }> }).errors[0].message).toMatch(/^Malformed export link/);
      expect((await fetch(url)).status).toBe(200);
    });

    it('dies with the token it was made with', async () => {
      // A token of its own, revoked by an admin: its links stop working.
      const own = await s.tokenFor(Role.ANALYST);
      const ownClient = s.as(own);
      const link = (await create(ownClient, 'scorecards', 600)).createExportLink.link!;
      expect((await fetch(`${s.url}${link.path}`)).status).toBe(200);
      const tokenId = new URL(`${s.url}${link.path}`).searchParams.get('token')!;
      const revoked = await s.data(RevokeApiTokenDocument, { input: { id: tokenId } });
      expect(revoked.revokeApiToken.userErrors).toEqual([]);
      const res = await fetch(`${s.url}${link.path}`);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { errors: Array<{ message: string }> }).errors[0].message).toMatch(/^The bearer token .+… was revoked$/);
    });

    it('refuses an unknown table, a life over an hour, and an anonymous caller', async () => {
      const r = await analyst.data(CreateExportLinkDocument, { input: { entity: 'friends', filter: linkFilter, ttlSeconds: 3601 } });
      expect(r.createExportLink.link).toBeNull();
      expect(r.createExportLink.userErrors.map((e) => [e.field, e.code])).toEqual([
        ['entity', 'INVALID'],
        ['ttlSeconds', 'INVALID'],
      ]);
      // A filter the CSV route would refuse (400) makes no link that could never work.
      const long = await analyst.data(CreateExportLinkDocument, { input: { entity: 'reports', filter: { ...linkFilter, customer: 'X'.repeat(101) } } });
      expect(long.createExportLink).toEqual({
        link: null,
        userErrors: [{ field: 'filter.customer', code: 'INVALID', message: 'filter.customer: expected at most 100 characters, received 101' }],
      });
      const anonymous = await s.as(null).request(CreateExportLinkDocument, { input: { entity: 'reports', filter: linkFilter } });
      expect(anonymous.status).toBe(401);
    });
  });

  it('lets every role pull every table, and nobody without a token', async () => {
    const head = s.as(await s.tokenFor(Role.HEAD, 'MKT'));
    for (const t of TABLES) {
      const byAnalyst = await pull(analyst, t, filter, 2000);
      const byHead = await pull(head, t, filter, 2000);
      expect(byHead.rows.map((r) => r.id)).toEqual(byAnalyst.rows.map((r) => r.id));
      const anonymous = await s.as(null).request(t.doc as unknown as Doc, { filter });
      expect(anonymous.status).toBe(401);
      expect((await csv(t.file, filter, {})).status).toBe(401);
    }
  });
});
