import { randomUUID } from 'node:crypto';
import http from 'node:http';
import cors from 'cors';
import type { Logger } from 'pino';
import { loggableError } from '../common/logging';
import type { BackgroundBudget } from '../common/background-budget';
import type { Config } from '../common/config';
import type { ApiMetrics } from './metrics';
import type { RateLimits } from './rate-limit';
import { sendError } from './respond';
import type { Exchange, Route } from './route';
import type { Shutdown } from './shutdown';

/** The request ids taken from clients: short and safe to echo and log. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,100}$/;

/** Routes whose requests are not logged: probes and scrapes would drown the log. */
const UNLOGGED = new Set(['/healthz', '/metrics']);

/**
 * The CORS middleware, or null while CORS_ORIGINS is unset (no cross-origin access at all). It
 * answers preflights itself and adds the headers to every other answer.
 */
function corsFor(config: Config): ReturnType<typeof cors> | null {
  const origins = config.http.corsOrigins;
  if (origins !== '*' && !origins.length) return null;
  return cors({
    origin: origins === '*' ? '*' : origins,
    maxAge: 600,
    allowedHeaders: ['content-type', 'authorization', 'x-request-id', 'apollo-require-preflight'],
    // The rate limit's fields (src/http/rate-limit.ts) are for browsers too.
    exposedHeaders: ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
  });
}

/**
 * The HTTP server of the API: every request gets its id, CORS, its route by exact path (an
 * unknown path, or a method its route does not take, is 404 NOT_FOUND), and once answered, an
 * access log line and its metrics. Failed authentications are charged to the rate limit, and
 * during shutdown idle sockets close. An error no route handled is logged and answered 500
 * INTERNAL (or cuts the connection if the answer had begun).
 */
export function createHttpServer(deps: {
  routes: ReadonlyMap<string, Route>;
  /** The route of a path no exact route takes, if any: the dashboard's bookmarkable pages (`/agreements/<key>` …). */
  fallback?: (pathname: string) => Route | undefined;
  config: Config;
  logger: Logger;
  metrics: ApiMetrics;
  rateLimits: RateLimits;
  shutdown: Shutdown;
  /** Told when each request begins and ends: background work yields to requests being served. */
  backgroundBudget?: BackgroundBudget;
}): http.Server {
  const { routes, logger, metrics, rateLimits, shutdown } = deps;
  const corsMiddleware = corsFor(deps.config);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const headerId = req.headers['x-request-id'];
    const requestId = typeof headerId === 'string' && REQUEST_ID_RE.test(headerId) ? headerId : randomUUID();
    res.setHeader('x-request-id', requestId);
    shutdown.requestStarted(res);
    const budget = deps.backgroundBudget;
    if (budget) {
      budget.requestStarted();
      res.once('close', () => budget.requestEnded());
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const exact = routes.get(url.pathname);
    const route = exact ?? deps.fallback?.(url.pathname);
    // Metric label: a known path, `dashboard` for its pages, or `other` (clients choose paths; labels must stay bounded).
    const label = exact ? url.pathname : route ? 'dashboard' : 'other';
    const exchange: Exchange = { req, res, url, requestId, operationName: null, errorCodes: [] };

    res.on('finish', () => {
      rateLimits.answered(req, res.statusCode);
      shutdown.responseFinished(server);
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      metrics.httpRequests.inc({ route: label, method: req.method ?? 'UNKNOWN', status: String(res.statusCode) });
      if (label === '/graphql') {
        const operation = metrics.operationLabel(exchange.operationName);
        metrics.graphqlRequests.inc({ operation });
        metrics.graphqlDuration.observe({ operation }, durationMs / 1000);
        for (const code of exchange.errorCodes) metrics.graphqlErrors.inc({ code });
      }
      if (!UNLOGGED.has(label)) {
        const { operationName, errorCodes } = exchange;
        logger.info(
          {
            reqId: requestId,
            method: req.method,
            path: url.pathname,
            status: res.statusCode,
            operationName,
            errorCodes: errorCodes.length ? errorCodes : undefined,
            durationMs: Math.round(durationMs * 100) / 100,
          },
          'request',
        );
      }
    });

    if (corsMiddleware) {
      const ended = await new Promise<boolean>((resolve) => {
        corsMiddleware(req as never, res as never, () => resolve(false));
        res.once('finish', () => resolve(true));
      });
      if (ended) return; // a preflight answered by the CORS middleware
    }

    if (!route || (route.methods !== 'any' && !route.methods.includes(req.method ?? ''))) {
      return sendError(res, 404, 'NOT_FOUND', `Not found: ${url.pathname}`);
    }
    await route.handle(exchange);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      logger.error({ err: loggableError(e) }, 'unhandled error in the HTTP handler');
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'Internal server error');
      else res.destroy();
    });
  });
  // Slow clients must not hold sockets forever.
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
