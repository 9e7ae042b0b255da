/*
 * Concurrent idempotency replays, on SQLite and on PostgreSQL: 1,000 concurrent sends of one
 * createDepartment and one openEscalation (300 of one submitReport) under a single key give exactly
 * one row and identical answers; the same key with another input is IDEMPOTENCY_KEY_REUSED.
 */
import { idempotencyReplays } from './concurrency';
import { openDb } from './db';
import { type Context, type Outcome, type Scenario, startPgDemo, startSqliteDemo } from './lib';

async function run(ctx: Context, engine: 'sqlite' | 'postgresql'): Promise<Outcome> {
  const replays = ctx.options.short ? 100 : 1000;
  const s = engine === 'sqlite' ? await startSqliteDemo('idem') : await startPgDemo(ctx.options.pgUrl, 'idem');
  const db = await openDb(s.databaseUrl);
  try {
    const c = await idempotencyReplays([s.server.url], s.tokens, replays, `${engine}-${ctx.options.seed}`, db);
    return { status: c.failures.length ? 'fail' : 'pass', figures: [...c.figures.map((f) => `${engine}: ${f}`), `${c.requests} requests`], failures: c.failures };
  } finally {
    await db.close();
    await s.server.stop();
  }
}

export const idempotencySqlite: Scenario = { name: 'idempotency-sqlite', description: 'concurrent replays of one idempotency key on SQLite', run: (ctx) => run(ctx, 'sqlite') };
export const idempotencyPg: Scenario = { name: 'idempotency-pg', description: 'concurrent replays of one idempotency key on PostgreSQL', needsPg: true, run: (ctx) => run(ctx, 'postgresql') };
