import type { MikroORM } from '@mikro-orm/core';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { UnauthenticatedError } from '../common/errors';
import { authenticateBearer, requestBearer } from './authenticate';
import type { RateLimits } from './rate-limit';
import { sendError } from './respond';
import type { Route } from './route';

/** Distinct operation names kept as metric labels; later ones share `other` (clients choose names). */
const MAX_OPERATION_LABELS = 200;

/**
 * The Prometheus metrics of one server instance, in a registry of its own (no global default
 * registry, so two servers in one process, as in tests, do not collide).
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly operations = new Set<string>();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly graphqlRequests = new Counter({
    name: 'graphql_requests_total',
    help: 'GraphQL requests by operation name.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  readonly graphqlDuration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'GraphQL request duration in seconds, by operation name.',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly graphqlErrors = new Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors returned to clients, by extensions.code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A bounded label for an operation name. */
  operationLabel(name: string | null): string {
    if (!name) return 'anonymous';
    if (name.length > 100) return 'other';
    if (this.operations.has(name)) return name;
    if (this.operations.size >= MAX_OPERATION_LABELS) return 'other';
    this.operations.add(name);
    return name;
  }
}

/**
 * `GET /metrics`: like the API, it needs a token (any role), so a Prometheus scraper is set up
 * with one; only /healthz and /readyz are open. Rate-limited like every authenticated route.
 */
export function metricsRoute(deps: { metrics: ApiMetrics; orm: MikroORM; rateLimits: RateLimits }): Route {
  return {
    methods: ['GET'],
    async handle({ req, res }) {
      const bearer = requestBearer(req.headers.authorization);
      if (await deps.rateLimits.refuse(req, res, bearer)) return;
      try {
        await authenticateBearer(deps.orm.em.fork(), bearer);
      } catch (e) {
        if (!(e instanceof UnauthenticatedError)) throw e;
        return sendError(res, 401, 'UNAUTHENTICATED', e.message);
      }
      res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
      res.end(await deps.metrics.registry.metrics());
    },
  };
}
