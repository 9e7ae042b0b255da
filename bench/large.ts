/*
 * Benchmarks on the large data set (issue 8): the organisation scorecard against the raw SQL that
 * reads the same data plus JSON.stringify, and BI pulls (the facts connection and the CSV export)
 * against a raw driver read of the same rows. Both run our path and the baseline in one process.
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
import { fmt, latencyStats, ms, option, printGoal, printTable } from './lib';

async function post(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<{ text: string; json: { data?: unknown; errors?: unknown[] } }> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  const json = JSON.parse(text) as { data?: unknown; errors?: unknown[] };
  if (json.errors) throw new Error(`GraphQL errors: ${JSON.stringify(json.errors).slice(0, 500)}`);
  return { text, json };
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
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0', SEED_DEMO: 'never', DATABASE_URL: `sqlite:${file}`, REQUEST_TIMEOUT_MS: '600000' });
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  try {
    if (!given) {
      const t = performance.now();
      const r = await seedLarge(app.orm.em.fork(), { departments: 100, agreements: 200, months: 24, events: 100_000, seed: 'bench' });
      console.log(`generated 200 agreements, ${r.agreementMonths} agreement-months, ${r.events} events in ${fmt((performance.now() - t) / 1000, 1)} s`);
    }
    const em = app.orm.em.fork();
    const user = em.create(User, { name: 'bench', email: `bench.${process.pid}.${Date.now()}@bench.example`, role: Role.ANALYST, department: null });
    const token = generateToken();
    issueToken(em, user, 'bench', token, null);
    await em.flush();
    const url = await app.listen();
    const to = addMonths(monthOf(new Date()), -1);
    const from = addMonths(to, -(months - 1));
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
    let statements = 0;
    let agreementMonths = 0;
    raw();
    const warm = await post(url, token, SCORECARD, { from, to });
    agreementMonths = (warm.json.data as { organisationScorecard: { agreementMonths: number } }).organisationScorecard.agreementMonths;
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      raw();
      base.push(performance.now() - t);
      const before = app.statements.count;
      t = performance.now();
      await post(url, token, SCORECARD, { from, to });
      ours.push(performance.now() - t);
      statements = app.statements.count - before;
    }
    const o = latencyStats(ours);
    const b = latencyStats(base);
    printTable(
      `organisation scorecard, ${months} months, ${fmt(agreementMonths)} agreement-months (${runs} runs each)`,
      ['path', 'p50', 'p95', 'SQL statements'],
      [
        ['ours: GraphQL over HTTP', ms(o.p50), ms(percentile95(ours)), String(statements - 1)],
        ['baseline: raw SQL + JSON.stringify', ms(b.p50), ms(percentile95(base)), '8'],
      ],
    );
    printGoal('scorecard p50 within 2× of raw SQL + JSON.stringify', o.p50 <= 2 * b.p50, `${fmt(o.p50 / b.p50, 2)}×`);

    // ---- BI pull: facts connection and CSV vs a raw read of the same rows
    const filter = { from, to };
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
    t = performance.now();
    const csv = await fetch(`${url}/export/measurements.csv?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${token}` } });
    let csvRows = -1;
    for await (const chunk of csv.body as unknown as AsyncIterable<Uint8Array>) for (const byte of chunk) if (byte === 10) csvRows++;
    const csvSeconds = (performance.now() - t) / 1000;
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
  } finally {
    await app.close();
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
