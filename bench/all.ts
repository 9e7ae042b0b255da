/*
 * `npm run bench`: every benchmark that carries a goal of issues 13 and 19, one after the other,
 * each in a process of its own (`node dist/bench/<name>.js`, its output passed through as it
 * comes), then every goal line they printed gathered into one list with MET / NOT MET, so that
 * a reader of the run (and the README's table, which is copied from it) sees them all in one place.
 *
 *   npm run bench [-- --only typename,submissions] [--large-database /path/large.sqlite] [--out FILE]
 *
 * The large data set of `ledger` (the `seed:large` defaults, a few minutes to seed) is kept in
 * `--large-database` (default: tiered-sla-bench-large.sqlite in the OS temp directory) and reused
 * by later runs. `--out FILE` also writes the whole output there. A missed goal is not a failure:
 * the run fails only when a benchmark does (an error, a wrong answer).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { option } from './lib';

interface Bench {
  name: string;
  /** What it measures, for the summary. */
  covers: string;
  args: string[];
}

const largeDatabase = option('--large-database') ?? path.join(os.tmpdir(), 'tiered-sla-bench-large.sqlite');

const BENCHES: Bench[] = [
  { name: 'typename', covers: 'issue 19 goals 1, 4, 5: the cheapest authenticated requests against bare Apollo', args: [] },
  { name: 'submissions', covers: 'issue 19 goals 2, 4: submitReport per second (SQLite and PostgreSQL)', args: ['--pg'] },
  { name: 'ingest', covers: 'issue 19 goals 3, 4: handoff ingest (SQLite and PostgreSQL)', args: ['--pg'] },
  { name: 'ledger', covers: 'issue 13: scorecard, facts and CSV pulls on the large data set, memory, the write side', args: ['--database', largeDatabase] },
];

/** Runs one compiled benchmark, passing its output through; resolves with its output and exit code. */
function run(bench: Bench): Promise<{ output: string; code: number | null; seconds: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(__dirname, `${bench.name}.js`), ...bench.args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    process.stdout.write(c);
    output += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    process.stderr.write(c);
    output += c.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ output, code, seconds: (performance.now() - t0) / 1000 })));
}

async function main(): Promise<number> {
  const only = option('--only')?.split(',');
  const chosen = only ? BENCHES.filter((b) => only.includes(b.name)) : BENCHES;
  const unknown = only?.filter((n) => !BENCHES.some((b) => b.name === n)) ?? [];
  if (unknown.length) throw new Error(`--only: unknown benchmark ${unknown.join(', ')} (known: ${BENCHES.map((b) => b.name).join(', ')})`);
  const started = new Date();
  const header = `npm run bench: ${chosen.map((b) => b.name).join(', ')}; node ${process.version}, ${os.cpus().length} cores, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at ${started.toISOString()}`;
  console.log(header);
  const results: Array<{ bench: Bench; goals: string[]; code: number | null; seconds: number }> = [];
  let transcript = `${header}\n`;
  for (const bench of chosen) {
    console.log(`\n==== ${bench.name} (${bench.covers}): node dist/bench/${bench.name}.js ${bench.args.join(' ')}`);
    const r = await run(bench);
    transcript += `\n==== ${bench.name}\n${r.output}`;
    const goals = r.output.split('\n').filter((l) => l.startsWith('goal: '));
    results.push({ bench, goals, code: r.code, seconds: r.seconds });
  }
  const lines = ['', `==== every goal (${new Date().toISOString()}, load average now ${os.loadavg()[0].toFixed(2)})`];
  let met = 0;
  let missed = 0;
  for (const r of results) {
    lines.push(`${r.bench.name} (${r.seconds.toFixed(0)} s${r.code ? `, FAILED with exit code ${r.code}` : ''}): ${r.bench.covers}`);
    if (!r.goals.length) lines.push('  (no goal printed)');
    for (const g of r.goals) {
      lines.push(`  ${g.slice('goal: '.length)}`);
      if (g.endsWith('— MET')) met++;
      else missed++;
    }
  }
  lines.push(`${met} goals met, ${missed} not met; ${results.filter((r) => r.code).length} benchmarks failed`);
  const summary = lines.join('\n');
  console.log(summary);
  const out = option('--out');
  if (out) fs.writeFileSync(out, `${transcript}${summary}\n`);
  return results.some((r) => r.code) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
