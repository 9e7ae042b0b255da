import path from 'node:path';
import { z } from 'zod';

/** Which database engine a `DATABASE_URL` selects. */
export type DatabaseEngine = 'sqlite' | 'postgresql';

/** The parsed, typed configuration of one server process. Built once by {@link loadConfig}. */
export interface Config {
  nodeEnv: 'development' | 'test' | 'production';
  http: {
    host: string;
    port: number;
    /** Largest accepted request body, in bytes; larger bodies get 413 before parsing. */
    bodyLimitBytes: number;
    /** Origins allowed by CORS; empty means no CORS headers are sent (same-origin only). */
    corsOrigins: string[] | '*';
    /** How long a graceful shutdown waits for in-flight requests before closing sockets. */
    shutdownTimeoutMs: number;
  };
  database: {
    engine: DatabaseEngine;
    /** The URL as given (PostgreSQL) or the resolved file path (SQLite). */
    url: string;
    /** For SQLite: the absolute file path (`:memory:` is allowed for tests). */
    sqlitePath?: string;
    /** Seed the demo company when the embedded database is empty at start. */
    seedDemoWhenEmpty: boolean;
  };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}

const DEFAULT_SQLITE = './data/tiered-sla.sqlite';

/**
 * The environment schema. Every variable is optional and has a documented default
 * (see `.env.example`); a present but malformed value is an error, never silently ignored.
 */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production'], {
    error: 'expected one of development, test, production',
  }).default('development'),
  HOST: z.string().min(1, 'expected a host name or address').default('127.0.0.1'),
  PORT: z.coerce
    .number({ error: 'expected an integer from 0 to 65535' })
    .int('expected an integer from 0 to 65535')
    .min(0, 'expected an integer from 0 to 65535')
    .max(65535, 'expected an integer from 0 to 65535')
    .default(4000),
  DATABASE_URL: z
    .string()
    .default(`sqlite:${DEFAULT_SQLITE}`)
    .refine((v) => /^(sqlite:|file:|postgres(ql)?:\/\/)/.test(v) || v === ':memory:', {
      message: 'expected sqlite:<path>, file:<path> or postgres://user@host:port/database',
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'expected one of fatal, error, warn, info, debug, trace, silent',
  }).default('info'),
  BODY_LIMIT_BYTES: z.coerce
    .number({ error: 'expected a whole number of bytes from 1024 to 104857600' })
    .int('expected a whole number of bytes from 1024 to 104857600')
    .min(1024, 'expected a whole number of bytes from 1024 to 104857600')
    .max(100 * 1024 * 1024, 'expected a whole number of bytes from 1024 to 104857600')
    .default(1024 * 1024),
  CORS_ORIGINS: z
    .string()
    .default('')
    .refine(
      (v) => v === '' || v === '*' || v.split(',').every((o) => /^https?:\/\/[^\s/]+$/.test(o.trim())),
      { message: 'expected *, or a comma-separated list of origins such as https://dash.example.com' },
    ),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number({ error: 'expected a whole number of milliseconds from 0 to 600000' })
    .int('expected a whole number of milliseconds from 0 to 600000')
    .min(0, 'expected a whole number of milliseconds from 0 to 600000')
    .max(600_000, 'expected a whole number of milliseconds from 0 to 600000')
    .default(10_000),
  SEED_DEMO: z.enum(['auto', 'never'], { error: 'expected auto or never' }).default('auto'),
});

/** Thrown by {@link loadConfig}; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once. Fails with a {@link ConfigError} listing every bad variable at
 * once (name, what was expected, what was received), so an operator fixes them in one pass.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  // Empty strings mean "not set": shells and .env files often export VAR= for an unset value.
  const present = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k in envSchema.shape && v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}: ${issue.message}, received ${JSON.stringify(present[name])}`;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  const e = parsed.data;
  const url = e.DATABASE_URL;
  const isPg = /^postgres(ql)?:\/\//.test(url);
  let sqlitePath: string | undefined;
  if (!isPg) {
    const raw = url === ':memory:' ? ':memory:' : url.replace(/^(sqlite|file):/, '');
    sqlitePath = raw === ':memory:' ? raw : path.resolve(cwd, raw);
  }
  return {
    nodeEnv: e.NODE_ENV,
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      corsOrigins: e.CORS_ORIGINS === '*' ? '*' : e.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean),
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    },
    database: {
      engine: isPg ? 'postgresql' : 'sqlite',
      url: isPg ? url : (sqlitePath as string),
      sqlitePath,
      seedDemoWhenEmpty: !isPg && e.SEED_DEMO === 'auto',
    },
    log: { level: e.LOG_LEVEL },
  };
}
