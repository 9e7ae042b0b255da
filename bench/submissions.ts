/*
 * Report submissions per second at 10 concurrent connections (issue 19, goal 2): `submitReport`
 * mutations (admin token) for distinct agreement-months of generated ACTIVE agreements, each with
 * its two MANUAL objective values and a narrative, ledger upkeep included (every submission brings
 * its agreement-month's ledger rows up to date in its own transaction). Baseline: the same number
 * of `{ __typename }` requests at the same concurrency, so the table shows what a submission costs
 * over a no-op request.
 *
 * The server is `dist/src/main.js` in a child process, as `npm start` runs it (NODE_ENV=production,
 * logging at info into a pipe this process reads and drops, the rate limiter on with a limit above
 * the load's pace, the scheduler off); its resident memory and CPU time are read from /proc apart
 * from the load generator (a worker thread of this process). SQL statements per submission are
 * counted first on the set-up's in-process server, over a probe of sequential submissions (the
 * child process has no counter of its own); those agreement-months are not used again.
 *
 *   npm run build && node dist/bench/submissions.js [--seconds N] [--pg | --pg-only] [--agreements N]
 *                                                   [--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]
 *                                                   [--server-env "NAME=value …"]
 *
 * SQLite always (unless --pg-only); PostgreSQL too with --pg (BENCH_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/test; a fresh database is created and dropped).
 *
 * Goals: ≥ 1,000 submissions/s with p99 < 50 ms on SQLite; ≥ 500/s on PostgreSQL; the server's
 * peak RSS ≤ 250 MB.
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { processCpuSeconds, type RssReport, sampleProcessRss, type ServerProcess, startServerProcess } from './child';
import { benchSeconds, closeMainAgent, fmt, hasFlag, type LoadResult, mib, ms, option, postJson, printGoal, printTable, runLoad } from './lib';
import { type BenchServer, type Engine, generateAgreements, months, Role, startBenchServer, tokenFor } from './setup';

const CONCURRENCY = 10;
const FROM = '2024-01';
/** Reported months: after the agreements' start, and before "now" (the real clock). */
const REPORT_MONTHS = months('2025-01', '2026-10');
/** Generous upper bound of submissions per second, to size the pool of agreement-months. */
const MAX_EXPECTED_RATE = 1500;
/** Sequential submissions on the in-process server whose SQL statements are counted. */
const PROBE = 100;
/**
 * Experiments: `--server-env "WEBHOOK_POLL_MS=0 SQLITE_SYNCHRONOUS=FULL"` adds settings to the child
 * server's environment; read before anything runs, so a malformed entry stops the bench at once.
 */
const SERVER_ENV: Record<string, string> = Object.fromEntries(
  (option('--server-env')?.split(' ').filter(Boolean) ?? []).map((kv) => {
    const at = kv.indexOf('=');
    if (at < 1) throw new Error(`--server-env: expected NAME=value entries separated by spaces, received ${JSON.stringify(kv)}`);
    return [kv.slice(0, at), kv.slice(at + 1)];
  }),
);

/** Issue 19, goal 2. */
const GOALS: Record<Engine, { rate: number; p99Ms: number | null }> = {
  sqlite: { rate: 1000, p99Ms: 50 },
  postgresql: { rate: 500, p99Ms: null },
};
/** Issue 19, goal 4: the server process alone. */
const GOAL_RSS = 250 * 1024 * 1024;

const SUBMIT = `mutation Submit($input: SubmitReportInput!) {
  submitReport(input: $input) { revision { id number } userErrors { field code message } }
}`;

interface EngineResult {
  engine: Engine;
  submissions: LoadResult;
  baseline: LoadResult;
  rssSubmit: RssReport;
  rssBaseline: RssReport;
  /** Server CPU seconds per request (user + system), over the measured phase and its warm-up. */
  cpuPerSubmission: number;
  cpuPerBaseline: number;
  probe: Probe;
  pool: number;
}

/** The submission bodies, month-major: requests in flight together are about different agreements. */
async function prepare(setup: BenchServer, seconds: number, warmupMs: number): Promise<{ token: string; bodies: string[] }> {
  const engine = setup.engine;
  const token = await tokenFor(setup.app, Role.ADMIN);
  const headers = { authorization: `Bearer ${token}` };
  const wanted = Math.ceil(((seconds * 1000 + warmupMs) / 1000) * MAX_EXPECTED_RATE) + PROBE;
  const agreementCount = Number(option('--agreements') ?? Math.ceil(wanted / REPORT_MONTHS.length));
  const t0 = performance.now();
  const agreements = await generateAgreements(setup.app.orm.em.fork(), 'BENCH', agreementCount, FROM);
  console.log(`[${engine}] generated ${fmt(agreements.length)} agreements (${fmt(agreements.length * REPORT_MONTHS.length)} agreement-months to submit) in ${ms(performance.now() - t0)}`);

  // The objective ids written are the effective MANUAL objectives the API reports.
  const check = await postJson(setup.graphqlUrl, JSON.stringify({ query: `{ agreement(key: "${agreements[0].key}") { effectiveObjectives(at: "2025-03") { id metric { code source } } } }` }), headers);
  const effective = (JSON.parse(check.text) as { data?: { agreement?: { effectiveObjectives: Array<{ id: string; metric: { source: string } }> } } }).data?.agreement?.effectiveObjectives ?? [];
  const manual = effective
    .filter((o) => o.metric.source === 'MANUAL')
    .map((o) => o.id)
    .sort();
  if (check.status !== 200 || manual.join() !== [...agreements[0].objectiveIds].sort().join()) {
    throw new Error(`effectiveObjectives of ${agreements[0].key} do not match the generated objectives: ${check.status} ${check.text.slice(0, 500)}`);
  }
  const bodies: string[] = [];
  REPORT_MONTHS.forEach((month, m) => {
    agreements.forEach((a, i) => {
      const input = {
        agreementId: a.id,
        month,
        narrative: `Bench month ${month} of ${a.key}.`,
        values: [
          { objectiveId: a.objectiveIds[0], value: 99 + ((i + m) % 10) / 10 },
          { objectiveId: a.objectiveIds[1], value: 1 + ((i * 7 + m) % 5) },
        ],
      };
      bodies.push(JSON.stringify({ query: SUBMIT, variables: { input } }));
    });
  });
  return { token, bodies };
}

/** What the in-process probe measured per submission. */
interface Probe {
  statements: number;
  /**
   * SQLite only: wall time inside better-sqlite3's `run`/`all`/`get` per submission (the engine's
   * own work: compiled statements stepped, pages written, checkpoints), COMMIT apart. A floor no
   * JavaScript change moves: one connection does it all, one submission after another.
   */
  sqlite: SqliteTime | null;
}

/** Per submission: wall and CPU time inside SQLite's calls, COMMIT apart. */
interface SqliteTime {
  commitMs: number;
  otherMs: number;
  /** CPU (user + system) of the process during those calls: what a busy machine does not inflate. */
  commitCpuMs: number;
  otherCpuMs: number;
  commits: number;
}

/**
 * Times every statement SQLite runs on the in-process server's one connection (from the probe's
 * start until `stop`): each statement object handed out by the connection's `prepare` (cached
 * ones included, statement-cache.ts) gets its `run`/`all`/`get` wrapped once.
 */
async function timeSqlite(setup: BenchServer): Promise<{ stop(): SqliteTime }> {
  type Runner = Record<'run' | 'all' | 'get', (...args: unknown[]) => unknown>;
  const client = (
    setup.app.orm.em.getConnection() as unknown as { getKnex(): { client: { acquireConnection(): Promise<{ prepare(sql: string): Runner }>; releaseConnection(c: unknown): Promise<unknown> } } }
  ).getKnex().client;
  const db = await client.acquireConnection();
  await client.releaseConnection(db);
  const totals: SqliteTime = { commitMs: 0, otherMs: 0, commitCpuMs: 0, otherCpuMs: 0, commits: 0 };
  let on = true;
  const wrapped = new WeakSet<object>();
  const prepare = db.prepare.bind(db);
  db.prepare = (sql: string) => {
    const statement = prepare(sql);
    if (wrapped.has(statement)) return statement;
    wrapped.add(statement);
    const commit = /^COMMIT\b/i.test(sql);
    for (const method of ['run', 'all', 'get'] as const) {
      const f = statement[method].bind(statement);
      statement[method] = (...args: unknown[]) => {
        if (!on) return f(...args);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        try {
          return f(...args);
        } finally {
          const c = process.cpuUsage(c0);
          const cpu = (c.user + c.system) / 1000;
          const dt = performance.now() - t0;
          if (commit) {
            totals.commitMs += dt;
            totals.commitCpuMs += cpu;
            totals.commits++;
          } else {
            totals.otherMs += dt;
            totals.otherCpuMs += cpu;
          }
        }
      };
    }
    return statement;
  };
  return {
    stop() {
      on = false;
      db.prepare = prepare;
      return totals;
    },
  };
}

/**
 * SQL statements per submission on the in-process server, over the first {@link PROBE} bodies (sent
 * one at a time; removed from `bodies`), and on SQLite the time spent inside SQLite.
 */
async function probe(setup: BenchServer, token: string, bodies: string[]): Promise<Probe> {
  const sent = bodies.splice(0, PROBE);
  const before = setup.app.statements.count;
  const timer = setup.engine === 'sqlite' ? await timeSqlite(setup) : null;
  for (const body of sent) {
    const reply = await postJson(setup.graphqlUrl, body, { authorization: `Bearer ${token}` });
    if (reply.status !== 200 || !reply.text.includes('"userErrors":[]') || reply.text.includes('"errors":'))
      throw new Error(`[${setup.engine}] a probe submission failed: ${reply.status} ${reply.text.slice(0, 500)}`);
  }
  const t = timer?.stop();
  return {
    statements: (setup.app.statements.count - before) / sent.length,
    sqlite: t ? (Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v / sent.length])) as unknown as SqliteTime) : null,
  };
}

async function runEngine(engine: Engine, seconds: number): Promise<EngineResult> {
  const setup = await startBenchServer(engine, 'submissions');
  let server: ServerProcess | undefined;
  try {
    const warmupMs = 1000;
    const { token, bodies } = await prepare(setup, seconds, warmupMs);
    const probed = await probe(setup, token, bodies);
    await setup.stopApp();
    // As `npm start` runs it in production: the clock override off, logging at info, the scheduler
    // off (a tick would be timed as a submission's), the rate limiter on above the load's pace.
    const env: Record<string, string> = { ...setup.env, NODE_ENV: 'production', LOG_LEVEL: 'info', CLOCK_OVERRIDE: 'false', SCHEDULER_INTERVAL_MS: '0', RATE_LIMIT_PER_MINUTE: '1000000' };
    Object.assign(env, SERVER_ENV);
    server = await startServerProcess(env, option('--server-node-args')?.split(' ').filter(Boolean) ?? []);
    const url = `${server.url}/graphql`;
    const headers = { authorization: `Bearer ${token}` };

    const cpu0 = processCpuSeconds(server.pid);
    const rss1 = sampleProcessRss(server.pid, 50);
    const submissions = await runLoad({ url, headers, bodies, concurrency: CONCURRENCY, warmupMs, durationMs: seconds * 1000, expect: '"userErrors":[]', reject: '"errors":' });
    const rssSubmit = await rss1.stop();
    const cpu1 = processCpuSeconds(server.pid);
    if (submissions.errors) console.error(`[${engine}] ${submissions.errors} failed submissions, e.g.`, submissions.errorSamples);
    if (submissions.exhausted) console.warn(`[${engine}] the pool of agreement-months ran out before ${seconds} s; pass a larger --agreements`);

    const rss2 = sampleProcessRss(server.pid, 50);
    const baseline = await runLoad({
      url,
      headers,
      bodies: [JSON.stringify({ query: '{ __typename }' })],
      concurrency: CONCURRENCY,
      warmupMs,
      count: submissions.count,
      expect: '"__typename":"Query"',
    });
    const rssBaseline = await rss2.stop();
    const cpu2 = processCpuSeconds(server.pid);
    if (baseline.errors) console.error(`[${engine}] ${baseline.errors} failed baseline requests, e.g.`, baseline.errorSamples);
    return {
      engine,
      submissions,
      baseline,
      rssSubmit,
      rssBaseline,
      cpuPerSubmission: (cpu1 - cpu0) / (submissions.count + submissions.warmupCount),
      cpuPerBaseline: (cpu2 - cpu1) / (baseline.count + baseline.warmupCount),
      probe: probed,
      pool: bodies.length,
    };
  } finally {
    await server?.stop();
    await setup.close();
  }
}

async function main(): Promise<number> {
  const seconds = benchSeconds(10);
  const engines: Engine[] = hasFlag('--pg-only') ? ['postgresql'] : hasFlag('--pg') ? ['sqlite', 'postgresql'] : ['sqlite'];
  console.log(
    `submissions: submitReport at ${CONCURRENCY} connections for ${seconds} s (after 1 s warm-up) per engine: ${engines.join(', ')}; ` +
      'server: dist/src/main.js in a child process, NODE_ENV=production, LOG_LEVEL=info, rate limiter on, scheduler off',
  );
  const results: EngineResult[] = [];
  for (const engine of engines) results.push(await runEngine(engine, seconds));
  closeMainAgent();

  const rows: string[][] = [];
  for (const r of results) {
    const s = r.submissions;
    const b = r.baseline;
    const cpu = (seconds: number) => ms(seconds * 1000);
    rows.push([
      `${r.engine}: submitReport`,
      fmt(s.count),
      fmt(s.errors),
      fmt(s.rps, 1),
      ms(s.latency.p50),
      ms(s.latency.p99),
      ms(s.latency.max),
      cpu(r.cpuPerSubmission),
      mib(r.rssSubmit.peak),
      mib(r.rssSubmit.mean),
    ]);
    rows.push([
      `${r.engine}: { __typename } (baseline)`,
      fmt(b.count),
      fmt(b.errors),
      fmt(b.rps, 1),
      ms(b.latency.p50),
      ms(b.latency.p99),
      ms(b.latency.max),
      cpu(r.cpuPerBaseline),
      mib(r.rssBaseline.peak),
      mib(r.rssBaseline.mean),
    ]);
    rows.push([
      `${r.engine}: ratio submit / baseline`,
      '',
      '',
      fmt(s.rps / b.rps, 3),
      `${fmt(s.latency.p50 / b.latency.p50, 1)}×`,
      `${fmt(s.latency.p99 / b.latency.p99, 1)}×`,
      '',
      `${fmt(r.cpuPerSubmission / r.cpuPerBaseline, 1)}×`,
      '',
      '',
    ]);
  }
  printTable(
    `Report submissions, ${CONCURRENCY} connections, closed loop (server CPU = user + system time of the server process per request; RSS of the server process, /proc every 50 ms)`,
    ['run', 'requests', 'errors', 'req/s', 'p50', 'p99', 'max', 'server CPU', 'RSS peak', 'RSS mean'],
    rows,
  );
  for (const r of results) {
    console.log(
      `[${r.engine}] SQL statements per submission: ${fmt(r.probe.statements, 1)} (${PROBE} sequential submissions, in-process); pool of ${fmt(r.pool)} agreement-months${r.submissions.exhausted ? ' (ran out)' : ''}`,
    );
    const q = r.probe.sqlite;
    if (q) {
      const floor = q.commitCpuMs + q.otherCpuMs;
      console.log(
        `[${r.engine}] inside SQLite per submission (same probe; CPU of the process during better-sqlite3's run/all/get, wall time in brackets): ${ms(floor)} (${ms(q.commitMs + q.otherMs)}) = ` +
          `COMMIT ${ms(q.commitCpuMs)} (${ms(q.commitMs)}; ${fmt(q.commits, 2)} commits, checkpoints included) + other statements ${ms(q.otherCpuMs)} (${ms(q.otherMs)}); ` +
          `one connection does this work one submission after another: with no JavaScript at all, at most ${fmt(1000 / floor, 0)}/s on this machine`,
      );
    }
  }
  for (const r of results) {
    const goal = GOALS[r.engine];
    const s = r.submissions;
    const p99 = goal.p99Ms === null ? '' : ` with p99 < ${goal.p99Ms} ms`;
    printGoal(
      `${r.engine}: submitReport ≥ ${fmt(goal.rate)}/s at ${CONCURRENCY} connections${p99}, ledger upkeep included`,
      s.rps >= goal.rate && (goal.p99Ms === null || s.latency.p99 < goal.p99Ms),
      `${fmt(s.rps, 1)}/s, p99 ${ms(s.latency.p99)}`,
    );
    printGoal(`${r.engine}: server peak RSS ≤ ${mib(GOAL_RSS)}`, Math.max(r.rssSubmit.peak, r.rssBaseline.peak) <= GOAL_RSS, mib(Math.max(r.rssSubmit.peak, r.rssBaseline.peak)));
  }
  return results.some((r) => r.submissions.errors || r.baseline.errors) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
