/*
 * Boots the real server for a benchmark on a fresh database (SQLite file under the OS temp
 * directory, or a new PostgreSQL database), and writes what the benchmarks need straight into it:
 * an admin token and generated ACTIVE agreements.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import pino from 'pino';
import pg from 'pg';
import { loadConfig } from '../src/common/config';
import { createApp, type App } from '../src/server';
import { seedDemo } from '../seeds/demo.seeder';
import { monthRange, type Month } from '../src/common/month';
import { Agreement, AgreementStatus, Tier } from '../src/modules/agreements/agreement.entity';
import { createObjective, createVersion } from '../src/modules/agreements/agreement.service';
import { issueToken } from '../src/modules/auth/auth.service';
import { generateToken } from '../src/modules/auth/tokens';
import { User } from '../src/modules/auth/user.entity';
import { Role } from '../src/common/role';
import { Metric } from '../src/modules/catalog/metric.entity';
import { Department } from '../src/modules/departments/department.entity';

export type Engine = 'sqlite' | 'postgresql';

/** The PostgreSQL server used with `--pg` (any database on it: a fresh one is created and dropped). */
export function postgresUrl(): string {
  return process.env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
}

/**
 * Where a bench database named `id` lives (a file in the temp folder, or a database on the
 * PostgreSQL server of {@link postgresUrl}, created by the ORM when opened) and how to remove it.
 */
export function benchDatabase(pgServer: boolean, id: string): { url: string; drop: () => Promise<void> } {
  if (!pgServer) {
    const file = path.join(os.tmpdir(), `${id}.sqlite`);
    return {
      url: `sqlite:${file}`,
      drop: async () => {
        for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
      },
    };
  }
  const admin = postgresUrl();
  const u = new URL(admin);
  u.pathname = `/${id}`;
  return {
    url: u.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`drop database if exists "${id}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface BenchServer {
  engine: Engine;
  app: App;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** POST target of the API. */
  graphqlUrl: string;
  /** The SQLite file, or the PostgreSQL URL of the fresh database. */
  database: string;
  /** The environment it was started with (DATABASE_URL included): a child server on the same database starts with it. */
  env: Record<string, string>;
  /** Stops the in-process server and keeps the database (for a child server on it); once. */
  stopApp(): Promise<void>;
  /** Stops the server and removes the database. */
  close(): Promise<void>;
}

/**
 * Starts the API on a fresh database of `engine` with the demo catalogs and agreements, rate
 * limit off, the test clock allowed and logging silent; `extraEnv` adds or overrides settings.
 */
export async function startBenchServer(engine: Engine, name: string, extraEnv: Record<string, string> = {}): Promise<BenchServer> {
  const id = `tsla_bench_${name}_${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = { NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0', CLOCK_OVERRIDE: 'true', SEED_DEMO: 'never', ...extraEnv };
  const { url: databaseUrl, drop } = benchDatabase(engine === 'postgresql', id);
  env.DATABASE_URL = databaseUrl;
  const database = databaseUrl.replace(/^sqlite:/, '');
  let app: App;
  try {
    app = await createApp(loadConfig(env), { logger: pino({ level: 'silent' }) });
  } catch (e) {
    await drop().catch(() => undefined);
    throw e;
  }
  try {
    await seedDemo(app.orm.em.fork(), { principals: false, agreements: true });
  } catch (e) {
    await app.close().catch(() => undefined);
    await drop().catch(() => undefined);
    throw e;
  }
  const url = await app.listen();
  let stopped: Promise<void> | undefined;
  const stopApp = () => (stopped ??= app.close());
  return {
    engine,
    app,
    url,
    graphqlUrl: `${url}/graphql`,
    database,
    env,
    stopApp,
    async close() {
      await stopApp();
      await drop();
    },
  };
}

let users = 0;

/** A token of a new user with `role`, written directly (as test/support/server.ts `tokenFor` does). */
export async function tokenFor(app: App, role: Role): Promise<string> {
  const em = app.orm.em.fork();
  const n = ++users;
  const user = em.create(User, { name: `bench ${role} ${n}`, email: `bench.${role.toLowerCase()}.${n}@bench.example`, role, department: null });
  const secret = generateToken();
  issueToken(em, user, 'bench', secret, null);
  await em.flush();
  return secret;
}

export interface GeneratedAgreement {
  id: string;
  key: string;
  /** The two MANUAL objectives: STATEMENT_ACCURACY (percent), then MTTR (hours). */
  objectiveIds: [string, string];
}

/**
 * Writes `count` ACTIVE CUSTOMER agreements (activated at the start of `from`, in force from
 * `from` on) under one new CORPORATE charter, each between two new departments and with two
 * MANUAL objectives, like test/support/generate.ts `generateAgreements` but without reports, so
 * that every month from `from` on is free to be reported. Flushed in chunks of 250.
 */
export async function generateAgreements(em: EntityManager, prefix: string, count: number, from: Month): Promise<GeneratedAgreement[]> {
  const metrics = await em.find(Metric, { code: { $in: ['STATEMENT_ACCURACY', 'MTTR', 'REPORT_DAYS_LATE'] } });
  const metric = (code: string) => {
    const m = metrics.find((x) => x.code === code);
    if (!m) throw new Error(`metric ${code} is not in the catalog (is the demo seeded?)`);
    return m;
  };
  const activatedAt = new Date(`${from}-01T00:00:00Z`);
  const charter = em.create(Agreement, { key: `${prefix}-CHARTER`, tier: Tier.CORPORATE, title: 'Bench charter', state: AgreementStatus.ACTIVE, activatedAt });
  const charterVersion = createVersion(em, charter, 1, from, { effectiveFrom: from });
  createObjective(em, charterVersion, metric('REPORT_DAYS_LATE'), { metricId: metric('REPORT_DAYS_LATE').id, target: 0 }, 0);
  await em.flush();
  const out: GeneratedAgreement[] = [];
  const CHUNK = 250;
  for (let start = 0; start < count; start += CHUNK) {
    const pending: Array<{ agreement: Agreement; objectives: Array<{ id: string }> }> = [];
    for (let i = start; i < Math.min(count, start + CHUNK); i++) {
      const provider = em.create(Department, { code: `${prefix}-P${i}`, name: `Bench provider ${i}` });
      const customer = em.create(Department, { code: `${prefix}-C${i}`, name: `Bench customer ${i}` });
      const agreement = em.create(Agreement, { key: `${prefix}-A${i}`, tier: Tier.CUSTOMER, title: `Bench ${i}`, provider, customer, parent: charter, state: AgreementStatus.ACTIVE, activatedAt });
      const version = createVersion(em, agreement, 1, from, { effectiveFrom: from, monthlyCharge: 1000, creditCapPercent: 10 });
      const accuracy = createObjective(em, version, metric('STATEMENT_ACCURACY'), { metricId: metric('STATEMENT_ACCURACY').id, target: 99.5, weight: 2, creditPercent: 5 }, 0);
      const mttr = createObjective(em, version, metric('MTTR'), { metricId: metric('MTTR').id, target: 4, creditPercent: 3 }, 1);
      pending.push({ agreement, objectives: [accuracy, mttr] });
    }
    await em.flush();
    for (const p of pending) out.push({ id: p.agreement.id, key: p.agreement.key, objectiveIds: [p.objectives[0].id, p.objectives[1].id] });
  }
  return out;
}

/** Months `from` … `to`, inclusive. */
export function months(from: Month, to: Month): Month[] {
  return monthRange(from, to);
}

export { Role };
