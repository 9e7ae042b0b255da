/* `npm run seed:large -- [--departments N] [--agreements N] [--months N] [--events N] [--seed S]`:
 * migrates DATABASE_URL (default: the embedded database) and adds a large generated company for
 * benchmarks and BI pulls, with a progress bar on stderr. */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/common/config';
import { openOrm } from '../src/db/orm';
import { LARGE_DEFAULTS, type LargeOptions, seedLarge } from './large';

function options(): LargeOptions {
  const { values } = parseArgs({
    options: { departments: { type: 'string' }, agreements: { type: 'string' }, months: { type: 'string' }, events: { type: 'string' }, seed: { type: 'string' } },
  });
  const whole = (name: keyof LargeOptions, min: number, max: number): number => {
    const raw = values[name as keyof typeof values];
    if (raw === undefined) return LARGE_DEFAULTS[name] as number;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError([`--${name}: expected a whole number from ${min} to ${max}, received ${JSON.stringify(raw)}`]);
    return n;
  };
  const o: LargeOptions = {
    departments: whole('departments', 2, 100_000),
    agreements: whole('agreements', 1, 1_000_000),
    months: whole('months', 1, 120),
    events: whole('events', 0, 100_000_000),
    seed: values.seed ?? LARGE_DEFAULTS.seed,
  };
  if (o.agreements > o.departments * (o.departments - 1))
    throw new ConfigError([`--agreements: at most ${o.departments * (o.departments - 1)} with ${o.departments} departments (one per ordered pair)`]);
  return o;
}

/** A one-line progress bar on stderr: stage, bar, percent, counts, elapsed seconds. */
function bar(started: number) {
  let lastStage = '';
  return (stage: string, done: number, total: number) => {
    if (stage !== lastStage && lastStage) process.stderr.write('\n');
    lastStage = stage;
    const share = total ? Math.min(1, done / total) : 1;
    const filled = Math.round(share * 30);
    process.stderr.write(
      `\r${stage.padEnd(15)} [${'#'.repeat(filled)}${'-'.repeat(30 - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ${done}/${total} ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
  };
}

async function main(): Promise<void> {
  const o = options();
  const config = loadConfig();
  const { orm } = await openOrm(config);
  const started = Date.now();
  try {
    const r = await seedLarge(orm.em.fork(), o, bar(started));
    process.stderr.write('\n');
    process.stdout.write(
      `generated ${o.departments} departments, ${o.agreements} agreements, ${r.agreementMonths} agreement-months (about ${r.agreementMonths * 5} measurements) and ${r.events} handoff events in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await orm.close(true);
  }
}

main().catch((e) => {
  process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
