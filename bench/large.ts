/*
 * Benchmarks on the large data set (issue 8): the organisation scorecard against the raw SQL that
 * reads the same data plus JSON.stringify, and BI pulls (the facts connection and the CSV export)
 * against a raw driver read of the same rows. The baseline runs in this process; our server runs
 * as `npm start` runs it, a child process of its own (`dist/src/main.js`), whose resident memory is
 * sampled from /proc during each phase (issue 19 goal 4: ≤ 250 MB). The SQL statements of one
 * scorecard request are counted by an in-process server on the same database before the timed runs.
 *
 *   node dist/bench/large.js [--database /tmp/large.sqlite] [--runs 15] [--months 24]
 *
 * Without --database it generates a smaller company first (200 agreements, 24 months, 100,000
 * events: `seedLarge`), so a default run takes a minute or two; `npm run seed:large` makes the
 * full one (2,000 agreements, about 200,000 measurements, a million events) to pass here.
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import 'reflect-metadata';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import pino from 'pino';
import { addMonths, monthOf } from '../src/common/month';
import { loadConfig } from '../src/common/config';
import { createApp } from '../src/server';
import { issueToken } from '../src/modules/auth/auth.service';
import { generateToken } from '../src/modules/auth/tokens';
import { User } from '../src/modules/auth/user.entity';
import { Role } from '../src/common/role';
import { seedLarge } from '../seeds/large';
import { type RssReport, sampleProcessRss, type ServerProcess, startServerProcess } from './child';
import { fmt, latencyStats, mib, ms, option, printGoal, printTable } from './lib';

const GOAL_RSS = 250 * 1024 * 1024;

/**
 * POSTs a GraphQL request on a new connection (`agent: false`): the baseline's raw read between two
 * requests can take longer than the server's keep-alive timeout (5 s), and a socket the server
 * closed meanwhile must not be reused.
 */
function post(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<{ text: string; json: { data?: unknown; errors?: unknown[] } }> {
  const body = Buffer.from(JSON.stringify({ query, variables }));
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/graphql`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': String(body.length), authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            const json = JSON.parse(text) as { data?: unknown; errors?: unknown[] };
            if (json.errors) throw new Error(`GraphQL errors: ${JSON.stringify(json.errors).slice(0, 500)}`);
            resolve({ text, json });
          } catch (e) {
            reject(e instanceof SyntaxError ? new Error(`HTTP ${res.statusCode}: ${text.slice(0, 500)}`) : e);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const SCORECARD = `query($from: Month!, $to: Month!) { organisationScorecard(from: $from, to: $to) {
  agreementMonths score creditAmount compliance { evaluated met breaches rate } trend { slope direction }
  series { month score agreementMonths } byDepartment { department { code } score agreementMonths }
  byTier { tier score } byAgreement { agreement { key } score agreementMonths } } }`;

const FACTS = `query($filter: FactFilter!, $first: Int, $after: String) { measurementFacts(filter: $filter, first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id month agreementKey tier provider customer service metric unit direction target warning weight value status attainment excused source reportRevision updatedAt } } } }`;

async function main(): Promise<void> {
  const given = option('--database');
  const runs = Number(option('--runs') ?? 15);
  const months = Number(option('--months') ?? 24);
  const file = given ?? path.join(os.tmpdir(), `tsla_bench_large_${process.pid}.sqlite`);
  const env = { NODE_ENV: 'production', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0', SEED_DEMO: 'never', DATABASE_URL: `sqlite:${file}`, REQUEST_TIMEOUT_MS: '600000', SCHEDULER_INTERVAL_MS: '0' };
  const to = addMonths(monthOf(new Date()), -1);
  const from = addMonths(to, -(months - 1));
  let server: ServerProcess | undefined;
  try {
    // In this process: the data set (unless given), a token, and the statements of one scorecard request.
    const app = await createApp(loadConfig({ ...env, PORT: '0' }), { logger: pino({ level: 'silent' }) });
    let token: string;
    let statements: number;
    try {
      if (!given) {
        const t = performance.now();
        const r = await seedLarge(app.orm.em.fork(), { departments: 100, agreements: 200, months: 24, events: 100_000, seed: 'bench' });
        console.log(`generated 200 agreements, ${r.agreementMonths} agreement-months, ${r.events} events in ${fmt((performance.now() - t) / 1000, 1)} s`);
      }
      const em = app.orm.em.fork();
      const user = em.create(User, { name: 'bench', email: `bench.${process.pid}.${Date.now()}@bench.example`, role: Role.ANALYST, department: null });
      token = generateToken();
      issueToken(em, user, 'bench', token, null);
      await em.flush();
      const probeUrl = await app.listen();
      await post(probeUrl, token, SCORECARD, { from, to });
      const before = app.statements.count;
      await post(probeUrl, token, SCORECARD, { from, to });
      statements = app.statements.count - before;
    } finally {
      await app.close();
    }

    // Our server as `npm start` runs it; logging at info, as in production (read and dropped).
    server = await startServerProcess({ ...env, LOG_LEVEL: 'info' });
    const url = server.url;
    const db = new Database(file, { readonly: true });

    // ---- Organisation scorecard vs raw SQL + JSON.stringify
    const raw = () => {
      const rows = {
        agreements: db.prepare(`select id, key, tier, provider_id, customer_id, parent_id, activated_at, suspensions from agreement`).all(),
        versions: db.prepare(`select * from agreement_version`).all(),
        objectives: db.prepare(`select * from objective`).all(),
        metrics: db.prepare(`select * from metric`).all(),
        values: db
          .prepare(
            `select p.agreement_id, p.month, p.late_by_working_days, v.objective_id, v.value from report p left join report_value v on v.revision_id = p.latest_revision_id where p.month between ? and ?`,
          )
          .all(from, to),
        handoffs: db.prepare(`select * from handoff_month where month between ? and ?`).all(from, to),
        exclusions: db.prepare(`select agreement_id, month, objective_id from exclusion where status = 'APPROVED' and month between ? and ?`).all(from, to),
        escalations: db.prepare(`select * from escalation where month between ? and ?`).all(from, to),
      };
      return JSON.stringify(rows).length;
    };
    const ours: number[] = [];
    const base: number[] = [];
    const memory: Array<[string, RssReport]> = [];
    raw();
    let rss = sampleProcessRss(server.pid, 50);
    const warm = await post(url, token, SCORECARD, { from, to });
    const agreementMonths = (warm.json.data as { organisationScorecard: { agreementMonths: number } }).organisationScorecard.agreementMonths;
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      raw();
      base.push(performance.now() - t);
      t = performance.now();
      await post(url, token, SCORECARD, { from, to });
      ours.push(performance.now() - t);
    }
    memory.push(['organisation scorecard', await rss.stop()]);
    const o = latencyStats(ours);
    const b = latencyStats(base);
    printTable(
      `organisation scorecard, ${months} months, ${fmt(agreementMonths)} agreement-months (${runs} runs each)`,
      ['path', 'p50', 'p95', 'SQL statements'],
      [
        ['ours: GraphQL over HTTP (server in a child process)', ms(o.p50), ms(percentile95(ours)), String(statements)],
        ['baseline: raw SQL + JSON.stringify', ms(b.p50), ms(percentile95(base)), '8'],
      ],
    );
    printGoal('scorecard p50 within 2× of raw SQL + JSON.stringify', o.p50 <= 2 * b.p50, `${fmt(o.p50 / b.p50, 2)}×`);

    // ---- BI pull: facts connection and CSV vs a raw read of the same rows
    const filter = { from, to };
    rss = sampleProcessRss(server.pid, 50);
    let t = performance.now();
    let graphRows = 0;
    for (let after: string | null = null; ;) {
      const r = await post(url, token, FACTS, { filter, first: 2000, after });
      const page = (r.json.data as { measurementFacts: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }).measurementFacts;
      graphRows += page.edges.length;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const graphSeconds = (performance.now() - t) / 1000;
    memory.push(['measurementFacts pull', await rss.stop()]);
    rss = sampleProcessRss(server.pid, 50);
    t = performance.now();
    const csv = await fetch(`${url}/export/measurements.csv?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${token}` } });
    let csvRows = -1;
    for await (const chunk of csv.body as unknown as AsyncIterable<Uint8Array>) for (const byte of chunk) if (byte === 10) csvRows++;
    const csvSeconds = (performance.now() - t) / 1000;
    memory.push(['CSV export', await rss.stop()]);
    t = performance.now();
    let rawRows = 0;
    const stmt = db.prepare(
      `select p.month, a.key, a.tier, v.value, v.objective_id, o.target, o.warning, o.weight, m.code, m.unit, m.direction from report p join agreement a on a.id = p.agreement_id
        join report_value v on v.revision_id = p.latest_revision_id join objective o on o.id = v.objective_id join metric m on m.id = v.metric_id where p.month between ? and ? order by a.key, p.month, v.position`,
    );
    for (const row of stmt.iterate(from, to)) if (row) rawRows++;
    const rawSeconds = (performance.now() - t) / 1000;
    printTable(
      'BI pull of measurement facts',
      ['path', 'rows', 'seconds', 'rows/s'],
      [
        ['ours: measurementFacts, pages of 2,000', fmt(graphRows), fmt(graphSeconds, 2), fmt(graphRows / graphSeconds)],
        ['ours: GET /export/measurements.csv', fmt(csvRows), fmt(csvSeconds, 2), fmt(csvRows / csvSeconds)],
        ['baseline: raw driver read (reported values only)', fmt(rawRows), fmt(rawSeconds, 2), fmt(rawRows / rawSeconds)],
      ],
    );
    printGoal(
      'at least 100,000 rows/s through GraphQL',
      graphRows / graphSeconds >= 100_000,
      `${fmt(graphRows / graphSeconds)} rows/s (${fmt(graphRows / graphSeconds / (rawRows / rawSeconds), 3)} of raw)`,
    );
    db.close();
    printTable(
      `resident memory of our server process (pid ${server.pid}) in each phase (sampled every 50 ms from /proc)`,
      ['phase', 'first', 'peak', 'mean'],
      memory.map(([phase, m]) => [phase, mib(m.first), mib(m.peak), mib(m.mean)]),
    );
    const peak = Math.max(...memory.map(([, m]) => m.peak));
    printGoal(`our server's peak RSS ≤ ${mib(GOAL_RSS)}`, peak <= GOAL_RSS, mib(peak));
  } finally {
    await server?.stop();
    if (!given) for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
  }
}

function percentile95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
