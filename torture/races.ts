/*
 * Version races and overlapping batches, on SQLite and on PostgreSQL: concurrent updates with the
 * same expectedVersion have exactly one winner (the others CONFLICT), and concurrent handoff
 * batches with overlapping external ids are all recorded (no deadlock answered as INTERNAL) with
 * derived monthly metrics equal to the stored events.
 */
import { overlappingBatches, versionRaces } from './concurrency';
import { openDb } from './db';
import { type Context, type Outcome, type Scenario, startPgDemo, startSqliteDemo } from './lib';

async function run(ctx: Context, engine: 'sqlite' | 'postgresql'): Promise<Outcome> {
  const races = ctx.options.short ? 3 : 30;
  const s = engine === 'sqlite' ? await startSqliteDemo('races') : await startPgDemo(ctx.options.pgUrl, 'races');
  const db = await openDb(s.databaseUrl);
  try {
    const tag = `${engine}-${ctx.options.seed}`;
    const v = await versionRaces([s.server.url], s.tokens, races, 40, tag);
    const o = await overlappingBatches([s.server.url], s.tokens, ctx.options.short ? 2 : 10, 6, tag, db, ctx.options.seed);
    const failures = [...v.failures, ...o.failures];
    return { status: failures.length ? 'fail' : 'pass', figures: [...v.figures, ...o.figures].map((f) => `${engine}: ${f}`).concat(`${v.requests + o.requests} requests`), failures };
  } finally {
    await db.close();
    await s.server.stop();
  }
}

export const racesSqlite: Scenario = { name: 'races-sqlite', description: 'version races and overlapping handoff batches on SQLite', run: (ctx) => run(ctx, 'sqlite') };
export const racesPg: Scenario = { name: 'races-pg', description: 'version races and overlapping handoff batches on PostgreSQL', needsPg: true, run: (ctx) => run(ctx, 'postgresql') };
