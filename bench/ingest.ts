/*
 * Handoff ingest throughput (the handoffs issue, issue 19 goal 3): `recordHandoffEvents` batches of
 * 5,000 events over HTTP with an admin token, for a few ACTIVE agreements in months when they were
 * ACTIVE, against a plain write of the very same rows through the driver, in the same run:
 *
 * - The server is `dist/src/main.js` in a child process, as `npm start` runs it: NODE_ENV=production
 *   (`--node-env` to change), logging at info, the rate limiter on (its default), the scheduler off
 *   (a tick would be timed as a batch's). Its resident memory is sampled from /proc apart from this
 *   process (the load generator and the baselines).
 * - The same rows: after each batch of ours, the rows it wrote are read back from `handoff_event`
 *   (untimed) and written by the baseline into a scratch table with the same columns, indexes,
 *   unique key and foreign key:
 *   - SQLite: one better-sqlite3 prepared INSERT run per row in one transaction per batch, in a
 *     database file of its own next to the server's (the app's pragmas; the agreements' ids
 *     copied in for the foreign key; the server's file attached to read the rows from); re-sends
 *     as a prepared `INSERT … ON CONFLICT DO UPDATE` per row. Not a second connection to the
 *     server's file: each commit of one connection empties the other's page cache, so the
 *     baseline's time depended on the pages ours touched (with ids in write order it ran 1.8×
 *     faster there, 1.2× in a file of its own; docs/decisions.md, "Row ids are UUIDv7").
 *   - PostgreSQL (--pg): a server-side `COPY … FROM '<file>' (format csv)` of the rows, written to
 *     a CSV file under the OS temp directory first (untimed; the PostgreSQL server runs on this
 *     machine and the bench connects as a superuser, so the server reads the file itself: the
 *     `pg` package has no COPY FROM STDIN without pg-copy-streams). Re-sends: COPY into a
 *     temporary table, then `INSERT … SELECT … ON CONFLICT DO UPDATE`, in one transaction.
 *   At the end both tables are compared row by row (every column): a difference fails the run.
 * - Rounds (`--rounds`, default 3): each sends `--batches` (default 6) new batches, alternating
 *   with the baseline's writes of the same rows, then re-sends each once with changed values
 *   (updates). Events per second of request time (ours: first byte sent to last byte read) or
 *   transaction time (baseline); the median of the rounds, with their spread. Also the server's
 *   CPU time per event (user + system from /proc/<pid>/stat around each of ours' requests), which a
 *   busy machine disturbs far less than the wall-clock rates.
 *
 *   npm run build && node dist/bench/ingest.js [--pg | --pg-only] [--rounds 3] [--batches 6] [--agreements 4] [--node-env production]
 *                                              [--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]
 *
 * Goals: ours ≥ 50,000 events/s on SQLite and ≥ 1/3 of the plain insert; on PostgreSQL ≥ 1/3 of
 * COPY; the server's peak RSS ≤ 250 MB.
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { closeMainAgent, fmt, hasFlag, mib, option, postJson, printGoal, printTable } from './lib';
import { processCpuSeconds, type RssReport, sampleProcessRss, type ServerProcess, startServerProcess } from './child';
import { type BenchServer, type Engine, generateAgreements, months, Role, startBenchServer, tokenFor } from './setup';
import { random } from '../seeds/random';
import { INSERTED } from '../src/modules/handoffs/handoff.service';

const BATCH = 5000;
const SOURCE = 'bench-crm';
const FROM = '2024-01';
/** Months of the events: after the agreements' start, before "now" (the real clock). */
const EVENT_MONTHS = months('2025-01', '2026-10');
/** Consecutive batches per month: the feed moves forward in time, as a CRM's would. */
const BATCHES_PER_MONTH = 5;
const GOAL_RATE = 50_000;
const GOAL_FACTOR = 3;

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

/** The columns of `handoff_event`, in the order both tables are written and compared: the ingest's own. */
const COLUMNS = INSERTED;
const MERGED = ['agreement_id', 'stage', 'month', 'handed_off_at', 'responded_at', 'accepted_at', 'rejected_at', 'rejection_reason', 'converted_at', 'quality_score', 'response_hours', 'updated_at'];
const PLAIN = 'bench_plain_handoff_event';
const GOAL_RSS = 250 * 1024 * 1024;
const quoted = COLUMNS.map((c) => `"${c}"`).join(', ');

/** The external ids of batch `k` are `b<k>-e<j>`: one key range of the unique index. */
const range = (k: number): [string, string] => [`b${k}-e`, `b${k}-f`];

/**
 * The baseline: reads back what ours wrote for a batch (untimed), then writes the same rows into
 * the scratch table (timed), and finally compares both tables.
 */
interface Plain {
  name: string;
  /** Reads the rows of batch `k` as ours left them; returns what `write` takes. */
  read(k: number): Promise<unknown>;
  /** Writes them: new rows (`upsert` false) or re-sent ones; returns the milliseconds it took. */
  write(rows: unknown, upsert: boolean): Promise<number>;
  /** Rows of ours not in the plain table, and the other way round (every column). */
  differences(): Promise<{ oursOnly: number; plainOnly: number; rows: number }>;
  close(): Promise<void>;
}

async function plainSqlite(file: string): Promise<Plain> {
  // A file of its own (see the header), removed at the end.
  const own = `${file}.plain`;
  const removeOwn = () => {
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(own + suffix, { force: true });
  };
  removeOwn();
  const db = new Database(own);
  // The app's pragmas (src/db/mikro-orm.config.ts).
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.prepare('attach database ? as ours').run(file);
  // The same DDL as handoff_event (table, indexes, unique key, foreign key), renamed; the
  // agreements' ids for the foreign key to find (the parent key: a primary key, as in the app).
  const ddl = db.prepare(`select sql from ours.sqlite_master where tbl_name = 'handoff_event' and sql is not null order by type desc`).all() as Array<{ sql: string }>;
  if (!ddl.length) throw new Error('handoff_event is not in the SQLite database: are the migrations applied?');
  db.exec('create table "agreement" ("id" text not null primary key); insert into "agreement" select "id" from ours."agreement";');
  for (const { sql } of ddl) db.exec(sql.replace(/handoff_event/g, PLAIN));
  const params = COLUMNS.map(() => '?').join(', ');
  const select = db.prepare(`select ${quoted} from ours."handoff_event" where "source" = ? and "external_id" >= ? and "external_id" < ? order by "external_id"`).raw(true);
  const insert = db.prepare(`insert into "${PLAIN}" (${quoted}) values (${params})`);
  const upsert = db.prepare(
    `insert into "${PLAIN}" (${quoted}) values (${params}) on conflict ("source", "external_id") do update set ${MERGED.map((c) => `"${c}" = excluded."${c}"`).join(', ')}, "version" = "${PLAIN}"."version" + 1`,
  );
  const many = db.transaction((rows: unknown[][], up: boolean) => {
    const stmt = up ? upsert : insert;
    for (const r of rows) stmt.run(r);
  });
  return {
    name: 'better-sqlite3: one prepared INSERT per row (re-sends: INSERT … ON CONFLICT DO UPDATE), one transaction per batch',
    read: async (k) => select.all(SOURCE, ...range(k)),
    async write(rows, up) {
      const t0 = performance.now();
      many(rows as unknown[][], up);
      return performance.now() - t0;
    },
    async differences() {
      const one = (a: string, b: string) => (db.prepare(`select count(*) as n from (select ${quoted} from ${a} where "source" = ? except select ${quoted} from ${b})`).get(SOURCE) as { n: number }).n;
      const rows = (db.prepare(`select count(*) as n from ours."handoff_event" where "source" = ?`).get(SOURCE) as { n: number }).n;
      const [ours, plain] = ['ours."handoff_event"', `"${PLAIN}"`];
      return { oursOnly: one(ours, plain), plainOnly: one(plain, ours), rows };
    },
    async close() {
      db.close();
      removeOwn();
    },
  };
}

/** A CSV field as COPY's csv format reads it: unquoted empty for null, quoted text otherwise. */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number') return String(v);
  return `"${String(v).replace(/"/g, '""')}"`;
}

async function plainPostgres(url: string): Promise<Plain> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create table "${PLAIN}" (like "handoff_event" including all)`);
  await client.query(`alter table "${PLAIN}" add constraint "${PLAIN}_agreement_id_foreign" foreign key ("agreement_id") references "agreement" ("id") on update cascade on delete restrict`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsla-bench-ingest-'));
  // The PostgreSQL server reads the files as its own OS user.
  fs.chmodSync(dir, 0o755);
  let n = 0;
  const conflict = `on conflict ("source", "external_id") do update set ${MERGED.map((c) => `"${c}" = excluded."${c}"`).join(', ')}, "version" = "${PLAIN}"."version" + 1`;
  return {
    name: "server-side COPY … FROM '<csv file>' (re-sends: COPY into a temporary table, then INSERT … SELECT … ON CONFLICT DO UPDATE), one transaction per batch",
    async read(k) {
      const { rows } = await client.query({
        text: `select ${quoted} from "handoff_event" where "source" = $1 and "external_id" >= $2 and "external_id" < $3 order by "external_id"`,
        values: [SOURCE, ...range(k)],
        rowMode: 'array',
      });
      const file = path.join(dir, `batch-${n++}.csv`);
      fs.writeFileSync(file, (rows as unknown[][]).map((r) => r.map(csvField).join(',')).join('\n') + '\n', { mode: 0o644 });
      return file;
    },
    async write(file, up) {
      const t0 = performance.now();
      await client.query('begin');
      try {
        if (up) {
          await client.query(`create temporary table "plain_stage" (like "${PLAIN}") on commit drop`);
          await client.query(`copy "plain_stage" (${quoted}) from '${String(file)}' with (format csv)`);
          await client.query(`insert into "${PLAIN}" (${quoted}) select ${quoted} from "plain_stage" ${conflict}`);
        } else {
          await client.query(`copy "${PLAIN}" (${quoted}) from '${String(file)}' with (format csv)`);
        }
        await client.query('commit');
      } catch (e) {
        await client.query('rollback');
        throw e;
      }
      const took = performance.now() - t0;
      fs.rmSync(String(file), { force: true });
      return took;
    },
    async differences() {
      const one = async (a: string, b: string) =>
        Number((await client.query(`select count(*) as n from (select ${quoted} from "${a}" where "source" = $1 except select ${quoted} from "${b}") as d`, [SOURCE])).rows[0].n);
      const rows = Number((await client.query(`select count(*) as n from "handoff_event" where "source" = $1`, [SOURCE])).rows[0].n);
      return { oursOnly: await one('handoff_event', PLAIN), plainOnly: await one(PLAIN, 'handoff_event'), rows };
    },
    async close() {
      fs.rmSync(dir, { recursive: true, force: true });
      await client.query(`drop table if exists "${PLAIN}"`);
      await client.end();
    },
  };
}

/** One round's events per second: creates and updates, ours and the baseline. */
interface Round {
  creates: { ours: number; plain: number };
  updates: { ours: number; plain: number };
  oursBatchMs: number[];
  /** The server's CPU time (user + system, /proc/<pid>/stat) per event of ours, in µs: creates and updates. */
  cpu: { creates: number; updates: number };
}

interface EngineResult {
  engine: Engine;
  rounds: Round[];
  errors: number;
  plainName: string;
  rss: RssReport;
  idleRss: number;
  same: { oursOnly: number; plainOnly: number; rows: number } | null;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** `median [min–max]` of the rounds. */
const spread = (xs: number[], digits = 0) => `${fmt(median(xs), digits)} [${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)}]`;

async function runEngine(engine: Engine, roundCount: number, batches: number, nodeEnv: string): Promise<EngineResult> {
  const setup: BenchServer = await startBenchServer(engine, 'ingest');
  let server: ServerProcess | undefined;
  let plain: Plain | undefined;
  try {
    const token = await tokenFor(setup.app, Role.ADMIN);
    const agreements = await generateAgreements(setup.app.orm.em.fork(), 'INGEST', Number(option('--agreements') ?? 4), FROM);
    const ids = agreements.map((a) => a.id);
    await setup.stopApp();
    // As `npm start` runs it in production: the clock override off, the rate limit at its default.
    const env: Record<string, string> = { ...setup.env, NODE_ENV: nodeEnv, LOG_LEVEL: 'info', CLOCK_OVERRIDE: 'false', SCHEDULER_INTERVAL_MS: '0' };
    delete env.RATE_LIMIT_PER_MINUTE;
    server = await startServerProcess(env, option('--server-node-args')?.split(' ').filter(Boolean) ?? []);
    const graphqlUrl = `${server.url}/graphql`;
    const headers = { authorization: `Bearer ${token}` };
    plain = engine === 'sqlite' ? await plainSqlite(setup.database) : await plainPostgres(setup.database);
    const p = plain;
    let errors = 0;

    const pid = server.pid;
    /** The server's CPU seconds spent in ours' requests, added up by {@link sendOurs}. */
    let oursCpu = 0;
    /** Sends batch `k`; returns the request time, or null on a failure (reported). */
    const sendOurs = async (k: number, update: boolean): Promise<number | null> => {
      const body = JSON.stringify({ query: RECORD, variables: { input: { source: SOURCE, events: batchEvents(k, ids, update) } } });
      const cpu0 = processCpuSeconds(pid);
      const reply = await postJson(graphqlUrl, body, headers);
      oursCpu += processCpuSeconds(pid) - cpu0;
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
    /** The baseline writes the rows ours wrote for batch `k`. */
    const sendPlain = async (k: number, update: boolean): Promise<number> => p.write(await p.read(k), update);

    const idle = sampleProcessRss(server.pid, 50);
    await new Promise((r) => setTimeout(r, 300));
    const idleRss = (await idle.stop()).peak;
    const rss = sampleProcessRss(server.pid, 50);
    // Warm-up: one batch each way (creates, then the same as updates), not counted.
    const WARM = 100_000;
    let warmed = (await sendOurs(WARM, false)) !== null;
    if (warmed) await sendPlain(WARM, false);
    warmed &&= (await sendOurs(WARM, true)) !== null;
    if (warmed) await sendPlain(WARM, true);
    const rounds: Round[] = [];
    let k = 0;
    for (let r = 0; warmed && r < roundCount; r++) {
      const first = k;
      const t = { oursC: 0, plainC: 0, oursU: 0, plainU: 0, cpuC: 0, cpuU: 0 };
      const oursBatchMs: number[] = [];
      let failed = false;
      oursCpu = 0;
      for (; k < first + batches; k++) {
        const o = await sendOurs(k, false);
        if (o === null) {
          failed = true;
          break;
        }
        oursBatchMs.push(o);
        t.oursC += o;
        t.plainC += await sendPlain(k, false);
      }
      t.cpuC = oursCpu;
      oursCpu = 0;
      for (let u = first; !failed && u < k; u++) {
        const o = await sendOurs(u, true);
        if (o === null) {
          failed = true;
          break;
        }
        t.oursU += o;
        t.plainU += await sendPlain(u, true);
      }
      t.cpuU = oursCpu;
      if (failed) break;
      const events = batches * BATCH;
      const perSecond = (msTotal: number) => events / (msTotal / 1000);
      const microsPerEvent = (cpuSeconds: number) => (cpuSeconds * 1e6) / events;
      rounds.push({
        creates: { ours: perSecond(t.oursC), plain: perSecond(t.plainC) },
        updates: { ours: perSecond(t.oursU), plain: perSecond(t.plainU) },
        oursBatchMs,
        cpu: { creates: microsPerEvent(t.cpuC), updates: microsPerEvent(t.cpuU) },
      });
      const last = rounds[rounds.length - 1];
      console.log(
        `[${engine}] round ${r + 1}: creates ours ${fmt(last.creates.ours)}/s, baseline ${fmt(last.creates.plain)}/s (${fmt(last.creates.ours / last.creates.plain, 3)}); ` +
          `updates ours ${fmt(last.updates.ours)}/s, baseline ${fmt(last.updates.plain)}/s (${fmt(last.updates.ours / last.updates.plain, 3)}); ` +
          `server CPU ${fmt(last.cpu.creates, 1)} / ${fmt(last.cpu.updates, 1)} µs per event created / updated`,
      );
    }
    const report = await rss.stop();
    const same = warmed ? await p.differences() : null;
    return { engine, rounds, errors, plainName: p.name, rss: report, idleRss, same };
  } finally {
    await plain?.close().catch((e: unknown) => console.error('closing the baseline:', e));
    await server?.stop();
    await setup.close();
  }
}

async function main(): Promise<number> {
  const roundCount = Number(option('--rounds') ?? 3);
  const batches = Number(option('--batches') ?? 6);
  const nodeEnv = option('--node-env') ?? 'production';
  if (!Number.isInteger(roundCount) || roundCount < 1 || !Number.isInteger(batches) || batches < 1) throw new Error('--rounds and --batches: expected positive integers');
  const engines: Engine[] = hasFlag('--pg-only') ? ['postgresql'] : hasFlag('--pg') ? ['sqlite', 'postgresql'] : ['sqlite'];
  console.log(
    `ingest: recordHandoffEvents batches of ${fmt(BATCH)} events, ${roundCount} rounds of ${batches} new batches then the same re-sent as updates; ` +
      `server: dist/src/main.js in a child process, NODE_ENV=${nodeEnv}, LOG_LEVEL=info, rate limiter on (default), scheduler off; engines: ${engines.join(', ')}`,
  );
  const results: EngineResult[] = [];
  for (const engine of engines) results.push(await runEngine(engine, roundCount, batches, nodeEnv));
  closeMainAgent();

  const rows: string[][] = [];
  for (const r of results) {
    if (!r.rounds.length) continue;
    for (const phase of ['creates', 'updates'] as const) {
      const ours = r.rounds.map((x) => x[phase].ours);
      const base = r.rounds.map((x) => x[phase].plain);
      const ratio = r.rounds.map((x) => x[phase].ours / x[phase].plain);
      rows.push([`${r.engine} ${phase}`, spread(ours), spread(base), spread(ratio, 3)]);
    }
    const batchMs = r.rounds.flatMap((x) => x.oursBatchMs);
    rows.push([`${r.engine} new batch request time (ms)`, spread(batchMs, 1), '', '']);
    for (const phase of ['creates', 'updates'] as const)
      rows.push([
        `${r.engine} ${phase}: server CPU µs/event`,
        spread(
          r.rounds.map((x) => x.cpu[phase]),
          1,
        ),
        '',
        '',
      ]);
  }
  printTable(`Handoff ingest, batches of ${fmt(BATCH)} events, events/s: median [min–max] of the rounds`, ['run', 'ours (HTTP)', 'baseline (same rows)', 'ours / baseline'], rows);
  for (const r of results) {
    console.log(`[${r.engine}] baseline: ${r.plainName}`);
    console.log(`[${r.engine}] server RSS (child process, /proc every 50 ms): idle ${mib(r.idleRss)}, peak ${mib(r.rss.peak)}, mean ${mib(r.rss.mean)} (${r.rss.samples} samples)`);
    if (r.same) console.log(`[${r.engine}] same rows: ${fmt(r.same.rows)} rows of ours; ${r.same.oursOnly} only in ours, ${r.same.plainOnly} only in the baseline (every column compared)`);
  }
  for (const r of results) {
    if (!r.rounds.length) continue;
    const baseline = r.engine === 'sqlite' ? 'the plain insert' : 'COPY';
    for (const phase of ['creates', 'updates'] as const) {
      const ours = median(r.rounds.map((x) => x[phase].ours));
      const ratio = median(r.rounds.map((x) => x[phase].ours / x[phase].plain));
      if (r.engine === 'sqlite') printGoal(`sqlite ${phase}: ≥ ${fmt(GOAL_RATE)} events/s`, ours >= GOAL_RATE, `${fmt(ours)} events/s (median of ${r.rounds.length} rounds)`);
      printGoal(
        `${r.engine} ${phase}: ≥ 1/${GOAL_FACTOR} of ${baseline} (ours/baseline ≥ ${fmt(1 / GOAL_FACTOR, 3)})`,
        ratio >= 1 / GOAL_FACTOR,
        `${fmt(ratio, 3)} (the baseline is ${fmt(1 / ratio, 2)}× faster)`,
      );
    }
    printGoal(`${r.engine}: server peak RSS ≤ ${mib(GOAL_RSS)}`, r.rss.peak <= GOAL_RSS, mib(r.rss.peak));
  }
  const broken = results.some((r) => r.errors || !r.same || r.same.oursOnly || r.same.plainOnly);
  return broken ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
