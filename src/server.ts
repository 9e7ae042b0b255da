import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/core';
import cors from 'cors';
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import type { GraphQLFormattedError } from 'graphql';
import pino, { type Logger } from 'pino';
import { BadUserInputError, PUBLIC_ERROR_CODES, UnauthenticatedError } from './common/errors';
import { authenticate } from './modules/auth/auth.service';
import { filterFromQuery, streamCsv } from './modules/exports/csv';
import type { Config } from './common/config';
import { createContext, type Context } from './common/context';
import type { StatementCounter } from './db/mikro-orm.config';
import { openOrm } from './db/orm';
import { ApiMetrics, loggableError, observabilityPlugin } from './observability';
import { Scheduler } from './jobs/scheduler';
import { AbandonedError, instantProblem } from './common/bounds';
import { buildApiSchema } from './schema';
import { aliasLimitRule, depthLimitRule, gatePlugin, knownOperationTypesRule } from './hardening';
import { bearerToken, hashToken } from './modules/auth/tokens';

/** A running (or ready to run) API server and what tests and the CLI need to reach into it. */
export interface App {
  config: Config;
  orm: MikroORM;
  /** SQL statements sent so far by this app's ORM. */
  statements: StatementCounter;
  metrics: ApiMetrics;
  logger: Logger;
  httpServer: http.Server;
  /** Time-driven transitions (src/jobs): started by `listen` when SCHEDULER_INTERVAL_MS > 0. */
  scheduler: Scheduler;
  /** Starts listening on the configured host and port (0 picks a free one); resolves to the base URL. */
  listen(): Promise<string>;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish (closing idle
   * keep-alive sockets), force-close what remains after `shutdownTimeoutMs`, then stop Apollo
   * and close the database.
   */
  close(): Promise<void>;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,100}$/;

/** Masks everything that is not a known, public error as INTERNAL (it is logged by the plugin). */
export function formatError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  let code = formatted.extensions?.code;
  // graphql-js reports its token limit as an ordinary syntax error; it is a refusal, not a typo.
  if (code === 'GRAPHQL_PARSE_FAILED' && /Document contains more tha[nt] \d+ tokens/.test(formatted.message)) {
    code = 'TOO_MANY_TOKENS';
    formatted = { ...formatted, extensions: { ...formatted.extensions, code } };
  }
  // Public only with one of the known codes. Apollo labels any other thrown error (a driver
  // error, a bug) INTERNAL_SERVER_ERROR, which is not in the set: its message never leaves.
  if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) {
    const { stacktrace: _drop, refusal, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: typeof refusal === 'string' ? { ...extensions, code: refusal } : extensions };
  }
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL' } };
}

/**
 * Builds the server for a config: opens (and migrates) the database, builds the schema and Apollo,
 * and wraps them in a plain Node HTTP server that this project controls (body limit, CORS, health,
 * readiness, metrics, request ids, logs, graceful shutdown). No globals: two apps can run in one
 * process, as the tests do.
 */
export async function createApp(config: Config, options: { logger?: Logger } = {}): Promise<App> {
  const logger = options.logger ?? pino({ level: config.log.level, base: { service: 'tiered-sla' } });
  const { orm, counter } = await openOrm(config);
  const metrics = new ApiMetrics();
  const schema = buildApiSchema();
  const production = config.nodeEnv === 'production';
  const apollo = new ApolloServer<Context>({
    schema,
    formatError,
    introspection: !production,
    // No "Did you mean …?" field suggestions in production: they leak the schema.
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // No automatic persisted queries: clients send whole documents, and hashing each one costs.
    persistedQueries: false,
    parseOptions: { maxTokens: config.limits.tokens },
    validationRules: [knownOperationTypesRule, depthLimitRule(config.limits.depth), aliasLimitRule(config.limits.aliases)],
    // We own shutdown (see `close`): Apollo's own signal handlers would stop it under the
    // requests still in flight and re-raise the signal.
    stopOnTerminationSignals: false,
    // Order matters: the gate (cost, then authentication) runs before anything touches data.
    plugins: [gatePlugin(config, schema), observabilityPlugin(logger)],
  });
  await apollo.start();

  const corsMiddleware =
    config.http.corsOrigins === '*' || config.http.corsOrigins.length
      ? cors({ origin: config.http.corsOrigins === '*' ? '*' : config.http.corsOrigins, maxAge: 600, allowedHeaders: ['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight'], exposedHeaders: ['x-request-id', 'retry-after'] })
      : null;

  // Per token (per client address without one): counted before the body is read or the token
  // is looked up, so a flood costs neither parsing nor SQL.
  const limiter = config.limits.ratePerMinute > 0 ? new RateLimiterMemory({ points: config.limits.ratePerMinute, duration: 60 }) : null;
  // Failed authentications per client address, with the same budget: without it, a fresh random
  // token per request would get a fresh bucket each time (and a token lookup each time).
  const failures = config.limits.ratePerMinute > 0 ? new RateLimiterMemory({ points: config.limits.ratePerMinute, duration: 60 }) : null;

  /** Answers 429 and returns true when the request is over a limit; charges it otherwise. */
  async function overLimit(req: http.IncomingMessage, res: http.ServerResponse, bearer: string | null | undefined): Promise<boolean> {
    if (!limiter || !failures) return false;
    const address = `addr:${req.socket.remoteAddress ?? 'unknown'}`;
    const refuse = (msBeforeNext: number, why: string) => {
      const retry = Math.max(1, Math.ceil(msBeforeNext / 1000));
      res.setHeader('retry-after', String(retry));
      sendJson(res, 429, { errors: [{ message: `${why}; retry in ${retry} s`, extensions: { code: 'RATE_LIMITED' } }] });
      return true;
    };
    const failed = await failures.get(address);
    if (failed && failed.consumedPoints >= config.limits.ratePerMinute) {
      return refuse(failed.msBeforeNext, `Too many failed authentications from this address (${config.limits.ratePerMinute} a minute)`);
    }
    try {
      await limiter.consume(bearer ? `token:${hashToken(bearer)}` : address);
      return false;
    } catch (rejection) {
      return refuse((rejection as RateLimiterRes).msBeforeNext ?? 1000, `Rate limit of ${config.limits.ratePerMinute} requests a minute exceeded`);
    }
  }

  // Requests still executing (a timed-out one keeps running): awaited on shutdown before the
  // database closes under them.
  const executing = new Set<Promise<unknown>>();

  let shuttingDown = false;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const headerId = req.headers['x-request-id'];
    const requestId = typeof headerId === 'string' && REQUEST_ID_RE.test(headerId) ? headerId : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (shuttingDown) res.setHeader('connection', 'close');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = ['/graphql', '/healthz', '/readyz', '/metrics', '/export/measurements.csv', '/export/handoffs.csv'].includes(url.pathname) ? url.pathname : 'other';
    let operationName: string | null = null;
    let errorCodes: string[] = [];

    res.on('finish', () => {
      if (res.statusCode === 401 && failures) failures.consume(`addr:${req.socket.remoteAddress ?? 'unknown'}`).catch(() => undefined);
      // While shutting down, a keep-alive socket that just went idle is closed at once rather
      // than after keepAliveTimeout, so the process exits as soon as the last answer is out.
      if (shuttingDown) setImmediate(() => httpServer.closeIdleConnections());
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      metrics.httpRequests.inc({ route, method: req.method ?? 'UNKNOWN', status: String(res.statusCode) });
      if (route === '/graphql') {
        const operation = metrics.operationLabel(operationName);
        metrics.graphqlRequests.inc({ operation });
        metrics.graphqlDuration.observe({ operation }, durationMs / 1000);
        for (const code of errorCodes) metrics.graphqlErrors.inc({ code });
      }
      if (route !== '/healthz' && route !== '/metrics') {
        logger.info({ reqId: requestId, method: req.method, path: url.pathname, status: res.statusCode, operationName, errorCodes: errorCodes.length ? errorCodes : undefined, durationMs: Math.round(durationMs * 100) / 100 }, 'request');
      }
    });

    if (corsMiddleware) {
      const ended = await new Promise<boolean>((resolve) => {
        corsMiddleware(req as never, res as never, () => resolve(false));
        res.once('finish', () => resolve(true));
      });
      if (ended) return; // a preflight answered by the CORS middleware
    }

    if (route === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (route === '/readyz' && req.method === 'GET') {
      if (shuttingDown) return sendJson(res, 503, { status: 'shutting down' });
      try {
        await withTimeout(orm.em.getConnection().execute('select 1', [], 'get'), 2000);
        return sendJson(res, 200, { status: 'ready', database: config.database.engine });
      } catch (e) {
        logger.warn({ reqId: requestId, err: loggableError(e) }, 'readiness check failed');
        return sendJson(res, 503, { status: 'database unavailable' });
      }
    }
    if (route.startsWith('/export/') && req.method === 'GET') {
      // CSV exports for BI tools: the bearer token of any role, the same limits, filters and rows
      // as the facts connections (src/modules/exports/csv.ts).
      const token = bearerToken(req.headers.authorization);
      if (await overLimit(req, res, token)) return;
      const ctx = createContext(orm, requestId, token, new Date());
      try {
        if (!token) throw new UnauthenticatedError(token === null ? 'Malformed Authorization header: expected "Bearer <token>"' : undefined);
        ctx.principal = await authenticate(ctx.em, token);
        await streamCsv(ctx, route === '/export/measurements.csv' ? 'measurements' : 'handoffs', filterFromQuery(url.searchParams), res);
      } catch (e) {
        if (res.headersSent) {
          logger.error({ err: loggableError(e), reqId: requestId }, 'CSV export failed while streaming');
          res.destroy(e as Error);
          return;
        }
        if (e instanceof UnauthenticatedError) return sendJson(res, 401, { errors: [{ message: e.message, extensions: { code: 'UNAUTHENTICATED' } }] });
        if (e instanceof BadUserInputError) return sendJson(res, 400, { errors: [{ message: e.message, extensions: { code: 'BAD_USER_INPUT' } }] });
        throw e;
      }
      return;
    }
    if (route === '/metrics' && req.method === 'GET') {
      // Like the API, metrics need a token (any role): only /healthz and /readyz are open.
      const token = bearerToken(req.headers.authorization);
      if (await overLimit(req, res, token)) return;
      try {
        if (!token) throw new UnauthenticatedError(token === null ? 'Malformed Authorization header: expected "Bearer <token>"' : undefined);
        await authenticate(orm.em.fork(), token);
      } catch (e) {
        if (!(e instanceof UnauthenticatedError)) throw e;
        return sendJson(res, 401, { errors: [{ message: e.message, extensions: { code: 'UNAUTHENTICATED' } }] });
      }
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (route !== '/graphql') return sendJson(res, 404, { errors: [{ message: `Not found: ${url.pathname}`, extensions: { code: 'NOT_FOUND' } }] });
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST');
      return sendJson(res, 405, { errors: [{ message: `Method ${req.method} is not allowed on /graphql; use GET or POST`, extensions: { code: 'METHOD_NOT_ALLOWED' } }] });
    }

    const bearer = bearerToken(req.headers.authorization);
    if (await overLimit(req, res, bearer)) return;
    let now = new Date();
    const clock = req.headers['x-clock-now'];
    if (clock !== undefined) {
      if (!config.clockOverride) return sendJson(res, 400, { errors: [{ message: 'X-Clock-Now is not allowed here (CLOCK_OVERRIDE is off)', extensions: { code: 'BAD_REQUEST' } }] });
      now = new Date(String(clock));
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(String(clock)) || Number.isNaN(now.getTime())) return sendJson(res, 400, { errors: [{ message: `X-Clock-Now: expected an ISO 8601 instant, received ${JSON.stringify(clock)}`, extensions: { code: 'BAD_REQUEST' } }] });
      // The same range as every instant argument: the request's "now" sets as much work as an asOf.
      const problem = instantProblem(now);
      if (problem) return sendJson(res, 400, { errors: [{ message: `X-Clock-Now: ${problem}`, extensions: { code: 'BAD_REQUEST' } }] });
    }

    let body: unknown;
    if (req.method === 'POST') {
      const read = await readBody(req, config.http.bodyLimitBytes);
      if (read.tooLarge) {
        res.setHeader('connection', 'close');
        return sendJson(res, 413, { errors: [{ message: `Request body exceeds the limit of ${config.http.bodyLimitBytes} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      }
      const type = (req.headers['content-type'] ?? '').toLowerCase();
      if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) {
        try {
          body = read.text.length ? JSON.parse(read.text) : undefined;
        } catch {
          return sendJson(res, 400, { errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
        }
      } else {
        body = read.text;
      }
    }

    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    let ctx: Context | undefined;
    const execution = apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method, headers, search: url.search, body },
      context: async () => {
        ctx = createContext(orm, requestId, bearer, now);
        return ctx;
      },
    });
    executing.add(execution);
    void execution.finally(() => executing.delete(execution)).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), config.limits.requestTimeoutMs);
    });
    const response = await Promise.race([execution, timedOut]);
    clearTimeout(timer);
    operationName = ctx?.request.operationName ?? null;
    errorCodes = ctx?.request.errorCodes ?? [];
    if (response === 'timeout') {
      // A query cannot be interrupted, but loops that breathe (scoring, overdue months) stop at
      // their next turn; the rest finishes in the background on its own fork, its result dropped.
      if (ctx) ctx.request.abandoned = true;
      execution.catch((e) => {
        if (!(e instanceof AbandonedError)) logger.error({ reqId: requestId, err: loggableError(e) }, 'timed-out request failed later');
      });
      errorCodes = ['TIMEOUT'];
      return sendJson(res, 503, { errors: [{ message: `The request took longer than ${config.limits.requestTimeoutMs} ms and was abandoned`, extensions: { code: 'TIMEOUT' } }] });
    }
    await writeApolloResponse(res, response);
  }

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      logger.error({ err: loggableError(e) }, 'unhandled error in the HTTP handler');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL' } }] });
      else res.destroy();
    });
  });
  // Slow clients must not hold sockets forever.
  httpServer.requestTimeout = 60_000;
  httpServer.headersTimeout = 20_000;
  httpServer.keepAliveTimeout = 5_000;

  const scheduler = new Scheduler(orm, logger, config.schedulerIntervalMs);
  let closing: Promise<void> | undefined;
  const app: App = {
    config,
    orm,
    statements: counter,
    metrics,
    logger,
    httpServer,
    scheduler,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.http.port, config.http.host, () => {
          const { port } = httpServer.address() as AddressInfo;
          scheduler.start();
          const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
          resolve(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`);
        });
      }),
    close: () =>
      (closing ??= (async () => {
        shuttingDown = true;
        const closed = httpServer.listening ? new Promise<void>((resolve) => httpServer.close(() => resolve())) : Promise.resolve();
        httpServer.closeIdleConnections();
        const force = setTimeout(() => httpServer.closeAllConnections(), config.http.shutdownTimeoutMs);
        force.unref();
        await closed;
        clearTimeout(force);
        await Promise.allSettled([...executing]);
        await scheduler.stop();
        await apollo.stop();
        await orm.close(true);
      })()),
  };
  return app;
}

function sendJson(res: http.ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a body up to `limit` bytes; stops reading (and says so) as soon as it is larger. */
function readBody(req: http.IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve({ text: '', tooLarge: true });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.resume();
        resolve({ text: '', tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve({ text: Buffer.concat(chunks).toString('utf8'), tooLarge: false });
    });
    req.on('error', reject);
  });
}

/** Errors of a well-formed GraphQL request that the client simply got wrong. */
const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']);

/**
 * GraphQL over HTTP: a client that accepts only `application/json` SHOULD get 200 for parse,
 * validation and variable-coercion failures (its media type carries no status semantics);
 * Apollo answers 400. `application/graphql-response+json` keeps the 4xx, and refusals by our
 * limits (depth, aliases, cost) stay 4xx whatever the client accepts.
 */
function specStatus(response: HTTPGraphQLResponse): number {
  const status = response.status ?? 200;
  if (status !== 400 || response.body.kind !== 'complete') return status;
  if (!(response.headers.get('content-type') ?? '').startsWith('application/json')) return status;
  try {
    const body = JSON.parse(response.body.string) as { errors?: Array<{ extensions?: { code?: string } }> };
    const codes = (body.errors ?? []).map((e) => e.extensions?.code ?? '');
    return codes.length && codes.every((c) => REQUEST_ERROR_CODES.has(c)) ? 200 : status;
  } catch {
    return status;
  }
}

async function writeApolloResponse(res: http.ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  for (const [k, v] of response.headers) res.setHeader(k, v);
  res.statusCode = specStatus(response);
  if (response.body.kind === 'complete') {
    res.setHeader('content-length', Buffer.byteLength(response.body.string));
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
