/*
 * Shared pieces of the torture suite: arguments, the real server as a child process on a loopback
 * port, an HTTP client with a hard timeout per request, fresh SQLite files and PostgreSQL
 * databases (created and dropped here), clean-up on exit and on Ctrl-C, and small statistics.
 * Node built-ins plus `pg` only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { random } from '../seeds/random';

/** The repository root (this file runs from dist/torture/). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
export const SEED_CLI = path.join(ROOT, 'dist', 'seeds', 'seed.cli.js');

// ---------------------------------------------------------------------------------------------
// Arguments

export interface Options {
  short: boolean;
  only: string[] | null;
  /** `--seconds N`: the soak's length (and a cap on the time-boxed phases). */
  seconds: number | null;
  pgUrl: string;
  seed: number;
}

export function parseArgs(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name}: expected a value`);
    return v;
  };
  const known = new Set(['--short', '--only', '--seconds', '--pg', '--seed', '--help']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    if (!known.has(a)) throw new Error(`unknown option ${a} (known: ${[...known].join(', ')})`);
  }
  const seconds = value('--seconds');
  const seed = value('--seed');
  const n = seconds === undefined ? null : Number(seconds);
  if (n !== null && (!Number.isFinite(n) || n <= 0 || n > 3600)) throw new Error(`--seconds: expected 1–3600, received ${seconds}`);
  return {
    short: argv.includes('--short'),
    only:
      value('--only')
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean) ?? null,
    seconds: n,
    pgUrl: value('--pg') ?? process.env.TORTURE_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    seed: seed === undefined ? Date.now() % 1_000_000 : Number(seed),
  };
}

// ---------------------------------------------------------------------------------------------
// Clean-up: child processes, temp directories, databases; on normal exit and on signals

const children = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void> | void> = [];

export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function killAllChildren(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

export async function cleanupAll(): Promise<void> {
  killAllChildren();
  while (cleanups.length) {
    const fn = cleanups.pop() as () => Promise<void> | void;
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`clean-up step failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}

let signalled = false;

/** Whether Ctrl-C or SIGTERM arrived: the handler is cleaning up and will exit with 130. */
export function stopping(): boolean {
  return signalled;
}

export function installSignalHandlers(): void {
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) {
      killAllChildren();
      process.exit(130);
    }
    signalled = true;
    process.stderr.write(`\n${signal}: stopping the servers and removing temp files and databases …\n`);
    killAllChildren();
    const hard = setTimeout(() => process.exit(130), 15_000);
    hard.unref();
    cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // Last resort: never leave a server behind.
  process.on('exit', killAllChildren);
}

/** A fresh temp directory, removed at the end. */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsla-torture-${label}-`));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export async function pgAnswers(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A new database with a random name on the server of `adminUrl`; dropped at the end (or by `drop`). */
export async function createPgDatabase(adminUrl: string, label: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  if (signalled) throw new Error('stopping: no new database');
  const name = `tsla_torture_${label}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(`drop database if exists "${name}" with (force)`);
    } finally {
      await c.end();
    }
  };
  onCleanup(drop);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), name, drop };
}

/** Seeds the demo company into a PostgreSQL database with the seed CLI; returns the printed tokens. */
export async function seedPostgres(databaseUrl: string): Promise<Record<string, string>> {
  const out = await runNode(SEED_CLI, { DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', NODE_ENV: 'development' }, 180_000);
  if (out.code !== 0) throw new Error(`seed CLI exited with ${out.code}: ${out.stderr.slice(-2000)}`);
  const tokens: Record<string, string> = {};
  for (const line of out.stdout.split('\n')) {
    const m = /^([A-Z_]+)\s+(tsla_\S+)$/.exec(line.trim());
    if (m) tokens[m[1]] = m[2];
  }
  if (!tokens.ADMIN) throw new Error(`seed CLI printed no ADMIN token: ${out.stdout.slice(0, 500)}`);
  return tokens;
}

function runNode(script: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The server as a child process

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerProc {
  pid: number;
  port: number;
  url: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the first 200 of /healthz. */
  startMs: number;
  /** Whether the process has exited (killed or crashed). */
  exited(): boolean;
  exitInfo(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** The last ~256 KB of output (pino JSON lines on stdout, crashes on stderr). */
  output(): string;
  /** The logged error of a request, by the x-request-id we sent. */
  loggedError(reqId: string): string | null;
  sigkill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  databaseUrl: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Resolve as soon as the process is spawned (for kills during start); no readiness wait. */
  noWait?: boolean;
}

const startedServers: ServerProc[] = [];

/** The logged error of a request id on any server this run started (for replies answered INTERNAL). */
export function explain(reqId: string): string | null {
  for (const p of startedServers) {
    const e = p.loggedError(reqId);
    if (e) return e;
  }
  return null;
}

export async function startServer(options: StartOptions): Promise<ServerProc> {
  if (signalled) throw new Error('stopping: no new server');
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: options.databaseUrl,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    CLOCK_OVERRIDE: 'true',
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...options.env,
  };
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > 512 * 1024) out = out.slice(-256 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      children.delete(child);
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const proc: ServerProc = {
    pid: child.pid as number,
    port,
    url,
    child,
    startMs: 0,
    exited: () => exit !== null,
    exitInfo: () => exit,
    output: () => out,
    loggedError(reqId: string) {
      for (const line of out.split('\n')) {
        if (!line.includes(reqId)) continue;
        try {
          const j = JSON.parse(line) as { err?: { message?: string; type?: string; code?: string }; msg?: string };
          if (j.err) {
            // Driver errors carry the whole statement first ("insert into … - deadlock detected"): keep the reason.
            const message = (j.err.message ?? '').split(' - ').pop() ?? '';
            return `${j.err.type ?? 'Error'}${j.err.code ? ` ${j.err.code}` : ''}: ${message}`.slice(0, 300);
          }
        } catch {
          /* not JSON */
        }
      }
      return null;
    },
    async sigkill() {
      if (exit) return;
      child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 5000) {
      if (exit) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
  startedServers.push(proc);
  if (startedServers.length > 20) startedServers.shift();
  if (options.noWait) return proc;
  const deadline = performance.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (exit) throw new Error(`server exited during start (${JSON.stringify(exit)}): ${out.slice(-3000)}`);
    const r = await request(url, { path: '/healthz', method: 'GET', timeoutMs: 1000 });
    if (r.status === 200) break;
    if (performance.now() > deadline) {
      await proc.sigkill();
      throw new Error(`server not ready after ${options.readyTimeoutMs ?? 120_000} ms: ${out.slice(-3000)}`);
    }
    await sleep(50);
  }
  proc.startMs = performance.now() - started;
  return proc;
}

/** Starts a server on a fresh SQLite file, which seeds the demo itself; returns its demo tokens. */
export async function startSqliteDemo(label: string, env: Record<string, string> = {}): Promise<{ server: ServerProc; file: string; tokens: Record<string, string>; databaseUrl: string }> {
  const dir = tempDir(label);
  const file = path.join(dir, `${label}.sqlite`);
  const databaseUrl = `sqlite:${file}`;
  const server = await startServer({ databaseUrl, env });
  const tokens = readDemoTokens(file);
  return { server, file, tokens, databaseUrl };
}

/** The demo token file beside a SQLite database (seeds/demo-tokens.ts: `<name>.demo-tokens.json`). */
export function readDemoTokens(file: string): Record<string, string> {
  const { dir, name } = path.parse(file);
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.demo-tokens.json`), 'utf8')) as Record<string, string>;
}

/** A fresh PostgreSQL database, seeded with the seed CLI, and a server on it. */
export async function startPgDemo(adminUrl: string, label: string, env: Record<string, string> = {}): Promise<{ server: ServerProc; tokens: Record<string, string>; databaseUrl: string }> {
  const db = await createPgDatabase(adminUrl, label);
  const tokens = await seedPostgres(db.url);
  const server = await startServer({ databaseUrl: db.url, env });
  return { server, tokens, databaseUrl: db.url };
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS), or null. */
export function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Reply {
  status: number;
  text: string;
  ms: number;
  timedOut: boolean;
  /** Connection error (reset, refused), if the request got no answer. */
  error: string | null;
  headers: http.IncomingHttpHeaders;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function closeAgent(): void {
  agent.destroy();
}

export interface RequestOptions {
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  /** A fresh connection instead of a pooled keep-alive one. */
  fresh?: boolean;
}

/** One HTTP request; never rejects: failures are in `error`, a timeout in `timedOut` (status 0). */
export function request(baseUrl: string, o: RequestOptions): Promise<Reply> {
  const u = new URL(o.path ?? '/graphql', baseUrl);
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? Buffer.from(o.body) : o.body;
  const timeoutMs = o.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const started = performance.now();
    let done = false;
    const finish = (r: Omit<Reply, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, ms: performance.now() - started });
    };
    const headers: Record<string, string> = { ...(body ? { 'content-length': String(body.length) } : {}), ...o.headers };
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: o.method ?? 'POST', agent: o.fresh ? false : agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size < 8 * 1024 * 1024) chunks.push(c);
      });
      res.on('end', () => finish({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), timedOut: false, error: null, headers: res.headers }));
      res.on('error', (e) => finish({ status: 0, text: '', timedOut: false, error: e.message, headers: {} }));
    });
    const timer = setTimeout(() => {
      req.destroy(new Error('client timeout'));
      finish({ status: 0, text: '', timedOut: true, error: 'timeout', headers: {} });
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A pooled keep-alive socket the server had just closed as idle: the request never reached
      // it, so it is sent once more on a fresh connection (Node's documented `reusedSocket` pattern).
      if (req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE') && !done) {
        done = true;
        clearTimeout(timer);
        request(baseUrl, { ...o, fresh: true, timeoutMs: Math.max(1, timeoutMs - (performance.now() - started)) }).then(resolve);
        return;
      }
      finish({ status: 0, text: '', timedOut: false, error: e.code ?? e.message, headers: {} });
    });
    req.end(body);
  });
}

export interface GqlReply extends Reply {
  json: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; path?: unknown[]; extensions?: { code?: string } }> } | null;
  reqId: string;
}

let reqCounter = 0;

/** POSTs a GraphQL operation as JSON with a bearer token and a request id of ours. */
export async function gql(
  baseUrl: string,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
  extra: { headers?: Record<string, string>; timeoutMs?: number; fresh?: boolean } = {},
): Promise<GqlReply> {
  const reqId = `torture-${process.pid}-${++reqCounter}`;
  const r = await request(baseUrl, {
    path: '/graphql',
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      'x-request-id': reqId,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...extra.headers,
    },
    body: JSON.stringify({ query, variables }),
    timeoutMs: extra.timeoutMs,
    fresh: extra.fresh,
  });
  let json: GqlReply['json'];
  try {
    json = r.text ? JSON.parse(r.text) : null;
  } catch {
    json = null;
  }
  return { ...r, json, reqId };
}

/** Like gql, throwing on any transport or GraphQL error; returns data. */
export async function gqlData<T = Record<string, unknown>>(baseUrl: string, token: string, query: string, variables?: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
  const r = await gql(baseUrl, token, query, variables, { timeoutMs });
  if (r.status !== 200 || !r.json?.data || r.json.errors?.length) throw new Error(`unexpected reply ${r.status} ${r.error ?? ''} ${r.text.slice(0, 500)}`);
  return r.json.data as T;
}

export function errorCodes(r: GqlReply): string[] {
  return (r.json?.errors ?? []).map((e) => String(e.extensions?.code ?? 'NONE'));
}

/** Samples GET /healthz every `everyMs` with a 1 s budget until stopped; counts the slow or failed ones. */
export function healthSampler(baseUrl: () => string, everyMs = 250, limitMs = 1000): { stop(): Promise<{ samples: number; slow: number; failed: number; maxMs: number; worst: string[] }> } {
  let running = true;
  const stats = { samples: 0, slow: 0, failed: 0, maxMs: 0, worst: [] as string[] };
  const loop = (async () => {
    while (running) {
      const t0 = Date.now();
      const r = await request(baseUrl(), { path: '/healthz', method: 'GET', timeoutMs: limitMs + 4000, fresh: true });
      stats.samples++;
      stats.maxMs = Math.max(stats.maxMs, r.ms);
      if (r.status !== 200) {
        stats.failed++;
        if (stats.worst.length < 10) stats.worst.push(`${new Date(t0).toISOString()} status ${r.status} ${r.error ?? ''} after ${Math.round(r.ms)} ms`);
      } else if (r.ms > limitMs) {
        stats.slow++;
        if (stats.worst.length < 10) stats.worst.push(`${new Date(t0).toISOString()} ${Math.round(r.ms)} ms`);
      }
      const wait = everyMs - (Date.now() - t0);
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return stats;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The project's seeded PRNG (seeds/random.ts), keyed by a number: a run repeats with its seed. */
export function rng(seed: number): () => number {
  return random(`torture|${seed}`);
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= tasks.length) return;
      out[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const mib = (bytes: number): string => `${fmt(bytes / 1048576, 1)} MiB`;

export function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s;
}

/** "YYYY-MM" of `months` before the month of `d` (UTC). */
export function monthBefore(d: Date, months: number): string {
  const x = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - months, 1));
  return x.toISOString().slice(0, 7);
}

// ---------------------------------------------------------------------------------------------
// Scenario results

export interface Context {
  options: Options;
  /** null when PostgreSQL answers; otherwise why not. */
  pgProblem: string | null;
  log(line: string): void;
}

export interface Outcome {
  /** 'skip' when a precondition (PostgreSQL) is missing. */
  status: 'pass' | 'fail' | 'skip';
  /** One line per figure, printed and summarised in the README. */
  figures: string[];
  failures: string[];
}

export interface Scenario {
  name: string;
  description: string;
  needsPg?: boolean;
  run(ctx: Context): Promise<Outcome>;
}
