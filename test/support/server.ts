import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import pino, { type Logger } from 'pino';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/common/config';
import { createApp, type App } from '../../src/server';
import type { DemoPrincipal } from '../../src/http/dashboard';
import { seedDemo } from '../../seeds/demo.seeder';
import { issueToken } from '../../src/modules/auth/auth.service';
import { generateToken } from '../../src/modules/auth/tokens';
import { User } from '../../src/modules/auth/user.entity';
import { Role } from '../../src/common/role';
import { Department } from '../../src/modules/departments/department.entity';

export type Engine = 'sqlite' | 'postgresql';

/**
 * The engines a test file runs on: SQLite always; PostgreSQL too when TEST_POSTGRES_URL names a
 * server (any database on it: each test file creates and drops a database of its own).
 */
export function engines(): Engine[] {
  return process.env.TEST_POSTGRES_URL ? ['sqlite', 'postgresql'] : ['sqlite'];
}

export interface GraphQLResult<T> {
  status: number;
  data: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }>;
  headers: Headers;
}

/** Sends typed operations with one bearer token. */
export interface Client {
  /** Sends a typed operation over HTTP, as a client would. */
  request<R, V>(doc: TypedDocumentNode<R, V>, variables?: V, headers?: Record<string, string>): Promise<GraphQLResult<R>>;
  /** Like `request`, failing the test on any GraphQL error; returns `data`. */
  data<R, V>(doc: TypedDocumentNode<R, V>, variables?: V): Promise<R>;
  /** The same client on the test clock: every request says it is `now` (ISO 8601; X-Clock-Now). */
  at(now: string): Client;
}

export interface TestServer extends Client {
  engine: Engine;
  app: App;
  url: string;
  /** The token of the admin every test server starts with; `request` and `data` send it. */
  adminToken: string;
  /** A client for a token (null: no Authorization header). */
  as(token: string | null): Client;
  /** A token of a new user with `role` (acting for department `departmentCode`), made directly in the database. */
  tokenFor(role: Role, departmentCode?: string | null): Promise<string>;
  /** SQL statements the server sends while `fn` runs. */
  countStatements(fn: () => Promise<unknown>): Promise<number>;
  close(): Promise<void>;
}

/** A logger that keeps every line in memory, for tests that read what was logged. */
export function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** Where a PostgreSQL test database is made: another server than TEST_POSTGRES_URL's (the replica tests' own primary), under a chosen name. */
export interface DatabasePlace {
  adminUrl: string;
  name: string;
}

/**
 * The config of a fresh database on `engine`, plus the clean-up that drops it. The principal cache
 * is off unless `env` turns it on (test/integration/principal-cache.test.ts does): with it on, a
 * request's statement count would depend on how long the machine took since the token's last
 * read (PRINCIPAL_CACHE_SECONDS), and tests count statements exactly.
 */
export async function freshDatabase(engine: Engine, env: Record<string, string> = {}, place?: DatabasePlace): Promise<{ config: Config; drop: () => Promise<void> }> {
  env = { PRINCIPAL_CACHE_SECONDS: '0', ...env };
  const name = place?.name ?? `tsla_test_${randomBytes(5).toString('hex')}`;
  if (engine === 'sqlite') {
    const file = path.join(os.tmpdir(), `${name}.sqlite`);
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: `sqlite:${file}`, ...env });
    return {
      config,
      drop: async () => {
        for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
      },
    };
  }
  const admin = place?.adminUrl ?? (process.env.TEST_POSTGRES_URL as string);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const config = loadConfig({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: url.toString(), ...env });
  return {
    config,
    drop: async () => {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Boots the real server on a fresh database of `engine` and a free port; `seed` adds the demo
 * company. With `sameDatabaseAs`, a second instance on that server's database instead (its config;
 * `close` leaves the database to the first).
 */
export async function startServer(
  engine: Engine,
  options: {
    env?: Record<string, string>;
    logger?: Logger;
    seed?: boolean | 'all';
    sameDatabaseAs?: TestServer;
    demoPrincipals?: () => DemoPrincipal[] | null;
    /** PostgreSQL only: the server and name of the fresh database (default: TEST_POSTGRES_URL's server, a random name). */
    database?: DatabasePlace;
    /** With `sameDatabaseAs`: settings of the second instance that differ from the first's (e.g. `auth`). */
    config?: Partial<Config>;
  } = {},
): Promise<TestServer> {
  // The test clock is on: tests of due dates and lateness send X-Clock-Now.
  const clock: Record<string, string> = options.env?.NODE_ENV === 'production' ? {} : { CLOCK_OVERRIDE: 'true' };
  // Tests move the clock with X-Clock-Now; a scheduler on the real clock would record transitions
  // their clock has not reached. Tests of the scheduler call `app.scheduler.tick(at)` themselves.
  clock.SCHEDULER_INTERVAL_MS ??= '0';
  // Likewise the webhook worker: tests of webhooks call `app.webhooks.tick(at)` themselves.
  clock.WEBHOOK_POLL_MS ??= '0';
  // A second instance on the database of a running one (tests of several instances): the same
  // config, and closing it leaves the database to the first.
  const { config, drop } = options.sameDatabaseAs
    ? { config: { ...options.sameDatabaseAs.app.config, ...options.config }, drop: async () => undefined }
    : await freshDatabase(engine, { ...clock, ...options.env }, options.database);
  const app = await createApp(config, { logger: options.logger ?? pino({ level: 'silent' }), demoPrincipals: options.demoPrincipals });
  // The demo company, on either engine (`npm start` seeds only the embedded database).
  // `true`: the catalogs only (tests build their own agreements); 'all': the demo agreements too.
  if (options.seed) await seedDemo(app.orm.em.fork(), { principals: false, agreements: options.seed === 'all' });
  const url = await app.listen();
  let users = 0;
  const tokenFor = async (role: Role, departmentCode: string | null = null): Promise<string> => {
    const em = app.orm.em.fork();
    const department = departmentCode ? await em.findOneOrFail(Department, { code: departmentCode }) : null;
    const n = ++users;
    // A second instance on the same database numbers its users apart from the first's.
    const host = options.sameDatabaseAs ? `b${randomBytes(3).toString('hex')}.` : '';
    const user = em.create(User, { name: `${role} ${n}`, email: `${role.toLowerCase()}.${n}@${host}test.example`, role, department });
    const secret = generateToken();
    issueToken(em, user, 'test', secret, null);
    await em.flush();
    return secret;
  };
  const as = (token: string | null, now?: string): Client => {
    const request = async <R, V>(doc: TypedDocumentNode<R, V>, variables?: V, headers: Record<string, string> = {}): Promise<GraphQLResult<R>> => {
      const send = () =>
        fetch(`${url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(now ? { 'x-clock-now': now } : {}),
            ...headers,
          },
          body: JSON.stringify({ query: print(doc), variables }),
        });
      let res: Response;
      try {
        res = await send();
      } catch (e) {
        // A test that kept the event loop busy for seconds (writing thousands of rows) can reuse a
        // keep-alive socket the server has just closed as idle: the request never reached it, so
        // sending it once more is safe.
        const code = ((e as { cause?: { code?: string } }).cause ?? {}).code;
        if (!(e instanceof TypeError) || !['UND_ERR_SOCKET', 'ECONNRESET'].includes(code ?? '')) throw e;
        res = await send();
      }
      const body = (await res.json()) as { data?: R | null; errors?: GraphQLResult<R>['errors'] };
      return { status: res.status, data: body.data ?? null, errors: body.errors, headers: res.headers };
    };
    return {
      request,
      async data(doc, variables) {
        const r = await request(doc, variables);
        if (r.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(r.errors)}`);
        return r.data as never;
      },
      at: (at: string) => as(token, at),
    };
  };
  const adminToken = await tokenFor(Role.ADMIN);
  const admin = as(adminToken);
  return {
    engine,
    app,
    url,
    adminToken,
    as,
    tokenFor,
    request: admin.request,
    data: admin.data,
    at: admin.at,
    async countStatements(fn) {
      const before = app.statements.count;
      await fn();
      return app.statements.count - before;
    },
    async close() {
      await app.close();
      await drop();
    },
  };
}

export { Role };

/** POSTs a raw body (for tests of the HTTP layer itself). */
export async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
