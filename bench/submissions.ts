/*
 * Report submissions per second at 10 concurrent connections: `submitReport` mutations (admin
 * token) for distinct agreement-months of generated ACTIVE agreements, each with its two MANUAL
 * objective values and a narrative. Resident memory of the process (server and load worker) is
 * sampled every 100 ms during the load. Baseline: the same number of `{ __typename }` requests
 * at the same concurrency, so the table shows what a submission costs over a no-op request.
 *
 *   npm run build && node dist/bench/submissions.js [--seconds N] [--pg] [--agreements N]
 *
 * SQLite always; PostgreSQL too with --pg (BENCH_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432/test; a fresh database is created and dropped).
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { benchSeconds, fmt, hasFlag, type LoadResult, type MemoryReport, mib, ms, option, postJson, printTable, runLoad, sampleMemory } from './lib';
import { type Engine, generateAgreements, months, Role, startBenchServer, tokenFor } from './setup';

const CONCURRENCY = 10;
const FROM = '2024-01';
/** Reported months: after the agreements' start, and before "now" (the real clock). */
const REPORT_MONTHS = months('2025-01', '2026-10');
/** Generous upper bound of submissions per second, to size the pool of agreement-months. */
const MAX_EXPECTED_RATE = 1500;

const SUBMIT = `mutation Submit($input: SubmitReportInput!) {
  submitReport(input: $input) { revision { id number } userErrors { field code message } }
}`;

interface EngineResult {
  engine: Engine;
  submissions: LoadResult;
  baseline: LoadResult;
  memSubmit: MemoryReport;
  memBaseline: MemoryReport;
  statementsPerSubmission: number;
  pool: number;
  /** Heap in use after a full GC before and after the submissions (only with node --expose-gc). */
  heapAfterGc?: { before: number; after: number };
}

/** heapUsed after a full collection, when the process runs with --expose-gc. */
function heapAfterGc(): number | undefined {
  if (!global.gc) return undefined;
  global.gc();
  return process.memoryUsage().heapUsed;
}

async function runEngine(engine: Engine, seconds: number): Promise<EngineResult> {
  const server = await startBenchServer(engine, 'submissions');
  try {
    const token = await tokenFor(server.app, Role.ADMIN);
    const headers = { authorization: `Bearer ${token}` };
    const warmupMs = 1000;
    const wanted = Math.ceil(((seconds * 1000 + warmupMs) / 1000) * MAX_EXPECTED_RATE);
    const agreementCount = Number(option('--agreements') ?? Math.ceil(wanted / REPORT_MONTHS.length));
    const t0 = performance.now();
    const agreements = await generateAgreements(server.app.orm.em.fork(), 'BENCH', agreementCount, FROM);
    console.log(`[${engine}] generated ${fmt(agreements.length)} agreements (${fmt(agreements.length * REPORT_MONTHS.length)} agreement-months to submit) in ${ms(performance.now() - t0)}`);

    // The objective ids written are the effective MANUAL objectives the API reports.
    const check = await postJson(
      server.graphqlUrl,
      JSON.stringify({ query: `{ agreement(key: "${agreements[0].key}") { effectiveObjectives(at: "2025-03") { id metric { code source } } } }` }),
      headers,
    );
    const effective = (JSON.parse(check.text) as { data?: { agreement?: { effectiveObjectives: Array<{ id: string; metric: { source: string } }> } } }).data?.agreement?.effectiveObjectives ?? [];
    const manual = effective
      .filter((o) => o.metric.source === 'MANUAL')
      .map((o) => o.id)
      .sort();
    if (check.status !== 200 || manual.join() !== [...agreements[0].objectiveIds].sort().join()) {
      throw new Error(`effectiveObjectives of ${agreements[0].key} do not match the generated objectives: ${check.status} ${check.text.slice(0, 500)}`);
    }

    // Month-major order: requests in flight together are about different agreements.
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

    const heapBefore = heapAfterGc();
    const before = server.app.statements.count;
    const mem1 = sampleMemory(100);
    const submissions = await runLoad({ url: server.graphqlUrl, headers, bodies, concurrency: CONCURRENCY, warmupMs, durationMs: seconds * 1000, expect: '"userErrors":[]', reject: '"errors":' });
    const memSubmit = mem1.stop();
    const statements = server.app.statements.count - before;
    if (submissions.errors) console.error(`[${engine}] ${submissions.errors} failed submissions, e.g.`, submissions.errorSamples);
    if (submissions.exhausted) console.warn(`[${engine}] the pool of agreement-months ran out before ${seconds} s; pass a larger --agreements`);

    const heapAfter = heapAfterGc();
    const mem2 = sampleMemory(100);
    const baseline = await runLoad({
      url: server.graphqlUrl,
      headers,
      bodies: [JSON.stringify({ query: '{ __typename }' })],
      concurrency: CONCURRENCY,
      warmupMs,
      count: submissions.count,
      expect: '"__typename":"Query"',
    });
    const memBaseline = mem2.stop();
    if (baseline.errors) console.error(`[${engine}] ${baseline.errors} failed baseline requests, e.g.`, baseline.errorSamples);
    return {
      engine,
      submissions,
      baseline,
      memSubmit,
      memBaseline,
      statementsPerSubmission: statements / (submissions.count + submissions.warmupCount),
      pool: bodies.length,
      heapAfterGc: heapBefore !== undefined && heapAfter !== undefined ? { before: heapBefore, after: heapAfter } : undefined,
    };
  } finally {
    await server.close();
  }
}

async function main(): Promise<number> {
  const seconds = benchSeconds(10);
  const engines: Engine[] = hasFlag('--pg') ? ['sqlite', 'postgresql'] : ['sqlite'];
  console.log(`submissions: submitReport at ${CONCURRENCY} connections for ${seconds} s (after 1 s warm-up) per engine: ${engines.join(', ')}`);
  const results: EngineResult[] = [];
  for (const engine of engines) results.push(await runEngine(engine, seconds));

  const rows: string[][] = [];
  for (const r of results) {
    const s = r.submissions;
    const b = r.baseline;
    rows.push([
      `${r.engine}: submitReport`,
      fmt(s.count),
      fmt(s.errors),
      fmt(s.rps, 1),
      ms(s.latency.p50),
      ms(s.latency.p99),
      ms(s.latency.max),
      mib(r.memSubmit.before),
      mib(r.memSubmit.peak),
      mib(r.memSubmit.mean),
    ]);
    rows.push([
      `${r.engine}: { __typename } (baseline)`,
      fmt(b.count),
      fmt(b.errors),
      fmt(b.rps, 1),
      ms(b.latency.p50),
      ms(b.latency.p99),
      ms(b.latency.max),
      mib(r.memBaseline.before),
      mib(r.memBaseline.peak),
      mib(r.memBaseline.mean),
    ]);
    rows.push([`${r.engine}: ratio submit / baseline`, '', '', fmt(s.rps / b.rps, 3), `${fmt(s.latency.p50 / b.latency.p50, 1)}×`, `${fmt(s.latency.p99 / b.latency.p99, 1)}×`, '', '', '', '']);
  }
  printTable(
    `Report submissions, ${CONCURRENCY} connections, closed loop (RSS = whole process, sampled every 100 ms)`,
    ['run', 'requests', 'errors', 'req/s', 'p50', 'p99', 'max', 'RSS before', 'RSS peak', 'RSS mean'],
    rows,
  );
  for (const r of results) {
    const heap = r.heapAfterGc
      ? `; heap used after full GC: ${mib(r.heapAfterGc.before)} before, ${mib(r.heapAfterGc.after)} after the submissions`
      : ' (run with node --expose-gc to see the heap after GC)';
    console.log(`[${r.engine}] SQL statements per submission: ${fmt(r.statementsPerSubmission, 1)}; pool of ${fmt(r.pool)} agreement-months${r.submissions.exhausted ? ' (ran out)' : ''}${heap}`);
  }
  console.log('goal: none set for submissions; the numbers are for reference (a missed goal would not fail the run).');
  return results.some((r) => r.submissions.errors || r.baseline.errors) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
