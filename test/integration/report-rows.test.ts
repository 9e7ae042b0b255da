import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcknowledgeReportDocument,
  type CreateAgreementInput,
  DepartmentDocument,
  DisputeReportDocument,
  MetricDocument,
  ReportableObjectivesDocument,
  SaveReportDraftDocument,
  SubmitReportDocument,
} from '../generated/graphql';
import { asDate, sqlOf } from '../../src/common/sql';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

/**
 * The rows a report submission writes, whole: the report, its revisions and values, their audit
 * entries and the outbox events, as they were when the ORM's unit of work wrote them (the snapshot
 * was taken from that code, issue 19 goal 2). Ids are numbered by first appearance; instants on the
 * server's own clock (creation and update stamps, audit times) are shown as `<server clock>`.
 */
describe.each(engines())('the rows of a report submission on %s', (engine) => {
  let s: TestServer;
  let headSales: Client;
  let headCs: Client;
  let salesCs: string;
  let handover: string;

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    headSales = s.as(await s.tokenFor(Role.HEAD, 'SALES'));
    headCs = s.as(await s.tokenFor(Role.HEAD, 'CS'));
    const dept = async (code: string) => (await s.data(DepartmentDocument, { code })).department.id;
    const metric = async (code: string) => (await s.data(MetricDocument, { code })).metric.id;
    const charter = await activateAgreement(s, {
      key: 'CHARTER',
      tier: 'CORPORATE',
      title: 'Charter',
      terms: { effectiveFrom: '2026-01' },
      objectives: [{ metricId: await metric('REPORT_DAYS_LATE'), target: 0 }],
    });
    const input: CreateAgreementInput = {
      key: 'SALES-CS',
      parentId: charter,
      tier: 'CUSTOMER',
      title: 'Handover',
      providerId: await dept('SALES'),
      customerId: await dept('CS'),
      terms: { effectiveFrom: '2026-01', reportDueWorkingDays: 2 },
      objectives: [
        { metricId: await metric('HANDOVER_DAYS'), target: 2, warning: 1.5, creditPercent: 4 },
        { metricId: await metric('FRICTION_REPORT_DELIVERED'), target: 1, creditPercent: 2 },
      ],
    };
    salesCs = await activateAgreement(s, input);
    const objectives = await s.data(ReportableObjectivesDocument, { key: 'SALES-CS', at: '2026-03' });
    handover = objectives.agreement.effectiveObjectives.find((o) => o.metric.code === 'HANDOVER_DAYS')?.id as string;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('are the same as the unit of work wrote: a first submission, one over a draft, a correction, a replay', async () => {
    const replies: unknown[] = [];
    const submit = async (client: Client, input: Parameters<Client['data']>[1]) => {
      const r = await client.data(SubmitReportDocument, input as never);
      expect(r.submitReport.userErrors).toEqual([]);
      replies.push(r.submitReport);
      return r.submitReport;
    };
    // A first submission, late; then replayed with its key.
    const january = { input: { agreementId: salesCs, month: '2026-01', values: [{ objectiveId: handover, value: 1.5 }], narrative: ' January ', idempotencyKey: 'jan-1' } };
    await submit(headSales.at('2026-02-10T10:00:00Z'), january);
    await submit(headSales.at('2026-02-10T10:05:00Z'), january);
    // A draft first (with friction items), then a submission taking the rest from it.
    const draft = await headSales.at('2026-03-02T08:00:00Z').data(SaveReportDraftDocument, {
      input: {
        agreementId: salesCs,
        month: '2026-02',
        values: [{ objectiveId: handover, value: 2.5 }],
        frictionItems: [{ category: 'ONBOARDING', description: 'Welcome e-mail late', customersAffected: 3, severity: 'LOW' }],
      },
    });
    expect(draft.saveReportDraft.userErrors).toEqual([]);
    const february = await submit(headSales.at('2026-03-03T09:00:00Z'), { input: { agreementId: salesCs, month: '2026-02', narrative: 'February' } });
    // Disputed, then corrected: the friction items carry forward, lateness stays the first one's.
    const disputed = await headCs.at('2026-03-04T09:00:00Z').data(DisputeReportDocument, { input: { reportId: february.report?.id as string, revision: 1, reason: 'Too slow' } });
    expect(disputed.disputeReport.userErrors).toEqual([]);
    await submit(headSales.at('2026-03-05T09:00:00Z'), { input: { agreementId: salesCs, month: '2026-02', values: [{ objectiveId: handover, value: 1.9 }], narrative: 'February, corrected' } });

    const sql = sqlOf(s.app.orm.em.fork());
    const rows = async (statement: string) => sql.rows<Record<string, unknown>>(statement);
    const reports = await rows('select * from report order by month');
    const revisions = await rows('select v.* from report_revision v join report r on r.id = v.report_id order by r.month, v.number');
    const values = await rows('select x.* from report_value x join report_revision v on v.id = x.revision_id join report r on r.id = v.report_id order by r.month, v.number, x.position');
    const audit = await rows(`select at, request_id, entity_type, entity_id, action, actor_role, before, after from audit_entry where entity_type in ('Report', 'ReportRevision', 'ReportValue')`);
    const events = await rows(`select type, version, occurred_at, agreement_key, payload from domain_event where type like 'report.%' order by seq`);

    // Ids by first appearance; the server's clock (within the last hour) as a mark.
    const ids = new Map<string, string>();
    const clock = Date.now();
    const recent = (t: number) => Math.abs(clock - t) < 3_600_000;
    const norm = (v: unknown, key = '', depth = 0): unknown => {
      if (v === null || v === undefined) return null;
      if (Array.isArray(v)) return v.map((x) => norm(x, '', depth + 1));
      if (v instanceof Date) return recent(v.getTime()) ? '<server clock>' : v.toISOString();
      if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x, k, depth + 1)]));
      // JSON text (a column, or a JSON value inside an audit payload, kept as text on SQLite) is shown parsed, and marked.
      if (typeof v === 'string' && /^[{[]/.test(v)) return depth <= 1 ? norm(JSON.parse(v), key, depth) : { '<json text>': norm(JSON.parse(v), key, depth) };
      if (typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v)) {
        if (!ids.has(v)) ids.set(v, `<id ${ids.size + 1}>`);
        return ids.get(v);
      }
      if (typeof v === 'string' && /^\d{4}-\d\d-\d\d[T ]\d\d:/.test(v)) return recent(asDate(v).getTime()) ? '<server clock>' : asDate(v).toISOString();
      if ((typeof v === 'number' || (typeof v === 'string' && /^\d{12,}$/.test(v))) && /(_at|At)$/.test(key)) {
        const t = Number(v);
        return recent(t) ? '<server clock>' : new Date(t).toISOString();
      }
      if (typeof v === 'boolean') return v;
      // SQLite's 0/1 in a row (not in a payload).
      if (key === 'deemed' && depth === 1) return v === 1 || v === true;
      return v;
    };
    const table = (list: Array<Record<string, unknown>>) => list.map((r) => norm(r));
    const dump = { reports: table(reports), revisions: table(revisions), values: table(values), events: table(events), replies: norm(replies) };
    // The entries by write (request), the writes in order, each write's by entity type and row
    // (the unit of work stamped them a few milliseconds apart), with the order of their payloads'
    // keys as stored (the snapshot sorts keys).
    const types = ['Report', 'ReportRevision', 'ReportValue'];
    const at = (r: Record<string, unknown>) => asDate(r.at).getTime();
    const rank = (r: Record<string, unknown>) => Number(/\d+/.exec(String(norm(r.entity_id)))?.[0]);
    const started = new Map<unknown, number>();
    for (const r of audit) started.set(r.request_id, Math.min(started.get(r.request_id) ?? Infinity, at(r)));
    const write = (r: Record<string, unknown>) => started.get(r.request_id) as number;
    audit.sort((x, y) => write(x) - write(y) || types.indexOf(String(x.entity_type)) - types.indexOf(String(y.entity_type)) || rank(x) - rank(y));
    const keys = (v: unknown) => (v == null ? null : Object.keys(typeof v === 'string' ? (JSON.parse(v) as object) : (v as object)));
    const entries = audit.map(({ at: _, request_id: __, ...r }) => ({ ...(norm(r) as object), beforeKeys: keys(r.before), afterKeys: keys(r.after) }));
    expect({ ...dump, audit: entries }).toMatchSnapshot();
  });

  // Row ids are UUIDv7 (src/common/ids.ts): the time of writing in their first 48 bits, so rows
  // written one after another land on the last page of each id index.
  it('gives the rows a submission writes UUIDv7 ids, stamped with the time they were written', async () => {
    const millisOf = (id: unknown) => parseInt(String(id).replace(/-/g, '').slice(0, 12), 16);
    const before = Date.now();
    const r = await headSales.at('2026-10-02T10:00:00Z').data(SubmitReportDocument, {
      input: { agreementId: salesCs, month: '2026-09', values: [{ objectiveId: handover, value: 1.6 }], narrative: 'September', frictionItems: [] },
    });
    const after = Date.now();
    expect(r.submitReport.userErrors).toEqual([]);
    const sql = sqlOf(s.app.orm.em.fork());
    const reportId = r.submitReport.report?.id as string;
    const [revision] = await sql.rows<{ id: string }>('select id from report_revision where report_id = ?', [reportId]);
    const values = await sql.rows<{ id: string }>('select id from report_value where revision_id = ?', [revision.id]);
    const audit = await sql.rows<{ id: string }>('select id from audit_entry where entity_id in (?, ?)', [reportId, revision.id]);
    const events = await sql.rows<{ id: string }>('select id from domain_event where agreement_key = ? and type = ? order by seq desc limit 1', ['SALES-CS', 'report.submitted']);
    const ids = [reportId, revision.id, ...values.map((v) => v.id), ...audit.map((a) => a.id), ...events.map((e) => e.id)].map(String);
    expect(ids.length).toBeGreaterThanOrEqual(6);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(millisOf(id)).toBeGreaterThanOrEqual(before);
      expect(millisOf(id)).toBeLessThanOrEqual(after);
    }
  });

  // SQLite compiles a statement's text once per connection (src/db/statement-cache.ts): the
  // transaction of a submission after the first compiles nothing new. Texts with values written
  // into them (as MikroORM's `execute` writes them: the ledger sync's scoring reads did) would be
  // new for every agreement-month, and BEGIN;/COMMIT; were compiled for every transaction until
  // constants had a cache of their own. (Reads outside the transaction, such as the fields of the
  // reply loaded through the ORM, are not counted: they are not the write's.)
  it.runIf(engine === 'sqlite')('compiles no new SQLite statement in the transaction of a submission after the first', async () => {
    type Db = { prepare(sql: string): object; inTransaction: boolean };
    const client = (s.app.orm.em.getConnection() as unknown as { getKnex(): { client: { acquireConnection(): Promise<Db>; releaseConnection(c: Db): Promise<unknown> } } }).getKnex().client;
    const db = await client.acquireConnection();
    await client.releaseConnection(db);
    const prepare = db.prepare;
    const seen = new WeakSet<object>();
    const compiled: string[] = [];
    let round = 0;
    db.prepare = (sql: string) => {
      const statement = prepare.call(db, sql);
      if (!seen.has(statement)) {
        seen.add(statement);
        if (round > 1 && (db.inTransaction || /^(BEGIN|COMMIT|ROLLBACK)\b/.test(sql))) compiled.push(sql);
      }
      return statement;
    };
    try {
      for (const [month, at] of [
        ['2026-04', '2026-05-04T10:00:00Z'],
        ['2026-05', '2026-06-02T10:00:00Z'],
        ['2026-06', '2026-07-02T10:00:00Z'],
        ['2026-07', '2026-08-04T10:00:00Z'],
      ]) {
        round++;
        const r = await headSales.at(at).data(SubmitReportDocument, {
          input: { agreementId: salesCs, month, values: [{ objectiveId: handover, value: 1.7 }], narrative: month, frictionItems: [] },
        });
        expect(r.submitReport.userErrors).toEqual([]);
      }
    } finally {
      db.prepare = prepare;
    }
    expect(compiled).toEqual([]);
  });

  // A write's transaction holds one PostgreSQL connection, and its statements must reach it one
  // after another: the ledger sync's scorecard loaders and the agreement tree's ORM loads dispatch
  // several in one tick. pg 8 queues a statement sent while another runs (with a deprecation
  // warning once one already waits) and pg 9 is to refuse it. Counted strictly, in pg itself: a
  // statement handed to a client that is still executing another, or has one waiting.
  async function overlapsDuring(write: () => Promise<void>): Promise<{ statements: number; overlapped: string[] }> {
    type PgInternals = { _activeQuery?: unknown; _queryQueue?: unknown[] };
    type Query = (this: PgInternals, ...args: unknown[]) => unknown;
    const proto = pg.Client.prototype as unknown as { query: Query };
    const original = proto.query;
    const overlapped: string[] = [];
    let statements = 0;
    proto.query = function (...args: unknown[]) {
      statements++;
      if (this._activeQuery || (this._queryQueue?.length ?? 0) > 0) {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
        overlapped.push(String(text ?? args[0]?.constructor.name).slice(0, 80));
      }
      return original.apply(this, args);
    };
    try {
      await write();
    } finally {
      proto.query = original;
    }
    return { statements, overlapped };
  }

  it.runIf(engine === 'postgresql')('sends no statement to a connection still executing another, in a submission and an acknowledgement', async () => {
    let reportId = '';
    const submission = await overlapsDuring(async () => {
      const r = await headSales.at('2026-04-02T10:00:00Z').data(SubmitReportDocument, {
        input: { agreementId: salesCs, month: '2026-03', values: [{ objectiveId: handover, value: 1.8 }], narrative: 'March', frictionItems: [] },
      });
      expect(r.submitReport.userErrors).toEqual([]);
      reportId = r.submitReport.report?.id as string;
    });
    const acknowledgement = await overlapsDuring(async () => {
      const r = await headCs.at('2026-04-03T10:00:00Z').data(AcknowledgeReportDocument, { input: { reportId, revision: 1 } });
      expect(r.acknowledgeReport.userErrors).toEqual([]);
    });
    expect(submission.statements).toBeGreaterThan(10);
    expect(acknowledgement.statements).toBeGreaterThan(5);
    expect({ submission: submission.overlapped, acknowledgement: acknowledgement.overlapped }).toEqual({ submission: [], acknowledgement: [] });
  });
});
