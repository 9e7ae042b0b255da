import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AbandonedError } from './common/bounds';
import { PUBLIC_ERROR_CODES } from './common/errors';
import type { Context } from './common/context';

/** Distinct operation names kept as metric labels; later ones share `other` (clients choose names). */
const MAX_OPERATION_LABELS = 200;

/** Longest text of one logged value (an error message, a stack, a statement). */
export const LOG_VALUE_LIMIT = 2_000;

/** `text` cut to `limit` characters, saying how long it was. */
export function capText(text: string, limit = LOG_VALUE_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… [${text.length - limit} more characters]`;
}

/**
 * An error as it is logged: type, code, message and stack, each capped. A driver error's message
 * carries the whole SQL statement with its parameters (for a 5,000-event batch, megabytes), which
 * must not reach the logs whole; its cause is kept, capped the same way, two levels deep.
 */
export function loggableError(e: unknown, depth = 0): Record<string, unknown> {
  if (!(e instanceof Error)) return { message: capText(String(e)) };
  const out: Record<string, unknown> = { type: e.constructor?.name ?? 'Error', message: capText(e.message) };
  if (e.stack) out.stack = capText(e.stack, LOG_VALUE_LIMIT * 2);
  const extra = e as unknown as Record<string, unknown>;
  for (const k of ['code', 'sqlState', 'errno']) if (typeof extra[k] === 'string' || typeof extra[k] === 'number') out[k] = typeof extra[k] === 'string' ? capText(extra[k] as string, 100) : extra[k];
  if (e.cause !== undefined && depth < 2) out.cause = loggableError(e.cause, depth + 1);
  return out;
}

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
 * Records, per GraphQL request, the resolved operation name and the codes of the errors sent
 * (after masking), and logs in full every error that is masked as INTERNAL.
 */
export function observabilityPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operationName }) {
          contextValue.request.operationName = operationName ? capText(operationName, 100) : null;
        },
        async didEncounterErrors({ contextValue, errors }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) continue;
            // Work stopped because the client was already answered TIMEOUT: logged there.
            if (error.originalError instanceof AbandonedError) continue;
            logger.error(
              { reqId: contextValue?.request.requestId, err: loggableError(error.originalError ?? error), path: error.path },
              'unexpected error while executing GraphQL; masked as INTERNAL',
            );
          }
        },
        async willSendResponse({ contextValue, response }) {
          if (!contextValue) return;
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          for (const e of errors ?? []) contextValue.request.errorCodes.push(String(e.extensions?.code ?? 'INTERNAL'));
        },
      };
    },
  };
}
