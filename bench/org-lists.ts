/*
 * The dashboard's organisation-wide lists on the large data set (issues 13 and 19): the heat map
 * (`departments(first: 100) { scorecard(as: PROVIDER) { series } }`), `atRisk(month)` and
 * `overdueReports(from)`, each as the dashboard asks it, through GraphQL over HTTP (ours: read from
 * the score ledger's stored rows with a few set-based statements), against the path they took
 * before, in the same process and run, on a fresh request context each time:
 * - heat map: one ledger roll-up per department (`departmentScorecardAlone`);
 * - atRisk: the agreements the ledger names scored again from the facts (`atRiskRescored`);
 * - overdueReports: every agreement's versions and reports walked month by month (`overdueReportsRescored`).
 * Both answers are compared (the same JSON) before timing; the rounds alternate.
 *
 *   npm run build && node dist/bench/org-lists.js [--database /tmp/large.sqlite] [--runs 5]
 *
 * Without --database it generates a company first (200 departments, 2,000 agreements, 24 months,
 * 50,000 handoff events: `seedLarge`, about a minute) in a temporary file; `npm run seed:large --
 * --events 50000` makes the same data set to pass with --database.
 */
// First: graphql-js in production mode unless GRAPHQL_DEV_CHECKS=true (src/common/graphql-mode.ts).
import '../src/common/graphql-mode';
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { addMonths, monthOf } from '../src/common/month';
import { loadConfig } from '../src/common/config';
import { createContext } from '../src/common/context';
import { createApp } from '../src/server';
import { issueToken } from '../src/modules/auth/auth.service';
import { generateToken } from '../src/modules/auth/tokens';
import { User } from '../src/modules/auth/user.entity';
import { Role } from '../src/common/role';
import { Department } from '../src/modules/departments/department.entity';
import { Agreement } from '../src/modules/agreements/agreement.entity';
import { PartyRole } from '../src/modules/scorecards/scorecard.types';
import { atRiskRescored, departmentScorecardAlone } from '../src/modules/scorecards/scorecard.views';
import { overdueReportsRescored } from '../src/modules/reports/report.service';
import { seedLarge } from '../seeds/large';
import { fmt, latencyStats, ms, option, printGoal, printTable } from './lib';

async function post(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<unknown> {
  // The baseline runs for seconds between requests: a kept-alive socket the server has closed meanwhile is retried once.
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) }).catch(
    () => fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) }),
  );
  const json = (await res.json()) as { data?: unknown; errors?: unknown[] };
  if (json.errors) throw new Error(`GraphQL errors: ${JSON.stringify(json.errors).slice(0, 500)}`);
  return json.data;
}

// The dashboard's queries (web/src/views/org.ts).
const HEAT = `query DashboardHeatMap($from: Month!, $to: Month!) {
  departments(first: 100) { totalCount edges { node { code name scorecard(as: PROVIDER, from: $from, to: $to) { series { month score status creditAmount } } } } } }`;
const RISK = `query DashboardAtRisk($month: Month!) { atRisk(month: $month) { month agreement { key title } objective { status value target metric { code name unit } } } }`;
const OVERDUE = `query DashboardOverdue($from: Month!) { overdueReports(from: $from) { month dueDate workingDaysOverdue agreement { key title provider { code } } } }`;

async function main(): Promise<void> {
  const given = option('--database');
  const runs = Number(option('--runs') ?? 5);
  const file = given ?? path.join(os.tmpdir(), `tsla_bench_org_${process.pid}.sqlite`);
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0', SEED_DEMO: 'never', DATABASE_URL: `sqlite:${file}`, REQUEST_TIMEOUT_MS: '600000' });
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  try {
    if (!given) {
      const t = performance.now();
      const r = await seedLarge(app.orm.em.fork(), { departments: 200, agreements: 2000, months: 24, events: 50_000, seed: 'large' });
      console.log(`generated 2,000 agreements, ${r.agreementMonths} agreement-months, ${r.events} events in ${fmt((performance.now() - t) / 1000, 1)} s`);
    }
    const em = app.orm.em.fork();
    const user = em.create(User, { name: 'bench', email: `bench.${process.pid}.${Date.now()}@bench.example`, role: Role.ANALYST, department: null });
    const token = generateToken();
    issueToken(em, user, 'bench', token, null);
    await em.flush();
    const url = await app.listen();
    // As the dashboard: the twelve months to the current one; at risk, the last month that has ended.
    const to = monthOf(new Date());
    const from = addMonths(to, -11);
    const riskMonth = addMonths(to, -1);
    const fresh = () => createContext(app.orm, 'bench', null, new Date());

    const lists: Array<{ name: string; ours: () => Promise<unknown>; before: () => Promise<unknown>; size: (data: unknown) => number }> = [
      {
        name: 'heat map: departments(first: 100) { scorecard(as: PROVIDER) { series } }',
        ours: () => post(url, token, HEAT, { from, to }),
        before: async () => {
          const ctx = fresh();
          const departments = await ctx.em.find(Department, {}, { orderBy: { code: 'asc' }, limit: 100 });
          const totalCount = await ctx.em.count(Department, {});
          const edges = [];
          for (const d of departments) {
            const s = await departmentScorecardAlone(ctx, d, from, to, PartyRole.PROVIDER);
            edges.push({ node: { code: d.code, name: d.name, scorecard: { series: s.series.map((p) => ({ month: p.month, score: p.score, status: p.status, creditAmount: p.creditAmount })) } } });
          }
          return { departments: { totalCount, edges } };
        },
        size: (d) => (d as { departments: { edges: unknown[] } }).departments.edges.length,
      },
      {
        name: `atRisk(month: ${riskMonth})`,
        ours: () => post(url, token, RISK, { month: riskMonth }),
        before: async () => {
          const ctx = fresh();
          const items = await atRiskRescored(ctx, riskMonth);
          return {
            atRisk: items.map((i) => ({
              month: i.month,
              agreement: { key: i.agreement.key, title: i.agreement.title },
              objective: {
                status: i.objective.status,
                value: i.objective.value,
                target: i.objective.target,
                metric: { code: i.objective.metric.code, name: i.objective.metric.name, unit: i.objective.metric.unit },
              },
            })),
          };
        },
        size: (d) => (d as { atRisk: unknown[] }).atRisk.length,
      },
      {
        name: `overdueReports(from: ${from})`,
        ours: () => post(url, token, OVERDUE, { from }),
        before: async () => {
          const ctx = fresh();
          const list = await overdueReportsRescored(ctx, ctx.request.now, from);
          const providers = await ctx.em.find(Agreement, { id: { $in: [...new Set(list.map((r) => r.agreement.id))] } }, { populate: ['provider'] });
          const codeOf = new Map(providers.map((a) => [a.id, a.provider?.getEntity().code ?? null]));
          return {
            overdueReports: list.map((r) => ({
              month: r.month,
              dueDate: r.dueDate,
              workingDaysOverdue: r.workingDaysOverdue,
              agreement: { key: r.agreement.key, title: r.agreement.title, provider: codeOf.get(r.agreement.id) ? { code: codeOf.get(r.agreement.id) } : null },
            })),
          };
        },
        size: (d) => (d as { overdueReports: unknown[] }).overdueReports.length,
      },
    ];

    const rows: string[][] = [];
    const goals: Array<[string, boolean, string]> = [];
    for (const list of lists) {
      const a = JSON.stringify(await list.ours());
      const b = JSON.stringify(await list.before());
      const same = a === b;
      const items = list.size(JSON.parse(a));
      const ours: number[] = [];
      const before: number[] = [];
      let statements = 0;
      for (let i = 0; i < runs; i++) {
        let t = performance.now();
        await list.before();
        before.push(performance.now() - t);
        const count = app.statements.count;
        t = performance.now();
        await list.ours();
        ours.push(performance.now() - t);
        statements = app.statements.count - count;
      }
      const o = latencyStats(ours);
      const p = latencyStats(before);
      rows.push([
        list.name,
        fmt(items),
        same ? 'yes' : 'NO',
        ms(o.p50),
        `${ms(Math.min(...ours))}–${ms(o.max)}`,
        String(statements),
        ms(p.p50),
        `${ms(Math.min(...before))}–${ms(p.max)}`,
        `${fmt(p.p50 / o.p50, 1)}×`,
      ]);
      goals.push([`${list.name}: same answer as before, and faster`, same && o.p50 < p.p50, `${fmt(p.p50 / o.p50, 1)}× faster, ${same ? 'same' : 'DIFFERENT'} answer`]);
      if (!same) console.log(`${list.name}: answers differ\n  ours:   ${a.slice(0, 400)}\n  before: ${b.slice(0, 400)}`);
    }
    printTable(
      `organisation-wide lists, ${runs} runs each (ours: GraphQL over HTTP; before: the previous path in process, no HTTP)`,
      ['query', 'items', 'same', 'ours p50', 'ours range', 'ours SQL', 'before p50', 'before range', 'speed-up'],
      rows,
    );
    for (const g of goals) printGoal(...g);
  } finally {
    await app.close();
    if (!given) for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
