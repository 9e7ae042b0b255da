/*
 * Issue 18, point 5: a measured simulation behind docs/scale.md, on PostgreSQL only (the path past
 * one database starts there).
 *
 * (a) Growth: the `seed:large` data set (`seedLarge`, LARGE_DEFAULTS: 2,000 agreements × 24 months,
 *     about a million handoff events) seeded once through the real code, then scaled to 2×, 5× and
 *     10× by copying its agreements with SQL (`INSERT … SELECT` with every id remapped by
 *     `md5(id || ':' || copy)` and every unique text key suffixed), ledger rows included, so each
 *     copy is what seeding it would have written. At each scale:
 *     - a report's ledger upkeep: `syncLedger` of one agreement's latest month (what every report
 *       write runs before it commits), median of 30;
 *     - a handoff batch (5,000 new events over 200 agreement-months through `ingestHandoffEvents`)
 *       with the ledger kept and with its sync replaced by a no-op, alternating; the difference is
 *       the ledger's share;
 *     - the ledger's rebuild per agreement-month: at 1× the seed's own rebuild; `ledger:rebuild`
 *       at the scales up to --rebuild-up-to (default 0: none; it grows linearly and takes minutes);
 *     - facts reads (`measurementFacts`, pages of 2,000, server in a child process): the whole pull
 *       once at 1×; at every scale the rate over the first 10 pages (3 rounds), the first and tenth
 *       page's latency, and an incremental page (`updatedSince` just before the write phase), median of 15.
 *     The 1× seed has 240,000 handoff events (a quarter of seed:large's; --events 1000000 for all).
 * (b) `handoff_event` partitioned by month against the real, unpartitioned table at 10 million rows
 *     (scratch database; the table made by the migrations, filled with generate_series; the
 *     partitioned copy has the month in its primary and unique keys).
 *
 *   npm run bench:scale [-- --scales 1,2,5,10] [--rows 10000000] [--only growth|partition]
 *       [--agreements 2000] [--events 240000] [--rebuild-up-to 0]
 *
 * BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) names the server; fresh
 * databases are created and dropped.
 */
import 'reflect-metadata';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { EntityManager } from '@mikro-orm/core';
import { addMonths, monthOf, type Month } from '../src/common/month';
import { loadConfig } from '../src/common/config';
import { provideLedgerSync } from '../src/common/ledger-touch';
import { openOrm } from '../src/db/orm';
import { syncLedger } from '../src/modules/ledger/ledger.service';
import { ingestHandoffEvents } from '../src/modules/handoffs/handoff.service';
import type { HandoffEventInput } from '../src/modules/handoffs/handoff.inputs';
import { issueToken } from '../src/modules/auth/auth.service';
import { generateToken } from '../src/modules/auth/tokens';
import { User } from '../src/modules/auth/user.entity';
import { Role } from '../src/common/role';
import { LARGE_DEFAULTS, seedLarge } from '../seeds/large';
import { runCli, type ServerProcess, startServerProcess } from './child';
import { fmt, latencyStats, ms, option, postJson, printTable } from './lib';
import { postgresUrl } from './setup';

const PAGE = 2000;
const BATCH = 5000;
const BATCH_AGREEMENT_MONTHS = 200;
const SAMPLE_PAGES = 10;
/**
 * Handoff events at 1×: a quarter of `seed:large`'s million (five per agreement-month), so the
 * seed through the real ingest fits the bench's time on a shared two-core machine; the 10-million
 * row table is part (b). `--events 1000000` for the full density.
 */
const DEFAULT_EVENTS = 240_000;

const median = (xs: number[]) => latencyStats(xs).p50;
const spread = (xs: number[]) => (xs.length > 1 ? `${ms(Math.min(...xs))}–${ms(Math.max(...xs))}` : '');
const x = (a: number, b: number, digits = 2) => `${fmt(a / b, digits)}×`;

// ---------------------------------------------------------------------------------------------
// Databases

async function admin<T>(fn: (c: pg.Client) => Promise<T>, url = postgresUrl()): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function databaseUrl(name: string): string {
  const u = new URL(postgresUrl());
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`drop database if exists "${name}" with (force)`));
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

// ---------------------------------------------------------------------------------------------
// (a) Scaling the large data set with SQL

/**
 * The tables that hold one agreement's rows, with the uuid columns that point at copied rows
 * (remapped) and the unique text columns (suffixed). Everything else (departments, metrics, the
 * charter and its objective, users) is shared by the copies, as it would be in a bigger company.
 */
const COPIED: Array<{ table: string; where: string; remap: string[]; suffix?: string[]; mapIfOwn?: string[] }> = [
  { table: 'agreement', where: 'id in (select id from orig)', remap: ['id'], suffix: ['key'] },
  { table: 'agreement_version', where: 'agreement_id in (select id from orig)', remap: ['id', 'agreement_id'] },
  { table: 'objective', where: 'id in (select id from orig_objective)', remap: ['id', 'agreement_version_id'] },
  { table: 'report', where: 'agreement_id in (select id from orig)', remap: ['id', 'agreement_id', 'latest_revision_id'] },
  { table: 'report_revision', where: 'report_id in (select id from orig_report)', remap: ['id', 'report_id'] },
  { table: 'report_value', where: 'revision_id in (select id from orig_revision)', remap: ['id', 'revision_id', 'objective_id'] },
  { table: 'handoff_event', where: 'agreement_id in (select id from orig)', remap: ['id', 'agreement_id'], suffix: ['external_id'] },
  { table: 'handoff_month', where: 'agreement_id in (select id from orig)', remap: ['id', 'agreement_id'] },
  { table: 'ledger_month', where: 'agreement_id in (select id from orig)', remap: ['agreement_id'], suffix: ['agreement_key'] },
  { table: 'ledger_objective', where: 'agreement_id in (select id from orig)', remap: ['agreement_id'], mapIfOwn: ['objective_id'] },
  { table: 'credit_entry', where: 'agreement_id in (select id from orig)', remap: ['id', 'agreement_id'] },
  { table: 'credit_tombstone', where: 'agreement_id in (select id from orig)', remap: ['id', 'agreement_id'] },
  { table: 'month_close', where: 'agreement_id in (select id from orig)', remap: ['id', 'agreement_id', 'reopening_id'] },
];

/** Remembers the original measured agreements (and their objectives, reports, revisions) in temp tables of `c`. */
async function markOriginals(c: pg.Client): Promise<void> {
  // A copy's id: a v4-shaped uuid from md5(id:copy) (the API validates ids as RFC 4122 uuids).
  await c.query(`create function pg_temp.remap(u uuid, k int) returns uuid language sql immutable as
    $$ select overlay(overlay(md5(u::text || ':' || k) placing '4' from 13) placing '8' from 17)::uuid $$`);
  await c.query(`create temp table orig as select id from agreement where parent_id is not null and key like 'L-%'`);
  await c.query(`create temp table orig_objective as select o.id from objective o join agreement_version v on v.id = o.agreement_version_id where v.agreement_id in (select id from orig)`);
  await c.query(`create temp table orig_report as select id from report where agreement_id in (select id from orig)`);
  await c.query(`create temp table orig_revision as select id from report_revision where report_id in (select id from orig_report)`);
  for (const t of ['orig', 'orig_objective', 'orig_report', 'orig_revision']) await c.query(`alter table ${t} add primary key (id); analyze ${t}`);
}

/** Copies the original agreements once more as copy number `k` (1, 2, …); returns rows written per table. */
async function copyOnce(c: pg.Client, k: number): Promise<number> {
  let rows = 0;
  await c.query('begin');
  // Foreign keys are not checked while copying (every reference is remapped consistently, or shared).
  await c.query(`set local session_replication_role = replica`);
  for (const spec of COPIED) {
    const cols = (
      await c.query<{ column_name: string }>(`select column_name from information_schema.columns where table_schema = 'public' and table_name = $1 order by ordinal_position`, [spec.table])
    ).rows.map((r) => r.column_name);
    const expr = cols.map((col) => {
      if (spec.remap.includes(col)) return `pg_temp.remap(${col}, ${k})`;
      if (spec.mapIfOwn?.includes(col)) return `case when ${col} in (select id from orig_objective) then pg_temp.remap(${col}, ${k}) else ${col} end`;
      if (spec.suffix?.includes(col)) return `${col} || '-X${k}'`;
      return col;
    });
    const r = await c.query(`insert into ${spec.table} (${cols.join(', ')}) select ${expr.join(', ')} from ${spec.table} where ${spec.where}`);
    rows += r.rowCount ?? 0;
  }
  await c.query('commit');
  return rows;
}

/** Tables with an agreement column and rows that {@link COPIED} leaves out (the copies would lack them). */
async function uncopiedTables(c: pg.Client): Promise<string[]> {
  const tables = (
    await c.query<{ table_name: string }>(`select distinct table_name from information_schema.columns where table_schema = 'public' and column_name = 'agreement_id' order by 1`)
  ).rows.map((r) => r.table_name);
  const out: string[] = [];
  for (const t of tables) {
    if (COPIED.some((s) => s.table === t)) continue;
    const n = Number((await c.query<{ n: string }>(`select count(*) as n from ${t} where agreement_id in (select id from orig)`)).rows[0].n);
    if (n) out.push(`${t} (${fmt(n)} rows)`);
  }
  return out;
}

interface ScaleResult {
  scale: number;
  agreements: number;
  agreementMonths: number;
  events: number;
  factRows: number;
  eventTableBytes: number;
  databaseBytes: number;
  upkeep: number[];
  batchKept: number[];
  batchOff: number[];
  rebuild: { seconds: number; rows: number } | null;
  /** The whole pull (first scale only). */
  full: { rows: number; seconds: number } | null;
  /** The first SAMPLE_PAGES pages, three rounds. */
  pulls: Array<{ rows: number; seconds: number; firstPage: number; lastPage: number }>;
  incremental: number[];
  incrementalRows: number;
}

const FACTS = `query($filter: FactFilter!, $first: Int, $after: String) { measurementFacts(filter: $filter, first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id month agreementKey tier provider customer service metric unit direction target warning weight value status attainment excused source reportRevision updatedAt } } } }`;

async function gql(server: ServerProcess, token: string, variables: Record<string, unknown>): Promise<{ ms: number; edges: number; next: string | null }> {
  const r = await postJson(`${server.url}/graphql`, JSON.stringify({ query: FACTS, variables }), { authorization: `Bearer ${token}` });
  const body = JSON.parse(r.text) as { data?: { measurementFacts: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }; errors?: unknown };
  if (!body.data) throw new Error(`measurementFacts failed (${r.status}): ${r.text.slice(0, 500)}`);
  const f = body.data.measurementFacts;
  return { ms: r.ms, edges: f.edges.length, next: f.pageInfo.hasNextPage ? f.pageInfo.endCursor : null };
}

/** Pages of the facts pull from the start (all of them when `pages` is Infinity). */
async function pull(server: ServerProcess, token: string, from: Month, to: Month, pages: number): Promise<{ rows: number; seconds: number; firstPage: number; lastPage: number }> {
  const t = performance.now();
  let rows = 0;
  let first = NaN;
  let last = NaN;
  let n = 0;
  for (let after: string | null = null; n < pages; n++) {
    const p = await gql(server, token, { filter: { from, to }, first: PAGE, after });
    if (Number.isNaN(first)) first = p.ms;
    last = p.ms;
    rows += p.edges;
    if (!p.next) break;
    after = p.next;
  }
  return { rows, seconds: (performance.now() - t) / 1000, firstPage: first, lastPage: last };
}

/** A batch of new handoff events for `agreementIds` × the month, 25 events each. */
function handoffBatch(agreementIds: string[], month: Month, tag: string): HandoffEventInput[] {
  const per = BATCH / agreementIds.length;
  const events: HandoffEventInput[] = [];
  agreementIds.forEach((agreementId, a) => {
    for (let k = 0; k < per; k++) {
      const handedOffAt = new Date(`${month}-${String(1 + ((a + k) % 27)).padStart(2, '0')}T${String(8 + (k % 9)).padStart(2, '0')}:00:00Z`);
      const respondedAt = new Date(handedOffAt.getTime() + (1 + (k % 7)) * 3_600_000);
      const accepted = k % 4 !== 0;
      events.push({
        externalId: `scale-${tag}-${a}-${k}`,
        agreementId,
        stage: 'lead',
        handedOffAt,
        respondedAt,
        acceptedAt: accepted ? respondedAt : null,
        rejectedAt: accepted ? null : respondedAt,
        rejectionReason: accepted ? null : 'Not qualified',
        convertedAt: null,
        qualityScore: 50 + (k % 50),
      });
    }
  });
  return events;
}

function sample<T>(xs: T[], n: number, seed: number): T[] {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, () => xs[Math.floor(next() * xs.length)]);
}

async function measureScale(scale: number, url: string, em: EntityManager, token: string, rebuildUpTo: number, fullPullOnce: boolean): Promise<ScaleResult> {
  const conn = em.getConnection();
  const count = async (sql: string) => Number(((await conn.execute(sql, [], 'get')) as { n: string | number }).n);
  const agreements = (await conn.execute(`select id from agreement where parent_id is not null and key like 'L-%' order by id`)) as Array<{ id: string }>;
  const ids = agreements.map((a) => a.id);
  const now = new Date();
  const to = addMonths(monthOf(now), -1);
  const from = addMonths(to, -(LARGE_DEFAULTS.months - 1));
  const tag = `${scale}x-${randomBytes(3).toString('hex')}`;
  console.log(`[${scale}×] ${fmt(ids.length)} agreements; measuring the write side`);

  // A report's ledger upkeep: one agreement's latest month, as each report write runs it.
  const upkeep: number[] = [];
  for (const id of sample(ids, 30, 7 * scale)) {
    const t = await timed(() => em.fork().transactional((tem) => syncLedger(tem, [{ agreementId: id, months: [to] }], now)));
    upkeep.push(t.ms);
  }

  // A handoff batch with the ledger kept and with its sync a no-op, alternating (four each).
  const since = new Date(Date.now() - 1000);
  const batchKept: number[] = [];
  const batchOff: number[] = [];
  const principal = { role: Role.ADMIN, departmentIds: [], userId: 'scale-bench' };
  for (let round = 0; round < 8; round++) {
    const kept = round % 2 === 0;
    provideLedgerSync(
      kept
        ? async (tem, scopes, at) => {
            await syncLedger(tem, scopes, at);
          }
        : async () => undefined,
    );
    const events = handoffBatch(sample(ids, BATCH_AGREEMENT_MONTHS, 31 * scale + round), to, `${tag}-${round}`);
    const t = await timed(() => em.fork().transactional((tem) => ingestHandoffEvents(tem, { source: 'scale-bench', events }, { principal, now: new Date() })));
    (kept ? batchKept : batchOff).push(t.ms);
  }
  provideLedgerSync(async (tem, scopes, at) => {
    await syncLedger(tem, scopes, at);
  });

  const agreementMonths = await count(`select count(*) as n from ledger_month where agreement_key like 'L-%'`);
  const events = await count(`select count(*) as n from handoff_event`);
  const eventTableBytes = await count(`select pg_total_relation_size('handoff_event') as n`);
  const databaseBytes = await count(`select pg_database_size(current_database()) as n`);

  let rebuild: ScaleResult['rebuild'] = null;
  if (scale <= rebuildUpTo) {
    console.log(`[${scale}×] ledger:rebuild`);
    const r = await runCli('src/cli/ledger-rebuild.js', [], { DATABASE_URL: url, LOG_LEVEL: 'silent' });
    if (r.code !== 0) throw new Error(`ledger:rebuild failed: ${r.stdout}${r.stderr}`);
    rebuild = { seconds: r.seconds, rows: agreementMonths };
  }

  console.log(`[${scale}×] facts reads`);
  const server = await startServerProcess({
    DATABASE_URL: url,
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: '0',
    REQUEST_TIMEOUT_MS: '600000',
    SCHEDULER_INTERVAL_MS: '0',
    WEBHOOK_POLL_MS: '0',
    COST_LIMIT: '100000000',
  });
  try {
    // The whole pull once at the first scale (it grows with the data: rows / rate); at every scale
    // the rate over its first SAMPLE_PAGES pages, three rounds.
    const full = fullPullOnce ? await pull(server, token, from, to, Infinity) : null;
    if (full) console.log(`[${scale}×]   full pull: ${fmt(full.rows)} rows in ${fmt(full.seconds, 1)} s`);
    const pulls: ScaleResult['pulls'] = [];
    for (let r = 0; r < 3; r++) {
      const p = await pull(server, token, from, to, SAMPLE_PAGES);
      pulls.push(p);
      console.log(`[${scale}×]   first ${SAMPLE_PAGES} pages ${r + 1}: ${fmt(p.rows)} rows in ${fmt(p.seconds, 1)} s`);
    }
    const incremental: number[] = [];
    let incrementalRows = 0;
    for (let r = 0; r < 15; r++) {
      const p = await gql(server, token, { filter: { from, to, updatedSince: since.toISOString() }, first: PAGE });
      incremental.push(p.ms);
      incrementalRows = p.edges;
    }
    return {
      scale,
      agreements: ids.length,
      agreementMonths,
      events,
      factRows: await count(`select count(*) as n from ledger_objective where agreement_id in (select id from agreement where key like 'L-%')`),
      full,
      eventTableBytes,
      databaseBytes,
      upkeep,
      batchKept,
      batchOff,
      rebuild,
      pulls,
      incremental,
      incrementalRows,
    };
  } finally {
    await server.stop();
  }
}

async function growth(scales: number[], rebuildUpTo: number): Promise<ScaleResult[]> {
  const name = `tsla_bench_scale_${randomBytes(4).toString('hex')}`;
  const url = databaseUrl(name);
  const results: ScaleResult[] = [];
  const { orm } = await openOrm(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }));
  const copier = new pg.Client({ connectionString: url });
  try {
    const options = { ...LARGE_DEFAULTS, agreements: Number(option('--agreements') ?? LARGE_DEFAULTS.agreements), events: Number(option('--events') ?? DEFAULT_EVENTS), seed: 'scale' };
    console.log(`seeding the large data set (${fmt(options.agreements)} agreements × ${options.months} months, ${fmt(options.events)} events) through seedLarge …`);
    let last = 0;
    let rebuildStarted = NaN;
    let seededRebuild: number | null = null;
    const seeded = await timed(() =>
      seedLarge(orm.em.fork(), options, (stage, done, total) => {
        // The seed ends with a rebuild of the ledger (stage "score ledger" from 0 to done): the 1× rebuild time.
        if (stage === 'score ledger' && done === 0) rebuildStarted = performance.now();
        else if (stage === 'score ledger') seededRebuild = (performance.now() - rebuildStarted) / 1000;
        if (performance.now() - last > 15_000) {
          last = performance.now();
          console.log(`  ${stage} ${fmt(done)}/${fmt(total)}`);
        }
      }),
    );
    console.log(`seeded in ${fmt(seeded.ms / 1000, 1)} s`);
    const em = orm.em.fork();
    const user = em.create(User, { name: 'scale bench', email: `scale.${process.pid}@bench.example`, role: Role.ANALYST, department: null });
    const token = generateToken();
    issueToken(em, user, 'bench', token, null);
    await em.flush();

    await copier.connect();
    await markOriginals(copier);
    const missing = await uncopiedTables(copier);
    if (missing.length) console.log(`note: rows of the original agreements not copied: ${missing.join(', ')}`);
    let copies = 1;
    for (const scale of scales) {
      while (copies < scale) {
        const t = await timed(() => copyOnce(copier, copies));
        console.log(`  copy ${copies}: ${fmt(t.value)} rows in ${fmt(t.ms / 1000, 1)} s`);
        copies++;
      }
      await copier.query('analyze');
      results.push(await measureScale(scale, url, orm.em.fork(), token, rebuildUpTo, results.length === 0));
      if (results.length === 1 && seededRebuild !== null) results[0].rebuild = { seconds: seededRebuild, rows: results[0].agreementMonths };
      printGrowth(results);
    }
    return results;
  } finally {
    await copier.end().catch(() => undefined);
    await orm.close(true);
    await dropDatabase(name).catch((e: unknown) => console.error('dropping the scale database:', e));
  }
}

function printGrowth(rs: ScaleResult[]): void {
  const base = rs[0];
  const rate = (r: ScaleResult) => median(r.pulls.map((p) => p.rows / p.seconds));
  printTable(
    'Growth of the data set (PostgreSQL)',
    ['scale', 'agreements', 'agreement-months', 'handoff events', 'facts rows', 'handoff_event table+indexes', 'database'],
    rs.map((r) => [`${r.scale}×`, fmt(r.agreements), fmt(r.agreementMonths), fmt(r.events), fmt(r.factRows), `${fmt(r.eventTableBytes / 1048576)} MiB`, `${fmt(r.databaseBytes / 1048576)} MiB`]),
  );
  printTable(
    'Ledger write cost by scale (medians; spread min–max; ratio to 1×)',
    ['scale', 'report upkeep (syncLedger, 1 month)', 'ratio', 'handoff batch, ledger kept', 'ledger off', "ledger's share", 'ratio kept', 'ledger:rebuild per agreement-month'],
    rs.map((r) => [
      `${r.scale}×`,
      `${ms(median(r.upkeep))} (${spread(r.upkeep)})`,
      x(median(r.upkeep), median(base.upkeep)),
      `${ms(median(r.batchKept))} (${spread(r.batchKept)})`,
      `${ms(median(r.batchOff))} (${spread(r.batchOff)})`,
      ms(median(r.batchKept) - median(r.batchOff)),
      x(median(r.batchKept), median(base.batchKept)),
      r.rebuild ? `${fmt((r.rebuild.seconds * 1e6) / r.rebuild.rows, 0)} µs (${fmt(r.rebuild.seconds, 1)} s)` : '–',
    ]),
  );
  printTable(
    `Facts read cost by scale (measurementFacts over HTTP, pages of 2,000, server in a child process; rate over the first ${SAMPLE_PAGES} pages, medians of 3)`,
    ['scale', 'facts in the ledger', 'rows/s', 'ratio', 'first page', `page ${SAMPLE_PAGES}`, 'incremental page (updatedSince)', 'its rows', 'ratio', 'whole pull'],
    rs.map((r) => [
      `${r.scale}×`,
      fmt(r.factRows),
      fmt(rate(r)),
      x(rate(r), rate(base)),
      ms(median(r.pulls.map((p) => p.firstPage))),
      ms(median(r.pulls.map((p) => p.lastPage))),
      `${ms(median(r.incremental))} (${spread(r.incremental)})`,
      fmt(r.incrementalRows),
      x(median(r.incremental), median(base.incremental)),
      r.full ? `${fmt(r.full.rows)} rows in ${fmt(r.full.seconds, 1)} s (${fmt(r.full.rows / r.full.seconds)} rows/s)` : '–',
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// (b) handoff_event partitioned by month against unpartitioned

async function partitioning(rows: number): Promise<void> {
  const name = `tsla_bench_partition_${randomBytes(4).toString('hex')}`;
  const url = databaseUrl(name);
  // The real table, with the columns and indexes the migrations give it.
  const { orm } = await openOrm(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }));
  await orm.close(true);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const months: Month[] = [];
    const last = addMonths(monthOf(new Date()), -1);
    for (let i = 23; i >= 0; i--) months.push(addMonths(last, -i));
    const current = addMonths(last, 1);
    const indexes = (await c.query<{ indexname: string; indexdef: string }>(`select indexname, indexdef from pg_indexes where tablename = 'handoff_event' order by indexname`)).rows;
    console.log(`handoff_event's indexes from the migrations: ${indexes.map((i) => i.indexdef.replace(/^CREATE /, '').replace(/ ON public\.handoff_event USING btree/, '')).join('; ')}`);

    // Unpartitioned: the real table itself. Partitioned: its columns, list partitions by month, the
    // month added to the primary and unique keys, the other indexes as they are.
    await c.query(`create table he_part (like handoff_event including defaults) partition by list (month)`);
    for (const m of [...months, current]) await c.query(`create table "he_part_${m}" partition of he_part for values in ('${m}')`);

    // 10 million events in time order over 24 months and 20,000 agreements (the 10× data set).
    const agreements = 20_000;
    const perMonth = Math.ceil(rows / months.length);
    const fill = (table: string) => `insert into ${table} (id, version, created_at, updated_at, source, external_id, agreement_id, stage, month, handed_off_at, responded_at,
        accepted_at, rejected_at, rejection_reason, converted_at, quality_score, response_hours, recorded_by_user_id)
      select md5('e' || g)::uuid, 1, t, t, 'crm', 'ev-' || g, md5('a' || (g % ${agreements}))::uuid, 'lead', to_char(t, 'YYYY-MM'), t, t + interval '3 hours',
        case when g % 4 <> 0 then t + interval '3 hours' end, case when g % 4 = 0 then t + interval '3 hours' end, case when g % 4 = 0 then 'Not qualified' end, null,
        40 + g % 60, 3, 'bench'
      from (select g, timestamptz '${months[0]}-01T00:00:00Z' + (((g - 1) / ${perMonth}) * interval '1 month') + ((g - 1) % ${perMonth}) * (interval '27 days' / ${perMonth}) as t
            from generate_series(1, ${rows}) g) s`;
    console.log(`filling ${fmt(rows)} rows into handoff_event (unpartitioned, indexes dropped during the load, then rebuilt) …`);
    const plainIdx = indexes.filter((i) => i.indexname !== 'handoff_event_pkey' && i.indexname !== 'handoff_event_source_external_id_unique');
    // No foreign keys on either (the generated agreement ids have no agreement rows; a partitioned
    // table could keep them, at the same cost on both sides).
    for (const fk of (await c.query<{ conname: string }>(`select conname from pg_constraint where conrelid = 'handoff_event'::regclass and contype = 'f'`)).rows)
      await c.query(`alter table handoff_event drop constraint "${fk.conname}"`);
    await c.query(`alter table handoff_event drop constraint handoff_event_pkey`);
    await c.query(`alter table handoff_event drop constraint if exists handoff_event_source_external_id_unique`);
    await c.query(`drop index if exists handoff_event_source_external_id_unique`);
    for (const i of plainIdx) await c.query(`drop index ${i.indexname}`);
    const plainLoad = await timed(() => c.query(fill('handoff_event')));
    const plainIndex = await timed(async () => {
      await c.query(`alter table handoff_event add constraint handoff_event_pkey primary key (id)`);
      await c.query(`create unique index handoff_event_source_external_id_unique on handoff_event (source, external_id)`);
      for (const i of plainIdx) await c.query(i.indexdef);
    });
    console.log(`  unpartitioned: loaded in ${fmt(plainLoad.ms / 1000, 1)} s, indexed in ${fmt(plainIndex.ms / 1000, 1)} s`);
    const partLoad = await timed(() => c.query(`insert into he_part select * from handoff_event`));
    const partIndex = await timed(async () => {
      await c.query(`alter table he_part add primary key (id, month)`);
      await c.query(`create unique index he_part_source_external_id_month_unique on he_part (source, external_id, month)`);
      await c.query(`create index he_part_agreement_id_month_index on he_part (agreement_id, month)`);
      await c.query(`create index he_part_updated_at_id_index on he_part (updated_at, id)`);
    });
    console.log(`  partitioned: loaded in ${fmt(partLoad.ms / 1000, 1)} s, indexed in ${fmt(partIndex.ms / 1000, 1)} s`);
    await c.query('vacuum analyze handoff_event');
    await c.query('vacuum analyze he_part');

    // pg_partition_tree lists a plain table as nothing: its own sizes then.
    const sizes = async (table: string) => {
      const r = await c.query<{ heap: string; idx: string }>(
        `select coalesce(sum(pg_relation_size(relid)), 0) as heap, coalesce(sum(pg_indexes_size(relid)), 0) as idx from pg_partition_tree($1) where isleaf`,
        [table],
      );
      const own = await c.query<{ heap: string; idx: string }>(`select pg_relation_size($1) as heap, pg_indexes_size($1) as idx`, [table]);
      return { heap: Number(r.rows[0].heap) || Number(own.rows[0].heap), idx: Number(r.rows[0].idx) || Number(own.rows[0].idx) };
    };
    const plainSize = await sizes('handoff_event');
    const partSize = await sizes('he_part');

    // Each measure alternates the two tables; medians.
    const both = async (n: number, fn: (table: 'handoff_event' | 'he_part', i: number) => Promise<number>) => {
      const out = { plain: [] as number[], part: [] as number[] };
      for (let i = 0; i < n; i++) {
        out.plain.push(await fn('handoff_event', i));
        out.part.push(await fn('he_part', i));
      }
      return out;
    };
    const q = async (text: string, values: unknown[] = [], name?: string) => (await timed(() => c.query({ text, values, ...(name ? { name } : {}) }))).ms;

    // A batch of 5,000 new events into the current month, as the ingest writes it (upsert on the unique key).
    const insert = await both(5, (t, i) =>
      q(`insert into ${t} (id, version, created_at, updated_at, source, external_id, agreement_id, stage, month, handed_off_at)
         select gen_random_uuid(), 1, now(), now(), 'crm', 'new-${i}-' || g, md5('a' || (g % ${agreements}))::uuid, 'lead', '${current}', now() from generate_series(1, ${BATCH}) g
         on conflict (source, external_id${t === 'he_part' ? ', month' : ''}) do update set updated_at = excluded.updated_at`),
    );
    // One agreement's events of one month (what the handoff month's metrics are computed from).
    const pick = sample(
      Array.from({ length: 200 }, (_, i) => i),
      200,
      5,
    );
    const oneMonth = await both(50, (t, i) => q(`select * from ${t} where agreement_id = md5('a' || $1::text)::uuid and month = $2`, [pick[i] * 97, months[(i * 7) % months.length]], `month_${t}`));
    // An incremental page by (updated_at, id): from the middle of history and from the last day.
    const pageFrom = (offsetMonths: number) => new Date(Date.parse(`${months[offsetMonths]}-15T00:00:00Z`)).toISOString();
    const midPage = await both(15, (t) =>
      q(`select * from ${t} where (updated_at, id) > ($1, $2) order by updated_at, id limit ${PAGE}`, [pageFrom(12), '00000000-0000-0000-0000-000000000000'], `mid_${t}`),
    );
    const recentPage = await both(15, (t) =>
      q(`select * from ${t} where (updated_at, id) > ($1, $2) order by updated_at, id limit ${PAGE}`, [pageFrom(23), '00000000-0000-0000-0000-000000000000'], `recent_${t}`),
    );
    // Dropping the oldest month: DELETE on the plain table, DETACH + DROP of a partition (three months each).
    const removal = await both(3, async (t, i) => {
      const m = months[i];
      if (t === 'handoff_event') return q(`delete from handoff_event where month = $1`, [m]);
      return q(`alter table he_part detach partition "he_part_${m}"; drop table "he_part_${m}"`);
    });
    const monthRows = perMonth;
    const plainAfter = await sizes('handoff_event');

    const row = (label: string, s: { plain: number[]; part: number[] }) => [
      label,
      `${ms(median(s.plain))} (${spread(s.plain)})`,
      `${ms(median(s.part))} (${spread(s.part)})`,
      x(median(s.part), median(s.plain)),
    ];
    const mib = (b: number) => `${fmt(b / 1048576)} MiB`;
    printTable(
      `handoff_event at ${fmt(rows)} rows (24 months, ${fmt(agreements)} agreements): partitioned by month (list, 25 partitions) vs unpartitioned (medians; spread min–max)`,
      ['measure', 'unpartitioned', 'partitioned', 'partitioned / unpartitioned'],
      [
        [
          `load ${fmt(rows)} rows (no indexes) + build indexes`,
          `${fmt(plainLoad.ms / 1000, 1)} s + ${fmt(plainIndex.ms / 1000, 1)} s`,
          `${fmt(partLoad.ms / 1000, 1)} s + ${fmt(partIndex.ms / 1000, 1)} s`,
          x(partLoad.ms + partIndex.ms, plainLoad.ms + plainIndex.ms),
        ],
        row(`insert a batch of ${fmt(BATCH)} (upsert on the unique key), 5 runs`, insert),
        row("one agreement's rows of one month (≈21 rows), 50 runs", oneMonth),
        row('incremental page of 2,000 by (updated_at, id), mid-history, 15 runs', midPage),
        row('incremental page of 2,000 by (updated_at, id), last month, 15 runs', recentPage),
        row(`remove the oldest month (≈${fmt(monthRows)} rows): DELETE vs DETACH + DROP, 3 months`, removal),
        ['table size (heap)', mib(plainSize.heap), mib(partSize.heap), x(partSize.heap, plainSize.heap)],
        ['index size (all indexes)', mib(plainSize.idx), mib(partSize.idx), x(partSize.idx, plainSize.idx)],
        ['heap after removing 3 months (DELETE leaves dead rows until VACUUM)', mib(plainAfter.heap), mib((await sizes('he_part')).heap), ''],
      ],
    );
  } finally {
    await c.end().catch(() => undefined);
    await dropDatabase(name).catch((e: unknown) => console.error('dropping the partition database:', e));
  }
}

async function main(): Promise<void> {
  const only = option('--only');
  if (only && only !== 'growth' && only !== 'partition') throw new Error(`--only: expected growth or partition, received ${JSON.stringify(only)}`);
  const scales = (option('--scales') ?? '1,2,5,10').split(',').map(Number);
  if (scales.some((s) => !Number.isInteger(s) || s < 1) || scales.some((s, i) => i > 0 && s <= scales[i - 1]))
    throw new Error(`--scales: expected increasing whole numbers such as 1,2,5,10, received ${JSON.stringify(option('--scales'))}`);
  const rows = Number(option('--rows') ?? 10_000_000);
  const rebuildUpTo = Number(option('--rebuild-up-to') ?? 0);
  const server = await admin(async (c) => (await c.query<{ server_version: string }>('show server_version')).rows[0].server_version);
  const parts = [only !== 'partition' ? `scales ${scales.join(', ')}` : '', only !== 'growth' ? `partitioning at ${fmt(rows)} rows` : ''].filter(Boolean);
  console.log(`scale bench: PostgreSQL ${server}, ${os.cpus().length} CPUs, ${new Date().toISOString()}; ${parts.join('; ')}`);
  const t = performance.now();
  if (only !== 'partition') await growth(scales, rebuildUpTo);
  if (only !== 'growth') await partitioning(rows);
  console.log(`\ntotal ${fmt((performance.now() - t) / 60000, 1)} min`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
