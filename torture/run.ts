/*
 * `npm run torture`: the torture suite (README "Torture suite"). Runs each scenario in turn against
 * real server processes on loopback, prints its figures and a PASS/FAIL line, and ends with
 * `N passed, N failed`; the exit code is non-zero when any scenario failed.
 *
 *   node dist/torture/run.js [--short] [--only NAME[,NAME]] [--seconds N] [--pg URL] [--seed N]
 *
 * --short    a CI-sized run (about 2–3 minutes)
 * --only     scenarios by name (or prefix: `--only kills` runs every kills-* scenario)
 * --seconds  length of the soak
 * --pg       a PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test); the suite
 *            creates and drops databases of its own there; without an answer the PostgreSQL
 *            scenarios are skipped with a line saying so
 * --seed     the seed of every random choice (printed, so a run can be repeated)
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import { fuzzPg, fuzzSqlite } from './fuzz';
import { idempotencyPg, idempotencySqlite } from './idempotency';
import { firstStart, killsPg, killsSqlite } from './kills';
import { cleanupAll, closeAgent, type Context, installSignalHandlers, killAllChildren, type Outcome, parseArgs, pgAnswers, type Scenario, stopping } from './lib';
import { racesPg, racesSqlite } from './races';
import { soakScenario } from './soak';
import { twoInstances } from './two-instances';

const SCENARIOS: Scenario[] = [fuzzSqlite, idempotencySqlite, racesSqlite, killsSqlite, firstStart, soakScenario, idempotencyPg, racesPg, twoInstances, killsPg, fuzzPg];

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: did not finish within ${ms / 1000} s`)), ms)))]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (process.argv.includes('--help')) {
    process.stdout.write(`scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
    return 0;
  }
  installSignalHandlers();
  const selected = options.only ? SCENARIOS.filter((s) => options.only?.some((o) => s.name === o || s.name.startsWith(`${o}-`) || s.name.startsWith(o))) : SCENARIOS;
  if (!selected.length) {
    process.stderr.write(`--only ${options.only?.join(',')}: no such scenario (known: ${SCENARIOS.map((s) => s.name).join(', ')})\n`);
    return 2;
  }
  const pgProblem = selected.some((s) => s.needsPg) ? await pgAnswers(options.pgUrl) : null;
  const ctx: Context = { options, pgProblem, log: (line) => process.stdout.write(`${line}\n`) };
  const t0 = Date.now();
  console.log(
    `torture suite: ${options.short ? 'short' : 'full'} run, seed ${options.seed}, ${selected.length} scenarios, PostgreSQL ${pgProblem ? `not available (${options.pgUrl}: ${pgProblem})` : options.pgUrl}`,
  );
  const results: Array<{ name: string; outcome: Outcome; seconds: number }> = [];
  for (const s of selected) {
    console.log(`\n=== ${s.name}: ${s.description}`);
    const started = Date.now();
    let outcome: Outcome;
    if (s.needsPg && pgProblem) {
      outcome = { status: 'skip', figures: [`PostgreSQL at ${options.pgUrl} does not answer (${pgProblem}): skipped`], failures: [] };
    } else {
      try {
        outcome = await withTimeout(s.run(ctx), (options.short ? 4 : 10) * 60_000, s.name);
      } catch (e) {
        killAllChildren();
        outcome = { status: 'fail', figures: [], failures: [`the scenario itself failed: ${e instanceof Error ? (e.stack ?? e.message).slice(0, 3000) : String(e)}`] };
      }
    }
    // Interrupted: the signal handler removes servers, files and databases and exits with 130.
    if (stopping()) await new Promise(() => undefined);
    const seconds = (Date.now() - started) / 1000;
    for (const f of outcome.figures) console.log(`  ${f}`);
    if (outcome.failures.length) {
      console.log(`  failures (${outcome.failures.length}):`);
      for (const f of outcome.failures) console.log(`    - ${f}`);
    }
    console.log(`${outcome.status === 'pass' ? 'PASS' : outcome.status === 'skip' ? 'SKIP' : 'FAIL'} ${s.name} (${seconds.toFixed(1)} s)`);
    results.push({ name: s.name, outcome, seconds });
  }
  await cleanupAll();
  closeAgent();
  const passed = results.filter((r) => r.outcome.status === 'pass').length;
  const failed = results.filter((r) => r.outcome.status === 'fail').length;
  const skipped = results.filter((r) => r.outcome.status === 'skip').length;
  console.log(`\nsummary (${((Date.now() - t0) / 1000).toFixed(0)} s, seed ${options.seed}):`);
  for (const r of results)
    console.log(
      `  ${r.outcome.status.toUpperCase().padEnd(4)} ${r.name.padEnd(20)} ${r.seconds.toFixed(1).padStart(6)} s${r.outcome.failures.length ? `  ${r.outcome.failures.length} failure(s)` : ''}`,
    );
  if (skipped) console.log(`  ${skipped} skipped (PostgreSQL not available)`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    process.stderr.write(`torture suite crashed: ${e instanceof Error ? e.stack : String(e)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
