import path from 'node:path';
import { z } from 'zod';
import { instantProblem } from './bounds';

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
    /**
     * SQLite's `synchronous` pragma in WAL mode (`SQLITE_SYNCHRONOUS`): NORMAL (a commit can be lost
     * on power failure or an OS crash, never corrupted) or FULL (every commit is on disk before it is
     * acknowledged). Ignored on PostgreSQL.
     */
    sqliteSynchronous: 'NORMAL' | 'FULL';
    /**
     * Whether a PostgreSQL whose `synchronous_commit` is `off` may be served anyway, with a warning
     * at start (`POSTGRES_ALLOW_ASYNC_COMMIT`); false: the server refuses to start (docs/decisions.md).
     */
    allowAsyncCommit: boolean;
    /**
     * `DATABASE_READ_URLS`: streaming replicas of the PostgreSQL primary that dashboard and BI reads
     * may use (src/common/read-route.ts); empty: every read goes to the primary.
     */
    readUrls: string[];
    /**
     * `READ_YOUR_WRITES_SECONDS`, in milliseconds: after a principal's mutation, its reads go to the
     * primary for this long, so it sees its own write whatever the replicas' lag.
     */
    readYourWritesMs: number;
  };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /**
   * `GRAPHQL_DEV_CHECKS`: whether graphql-js runs with its development checks (the multi-realm
   * `instanceOf` test on every type check). Read before graphql-js loads, by src/common/graphql-mode.ts,
   * which every entry point imports first; here so a bad value is reported with the others. Not
   * tied to NODE_ENV (docs/decisions.md, "Issue 19: graphql-js's mode").
   */
  graphqlDevChecks: boolean;
  /** The server process's memory (docs/decisions.md, "Issue 19: the server's memory"). */
  memory: {
    /**
     * `HEAP_GROWING_PERCENT`: after each full garbage collection V8 lets the heap grow to this many
     * percent above what is live before the next one (V8's `--heap-growing-percent`, applied by
     * src/main.ts); 0 leaves V8's own heuristics, which on a machine with 16 GB or more let the
     * heap grow to up to 4 times its live size.
     */
    heapGrowingPercent: number;
  };
  /** Authentication (src/modules/auth/principal-cache.ts, docs/decisions.md "Issue 19: the principal cache"). */
  auth: {
    /**
     * How long a token's principal is reused without asking the database, in milliseconds; 0: every
     * request reads it. A revocation, deactivation or role change through this instance applies at
     * once; one made through another instance (or in the database) within this time.
     */
    principalCacheMs: number;
  };
  /**
   * Whether a request may set its own "now" with the `X-Clock-Now` header (ISO 8601): tests and
   * demos of due dates, lateness and PENDING/NO_DATA. Never allowed in production.
   */
  clockOverride: boolean;
  /**
   * How often the scheduler records time-driven transitions (deemed acknowledgements), in
   * milliseconds; 0 turns it off (reads still see every transition at their own instant).
   */
  schedulerIntervalMs: number;
  /**
   * The instant every scheduler tick runs at instead of the server's clock (`SCHEDULER_CLOCK`), or
   * null: for tests and demos of time-driven events with several server processes, which no
   * request's `X-Clock-Now` reaches. Only with the test clock on (CLOCK_OVERRIDE), never in production.
   */
  schedulerClock: Date | null;
  /** Signed webhooks (docs/webhooks.md). */
  webhooks: {
    /** How often the delivery worker fans events out and sends due deliveries, in ms; 0: off. */
    pollMs: number;
    /** Whether subscriptions may use http:// URLs (else https only). */
    allowHttp: boolean;
    /** Whether private, loopback, link-local and unique-local addresses may receive deliveries. */
    allowPrivate: boolean;
    /** How long one delivery attempt may take before it counts as failed, in ms. */
    timeoutMs: number;
    /**
     * The share of the main thread the worker may take while requests are being served, from 0.01
     * to 1 (`WEBHOOK_CPU_PERCENT` / 100; src/common/background-budget.ts).
     */
    cpuShare: number;
  };
  /**
   * E-mail (docs/notifications.md): null unless `SMTP_URL` is set. Messages are queued and sent by
   * the scheduler's jobs, so they go out within one scheduler interval.
   */
  mail: {
    /** `smtp://host:port` or `smtps://user:pass@host:port` (nodemailer's connection URL). */
    smtpUrl: string;
    /** The From header, e.g. `SLA desk <sla@example.com>`. */
    from: string;
    /** The dashboard's base URL, without a trailing slash: links are `${dashboardUrl}/agreements/<key>`. */
    dashboardUrl: string;
  } | null;
  /** The dashboard at `/` and the GraphQL IDE at `/graphql` (issue 17, docs/decisions.md). */
  dashboard: {
    /**
     * Whether the sign-in page offers the demo principals (with their tokens): only on the embedded
     * demo (SQLite, not production), and only when the server was given the demo's tokens.
     */
    demoSignIn: boolean;
    /** Whether a browser asking `/graphql` for HTML gets the offline GraphiQL IDE (off in production unless enabled). */
    graphqlIde: boolean;
  };
  /** Limits that refuse abusive requests before any SQL runs (see docs/decisions.md). */
  limits: {
    /** Deepest selection nesting (introspection fields excepted). */
    depth: number;
    /** Most aliased fields in one document. */
    aliases: number;
    /** Most lexical tokens graphql-js will parse in one document. */
    tokens: number;
    /** Highest estimated cost of one operation (connections cost `first` times their selection). */
    cost: number;
    /** A request still running after this many milliseconds is answered with 503. */
    requestTimeoutMs: number;
    /** Requests a minute per token (per client address without one); 0 turns the limit off. */
    ratePerMinute: number;
    /**
     * Where the buckets live: `database` (PostgreSQL's `rate_limit` table, shared by every instance
     * on the database; the default there) or `memory` (this process; the only choice on SQLite).
     */
    rateStore: 'database' | 'memory';
  };
  /** Signed CSV export links (`createExportLink`, docs/bi.md). */
  exportLinks: {
    /** `EXPORT_LINK_SECRET`: the HMAC key; null: a key generated once per database and stored in it. */
    secret: string | null;
    /** Where links point: the server's public base URL (`DASHBOARD_URL`), without a trailing slash. */
    baseUrl: string;
  };
  /** Live updates over graphql-ws (src/modules/live, docs/events.md "Live updates"). */
  live: {
    /**
     * How often each instance reads the outbox without being woken, in milliseconds: the only
     * trigger on SQLite, a safety net on PostgreSQL (which wakes the feed by LISTEN/NOTIFY).
     */
    pollMs: number;
    /** Events waiting for one slow subscription before its connection is closed (4413). */
    queueLimit: number;
    /**
     * Milliseconds of a turn of the event loop that the subscriptions' sends may take together
     * before they yield to I/O (`LIVE_SLICE_MS`): the longest a request waits behind live updates.
     */
    sliceMs: number;
  };
}

const DEFAULT_SQLITE = './data/tiered-sla.sqlite';

/** An ISO 8601 instant with an explicit offset (the form `X-Clock-Now` takes too). */
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** An integer variable in [min, max] with a default; the message says the range and the unit. */
function wholeNumber(min: number, max: number, fallback: number, unit: string) {
  const message = `expected ${unit} from ${min} to ${max}`;
  return z.coerce.number({ error: message }).int(message).min(min, message).max(max, message).default(fallback);
}

/**
 * The environment schema. Every variable is optional and has a documented default
 * (see `.env.example`); a present but malformed value is an error, never silently ignored.
 */
const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'], {
      error: 'expected one of development, test, production',
    })
    .default('development'),
  HOST: z.string().min(1, 'expected a host name or address').default('127.0.0.1'),
  PORT: wholeNumber(0, 65535, 4000, 'an integer'),
  DATABASE_URL: z
    .string()
    .default(`sqlite:${DEFAULT_SQLITE}`)
    .refine((v) => /^(sqlite:|file:|postgres(ql)?:\/\/)/.test(v) || v === ':memory:', {
      message: 'expected sqlite:<path>, file:<path> or postgres://user@host:port/database',
    }),
  // Comma-separated; checked in loadConfig (PostgreSQL only, each one a postgres:// URL).
  DATABASE_READ_URLS: z.string().optional(),
  READ_YOUR_WRITES_SECONDS: wholeNumber(0, 3600, 10, 'a whole number of seconds'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  // 8 MiB: a batch of 5,000 handoff events is about 2 MB of JSON.
  BODY_LIMIT_BYTES: wholeNumber(1024, 104857600, 4 * 1024 * 1024, 'a whole number of bytes'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .refine((v) => v === '' || v === '*' || v.split(',').every((o) => /^https?:\/\/[^\s/]+$/.test(o.trim())), {
      message: 'expected *, or a comma-separated list of origins such as https://dash.example.com',
    }),
  SHUTDOWN_TIMEOUT_MS: wholeNumber(0, 600000, 10_000, 'a whole number of milliseconds'),
  SEED_DEMO: z.enum(['auto', 'never'], { error: 'expected auto or never' }).default('auto'),
  SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL'], { error: 'expected NORMAL or FULL' }).default('NORMAL'),
  POSTGRES_ALLOW_ASYNC_COMMIT: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
  DEPTH_LIMIT: wholeNumber(2, 100, 10, 'an integer'),
  ALIAS_LIMIT: wholeNumber(0, 10000, 30, 'an integer'),
  TOKEN_LIMIT: wholeNumber(100, 1000000, 5000, 'an integer'),
  COST_LIMIT: wholeNumber(10, 100000000, 50000, 'an integer'),
  REQUEST_TIMEOUT_MS: wholeNumber(100, 3600000, 30000, 'a whole number of milliseconds'),
  RATE_LIMIT_PER_MINUTE: wholeNumber(0, 1000000, 1200, 'an integer'),
  // No default: unset means "database" on PostgreSQL, "memory" on SQLite (loadConfig).
  RATE_LIMIT_STORE: z.enum(['database', 'memory'], { error: 'expected database or memory' }).optional(),
  PRINCIPAL_CACHE_SECONDS: wholeNumber(0, 300, 5, 'a whole number of seconds (0: off)'),
  GRAPHQL_DEV_CHECKS: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
  HEAP_GROWING_PERCENT: wholeNumber(0, 300, 50, 'a whole number of percent'),
  SCHEDULER_INTERVAL_MS: wholeNumber(0, 86400000, 60000, 'a whole number of milliseconds (0: off)'),
  CLOCK_OVERRIDE: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
  SCHEDULER_CLOCK: z
    .string()
    .refine((v) => INSTANT_RE.test(v) && instantProblem(new Date(v)) === null, { message: 'expected an ISO 8601 instant from 2000 to before 2100, such as 2026-03-04T10:00:00Z' })
    .optional(),
  // Unset: 250 ms on SQLite, 1 s on PostgreSQL; a safety net (commits of events wake the feed).
  LIVE_POLL_MS: z.coerce
    .number({ error: 'expected a whole number of milliseconds from 10 to 60000' })
    .int('expected a whole number of milliseconds from 10 to 60000')
    .min(10, 'expected a whole number of milliseconds from 10 to 60000')
    .max(60000, 'expected a whole number of milliseconds from 10 to 60000')
    .optional(),
  LIVE_QUEUE_LIMIT: wholeNumber(10, 1000000, 20000, 'a whole number of events'),
  LIVE_SLICE_MS: wholeNumber(1, 100, 4, 'a whole number of milliseconds'),
  WEBHOOK_POLL_MS: wholeNumber(0, 3600000, 1000, 'a whole number of milliseconds (0: off)'),
  // No default: unset means "allowed on the local SQLite demo, refused elsewhere" (loadConfig).
  WEBHOOK_ALLOW_HTTP: z.enum(['true', 'false'], { error: 'expected true or false' }).optional(),
  WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false'], { error: 'expected true or false' }).optional(),
  WEBHOOK_TIMEOUT_MS: wholeNumber(100, 120000, 10000, 'a whole number of milliseconds'),
  WEBHOOK_CPU_PERCENT: wholeNumber(1, 100, 25, 'a whole number of percent'),
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\/[^\s/]+(\/.*)?$/.test(v), { message: 'expected smtp://host:port or smtps://user:password@host:port' })
    .optional(),
  MAIL_FROM: z
    .string()
    .refine((v) => /^[^\r\n]*<?[^\s<>@]+@[^\s<>@]+>?$/.test(v), { message: 'expected an address such as sla@example.com or "SLA desk <sla@example.com>"' })
    .default('tiered-sla <tiered-sla@localhost>'),
  DASHBOARD_URL: z
    .string()
    .refine((v) => /^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(v), { message: 'expected an http(s) URL such as https://sla.example.com' })
    .default('http://localhost:4000'),
  // Unset: a key generated once per database (docs/decisions.md, "Issue 16: signed export links").
  EXPORT_LINK_SECRET: z.string().min(32, 'expected at least 32 characters (e.g. `openssl rand -base64 32`)').optional(),
  // No defaults: unset means "on for the local demo / outside production" (loadConfig).
  DASHBOARD_DEMO_SIGN_IN: z.enum(['true', 'false'], { error: 'expected true or false' }).optional(),
  GRAPHQL_IDE: z.enum(['true', 'false'], { error: 'expected true or false' }).optional(),
});

/** Variables whose values an error message must not repeat. */
const SECRETS: ReadonlySet<string> = new Set(['EXPORT_LINK_SECRET']);

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
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in envSchema.shape && v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      // A secret is never echoed (the message goes to logs): its length says enough.
      const received = SECRETS.has(name) ? `${String(present[name]).length} characters` : JSON.stringify(present[name]);
      return `${name}: ${issue.message}, received ${received}`;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  const e = parsed.data;
  if (e.CLOCK_OVERRIDE === 'true' && e.NODE_ENV === 'production') {
    throw new ConfigError(['CLOCK_OVERRIDE: expected false when NODE_ENV is production (a client must not choose the time), received "true"']);
  }
  if (e.SCHEDULER_CLOCK !== undefined && e.CLOCK_OVERRIDE !== 'true') {
    throw new ConfigError([`SCHEDULER_CLOCK: expected to be unset unless CLOCK_OVERRIDE is true (the test clock), received ${JSON.stringify(e.SCHEDULER_CLOCK)}`]);
  }
  if (e.DASHBOARD_DEMO_SIGN_IN === 'true' && e.NODE_ENV === 'production') {
    throw new ConfigError(['DASHBOARD_DEMO_SIGN_IN: expected false when NODE_ENV is production (the demo sign-in hands out tokens), received "true"']);
  }
  const url = e.DATABASE_URL;
  const isPg = /^postgres(ql)?:\/\//.test(url);
  let sqlitePath: string | undefined;
  if (!isPg) {
    const raw = url === ':memory:' ? ':memory:' : url.replace(/^(sqlite|file):/, '');
    sqlitePath = raw === ':memory:' ? raw : path.resolve(cwd, raw);
  }
  if (!isPg && e.RATE_LIMIT_STORE === 'database') {
    throw new ConfigError(['RATE_LIMIT_STORE: expected memory on SQLite (the shared store is a PostgreSQL table), received "database"']);
  }
  const readUrls = readReplicaUrls(e.DATABASE_READ_URLS, isPg);
  // The local demo (embedded SQLite, not production) may point webhooks at a receiver on this
  // machine over plain http; a shared deployment (PostgreSQL, or production) refuses both unless told.
  const localDemo = !isPg && e.NODE_ENV !== 'production';
  return {
    nodeEnv: e.NODE_ENV,
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      corsOrigins:
        e.CORS_ORIGINS === '*'
          ? '*'
          : e.CORS_ORIGINS.split(',')
              .map((o) => o.trim())
              .filter(Boolean),
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    },
    database: {
      engine: isPg ? 'postgresql' : 'sqlite',
      url: isPg ? url : (sqlitePath as string),
      sqlitePath,
      seedDemoWhenEmpty: !isPg && e.SEED_DEMO === 'auto',
      sqliteSynchronous: e.SQLITE_SYNCHRONOUS,
      allowAsyncCommit: e.POSTGRES_ALLOW_ASYNC_COMMIT === 'true',
      readUrls,
      readYourWritesMs: e.READ_YOUR_WRITES_SECONDS * 1000,
    },
    log: { level: e.LOG_LEVEL },
    graphqlDevChecks: e.GRAPHQL_DEV_CHECKS === 'true',
    memory: { heapGrowingPercent: e.HEAP_GROWING_PERCENT },
    auth: { principalCacheMs: e.PRINCIPAL_CACHE_SECONDS * 1000 },
    clockOverride: e.CLOCK_OVERRIDE === 'true',
    schedulerIntervalMs: e.SCHEDULER_INTERVAL_MS,
    schedulerClock: e.SCHEDULER_CLOCK === undefined ? null : new Date(e.SCHEDULER_CLOCK),
    webhooks: {
      pollMs: e.WEBHOOK_POLL_MS,
      allowHttp: (e.WEBHOOK_ALLOW_HTTP ?? String(localDemo)) === 'true',
      allowPrivate: (e.WEBHOOK_ALLOW_PRIVATE ?? String(localDemo)) === 'true',
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      cpuShare: e.WEBHOOK_CPU_PERCENT / 100,
    },
    dashboard: {
      demoSignIn: (e.DASHBOARD_DEMO_SIGN_IN ?? String(localDemo)) === 'true',
      graphqlIde: (e.GRAPHQL_IDE ?? String(e.NODE_ENV !== 'production')) === 'true',
    },
    mail: e.SMTP_URL ? { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, dashboardUrl: e.DASHBOARD_URL.replace(/\/+$/, '') } : null,
    limits: {
      depth: e.DEPTH_LIMIT,
      aliases: e.ALIAS_LIMIT,
      tokens: e.TOKEN_LIMIT,
      cost: e.COST_LIMIT,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      ratePerMinute: e.RATE_LIMIT_PER_MINUTE,
      rateStore: e.RATE_LIMIT_STORE ?? (isPg ? 'database' : 'memory'),
    },
    exportLinks: { secret: e.EXPORT_LINK_SECRET ?? null, baseUrl: e.DASHBOARD_URL.replace(/\/+$/, '') },
    live: { pollMs: e.LIVE_POLL_MS ?? (isPg ? 1000 : 250), queueLimit: e.LIVE_QUEUE_LIMIT, sliceMs: e.LIVE_SLICE_MS },
  };
}

/**
 * The replicas of `DATABASE_READ_URLS`: comma-separated postgres:// URLs, each parsed as a URL and
 * naming a database; refused on SQLite (an embedded file has no replicas). A URL's password is never
 * repeated in an error: only its position in the list is.
 */
function readReplicaUrls(value: string | undefined, isPg: boolean): string[] {
  if (value === undefined) return [];
  if (!isPg) throw new ConfigError(['DATABASE_READ_URLS: expected no value when DATABASE_URL is SQLite (read replicas need PostgreSQL), received a list']);
  const urls = value.split(',').map((u) => u.trim());
  const problems: string[] = [];
  urls.forEach((u, i) => {
    let parsed: URL | null;
    try {
      parsed = new URL(u);
    } catch {
      parsed = null;
    }
    if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol) || !parsed.hostname || parsed.pathname.length < 2) {
      problems.push(`DATABASE_READ_URLS: expected comma-separated URLs such as postgres://user@replica-host:5432/database, received an invalid URL at position ${i + 1} of ${urls.length}`);
    }
  });
  if (problems.length) throw new ConfigError(problems);
  return urls;
}
