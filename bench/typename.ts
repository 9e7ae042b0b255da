/*
 * The cheapest authenticated requests through our server against a bare Apollo Server 5's
 * `{ hello }` (issue 19, goals 1 and 4):
 *   - `{ me { id } }` with a valid bearer token (authentication, limits, logging, metrics, one resolver);
 *   - `{ __typename }` with the same token, which is checked too (a token that is sent is always checked).
 * Both servers run as child processes of their own, as `npm start` runs ours (`dist/src/main.js`,
 * NODE_ENV unset, logging at `info` into a pipe this process reads and drops, the rate limiter on
 * with a limit above what the load reaches); the load generator is a worker thread of this
 * process, with keep-alive connections in a closed loop. The servers are measured in alternating
 * rounds (bare, me, __typename) so that drift hits all alike; each figure is the median of the
 * rounds with their spread, and each ratio is taken within a round. Each server's resident memory
 * is sampled from /proc while the load runs.
 *
 *   npm run build && node dist/bench/typename.js [--seconds N] [--rounds R] [--concurrency C] [--pg] [--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]
 *
 * Goals: me / bare ≥ 0.5 and __typename / bare ≥ 0.9 in requests per second; our peak RSS ≤ 250 MB.
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/common/config';
import { Role } from '../src/common/role';
import { openOrm } from '../src/db/orm';
import { issueToken } from '../src/modules/auth/auth.service';
import { generateToken } from '../src/modules/auth/tokens';
import { User } from '../src/modules/auth/user.entity';
import { processCpuSeconds, sampleProcessRss, type ServerProcess, startBareApolloProcess, startServerProcess } from './child';
import { benchSeconds, fmt, hasFlag, type LoadResult, mib, ms, option, printGoal, printTable, runLoad } from './lib';
import { benchDatabase } from './setup';

const ME_GOAL = 0.5;
const TYPENAME_GOAL = 0.9;
const RSS_GOAL_MB = 250;

/** A fresh, migrated database with one ADMIN user and its token; `drop` removes it. */
async function prepareDatabase(pgServer: boolean): Promise<{ url: string; token: string; drop: () => Promise<void> }> {
  const id = `tsla_bench_typename_${randomBytes(4).toString('hex')}`;
  const { url, drop } = benchDatabase(pgServer, id);
  const { orm } = await openOrm(loadConfig({ NODE_ENV: 'production', PORT: '0', LOG_LEVEL: 'silent', SEED_DEMO: 'never', DATABASE_URL: url }));
  try {
    const em = orm.em.fork();
    const user = em.create(User, { name: 'typename bench', email: 'typename.bench@bench.example', role: Role.ADMIN, department: null });
    const token = generateToken();
    issueToken(em, user, 'bench', token, null);
    await em.flush();
    return { url, token, drop };
  } catch (e) {
    await drop().catch(() => undefined);
    throw e;
  } finally {
    await orm.close(true);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const spread = (xs: number[], digits = 0): string => `${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)}`;

async function main(): Promise<number> {
  const seconds = benchSeconds(5);
  const rounds = Math.max(3, Number(option('--rounds') ?? 3));
  const concurrency = Number(option('--concurrency') ?? 32);
  const engine = hasFlag('--pg') ? 'postgresql' : 'sqlite';

  const db = await prepareDatabase(engine === 'postgresql');
  let ours: ServerProcess | undefined;
  let bare: ServerProcess | undefined;
  let errors = 0;
  try {
    // As `npm start` runs it (NODE_ENV unset), logging at info, the rate limiter on (per token; its
    // limit above the load's pace, so it counts every request and refuses none).
    // `--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"`: flags for our server's node (a CPU profile of the run).
    const nodeArgs = option('--server-node-args')?.split(' ').filter(Boolean) ?? [];
    ours = await startServerProcess({ DATABASE_URL: db.url, LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '1000000', SEED_DEMO: 'never' }, nodeArgs);
    bare = await startBareApolloProcess({ NODE_ENV: 'production' });
    const auth = { authorization: `Bearer ${db.token}` };
    const targets = {
      bare: { label: 'bare Apollo Server 5 { hello } (no token)', url: bare.url, headers: {} as Record<string, string>, body: JSON.stringify({ query: '{ hello }' }), expect: '"hello":"world"' },
      me: { label: 'ours { me { id } } (bearer token)', url: `${ours.url}/graphql`, headers: auth, body: JSON.stringify({ query: '{ me { id } }' }), expect: '"me":{"id":"' },
      typename: { label: 'ours { __typename } (bearer token, checked)', url: `${ours.url}/graphql`, headers: auth, body: JSON.stringify({ query: '{ __typename }' }), expect: '"__typename":"Query"' },
    };
    type Name = keyof typeof targets;
    const names: Name[] = ['bare', 'me', 'typename'];
    console.log(
      `typename: ${concurrency} keep-alive connections, ${rounds} alternating rounds of ${seconds} s per target (after a 2 s warm-up each); ` +
        `our server: dist/src/main.js (pid ${ours.pid}, NODE_ENV unset, LOG_LEVEL=info to a pipe, rate limiter on), database ${engine}; bare Apollo: pid ${bare.pid}, NODE_ENV=production`,
    );
    for (const name of names) {
      const t = targets[name];
      const w = await runLoad({ url: t.url, headers: t.headers, bodies: [t.body], concurrency, durationMs: 2000, expect: t.expect });
      errors += w.errors;
      if (w.errors) console.error(`warm-up errors against ${name}:`, w.errorSamples);
    }
    const oursRss = sampleProcessRss(ours.pid, 50);
    const bareRss = sampleProcessRss(bare.pid, 50);
    const results: Record<Name, LoadResult[]> = { bare: [], me: [], typename: [] };
    /** CPU seconds (user + system, from /proc) of the server that answered, per measured request, by round. */
    const cpuPerRequest: Record<Name, number[]> = { bare: [], me: [], typename: [] };
    const pidOf = (name: Name): number => (name === 'bare' ? (bare as ServerProcess).pid : (ours as ServerProcess).pid);
    for (let r = 0; r < rounds; r++) {
      for (const name of names) {
        const t = targets[name];
        const cpu0 = processCpuSeconds(pidOf(name));
        const res = await runLoad({ url: t.url, headers: t.headers, bodies: [t.body], concurrency, durationMs: seconds * 1000, expect: t.expect });
        cpuPerRequest[name].push((processCpuSeconds(pidOf(name)) - cpu0) / Math.max(1, res.count));
        results[name].push(res);
        errors += res.errors;
        if (res.errors) console.error(`${name}: ${res.errors} errors, e.g.`, res.errorSamples);
      }
    }
    const [ourMemory, bareMemory] = [await oursRss.stop(), await bareRss.stop()];

    const rows = names.map((name) => {
      const list = results[name];
      const rps = list.map((r) => r.rps);
      return [
        targets[name].label,
        fmt(list.reduce((a, r) => a + r.count, 0)),
        fmt(list.reduce((a, r) => a + r.errors, 0)),
        fmt(median(rps)),
        spread(rps),
        ms(median(list.map((r) => r.latency.p50))),
        ms(median(list.map((r) => r.latency.p99))),
        fmt(median(cpuPerRequest[name]) * 1e6),
      ];
    });
    printTable(
      `POST /graphql — closed loop, median of ${rounds} rounds (server CPU: user + system time of the answering process per request, /proc)`,
      ['target', 'requests', 'errors', 'req/s', 'req/s spread', 'p50', 'p99', 'server CPU µs/req'],
      rows,
    );
    const ratios = (name: Name) => results[name].map((r, i) => r.rps / results.bare[i].rps);
    const me = ratios('me');
    const typename = ratios('typename');
    printTable(
      'ratios ours / bare, within each round',
      ['ratio', 'median', 'spread', 'by round'],
      [
        ['{ me { id } } / bare', fmt(median(me), 3), spread(me, 3), me.map((x) => fmt(x, 3)).join(' / ')],
        ['{ __typename } / bare', fmt(median(typename), 3), spread(typename, 3), typename.map((x) => fmt(x, 3)).join(' / ')],
      ],
    );
    printTable(
      'resident memory of each server process while the load ran (sampled every 50 ms from /proc)',
      ['process', 'first', 'peak', 'mean'],
      [
        ['ours', mib(ourMemory.first), mib(ourMemory.peak), mib(ourMemory.mean)],
        ['bare Apollo', mib(bareMemory.first), mib(bareMemory.peak), mib(bareMemory.mean)],
      ],
    );
    printGoal(`{ me { id } } with a token ≥ ${ME_GOAL}× bare Apollo's { hello }`, median(me) >= ME_GOAL, `${fmt(median(me), 3)} (spread ${spread(me, 3)})`);
    printGoal(`{ __typename } with a checked token ≥ ${TYPENAME_GOAL}× bare Apollo's { hello }`, median(typename) >= TYPENAME_GOAL, `${fmt(median(typename), 3)} (spread ${spread(typename, 3)})`);
    printGoal(`our server's peak RSS ≤ ${RSS_GOAL_MB} MB`, ourMemory.peak <= RSS_GOAL_MB * 1024 * 1024, mib(ourMemory.peak));
    // Goal 5: as `npm start` runs it (NODE_ENV unset), graphql-js in production mode (src/common/graphql-mode.ts).
    printGoal(
      'graphql-js in production mode where the server runs for users (NODE_ENV unset, as `npm start`)',
      ours.graphqlJs === 'production',
      `the server logs graphqlJs: ${ours.graphqlJs ?? 'nothing'}`,
    );
  } finally {
    await ours?.stop();
    await bare?.stop();
    await db.drop();
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
