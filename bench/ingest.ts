/*
 * Handoff ingest throughput (the handoffs issue): `recordHandoffEvents` batches of 5,000 events
 * over HTTP with an admin token, for a few ACTIVE agreements in months when they were ACTIVE,
 * against a plain insert of the same rows through the driver, in the same run and database:
 *
 * - SQLite: a better-sqlite3 prepared INSERT per row in one transaction per batch, on a second
 *   connection to the same file, into a scratch table made from `handoff_event`'s own DDL
 *   (same columns, indexes, unique key and foreign key; same pragmas as the app).
 * - PostgreSQL (--pg): multi-row INSERTs of 1,000 rows through `pg` in one transaction per batch,
 *   into `create table … (like handoff_event including all)` plus the same foreign key.
 *
 * Batches of ours and of the plain insert alternate, so both see the same database growth.
 * Creates (fresh external ids each batch) run for the measured time; then every batch is sent
 * once more with changed values (updates; the plain side does `insert … on conflict do update`).
 * Only the request (ours) or the transaction (plain) is timed, not building the payloads.
 *
 *   npm run build && node dist/bench/ingest.js [--seconds N] [--pg] [--agreements N]
 *
 * Goals: ours ≥ 50,000 events/s, and within 3× of the plain insert (ours/plain ≥ 1/3).
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { benchSeconds, closeMainAgent, fmt, hasFlag, latencyStats, type MemoryReport, mib, ms, option, postJson, printGoal, printTable, sampleMemory } from './lib';
import { type BenchServer, type Engine, generateAgreements, months, Role, startBenchServer, tokenFor } from './setup';
import { random } from '../seeds/random';

const BATCH = 5000;
const SOURCE = 'bench-crm';
const FROM = '2024-01';
/** Months of the events: after the agreements' start, before "now" (the real clock). */
const EVENT_MONTHS = months('2025-01', '2026-10');
/** Consecutive batches per month: the feed moves forward in time, as a CRM's would. */
const BATCHES_PER_MONTH = 5;
const GOAL_RATE = 50_000;
const GOAL_FACTOR = 3;
const MAX_BATCHES = 1000;

const RECORD = `mutation Record($input: RecordHandoffEventsInput!) {
  recordHandoffEvents(input: $input) { batch { received created updated } userErrors { field code message } }
}`;

interface Event {
  externalId: string;
  agreementId: string;
  stage: string;
  handedOffAt: string;
  respondedAt: string | null;
  acceptedAt: string | null;
  rejectedAt: string | null;
  rejectionReason: string | null;
  convertedAt: string | null;
  qualityScore: number | null;
}

/** The project's seeded PRNG (seeds/random.ts), so a batch can be rebuilt for its update. */
function rng(seed: number): () => number {
  return random(`ingest|${seed}`);
}

const HOUR = 3_600_000;

/** The events of batch `k`; `update` changes response time and quality of the same external ids. */
function batchEvents(k: number, agreementIds: string[], update: boolean): Event[] {
  const r = rng(k * 7919 + 17);
  const month = EVENT_MONTHS[Math.floor(k / BATCHES_PER_MONTH) % EVENT_MONTHS.length];
  const start = Date.parse(`${month}-01T00:00:00Z`);
  const iso = (t: number) => new Date(t).toISOString();
  const events: Event[] = [];
  for (let j = 0; j < BATCH; j++) {
    // Within days 1–26 of the month, so no later time crosses into the next month or the future.
    const handed = start + Math.floor(r() * 26 * 24) * HOUR + Math.floor(r() * 60) * 60_000;
    const responded = r() < 0.9 ? handed + (1 + Math.floor(r() * 47) + (update ? 1 : 0)) * HOUR : null;
    const decision = r();
    const accepted = decision < 0.65 ? handed + 50 * HOUR : null;
    const rejected = decision >= 0.65 && decision < 0.85 ? handed + 50 * HOUR : null;
    const converted = accepted !== null && r() < 0.3 ? accepted + 24 * HOUR : null;
    const quality = r() < 0.8 ? Math.round(r() * 1000) / 10 : null;
    events.push({
      externalId: `b${k}-e${j}`,
      agreementId: agreementIds[j % agreementIds.length],
      stage: j % 2 ? 'lead' : 'opportunity',
      handedOffAt: iso(handed),
      respondedAt: responded === null ? null : iso(responded),
      acceptedAt: accepted === null ? null : iso(accepted),
      rejectedAt: rejected === null ? null : iso(rejected),
      rejectionReason: rejected === null ? null : 'not qualified',
      convertedAt: converted === null ? null : iso(converted),
      qualityScore: quality === null ? null : update ? Math.min(100, quality + 1) : quality,
    });
  }
  return events;
}

const COLUMNS = [
  'id',
  'version',
  'created_at',
  'updated_at',
  'source',
  'external_id',
  'agreement_id',
  'stage',
  'month',
  'handed_off_at',
  'responded_at',
  'accepted_at',
  'rejected_at',
  'rejection_reason',
  'converted_at',
  'quality_score',
  'response_hours',
] as const;
const MERGED = ['agreement_id', 'stage', 'month', 'handed_off_at', 'responded_at', 'accepted_at', 'rejected_at', 'rejection_reason', 'converted_at', 'quality_score', 'response_hours', 'updated_at'];
const PLAIN = 'bench_plain_handoff_event';

/** The rows ours would write for the events, as driver parameters (`date` as each engine stores dates). */
function plainRows(events: Event[], date: (iso: string | null) => unknown): unknown[][] {
  const stamp = date(new Date().toISOString());
  return events.map((e) => [
    randomUUID(),
    1,
    stamp,
    stamp,
    SOURCE,
    e.externalId,
    e.agreementId,
    e.stage,
    e.handedOffAt.slice(0, 7),
    date(e.handedOffAt),
    date(e.respondedAt),
    date(e.acceptedAt),
    date(e.rejectedAt),
    e.rejectionReason,
    date(e.convertedAt),
    e.qualityScore,
    e.respondedAt ? (Date.parse(e.respondedAt) - Date.parse(e.handedOffAt)) / HOUR : null,
  ]);
}

/** A plain writer of rows into the scratch table: `insert` for creates, `upsert` for re-sends. */
interface Plain {
  name: string;
  date(iso: string | null): unknown;
  write(rows: unknown[][], upsert: boolean): Promise<void>;
  close(): Promise<void>;
}

async function plainSqlite(file: string): Promise<Plain> {
  const db = new Database(file);
  // The app's pragmas (src/db/mikro-orm.config.ts); WAL is already set on the file.
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  // The same DDL as handoff_event (table, indexes, unique key, foreign key), renamed.
  const ddl = db.prepare(`select sql from sqlite_master where tbl_name = 'handoff_event' and sql is not null order by type desc`).all() as Array<{ sql: string }>;
  if (!ddl.length) throw new Error('handoff_event is not in the SQLite database: are the migrations applied?');
  for (const { sql } of ddl) db.exec(sql.replace(/handoff_event/g, PLAIN));
  const cols = COLUMNS.map((c) => `"${c}"`).join(', ');
  const params = COLUMNS.map(() => '?').join(', ');
  const insert = db.prepare(`insert into "${PLAIN}" (${cols}) values (${params})`);
  const upsert = db.prepare(
    `insert into "${PLAIN}" (${cols}) values (${params}) on conflict ("source", "external_id") do update set ${MERGED.map((c) => `"${c}" = excluded."${c}"`).join(', ')}, "version" = "${PLAIN}"."version" + 1`,
  );
  const many = db.transaction((rows: unknown[][], up: boolean) => {
    const stmt = up ? upsert : insert;
    for (const r of rows) stmt.run(...r);
  });
  return {
    name: 'better-sqlite3 prepared INSERT per row, 1 transaction per batch',
    // MikroORM keeps SQLite dates as epoch milliseconds (as the ingest writes them).
    date: (iso) => (iso === null ? null : Date.parse(iso)),
    write: async (rows, up) => many(rows, up),
    close: async () => {
      db.exec(`drop table if exists "${PLAIN}"`);
      db.close();
    },
  };
}

async function plainPostgres(url: string): Promise<Plain> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create table "${PLAIN}" (like "handoff_event" including all)`);
  await client.query(`alter table "${PLAIN}" add constraint "${PLAIN}_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict`);
  const ROWS = 1000;
  const cols = COLUMNS.map((c) => `"${c}"`).join(', ');
  const conflict = ` on conflict ("source", "external_id") do update set ${MERGED.map((c) => `"${c}" = excluded."${c}"`).join(', ')}, "version" = "${PLAIN}"."version" + 1`;
  return {
    name: `pg multi-row INSERT (${fmt(ROWS)} rows a statement), 1 transaction per batch`,
    date: (iso) => (iso === null ? null : new Date(iso)),
    async write(rows, up) {
      await client.query('begin');
      try {
        for (let i = 0; i < rows.length; i += ROWS) {
          const chunk = rows.slice(i, i + ROWS);
          const values = chunk.map((_, r) => `(${COLUMNS.map((__, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`).join(', ');
          await client.query(`insert into "${PLAIN}" (${cols}) values ${values}${up ? conflict : ''}`, chunk.flat());
        }
        await client.query('commit');
      } catch (e) {
        await client.query('rollback');
        throw e;
      }
    },
    async close() {
      await client.query(`drop table if exists "${PLAIN}"`);
      await client.end();
    },
  };
}

interface Phase {
  events: number;
  oursMs: number[];
  plainMs: number[];
}

interface EngineResult {
  engine: Engine;
  creates: Phase;
  updates: Phase;
  errors: number;
  plainName: string;
  memory: MemoryReport;
}

const rate = (p: Phase, which: 'oursMs' | 'plainMs') => p.events / (p[which].reduce((a, b) => a + b, 0) / 1000);

async function runEngine(engine: Engine, seconds: number): Promise<EngineResult> {
  const server: BenchServer = await startBenchServer(engine, 'ingest');
  let plain: Plain | undefined;
  try {
    const token = await tokenFor(server.app, Role.ADMIN);
    const headers = { authorization: `Bearer ${token}` };
    const agreements = await generateAgreements(server.app.orm.em.fork(), 'INGEST', Number(option('--agreements') ?? 4), FROM);
    const ids = agreements.map((a) => a.id);
    plain = engine === 'sqlite' ? await plainSqlite(server.database) : await plainPostgres(server.database);
    let errors = 0;

    /** Sends batch `k`; returns the request time, or null on a failure (reported). */
    const sendOurs = async (k: number, update: boolean): Promise<number | null> => {
      const body = JSON.stringify({ query: RECORD, variables: { input: { source: SOURCE, events: batchEvents(k, ids, update) } } });
      const reply = await postJson(server.graphqlUrl, body, headers);
      let batch: { created: number; updated: number } | undefined;
      try {
        batch = (JSON.parse(reply.text) as { data?: { recordHandoffEvents?: { batch: { created: number; updated: number } | null } } }).data?.recordHandoffEvents?.batch ?? undefined;
      } catch {
        batch = undefined;
      }
      const expected = update ? { created: 0, updated: BATCH } : { created: BATCH, updated: 0 };
      if (reply.status !== 200 || !batch || batch.created !== expected.created || batch.updated !== expected.updated) {
        errors++;
        console.error(`[${engine}] batch ${k} (${update ? 'update' : 'create'}) failed: ${reply.status} ${reply.text.slice(0, 600)}`);
        return null;
      }
      return reply.ms;
    };
    const sendPlain = async (k: number, update: boolean): Promise<number> => {
      const rows = plainRows(batchEvents(k, ids, update), (plain as Plain).date);
      const t0 = performance.now();
      await (plain as Plain).write(rows, update);
      return performance.now() - t0;
    };

    // Warm-up: one batch each way with external ids of its own (not counted), then the measured creates.
    const WARM = MAX_BATCHES + 1;
    if ((await sendOurs(WARM, false)) === null)
      return {
        engine,
        creates: { events: 0, oursMs: [], plainMs: [] },
        updates: { events: 0, oursMs: [], plainMs: [] },
        errors,
        plainName: plain.name,
        memory: { before: 0, peak: 0, mean: 0, samples: 0 },
      };
    await sendPlain(WARM, false);

    const mem = sampleMemory(100);
    const creates: Phase = { events: 0, oursMs: [], plainMs: [] };
    const budget = seconds * 1000;
    let k = 0;
    for (; k < MAX_BATCHES && (creates.oursMs.reduce((a, b) => a + b, 0) < budget || k < 3); k++) {
      const o = await sendOurs(k, false);
      if (o === null) break;
      creates.oursMs.push(o);
      creates.plainMs.push(await sendPlain(k, false));
      creates.events += BATCH;
    }
    const updates: Phase = { events: 0, oursMs: [], plainMs: [] };
    for (let u = 0; u < creates.oursMs.length; u++) {
      const o = await sendOurs(u, true);
      if (o === null) break;
      updates.oursMs.push(o);
      updates.plainMs.push(await sendPlain(u, true));
      updates.events += BATCH;
    }
    const memory = mem.stop();
    return { engine, creates, updates, errors, plainName: plain.name, memory };
  } finally {
    await plain?.close().catch((e: unknown) => console.error('closing the plain writer:', e));
    await server.close();
  }
}

async function main(): Promise<number> {
  const seconds = benchSeconds(10);
  const engines: Engine[] = hasFlag('--pg') ? ['sqlite', 'postgresql'] : ['sqlite'];
  console.log(`ingest: recordHandoffEvents batches of ${fmt(BATCH)} events (creates for about ${seconds} s of request time, then each batch re-sent once as updates); engines: ${engines.join(', ')}`);
  const results: EngineResult[] = [];
  for (const engine of engines) results.push(await runEngine(engine, seconds));
  closeMainAgent();

  const rows: string[][] = [];
  for (const r of results) {
    for (const [label, p] of [
      ['creates', r.creates],
      ['updates', r.updates],
    ] as const) {
      const o = latencyStats(p.oursMs);
      const pl = latencyStats(p.plainMs);
      const ours = rate(p, 'oursMs');
      const plainRate = rate(p, 'plainMs');
      rows.push([`${r.engine} ${label}: ours (HTTP)`, fmt(p.oursMs.length), fmt(p.events), fmt(ours), ms(o.p50), ms(o.p99), ms(p.oursMs[0] ?? NaN), ms(p.oursMs[p.oursMs.length - 1] ?? NaN)]);
      rows.push([
        `${r.engine} ${label}: plain insert`,
        fmt(p.plainMs.length),
        fmt(p.events),
        fmt(plainRate),
        ms(pl.p50),
        ms(pl.p99),
        ms(p.plainMs[0] ?? NaN),
        ms(p.plainMs[p.plainMs.length - 1] ?? NaN),
      ]);
      rows.push([`${r.engine} ${label}: ratio ours / plain`, '', '', fmt(ours / plainRate, 3), '', '', '', '']);
    }
  }
  printTable(
    'Handoff ingest, batches of 5,000 events (one at a time), events per second of request / transaction time',
    ['run', 'batches', 'events', 'events/s', 'batch p50', 'batch p99', 'first batch', 'last batch'],
    rows,
  );
  for (const r of results) {
    console.log(`[${r.engine}] plain baseline: ${r.plainName}; RSS before ${mib(r.memory.before)}, peak ${mib(r.memory.peak)}, mean ${mib(r.memory.mean)} (whole process, sampled every 100 ms)`);
  }
  for (const r of results) {
    for (const [label, p] of [
      ['creates', r.creates],
      ['updates', r.updates],
    ] as const) {
      if (!p.events) continue;
      const ours = rate(p, 'oursMs');
      const ratio = ours / rate(p, 'plainMs');
      printGoal(`${r.engine} ${label}: ≥ ${fmt(GOAL_RATE)} events/s`, ours >= GOAL_RATE, `${fmt(ours)} events/s`);
      printGoal(
        `${r.engine} ${label}: within ${GOAL_FACTOR}× of the plain insert (ours/plain ≥ ${fmt(1 / GOAL_FACTOR, 3)})`,
        ratio >= 1 / GOAL_FACTOR,
        `${fmt(ratio, 3)} (plain is ${fmt(1 / ratio, 2)}× faster)`,
      );
    }
  }
  return results.some((r) => r.errors) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
