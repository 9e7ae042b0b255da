/*
 * Requests per second of `{ __typename }` through our server (with a valid admin bearer token:
 * authentication, limits, logging and metrics all run) against a bare Apollo Server 5
 * (`startStandaloneServer`, a one-field schema), in one process, with the same closed-loop load
 * generator (a worker thread, keep-alive connections). The two servers are measured in
 * alternating rounds so that drift (JIT, CPU frequency, the page cache) hits both alike.
 *
 *   npm run build && node dist/bench/typename.js [--seconds N] [--concurrency C] [--pg]
 *
 * Goal: ours / bare ≥ 0.9 in requests per second.
 */
import 'reflect-metadata';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { benchSeconds, fmt, hasFlag, type LoadResult, ms, option, printGoal, printTable, runLoad } from './lib';
import { Role, startBenchServer, tokenFor } from './setup';

const GOAL = 0.9;
const ROUNDS = 2;

async function main(): Promise<number> {
  const seconds = benchSeconds(10);
  const concurrency = Number(option('--concurrency') ?? 32);
  const engine = hasFlag('--pg') ? 'postgresql' : 'sqlite';
  const body = JSON.stringify({ query: '{ __typename }' });

  const ours = await startBenchServer(engine, 'typename');
  const bare = new ApolloServer({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } });
  const { url: bareUrl } = await startStandaloneServer(bare, { listen: { host: '127.0.0.1', port: 0 } });
  let errors = 0;
  try {
    const token = await tokenFor(ours.app, Role.ADMIN);
    const targets = {
      ours: { url: ours.graphqlUrl, headers: { authorization: `Bearer ${token}` } },
      bare: { url: bareUrl, headers: {} as Record<string, string> },
    };
    console.log(`typename: ${concurrency} keep-alive connections, ${seconds} s measured per server in ${ROUNDS} alternating rounds (after 2 s warm-up each); our database: ${engine}`);

    // Warm-up both, then alternate bare/ours rounds.
    for (const t of [targets.bare, targets.ours]) {
      const w = await runLoad({ ...t, bodies: [body], concurrency, durationMs: 2000, expect: '"__typename":"Query"' });
      errors += w.errors;
      if (w.errors) console.error(`warm-up errors against ${t.url}:`, w.errorSamples);
    }
    const results: Record<'ours' | 'bare', LoadResult[]> = { ours: [], bare: [] };
    let statements = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of ['bare', 'ours'] as const) {
        const before = ours.app.statements.count;
        const res = await runLoad({ ...targets[name], bodies: [body], concurrency, durationMs: (seconds * 1000) / ROUNDS, expect: '"__typename":"Query"' });
        if (name === 'ours') statements += ours.app.statements.count - before;
        results[name].push(res);
        errors += res.errors;
        if (res.errors) console.error(`${name}: ${res.errors} errors, e.g.`, res.errorSamples);
      }
    }

    const summary = (list: LoadResult[]) => {
      const count = list.reduce((a, r) => a + r.count, 0);
      const elapsed = list.reduce((a, r) => a + r.elapsedMs, 0);
      // Percentiles of the rounds pooled: the rounds have the same length, so the mean of their
      // percentiles is close; the max is the max.
      const avg = (f: (r: LoadResult) => number) => list.reduce((a, r) => a + f(r), 0) / list.length;
      return {
        count,
        errors: list.reduce((a, r) => a + r.errors, 0),
        rps: count / (elapsed / 1000),
        p50: avg((r) => r.latency.p50),
        p99: avg((r) => r.latency.p99),
        max: Math.max(...list.map((r) => r.latency.max)),
        rounds: list.map((r) => fmt(r.rps)).join(' / '),
      };
    };
    const o = summary(results.ours);
    const b = summary(results.bare);
    const ratio = o.rps / b.rps;
    printTable(
      'POST { __typename } — closed loop',
      ['server', 'requests', 'errors', 'req/s', 'req/s by round', 'p50', 'p99', 'max'],
      [
        ['ours (src/server.ts, bearer token)', fmt(o.count), fmt(o.errors), fmt(o.rps), o.rounds, ms(o.p50), ms(o.p99), ms(o.max)],
        ['bare Apollo Server 5 (standalone)', fmt(b.count), fmt(b.errors), fmt(b.rps), b.rounds, ms(b.p50), ms(b.p99), ms(b.max)],
        ['ratio ours / bare', '', '', fmt(ratio, 3), '', fmt(o.p50 / b.p50, 2) + '×', fmt(o.p99 / b.p99, 2) + '×', ''],
      ],
    );
    console.log(`SQL statements per request of ours (measured rounds): ${fmt(statements / o.count, 2)}`);
    printGoal(`ours/bare requests per second ≥ ${GOAL}`, ratio >= GOAL, fmt(ratio, 3));
  } finally {
    await bare.stop();
    await ours.close();
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
