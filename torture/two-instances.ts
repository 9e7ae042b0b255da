/*
 * Two server processes on one PostgreSQL database: idempotency replays, version races and
 * overlapping handoff batches with requests alternating between the two; the same exactly-one
 * outcomes as on one instance.
 */
import { idempotencyReplays, overlappingBatches, versionRaces } from './concurrency';
import { openDb } from './db';
import { type Context, type Outcome, type Scenario, startPgDemo, startServer } from './lib';

async function run(ctx: Context): Promise<Outcome> {
  const a = await startPgDemo(ctx.options.pgUrl, 'two');
  const b = await startServer({ databaseUrl: a.databaseUrl });
  const db = await openDb(a.databaseUrl);
  try {
    const urls = [a.server.url, b.url];
    const tag = `two-${ctx.options.seed}`;
    const i = await idempotencyReplays(urls, a.tokens, ctx.options.short ? 100 : 600, tag, db);
    const v = await versionRaces(urls, a.tokens, ctx.options.short ? 3 : 30, 40, tag);
    const o = await overlappingBatches(urls, a.tokens, ctx.options.short ? 2 : 10, 6, tag, db, ctx.options.seed + 7);
    const failures = [...i.failures, ...v.failures, ...o.failures];
    return {
      status: failures.length ? 'fail' : 'pass',
      figures: [...i.figures, ...v.figures, ...o.figures].map((f) => `2 instances: ${f}`).concat(`${i.requests + v.requests + o.requests} requests, alternating between 2 processes`),
      failures,
    };
  } finally {
    await db.close();
    await Promise.all([a.server.stop(), b.stop()]);
  }
}

export const twoInstances: Scenario = { name: 'two-instances-pg', description: 'two server processes on one PostgreSQL database', needsPg: true, run };
