/*
 * The score ledger's speed and memory (issue 13), on the `seed:large` defaults (2,000 agreements ×
 * 24 months, a million handoff events), ours against a raw-driver baseline in the same run:
 *
 * 1. Organisation scorecard over the 24 months through GraphQL over HTTP (what a dashboard asks:
 *    score, compliance, credit, series, by department, tier and agreement), against the same
 *    aggregates (total, by month, by agreement) read from `ledger_month` with the raw driver and
 *    assembled into the same JSON. Both answers are compared before timing; requests alternate.
 * 2. Resident memory of the server, a child process of its own (`dist/src/main.js`), sampled every
 *    50 ms from /proc during the scorecard requests and during each full facts pull.
 * 3. A BI pull of every measurement fact (≈240,000 rows): `measurementFacts` in pages of 2,000 and
 *    `GET /export/measurements.csv`, against a keyset-paged raw read of the same rows and columns
 *    from the ledger tables made into the same output (GraphQL-shaped JSON pages / CSV text).
 * 4. The write side's price: `submitReport` per second and `recordHandoffEvents` events per second
 *    with the ledger kept and without it, alternating in one in-process server on a fresh database
 *    (`setup.ts`). "Without" provides a sync that does nothing in place of the ledger's
 *    (`provideLedgerSync`, src/common/ledger-touch.ts); the run shows that this disables it (ledger
 *    rows written, SQL statements per write).
 * Also: the wall time of `ledger:rebuild` on the large data set, and whether `--check` finds the
 * kept ledger equal to a rebuild.
 *
 *   npm run build && node dist/bench/ledger.js [--pg] [--runs 100] [--rounds 2] [--seconds 8]
 *       [--database /tmp/large.sqlite] [--only read|write] [--no-rebuild] [--agreements N] [--ingest-agreements 200]
 *       [--pg-only] [--pg-database URL] [--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"] [--scorecard-out FILE]
 *
 * SQLite always; PostgreSQL too with --pg (BENCH_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/test; fresh databases are created and dropped). `--database`
 * keeps the large SQLite data set in that file and reuses it when it exists (seeding takes minutes);
 * `--pg-database` names a PostgreSQL database seeded beforehand (`seed:large` with DATABASE_URL),
 * reused and kept. `--scorecard-out FILE` writes our first scorecard answer there (to compare builds).
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import 'reflect-metadata';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { addMonths, monthOf, type Month } from '../src/common/month';
import { loadConfig } from '../src/common/config';
import { provideLedgerSync } from '../src/common/ledger-touch';
import { openOrm } from '../src/db/orm';
import { MEASUREMENT_COLUMNS } from '../src/modules/exports/csv';
import { columnNames, MEASUREMENT_FACT_COLUMNS } from '../src/modules/exports/fact-columns';
import { syncLedger } from '../src/modules/ledger/ledger.service';
import { issueToken } from '../src/modules/auth/auth.service';
import { generateToken } from '../src/modules/auth/tokens';
import { User } from '../src/modules/auth/user.entity';
import { Role } from '../src/common/role';
import { clean } from '../src/scoring';
import { LARGE_DEFAULTS } from '../seeds/large';
import { random } from '../seeds/random';
import { processCpuSeconds, runCli, type RssReport, sampleProcessRss, type ServerProcess, startServerProcess } from './child';
import { benchSeconds, closeMainAgent, fmt, hasFlag, latencyStats, type LoadResult, mib, ms, option, postJson, printGoal, printTable, runLoad } from './lib';
import { type Engine, generateAgreements, months as monthList, postgresUrl, startBenchServer, tokenFor } from './setup';

const GOAL_P95_MS = 100;
const GOAL_P95_FACTOR = 2;
const GOAL_RSS = 250 * 1024 * 1024;
const GOAL_GRAPHQL_ROWS = 100_000;
const GOAL_CSV_ROWS = 150_000;
const PAGE = 2000;

// ---------------------------------------------------------------------------------------------
// Raw driver access to the large database (the baseline)

/** The raw driver: `?` placeholders on both engines; dates as each engine returns them. */
interface RawDb {
  engine: Engine;
  all(sql: string, params: unknown[]): Promise<Array<Record<string, unknown>>>;
  bool(b: boolean): unknown;
  /** A parameter for a date column. */
  date(d: Date): unknown;
  /** A date column's value as ISO 8601. */
  iso(v: unknown): string;
  close(): Promise<void>;
}

function rawSqlite(file: string): RawDb {
  const db = new Database(file, { readonly: true });
  db.pragma('busy_timeout = 5000');
  const statements = new Map<string, Database.Statement>();
  return {
    engine: 'sqlite',
    all: async (sql, params) => {
      let stmt = statements.get(sql);
      if (!stmt) statements.set(sql, (stmt = db.prepare(sql)));
      return stmt.all(...params) as Array<Record<string, unknown>>;
    },
    bool: (b) => (b ? 1 : 0),
    // MikroORM keeps SQLite dates as epoch milliseconds.
    date: (d) => d.getTime(),
    iso: (v) => new Date(Number(v)).toISOString(),
    close: async () => {
      db.close();
    },
  };
}

async function rawPostgres(url: string): Promise<RawDb> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const text = new Map<string, string>();
  return {
    engine: 'postgresql',
    all: async (sql, params) => {
      let t = text.get(sql);
      if (t === undefined) {
        let i = 0;
        text.set(sql, (t = sql.replace(/\?/g, () => `$${++i}`)));
      }
      // A named statement: parsed and planned once, as better-sqlite3's prepared statement is.
      return (await client.query({ name: `b${text.size}_${t.length}`, text: t, values: params })).rows as Array<Record<string, unknown>>;
    },
    bool: (b) => b,
    date: (d) => d,
    iso: (v) => (v instanceof Date ? v : new Date(String(v))).toISOString(),
    close: () => client.end(),
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Organisation scorecard

const SCORECARD = `query Dashboard($from: Month!, $to: Month!) { organisationScorecard(from: $from, to: $to) {
  agreementMonths score creditAmount compliance { evaluated met breaches rate }
  series { month score agreementMonths creditAmount compliance { rate } }
  byDepartment { department { code } score agreementMonths creditAmount }
  byTier { tier score agreementMonths creditAmount }
  byAgreement { agreement { key } score } } }`;

interface Compliance {
  evaluated: number;
  met: number;
  breaches: number;
  rate: number | null;
}
interface ScorecardJson {
  agreementMonths: number;
  score: number | null;
  creditAmount: number;
  compliance: Compliance;
  series: Array<{ month: string; score: number | null; agreementMonths: number; creditAmount: number; compliance: { rate: number | null } }>;
  byDepartment: Array<{ department: { code: string } | null; score: number | null; agreementMonths: number; creditAmount: number }>;
  byTier: Array<{ tier: string; score: number | null; agreementMonths: number; creditAmount: number }>;
  byAgreement: Array<{ agreement: { key: string } | null; score: number | null }>;
}

/** Pooled sums of agreement-months, pooled as DESIGN rule 9 says (as `Sums.pooled` does). */
class Pool {
  n = 0;
  sw = 0;
  w = 0;
  sc = 0;
  e = 0;
  m = 0;
  b = 0;
  c = 0;
  add(r: Record<string, unknown> | Pool): this {
    this.n += Number(r.n);
    this.sw += Number(r.sw ?? 0);
    this.w += Number(r.w ?? 0);
    this.sc += Number(r.sc ?? 0);
    this.e += Number(r.e ?? 0);
    this.m += Number(r.m ?? 0);
    this.b += Number(r.b ?? 0);
    this.c += Number(r.c ?? 0);
    return this;
  }
  get score(): number | null {
    return this.sc && this.w > 0 ? Math.min(100, clean((100 * this.sw) / this.w)) : null;
  }
  get credit(): number {
    return Math.round(this.c * 1e9) / 1e9;
  }
  get compliance(): Compliance {
    return { evaluated: this.e, met: this.m, breaches: this.b, rate: this.e ? this.m / this.e : null };
  }
}

const SUMS = 'count(*) as n, sum(sum_weighted) as sw, sum(sum_weight) as w, sum(scored_count) as sc, sum(evaluated) as e, sum(met) as m, sum(breaches) as b, sum(credit_amount) as c';
/** The rows whose stored evaluation holds at the instant (closed by then, or computed by then and still valid), as ours pools them. */
const FRESH = '((closed = ? and closed_at <= ?) or (closed = ? and computed_at <= ? and (valid_until is null or valid_until > ?)))';

/** The dashboard's numbers straight from `ledger_month`: three statements, then JSON as the API sends it. */
async function baselineScorecard(db: RawDb, from: Month, to: Month, now: Date): Promise<string> {
  const t = db.date(now);
  const fresh = [db.bool(true), t, db.bool(false), t, t];
  const base = `from ledger_month where deleted = ? and month >= ? and month <= ? and ${FRESH}`;
  const params = [db.bool(false), from, to, ...fresh];
  const byAgreement = await db.all(`select agreement_id, min(agreement_key) as k, min(cast(provider_id as text)) as p, min(tier) as t, ${SUMS} ${base} group by agreement_id`, params);
  const byMonth = await db.all(`select month, ${SUMS} ${base} group by month`, params);
  const departments = new Map((await db.all('select id, code from department', [])).map((d) => [String(d.id), String(d.code)]));
  const total = new Pool();
  const depts = new Map<string, Pool>();
  const tiers = new Map<string, Pool>();
  for (const r of byAgreement) {
    total.add(r);
    const p = String(r.p);
    const tier = String(r.t);
    depts.set(p, (depts.get(p) ?? new Pool()).add(r));
    tiers.set(tier, (tiers.get(tier) ?? new Pool()).add(r));
  }
  const months = new Map(byMonth.map((r) => [String(r.month), new Pool().add(r)]));
  const card: ScorecardJson = {
    agreementMonths: total.n,
    score: total.score,
    creditAmount: total.credit,
    compliance: total.compliance,
    series: monthList(from, to).map((month) => {
      const s = months.get(month) ?? new Pool();
      return { month, score: s.score, agreementMonths: s.n, creditAmount: s.credit, compliance: { rate: s.compliance.rate } };
    }),
    byDepartment: [...depts]
      .map(([id, s]) => ({ department: { code: departments.get(id) ?? '' }, score: s.score, agreementMonths: s.n, creditAmount: s.credit }))
      .sort((a, b) => a.department.code.localeCompare(b.department.code)),
    byTier: [...tiers].map(([tier, s]) => ({ tier, score: s.score, agreementMonths: s.n, creditAmount: s.credit })).sort((a, b) => a.tier.localeCompare(b.tier)),
    byAgreement: byAgreement.map((r) => ({ agreement: { key: String(r.k) }, score: new Pool().add(r).score })).sort((a, b) => a.agreement.key.localeCompare(b.agreement.key)),
  };
  return JSON.stringify({ data: { organisationScorecard: card } });
}

const close = (a: number | null, b: number | null) => a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)));

/** Where ours and the baseline disagree (empty when they agree). */
function compareScorecards(ours: ScorecardJson, base: ScorecardJson): string[] {
  const out: string[] = [];
  const check = (what: string, a: number | null, b: number | null) => {
    if (!close(a, b)) out.push(`${what}: ours ${a}, baseline ${b}`);
  };
  check('agreementMonths', ours.agreementMonths, base.agreementMonths);
  check('score', ours.score, base.score);
  check('creditAmount', ours.creditAmount, base.creditAmount);
  for (const k of ['evaluated', 'met', 'breaches', 'rate'] as const) check(`compliance.${k}`, ours.compliance[k], base.compliance[k]);
  if (ours.series.length !== base.series.length) out.push(`series: ${ours.series.length} months, baseline ${base.series.length}`);
  ours.series.forEach((s, i) => {
    const b = base.series[i];
    if (!b || b.month !== s.month) return;
    check(`series ${s.month} score`, s.score, b.score);
    check(`series ${s.month} creditAmount`, s.creditAmount, b.creditAmount);
  });
  for (const [name, a, b] of [
    ['byAgreement', ours.byAgreement.map((x) => [x.agreement?.key, x.score]), base.byAgreement.map((x) => [x.agreement?.key, x.score])],
    ['byDepartment', ours.byDepartment.map((x) => [x.department?.code, x.score]), base.byDepartment.map((x) => [x.department?.code, x.score])],
    ['byTier', ours.byTier.map((x) => [x.tier, x.score]), base.byTier.map((x) => [x.tier, x.score])],
  ] as const) {
    if (a.length !== b.length) out.push(`${name}: ${a.length} entries, baseline ${b.length}`);
    const other = new Map(b.map(([k, s]) => [k, s]));
    let differ = 0;
    for (const [k, s] of a) if (!other.has(k) || !close(s as number | null, other.get(k) as number | null)) differ++;
    if (differ) out.push(`${name}: ${differ} entries differ in key or score`);
  }
  return out.slice(0, 20);
}

interface ScorecardResult {
  ours: number[];
  base: number[];
  agreementMonths: number;
  score: number | null;
  credit: number;
  compliance: Compliance;
  differences: string[];
  stale: number;
  rss: RssReport;
  responseBytes: number;
  /** The server's CPU time (user + system, from /proc) per timed request of ours, in ms: what a request costs it whatever else runs on the machine. */
  serverCpuMs: number;
}

const percentile = (samples: number[], q: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
};

async function measureScorecard(server: ServerProcess, token: string, db: RawDb, from: Month, to: Month, runs: number): Promise<ScorecardResult> {
  const headers = { authorization: `Bearer ${token}` };
  const body = JSON.stringify({ query: SCORECARD, variables: { from, to } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const ask = async () => {
    const t0 = performance.now();
    const r = await post(agent, `${server.url}/graphql`, body, headers);
    const took = performance.now() - t0;
    if (r.status !== 200 || r.text.includes('"errors"')) throw new Error(`organisationScorecard failed: ${r.status} ${r.text.slice(0, 800)}`);
    return { ...r, ms: took };
  };
  // Verify first: the same numbers from both.
  const oursFirst = await ask();
  // --scorecard-out FILE keeps ours's answer, to compare two builds byte for byte.
  const out = option('--scorecard-out');
  if (out) fs.writeFileSync(out, oursFirst.text);
  const now = new Date();
  const baseText = await baselineScorecard(db, from, to, now);
  const ours = (JSON.parse(oursFirst.text) as { data: { organisationScorecard: ScorecardJson } }).data.organisationScorecard;
  const base = (JSON.parse(baseText) as { data: { organisationScorecard: ScorecardJson } }).data.organisationScorecard;
  const differences = compareScorecards(ours, base);
  const t = db.date(now);
  const [stale] = await db.all(`select count(*) as n from ledger_month where deleted = ? and month >= ? and month <= ? and not ${FRESH}`, [
    db.bool(false),
    from,
    to,
    db.bool(true),
    t,
    db.bool(false),
    t,
    t,
  ]);

  for (let i = 0; i < 3; i++) {
    await baselineScorecard(db, from, to, new Date());
    await ask();
  }
  const oursMs: number[] = [];
  const baseMs: number[] = [];
  const rss = sampleProcessRss(server.pid, 50);
  // Only ours runs in the server (the baseline runs here): its CPU over the phase is ours alone.
  const cpu0 = processCpuSeconds(server.pid);
  for (let i = 0; i < runs; i++) {
    // Alternating, and in turn first, so both see the same machine.
    const order = i % 2 ? ['ours', 'base'] : ['base', 'ours'];
    for (const which of order) {
      if (which === 'ours') oursMs.push((await ask()).ms);
      else {
        const t0 = performance.now();
        await baselineScorecard(db, from, to, new Date());
        baseMs.push(performance.now() - t0);
      }
    }
  }
  const serverCpuMs = ((processCpuSeconds(server.pid) - cpu0) * 1000) / runs;
  agent.destroy();
  return {
    serverCpuMs,
    ours: oursMs,
    base: baseMs,
    agreementMonths: ours.agreementMonths,
    score: ours.score,
    credit: ours.creditAmount,
    compliance: ours.compliance,
    differences,
    stale: Number(stale.n),
    rss: await rss.stop(),
    responseBytes: oursFirst.text.length,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. BI facts pull

/** The fact fields the pull asks for: every column of the fact table but the tombstone flag. */
const FACT_FIELDS = columnNames(MEASUREMENT_FACT_COLUMNS).filter((c): c is Exclude<keyof typeof MEASUREMENT_FACT_COLUMNS, 'deleted'> => c !== 'deleted');
type Fact = Record<keyof typeof MEASUREMENT_FACT_COLUMNS, string | number | boolean | null>;
/** The CSV export's columns, in its order (checked against the header ours sends). */
const CSV_COLUMNS: readonly string[] = MEASUREMENT_COLUMNS;

const FACTS = `query Facts($filter: FactFilter!, $first: Int, $after: String) { measurementFacts(filter: $filter, first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { ${FACT_FIELDS.join(' ')} } } } }`;

/**
 * The facts' rows from the ledger tables, by agreement key, month and objective position; codes of
 * departments, services and metric units come from small lookup maps read once per pull. On
 * SQLite (no ANALYZE statistics) the planner would take the (month, provider) index and sort the
 * whole window for every page: `indexed by` keeps it on (agreement_key, month).
 */
const factRows = (engine: Engine) => `select lm.agreement_id, lm.month, lm.agreement_key, lm.tier, lm.provider_id, lm.customer_id,
  lo.objective_id, lo.metric_id, lo.metric_code, lo.direction, lo.target, lo.warning, lo.weight, lo.input_value, lo.status, lo.attainment,
  lo.excused, lo.source, lm.report_revision, lm.disputed, lo.updated_at
from ledger_month lm${engine === 'sqlite' ? ' indexed by ledger_month_agreement_key_month_index' : ''}
join ledger_objective lo on lo.agreement_id = lm.agreement_id and lo.month = lm.month and lo.deleted = ?
where lm.deleted = ? and lm.month >= ? and lm.month <= ? and lm.tier in ('CUSTOMER', 'SERVICE') and (lm.agreement_key, lm.month) > (?, ?)
order by lm.agreement_key, lm.month, lo.position
limit ${PAGE}`;

const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 't';
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

interface Lookups {
  department: Map<string, string>;
  service: Map<string, string>;
  unit: Map<string, string>;
}

async function lookups(db: RawDb): Promise<Lookups> {
  const map = (rows: Array<Record<string, unknown>>) => new Map(rows.map((r) => [String(r.k), String(r.v)]));
  return {
    department: map(await db.all('select id as k, code as v from department', [])),
    service: map(await db.all('select a.id as k, s.code as v from agreement a join service s on s.id = a.service_id', [])),
    unit: map(await db.all('select id as k, unit as v from metric', [])),
  };
}

function factOf(db: RawDb, l: Lookups, r: Record<string, unknown>): Fact {
  return {
    id: `${r.agreement_id}:${r.month}:${r.objective_id}`,
    month: r.month as string,
    agreementKey: r.agreement_key as string,
    tier: r.tier as string,
    provider: l.department.get(r.provider_id as string) ?? null,
    customer: l.department.get(r.customer_id as string) ?? null,
    service: l.service.get(r.agreement_id as string) ?? null,
    metric: r.metric_code as string,
    unit: l.unit.get(r.metric_id as string) as string,
    direction: r.direction as string,
    target: Number(r.target),
    warning: num(r.warning),
    weight: Number(r.weight),
    value: num(r.input_value),
    status: r.status as string,
    attainment: num(r.attainment),
    excused: truthy(r.excused),
    source: r.source as string,
    // The report revision a MANUAL value comes from; AUTOMATED values come from no report.
    reportRevision: r.source === 'MANUAL' ? num(r.report_revision) : null,
    disputed: truthy(r.disputed),
    deleted: false,
    updatedAt: db.iso(r.updated_at),
  };
}

/**
 * Every fact of the window, a keyset page (about 2,000 rows, whole agreement-months) at a time,
 * handed to `page`. A full page may end inside an agreement-month: its last agreement-month is
 * left to the next page.
 */
async function rawFactPages(db: RawDb, from: Month, to: Month, page: (rows: Fact[], more: boolean) => void): Promise<number> {
  let key = '';
  let month = '';
  let total = 0;
  const l = await lookups(db);
  const sql = factRows(db.engine);
  for (;;) {
    let rows = await db.all(sql, [db.bool(false), db.bool(false), from, to, key, month]);
    const full = rows.length === PAGE;
    if (full) {
      const last = rows[rows.length - 1];
      const cut = rows.findIndex((r) => r.agreement_key === last.agreement_key && r.month === last.month);
      if (cut > 0) rows = rows.slice(0, cut);
    }
    if (rows.length) {
      key = String(rows[rows.length - 1].agreement_key);
      month = String(rows[rows.length - 1].month);
    }
    total += rows.length;
    page(
      rows.map((r) => factOf(db, l, r)),
      full,
    );
    if (!full) return total;
  }
}

const csvCell = (v: string | number | boolean | null): string => {
  if (v === null) return '';
  const s = typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

interface Pull {
  rows: number;
  seconds: number;
  bytes: number;
  rss?: RssReport;
  /** CPU seconds the pull cost: the server child's (ours, from /proc) or this process's (the baseline's raw read). */
  cpu: number;
}

/** This process's CPU seconds so far (user + system). */
const ownCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Baseline of the GraphQL pull: the rows as GraphQL-shaped JSON pages (serialised, not sent). */
async function baselineJson(db: RawDb, from: Month, to: Month): Promise<Pull & { first: Fact[] }> {
  const c0 = ownCpuSeconds();
  const t0 = performance.now();
  let bytes = 0;
  let first: Fact[] | null = null;
  let n = 0;
  const rows = await rawFactPages(db, from, to, (facts, more) => {
    first ??= facts;
    n++;
    bytes += JSON.stringify({ data: { measurementFacts: { pageInfo: { hasNextPage: more, endCursor: more ? `page-${n}` : null }, edges: facts.map((node) => ({ node })) } } }).length;
  });
  return { rows, seconds: (performance.now() - t0) / 1000, bytes, first: first ?? [], cpu: ownCpuSeconds() - c0 };
}

/** Baseline of the CSV export: the same rows as CSV text, header first. */
async function baselineCsv(db: RawDb, from: Month, to: Month): Promise<Pull & { head: string }> {
  const c0 = ownCpuSeconds();
  const t0 = performance.now();
  let bytes = CSV_COLUMNS.join(',').length + 1;
  let head = '';
  const rows = await rawFactPages(db, from, to, (facts) => {
    let text = '';
    for (const f of facts) text += `${CSV_COLUMNS.map((c) => csvCell((f as Record<string, string | number | boolean | null>)[c] ?? null)).join(',')}\n`;
    if (!head) head = `${CSV_COLUMNS.join(',')}\n${text.slice(0, 4000)}`;
    bytes += text.length;
  });
  return { rows, seconds: (performance.now() - t0) / 1000, bytes, head, cpu: ownCpuSeconds() - c0 };
}

/** POSTs JSON on `agent`; the reply's text. */
function post(agent: http.Agent, url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(body);
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Ours: every page of `measurementFacts` (2,000 rows), as a BI client reads them (the cursor found in the text, rows counted). */
async function oursGraphql(server: ServerProcess, token: string, from: Month, to: Month): Promise<Pull & { firstText: string }> {
  const headers = { authorization: `Bearer ${token}` };
  // An agent of its own: a socket kept from before the baseline ran may have been closed by the server (keep-alive 5 s).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const rss = sampleProcessRss(server.pid, 50);
  const c0 = processCpuSeconds(server.pid);
  const t0 = performance.now();
  let rows = 0;
  let bytes = 0;
  let firstText = '';
  for (let after: string | null = null; ;) {
    const r = await post(agent, `${server.url}/graphql`, JSON.stringify({ query: FACTS, variables: { filter: { from, to }, first: PAGE, after } }), headers);
    if (r.status !== 200 || r.text.startsWith('{"errors"') || r.text.includes('"errors":[')) throw new Error(`measurementFacts failed after ${rows} rows: ${r.status} ${r.text.slice(0, 800)}`);
    firstText ||= r.text;
    bytes += r.text.length;
    rows += r.text.split('"node":').length - 1;
    const next = /"hasNextPage":(true|false)\s*,\s*"endCursor":("(?:[^"\\]|\\.)*"|null)/.exec(r.text);
    if (!next) throw new Error(`measurementFacts: no pageInfo in ${r.text.slice(0, 300)}`);
    if (next[1] !== 'true') break;
    after = JSON.parse(next[2]) as string;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = processCpuSeconds(server.pid) - c0;
  agent.destroy();
  return { rows, seconds, bytes, firstText, rss: await rss.stop(), cpu };
}

/** Ours: `GET /export/measurements.csv`, streamed; rows are lines after the header. */
async function oursCsv(server: ServerProcess, token: string, from: Month, to: Month): Promise<Pull & { head: string }> {
  const rss = sampleProcessRss(server.pid, 50);
  const c0 = processCpuSeconds(server.pid);
  const t0 = performance.now();
  const { lines, bytes, head } = await new Promise<{ lines: number; bytes: number; head: string }>((resolve, reject) => {
    const req = http.get(`${server.url}/export/measurements.csv?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let lines = 0;
      let bytes = 0;
      let head = '';
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (head.length < 4000) head += chunk.toString('utf8', 0, Math.min(chunk.length, 4000));
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve({ lines, bytes, head }) : reject(new Error(`CSV export: ${res.statusCode} ${head.slice(0, 500)}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = processCpuSeconds(server.pid) - c0;
  return { rows: lines - 1, seconds, bytes, head, rss: await rss.stop(), cpu };
}

/** Cells of ours and the baseline's first page that differ, by column (empty when equal). */
function compareFacts(all: Fact[], base: Fact[]): string[] {
  const out: string[] = [];
  // The baseline's page ends on a whole agreement-month: compare the rows both have.
  const ours = all.slice(0, base.length);
  const byId = new Map(base.map((f) => [f.id, f]));
  let missing = 0;
  let order = 0;
  const differ = new Map<string, { n: number; example: string }>();
  ours.forEach((o, i) => {
    const b = byId.get(o.id as string);
    if (!b) return void missing++;
    if (base[i]?.id !== o.id) order++;
    for (const f of FACT_FIELDS) {
      const a = o[f];
      const c = b[f];
      const same = typeof a === 'number' || typeof c === 'number' ? close(a as number | null, c as number | null) : a === c || (f === 'updatedAt' && Date.parse(String(a)) === Date.parse(String(c)));
      if (same) continue;
      const d = differ.get(f) ?? { n: 0, example: `${o.id}: ours ${JSON.stringify(a)}, baseline ${JSON.stringify(c)}` };
      d.n++;
      differ.set(f, d);
    }
  });
  if (missing) out.push(`first page: ${missing} of ours' ids are not among the baseline's first rows`);
  if (order) out.push(`first page: ${order} rows in another position`);
  for (const [f, d] of differ) out.push(`${f} differs in ${d.n} of ${ours.length} rows, e.g. ${d.example}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// 4. The write side with and without the ledger

const SUBMIT = `mutation Submit($input: SubmitReportInput!) { submitReport(input: $input) { revision { id number } userErrors { field code message } } }`;
const RECORD = `mutation Record($input: RecordHandoffEventsInput!) { recordHandoffEvents(input: $input) { batch { received created updated } userErrors { field code message } } }`;
const WRITE_MONTHS = monthList('2025-01', '2026-10');
const CONCURRENCY = 10;
const BATCH = 5000;

interface SubmitPhase {
  ledger: boolean;
  load: LoadResult;
  statementsPerRequest: number;
  ledgerRows: number;
}
interface IngestSide {
  batches: number;
  events: number;
  ms: number[];
  statements: number;
  ledgerRows: number;
}
interface WriteResult {
  submissions: SubmitPhase[];
  ingest: { on: IngestSide; off: IngestSide; agreementMonthsPerBatch: number };
  errors: number;
}

/** Handoff events of batch `k`: `BATCH` events over `agreementIds` in one month (several batches share a month). */
function ingestBatch(k: number, month: Month, agreementIds: string[]) {
  const r = random(`ledger-ingest|${k}`);
  const start = Date.parse(`${month}-01T00:00:00Z`);
  const HOUR = 3_600_000;
  return Array.from({ length: BATCH }, (_, j) => {
    const handed = start + Math.floor(r() * 26 * 24) * HOUR;
    const responded = handed + (1 + Math.floor(r() * 47)) * HOUR;
    const accepted = r() < 0.7;
    return {
      externalId: `l${k}-e${j}`,
      agreementId: agreementIds[j % agreementIds.length],
      stage: 'lead',
      handedOffAt: new Date(handed).toISOString(),
      respondedAt: new Date(responded).toISOString(),
      acceptedAt: accepted ? new Date(responded).toISOString() : null,
      rejectedAt: accepted ? null : new Date(responded).toISOString(),
      rejectionReason: accepted ? null : 'not qualified',
      convertedAt: null,
      qualityScore: Math.round(r() * 100),
    };
  });
}

async function measureWrites(engine: Engine, seconds: number): Promise<WriteResult> {
  const server = await startBenchServer(engine, 'ledger');
  // The baseline phases keep everything but the ledger: the sync every write's transaction runs
  // before commit is swapped for one that does nothing, and put back after.
  const setLedger = (on: boolean) => provideLedgerSync(on ? (em, scopes, now) => syncLedger(em, scopes, now).then(() => undefined) : async () => undefined);
  let errors = 0;
  try {
    // Its ticks would land in one phase only (the ledger's own scheduler work is not a write's price).
    await server.app.scheduler.stop();
    const token = await tokenFor(server.app, Role.ADMIN);
    const headers = { authorization: `Bearer ${token}` };
    const ledgerRows = async () => Number(((await server.app.orm.em.fork().getConnection().execute('select count(*) as n from ledger_month')) as Array<{ n: unknown }>)[0].n);
    const phases = 4;
    const wanted = phases * (seconds + 1) * 1000;
    const count = Number(option('--agreements') ?? Math.ceil(wanted / WRITE_MONTHS.length));
    const t0 = performance.now();
    const agreements = await generateAgreements(server.app.orm.em.fork(), 'LEDGER', count, '2024-01');
    console.log(`[${engine}] write side: generated ${fmt(count)} agreements (${fmt(count * WRITE_MONTHS.length)} agreement-months to submit) in ${ms(performance.now() - t0)}`);

    // Round robin over the phases, month-major: each phase has every month, and requests in flight together are about different agreements.
    const pools: string[][] = Array.from({ length: phases }, () => []);
    let i = 0;
    WRITE_MONTHS.forEach((month, m) =>
      agreements.forEach((a, j) => {
        const input = {
          agreementId: a.id,
          month,
          narrative: `Ledger bench ${month} of ${a.key}.`,
          values: [
            { objectiveId: a.objectiveIds[0], value: 99 + ((j + m) % 10) / 10 },
            { objectiveId: a.objectiveIds[1], value: 1 + ((j * 7 + m) % 5) },
          ],
        };
        pools[i++ % phases].push(JSON.stringify({ query: SUBMIT, variables: { input } }));
      }),
    );
    const submissions: SubmitPhase[] = [];
    for (let p = 0; p < phases; p++) {
      const on = p % 2 === 0;
      setLedger(on);
      const rows0 = await ledgerRows();
      const st0 = server.app.statements.count;
      const load = await runLoad({
        url: server.graphqlUrl,
        headers,
        bodies: pools[p],
        concurrency: CONCURRENCY,
        warmupCount: 50,
        durationMs: seconds * 1000,
        expect: '"userErrors":[]',
        reject: '"errors":',
      });
      const statements = server.app.statements.count - st0;
      setLedger(true);
      if (load.errors) {
        errors += load.errors;
        console.error(`[${engine}] ${load.errors} failed submissions (ledger ${on ? 'kept' : 'off'}), e.g.`, load.errorSamples);
      }
      if (load.exhausted) console.warn(`[${engine}] the pool of agreement-months of phase ${p + 1} ran out before ${seconds} s; pass a larger --agreements`);
      submissions.push({ ledger: on, load, statementsPerRequest: statements / (load.count + load.warmupCount), ledgerRows: (await ledgerRows()) - rows0 });
    }

    // Ingest: batches with and without the ledger alternate (each pair in one month, in turn first).
    const spread = Math.min(agreements.length, Number(option('--ingest-agreements') ?? 200));
    const ids = agreements.slice(0, spread).map((a) => a.id);
    const on: IngestSide = { batches: 0, events: 0, ms: [], statements: 0, ledgerRows: 0 };
    const off: IngestSide = { batches: 0, events: 0, ms: [], statements: 0, ledgerRows: 0 };
    const send = async (k: number, month: Month, side: IngestSide, kept: boolean) => {
      const body = JSON.stringify({ query: RECORD, variables: { input: { source: 'bench-ledger', events: ingestBatch(k, month, ids) } } });
      setLedger(kept);
      const rows0 = await ledgerRows();
      const st0 = server.app.statements.count;
      const reply = await postJson(server.graphqlUrl, body, headers);
      side.statements += server.app.statements.count - st0;
      setLedger(true);
      side.ledgerRows += (await ledgerRows()) - rows0;
      if (reply.status !== 200 || !reply.text.includes(`"created":${BATCH}`)) {
        errors++;
        console.error(`[${engine}] ingest batch ${k} (ledger ${kept ? 'kept' : 'off'}) failed: ${reply.status} ${reply.text.slice(0, 600)}`);
        return false;
      }
      side.batches++;
      side.events += BATCH;
      side.ms.push(reply.ms);
      return true;
    };
    // One warm-up batch each way (not counted), in a month of its own.
    const warm: IngestSide = { batches: 0, events: 0, ms: [], statements: 0, ledgerRows: 0 };
    const last = WRITE_MONTHS.length - 1;
    await send(100_000, WRITE_MONTHS[last], warm, true);
    await send(100_001, WRITE_MONTHS[last], warm, false);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    for (let pair = 0; pair < 200 && (pair < 3 || sum(on.ms) < seconds * 1000 || sum(off.ms) < seconds * 1000); pair++) {
      // Three pairs a month: the month's first kept batch writes its ledger rows, later ones update them.
      const month = WRITE_MONTHS[Math.floor(pair / 3) % last];
      const order = pair % 2 ? [false, true] : [true, false];
      let ok = true;
      for (const kept of order) ok = ok && (await send(2 * pair + (kept ? 0 : 1), month, kept ? on : off, kept));
      if (!ok) break;
    }
    return { submissions, ingest: { on, off, agreementMonthsPerBatch: spread }, errors };
  } finally {
    setLedger(true);
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Orchestration

interface LargeDatabase {
  url: string;
  /** The SQLite file, for the raw driver. */
  file?: string;
  seededSeconds: number | null;
  drop(): Promise<void>;
}

/** The large data set: a fresh database seeded by the compiled `seed:large` (or a kept SQLite file). */
async function largeDatabase(engine: Engine): Promise<LargeDatabase> {
  const id = `tsla_bench_ledger_${randomBytes(4).toString('hex')}`;
  let db: LargeDatabase;
  if (engine === 'sqlite') {
    const given = option('--database');
    const file = given ?? path.join(os.tmpdir(), `${id}.sqlite`);
    db = { url: `sqlite:${file}`, file, seededSeconds: null, drop: async () => (given ? undefined : ['', '-wal', '-shm'].forEach((s) => fs.rmSync(`${file}${s}`, { force: true }))) };
    if (given && fs.existsSync(file)) {
      console.log(`[sqlite] reusing the large data set in ${file}`);
      return db;
    }
  } else {
    // --pg-database URL: an existing (already seeded) PostgreSQL database, reused and kept.
    const kept = option('--pg-database');
    if (kept) {
      console.log(`[postgresql] reusing the data set in ${new URL(kept).pathname.slice(1)}`);
      return { url: kept, seededSeconds: null, drop: async () => undefined };
    }
    const admin = postgresUrl();
    const u = new URL(admin);
    u.pathname = `/${id}`;
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`create database "${id}"`);
    await client.end();
    db = {
      url: u.toString(),
      seededSeconds: null,
      drop: async () => {
        const c = new pg.Client({ connectionString: admin });
        await c.connect();
        try {
          await c.query(`drop database if exists "${id}" with (force)`);
        } finally {
          await c.end();
        }
      },
    };
  }
  console.log(
    `[${engine}] seeding the large data set (npm run seed:large defaults: ${fmt(LARGE_DEFAULTS.agreements)} agreements × ${LARGE_DEFAULTS.months} months, ${fmt(LARGE_DEFAULTS.events)} events) …`,
  );
  const seed = await runCli('seeds/large.cli.js', [], { ...cliEnv(db.url) }, { inheritStderr: true });
  if (seed.code !== 0) {
    await db.drop().catch(() => undefined);
    throw new Error(`seed:large failed (${seed.code}): ${seed.stdout}${seed.stderr}`);
  }
  process.stderr.write('\n');
  console.log(`[${engine}] ${seed.stdout.trim()}`);
  db.seededSeconds = seed.seconds;
  return db;
}

function cliEnv(url: string): Record<string, string> {
  return { NODE_ENV: 'production', DATABASE_URL: url, LOG_LEVEL: 'silent', SEED_DEMO: 'never' };
}

/** A token of a new ANALYST user, written straight into the database (as bench/large.ts does). */
async function analystToken(url: string): Promise<string> {
  const { orm } = await openOrm(loadConfig({ ...cliEnv(url), PORT: '0' }));
  try {
    const em = orm.em.fork();
    const user = em.create(User, { name: 'ledger bench', email: `ledger.bench.${process.pid}.${Date.now()}@bench.example`, role: Role.ANALYST, department: null });
    const token = generateToken();
    issueToken(em, user, 'bench', token, null);
    await em.flush();
    return token;
  } finally {
    await orm.close(true);
  }
}

interface ReadResult {
  seededSeconds: number | null;
  rebuild: { seconds: number; out: string; code: number | null };
  check: { seconds: number; out: string; code: number | null };
  idleRss: number;
  scorecard: ScorecardResult;
  graphql: Array<Pull>;
  csv: Array<Pull>;
  json: Array<Pull>;
  rawCsv: Array<Pull>;
  factDifferences: string[];
  csvHeaderOk: boolean;
}

async function measureReads(engine: Engine, runs: number, rounds: number): Promise<ReadResult> {
  const large = await largeDatabase(engine);
  let server: ServerProcess | undefined;
  let db: RawDb | undefined;
  try {
    const env = cliEnv(large.url);
    const skipped = { code: null, stdout: '(skipped: --no-rebuild)', stderr: '', seconds: NaN };
    const rebuild = hasFlag('--no-rebuild') ? skipped : await runCli('src/cli/ledger-rebuild.js', [], env);
    console.log(`[${engine}] ledger:rebuild (exit ${rebuild.code}, ${fmt(rebuild.seconds, 1)} s wall): ${(rebuild.stdout + rebuild.stderr).trim().slice(0, 500)}`);
    if (rebuild.code !== 0 && rebuild !== skipped) throw new Error('ledger:rebuild failed');
    const check = hasFlag('--no-rebuild') ? skipped : await runCli('src/cli/ledger-rebuild.js', ['--check'], env);
    console.log(`[${engine}] ledger:rebuild --check (exit ${check.code}, ${fmt(check.seconds, 1)} s wall): ${(check.stdout + check.stderr).trim().slice(0, 1500)}`);

    const token = await analystToken(large.url);
    // The scheduler off: a tick in the middle would be timed as one request's (it is not the read path's cost).
    const nodeArgs = option('--server-node-args')?.split(' ').filter(Boolean) ?? [];
    server = await startServerProcess({ ...env, LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '0', REQUEST_TIMEOUT_MS: '600000', SCHEDULER_INTERVAL_MS: '0' }, nodeArgs);
    db = large.file ? rawSqlite(large.file) : await rawPostgres(large.url);
    const to = addMonths(monthOf(new Date()), -1);
    const from = addMonths(to, -(LARGE_DEFAULTS.months - 1));
    const idle = sampleProcessRss(server.pid, 50);
    await new Promise((r) => setTimeout(r, 300));
    const idleRss = (await idle.stop()).peak;

    console.log(`[${engine}] organisation scorecard ${from} … ${to}: ${runs} requests each, alternating with the baseline`);
    const scorecard = await measureScorecard(server, token, db, from, to, runs);

    console.log(`[${engine}] facts pulls: ${rounds} round(s) of baseline JSON, measurementFacts, baseline CSV, CSV export`);
    const graphql: Pull[] = [];
    const csv: Pull[] = [];
    const json: Pull[] = [];
    const rawCsv: Pull[] = [];
    let factDifferences: string[] = [];
    let csvHeaderOk = true;
    for (let r = 0; r < rounds; r++) {
      const j = await baselineJson(db, from, to);
      json.push(j);
      console.log(`[${engine}]   round ${r + 1}: baseline JSON ${fmt(j.rows)} rows in ${fmt(j.seconds, 2)} s`);
      const g = await oursGraphql(server, token, from, to);
      graphql.push(g);
      console.log(`[${engine}]   round ${r + 1}: measurementFacts ${fmt(g.rows)} rows in ${fmt(g.seconds, 2)} s; baseline JSON ${fmt(j.rows)} rows in ${fmt(j.seconds, 2)} s`);
      if (r === 0) {
        const page = (JSON.parse(g.firstText) as { data: { measurementFacts: { edges: Array<{ node: Fact }> } } }).data.measurementFacts.edges.map((e) => e.node);
        factDifferences = compareFacts(page, j.first);
        if (g.rows !== j.rows) factDifferences.unshift(`rows: ours ${g.rows}, baseline ${j.rows}`);
      }
      const c = await baselineCsv(db, from, to);
      rawCsv.push(c);
      const o = await oursCsv(server, token, from, to);
      csv.push(o);
      console.log(`[${engine}]   round ${r + 1}: CSV export ${fmt(o.rows)} rows in ${fmt(o.seconds, 2)} s; baseline CSV ${fmt(c.rows)} rows in ${fmt(c.seconds, 2)} s`);
      if (r === 0) {
        const header = o.head.split('\n')[0].replace(/\r$/, '');
        csvHeaderOk = header === CSV_COLUMNS.join(',');
        if (!csvHeaderOk) factDifferences.push(`CSV header: ours ${JSON.stringify(header)}, baseline ${JSON.stringify(CSV_COLUMNS.join(','))}`);
        if (o.rows !== c.rows) factDifferences.push(`CSV rows: ours ${o.rows}, baseline ${c.rows}`);
        const unknown = CSV_COLUMNS.filter((col) => !(FACT_FIELDS as readonly string[]).includes(col) && col !== 'deleted');
        if (unknown.length) factDifferences.push(`CSV columns the baseline leaves empty: ${unknown.join(', ')}`);
      }
    }
    return {
      seededSeconds: large.seededSeconds,
      rebuild: { seconds: rebuild.seconds, out: rebuild.stdout.trim(), code: rebuild.code },
      check: { seconds: check.seconds, out: check.stdout.trim(), code: check.code },
      idleRss,
      scorecard,
      graphql,
      csv,
      json,
      rawCsv,
      factDifferences,
      csvHeaderOk,
    };
  } finally {
    await db?.close().catch(() => undefined);
    await server?.stop();
    await large.drop().catch((e: unknown) => console.error('dropping the large database:', e));
  }
}

const rate = (p: Pull) => p.rows / p.seconds;
const best = (ps: Pull[]) => ps.reduce((a, b) => (rate(b) > rate(a) ? b : a));
const peakRss = (ps: Pull[]) => Math.max(...ps.map((p) => p.rss?.peak ?? 0));
const ratio = (a: number, b: number, digits = 2) => `${fmt(a / b, digits)}×`;
const verdict = (met: boolean | null) => (met === null ? '–' : met ? 'MET' : 'NOT MET');

async function main(): Promise<number> {
  const engines: Engine[] = hasFlag('--pg-only') ? ['postgresql'] : hasFlag('--pg') ? ['sqlite', 'postgresql'] : ['sqlite'];
  const only = option('--only');
  const runs = Number(option('--runs') ?? 100);
  const rounds = Number(option('--rounds') ?? 2);
  const seconds = benchSeconds(8);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(rounds) || rounds < 0)
    throw new Error(`--runs and --rounds: expected whole numbers (runs ≥ 1, rounds ≥ 0), received ${runs} and ${rounds}`);
  if (only && only !== 'read' && only !== 'write') throw new Error(`--only: expected read or write, received ${JSON.stringify(only)}`);
  console.log(`ledger bench: engines ${engines.join(', ')}; scorecard ${runs} requests each way; facts ${rounds} round(s); write phases ${seconds} s each; ${os.cpus().length} CPUs`);
  let failed = false;
  const summary: string[][] = [];
  for (const engine of engines) {
    const sqlite = engine === 'sqlite';
    if (only !== 'write') {
      const r = await measureReads(engine, runs, rounds);
      const s = r.scorecard;
      const o = latencyStats(s.ours);
      const b = latencyStats(s.base);
      const op95 = percentile(s.ours, 0.95);
      const bp95 = percentile(s.base, 0.95);
      printTable(
        `[${engine}] organisation scorecard, 24 months, ${fmt(s.agreementMonths)} agreement-months (${s.ours.length} requests each, alternating; response ${fmt(s.responseBytes / 1024, 0)} KiB)`,
        ['path', 'p50', 'p95', 'p99', 'max', 'server CPU/request', 'server RSS peak'],
        [
          ['ours: GraphQL over HTTP (server in a child process)', ms(o.p50), ms(op95), ms(o.p99), ms(o.max), ms(s.serverCpuMs), mib(s.rss.peak)],
          ['baseline: raw driver, 3 statements on ledger_month + JSON', ms(b.p50), ms(bp95), ms(b.p99), ms(b.max), '', ''],
          ['ratio ours / baseline', ratio(o.p50, b.p50), ratio(op95, bp95), ratio(o.p99, b.p99), '', '', ''],
        ],
      );
      console.log(
        `[${engine}] numbers: score ${s.score}, compliance ${JSON.stringify(s.compliance)}, credit ${s.credit}; ours and the baseline ${s.differences.length ? `DIFFER:\n  ${s.differences.join('\n  ')}` : 'agree (total, compliance, credit, every month, agreement, department and tier score)'}; ${fmt(s.stale)} ledger rows not fresh (scored live by ours)`,
      );
      if (s.differences.length) failed = true;

      if (r.graphql.length) {
        const pullRows: string[][] = [];
        const line = (label: string, g: Pull, rss: boolean) => [label, fmt(g.rows), fmt(g.seconds, 2), fmt(rate(g)), fmt((g.cpu * 1e6) / g.rows, 2), mib(g.bytes), rss ? mib(g.rss?.peak ?? NaN) : ''];
        r.graphql.forEach((g, i) => pullRows.push(line(`ours: measurementFacts, pages of ${fmt(PAGE)} (round ${i + 1})`, g, true)));
        r.json.forEach((g, i) => pullRows.push(line(`baseline: raw keyset pages → GraphQL-shaped JSON (round ${i + 1})`, g, false)));
        r.csv.forEach((g, i) => pullRows.push(line(`ours: GET /export/measurements.csv (round ${i + 1})`, g, true)));
        r.rawCsv.forEach((g, i) => pullRows.push(line(`baseline: raw keyset pages → CSV text (round ${i + 1})`, g, false)));
        printTable(`[${engine}] BI pull of every measurement fact, ${pulledRows(r)}`, ['path', 'rows', 'seconds', 'rows/s', 'CPU µs/row', 'output', 'server RSS peak'], pullRows);
        console.log(`[${engine}] CPU µs/row: ours is the server child's (/proc/<pid>/stat), the baseline's this process's (process.cpuUsage(); on PostgreSQL without the database server's)`);
        console.log(`[${engine}] facts, ours vs baseline (first page cell by cell, row counts): ${r.factDifferences.length ? `DIFFER:\n  ${r.factDifferences.join('\n  ')}` : 'equal'}`);
      }
      console.log(`[${engine}] server RSS idle before the phases: ${mib(r.idleRss)}`);
      // Issue 19 goal 4 (and issue 13's memory goal) in the form every bench prints it.
      const readPeak = Math.max(s.rss.peak, peakRss(r.graphql), peakRss(r.csv));
      printGoal(`${engine}: server peak RSS ≤ ${mib(GOAL_RSS)} (scorecards, facts pull, CSV export)`, readPeak <= GOAL_RSS, mib(readPeak));

      const p95met = op95 <= GOAL_P95_MS && op95 <= GOAL_P95_FACTOR * bp95;
      printGoal(`${engine}: organisation scorecard p95 ≤ ${GOAL_P95_MS} ms and ≤ ${GOAL_P95_FACTOR}× the raw SQL baseline`, p95met, `${ms(op95)}, ${ratio(op95, bp95)} of ${ms(bp95)}`);
      summary.push(
        [`${engine}: scorecard p50`, ms(o.p50), ms(b.p50), ratio(o.p50, b.p50), '', ''],
        [`${engine}: scorecard server CPU/request`, ms(s.serverCpuMs), '', '', '(reference)', '–'],
        [`${engine}: scorecard p95`, ms(op95), ms(bp95), ratio(op95, bp95), `≤ ${GOAL_P95_MS} ms and ≤ ${GOAL_P95_FACTOR}× baseline`, verdict(p95met)],
        [`${engine}: server peak RSS, scorecard phase`, mib(s.rss.peak), '', '', `≤ ${mib(GOAL_RSS)}`, verdict(s.rss.peak <= GOAL_RSS)],
      );
      if (r.graphql.length) {
        const g = best(r.graphql);
        const j = best(r.json);
        const c = best(r.csv);
        const rc = best(r.rawCsv);
        if (sqlite) {
          printGoal(
            `${engine}: measurementFacts pull ≥ ${fmt(GOAL_GRAPHQL_ROWS)} rows/s (best round)`,
            rate(g) >= GOAL_GRAPHQL_ROWS,
            `${fmt(rate(g))} rows/s, ${ratio(rate(g), rate(j), 3)} of the raw read`,
          );
          printGoal(`${engine}: CSV export ≥ ${fmt(GOAL_CSV_ROWS)} rows/s (best round)`, rate(c) >= GOAL_CSV_ROWS, `${fmt(rate(c))} rows/s, ${ratio(rate(c), rate(rc), 3)} of the raw read`);
        }
        summary.push(
          [`${engine}: server peak RSS, measurementFacts pull`, mib(peakRss(r.graphql)), '', '', `≤ ${mib(GOAL_RSS)}`, verdict(peakRss(r.graphql) <= GOAL_RSS)],
          [`${engine}: server peak RSS, CSV export`, mib(peakRss(r.csv)), '', '', `≤ ${mib(GOAL_RSS)}`, verdict(peakRss(r.csv) <= GOAL_RSS)],
          [
            `${engine}: measurementFacts rows/s (best round)`,
            fmt(rate(g)),
            fmt(rate(j)),
            ratio(rate(g), rate(j), 3),
            sqlite ? `≥ ${fmt(GOAL_GRAPHQL_ROWS)}` : '(SQLite goal)',
            sqlite ? verdict(rate(g) >= GOAL_GRAPHQL_ROWS) : '–',
          ],
          [
            `${engine}: CSV export rows/s (best round)`,
            fmt(rate(c)),
            fmt(rate(rc)),
            ratio(rate(c), rate(rc), 3),
            sqlite ? `≥ ${fmt(GOAL_CSV_ROWS)}` : '(SQLite goal)',
            sqlite ? verdict(rate(c) >= GOAL_CSV_ROWS) : '–',
          ],
        );
      }
      summary.push(
        [`${engine}: ledger:rebuild wall time`, `${fmt(r.rebuild.seconds, 1)} s`, '', '', '(reference)', '–'],
        [
          `${engine}: ledger:rebuild --check`,
          r.check.code === null ? 'skipped' : r.check.code === 0 ? 'equal' : `DIFFERS (exit ${r.check.code})`,
          '',
          '',
          `equal (check took ${fmt(r.check.seconds, 1)} s)`,
          r.check.code === null ? '–' : verdict(r.check.code === 0),
        ],
      );
      if (r.seededSeconds !== null) console.log(`[${engine}] seed:large took ${fmt(r.seededSeconds, 1)} s`);
    }
    if (only !== 'read') {
      const w = await measureWrites(engine, seconds);
      if (w.errors) failed = true;
      const rows: string[][] = w.submissions.map((p, i) => [
        `submitReport, ledger ${p.ledger ? 'kept' : 'OFF '} (phase ${i + 1})`,
        fmt(p.load.count),
        fmt(p.load.errors),
        fmt(p.load.rps, 1),
        ms(p.load.latency.p50),
        ms(p.load.latency.p99),
        fmt(p.statementsPerRequest, 1),
        fmt(p.ledgerRows),
      ]);
      const rpsOf = (kept: boolean) => {
        const ps = w.submissions.filter((p) => p.ledger === kept);
        return ps.reduce((a, p) => a + p.load.count, 0) / (ps.reduce((a, p) => a + p.load.elapsedMs, 0) / 1000);
      };
      rows.push(['ratio kept / off (all phases)', '', '', fmt(rpsOf(true) / rpsOf(false), 3), '', '', '', '']);
      printTable(
        `[${engine}] report submissions, ${CONCURRENCY} connections, ${seconds} s a phase (in-process server, fresh database)`,
        ['phase', 'requests', 'errors', 'req/s', 'p50', 'p99', 'SQL/request', 'ledger rows written'],
        rows,
      );
      const ev = (s: IngestSide) => s.events / (s.ms.reduce((a, b) => a + b, 0) / 1000);
      const { on, off } = w.ingest;
      printTable(
        `[${engine}] handoff ingest, batches of ${fmt(BATCH)} events over ${w.ingest.agreementMonthsPerBatch} agreement-months each, alternating`,
        ['side', 'batches', 'events', 'events/s', 'batch p50', 'batch p99', 'SQL/batch', 'ledger rows written'],
        [
          ['ledger kept', fmt(on.batches), fmt(on.events), fmt(ev(on)), ms(latencyStats(on.ms).p50), ms(latencyStats(on.ms).p99), fmt(on.statements / Math.max(1, on.batches), 1), fmt(on.ledgerRows)],
          [
            'ledger OFF',
            fmt(off.batches),
            fmt(off.events),
            fmt(ev(off)),
            ms(latencyStats(off.ms).p50),
            ms(latencyStats(off.ms).p99),
            fmt(off.statements / Math.max(1, off.batches), 1),
            fmt(off.ledgerRows),
          ],
          ['ratio kept / off', '', '', fmt(ev(on) / ev(off), 3), ratio(latencyStats(on.ms).p50, latencyStats(off.ms).p50), '', '', ''],
        ],
      );
      const disabled = w.submissions.filter((p) => !p.ledger).every((p) => p.ledgerRows === 0) && off.ledgerRows === 0 && w.submissions.filter((p) => p.ledger).every((p) => p.ledgerRows > 0);
      console.log(
        `[${engine}] replacing the ledger sync ${disabled ? 'really disables the ledger: no ledger rows written with it off, rows written with it kept' : 'DID NOT behave as expected (see the ledger rows columns)'}`,
      );
      summary.push(
        [`${engine}: submitReport req/s, ledger kept vs off`, fmt(rpsOf(true), 1), fmt(rpsOf(false), 1), ratio(rpsOf(true), rpsOf(false), 3), '(reference)', '–'],
        [`${engine}: ingest events/s, ledger kept vs off`, fmt(ev(on)), fmt(ev(off)), ratio(ev(on), ev(off), 3), '(reference)', '–'],
      );
    }
  }
  closeMainAgent();
  printTable(
    'Summary (ours vs baseline; for the write side "baseline" is the same write with the ledger hook replaced by a no-op)',
    ['measure', 'ours', 'baseline', 'ours/baseline', 'goal', 'result'],
    summary,
  );
  return failed ? 1 : 0;
}

/** The rows of the first GraphQL pull, for a table title. */
function pulledRows(r: ReadResult): string {
  return `${fmt(r.graphql[0]?.rows ?? 0)} rows`;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
