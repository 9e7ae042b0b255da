/*
 * The cost of the shared rate limit (issue 18): requests per second of `{ me { id } }` with one
 * admin token through three servers on PostgreSQL, in one run, in alternating rounds: rate limit
 * off, its buckets in memory (RATE_LIMIT_STORE=memory) and in the `rate_limit` table shared by
 * every instance (RATE_LIMIT_STORE=database, the default on PostgreSQL). The limit is set high
 * (1,000,000 a minute) so that nothing is refused: what is measured is the charge itself (a read
 * of the address's failed-authentication bucket, then the upsert of the token's bucket).
 *
 *   npm run build && node dist/bench/rate-limit.js [--seconds N] [--concurrency C] [--rounds R]
 *
 * Goal: database / memory ≥ 0.8 in requests per second.
 */
import 'reflect-metadata';
import { benchSeconds, fmt, type LoadResult, ms, option, printGoal, printTable, runLoad } from './lib';
import { type BenchServer, Role, startBenchServer, tokenFor } from './setup';

const GOAL = 0.8;

type Variant = 'off' | 'memory' | 'database';

const VARIANTS: Record<Variant, Record<string, string>> = {
  off: { RATE_LIMIT_PER_MINUTE: '0' },
  memory: { RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_STORE: 'memory' },
  database: { RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_STORE: 'database' },
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<number> {
  const seconds = benchSeconds(5);
  const concurrency = Number(option('--concurrency') ?? 16);
  const rounds = Number(option('--rounds') ?? 3);
  const body = JSON.stringify({ query: '{ me { id } }' });
  const servers: Partial<Record<Variant, BenchServer>> = {};
  let errors = 0;
  try {
    for (const v of Object.keys(VARIANTS) as Variant[]) servers[v] = await startBenchServer('postgresql', `rate_${v}`, VARIANTS[v]);
    const targets = {} as Record<Variant, { url: string; headers: Record<string, string> }>;
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const s = servers[v] as BenchServer;
      targets[v] = { url: s.graphqlUrl, headers: { authorization: `Bearer ${await tokenFor(s.app, Role.ADMIN)}` } };
    }
    console.log(`rate-limit: POST { me { id } }, one admin token, ${concurrency} keep-alive connections, ${rounds} alternating rounds of ${seconds} s per server (after 2 s warm-up each), PostgreSQL`);
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const w = await runLoad({ ...targets[v], bodies: [body], concurrency, durationMs: 2000, expect: '"me":{"id"' });
      errors += w.errors;
      if (w.errors) console.error(`warm-up errors (${v}):`, w.errorSamples);
    }
    const results: Record<Variant, LoadResult[]> = { off: [], memory: [], database: [] };
    for (let r = 0; r < rounds; r++) {
      for (const v of Object.keys(VARIANTS) as Variant[]) {
        const res = await runLoad({ ...targets[v], bodies: [body], concurrency, durationMs: seconds * 1000, expect: '"me":{"id"' });
        results[v].push(res);
        errors += res.errors;
        if (res.errors) console.error(`${v}: ${res.errors} errors, e.g.`, res.errorSamples);
      }
    }
    const row = (v: Variant, label: string) => {
      const rps = results[v].map((r) => r.rps);
      return [
        label,
        fmt(median(rps)),
        `${fmt(Math.min(...rps))} – ${fmt(Math.max(...rps))}`,
        ms(median(results[v].map((r) => r.latency.p50))),
        ms(median(results[v].map((r) => r.latency.p99))),
        fmt(results[v].reduce((a, r) => a + r.errors, 0)),
      ];
    };
    const m = median(results.memory.map((r) => r.rps));
    const d = median(results.database.map((r) => r.rps));
    const o = median(results.off.map((r) => r.rps));
    printTable(
      'POST { me { id } } — closed loop, medians of the rounds',
      ['rate limit', 'req/s', 'req/s range', 'p50', 'p99', 'errors'],
      [
        row('off', 'off (RATE_LIMIT_PER_MINUTE=0)'),
        row('memory', 'memory (RATE_LIMIT_STORE=memory)'),
        row('database', 'database (shared, rate_limit table)'),
        ['ratio database / memory', fmt(d / m, 3), '', '', '', ''],
        ['ratio memory / off', fmt(m / o, 3), '', '', '', ''],
      ],
    );
    printGoal(`database/memory requests per second ≥ ${GOAL}`, d / m >= GOAL, fmt(d / m, 3));
  } finally {
    for (const s of Object.values(servers)) await s?.close();
  }
  return errors ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
