import type http from 'node:http';
import { type ApolloServer, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { AbandonedError } from '../common/bounds';
import { loggableError } from '../common/logging';
import type { Config } from '../common/config';
import { createContext, type Context, type RequestInfo } from '../common/context';
import type { PreparedQueries } from './prepared-query';
import { READ_FROM_HEADER, readFromHeader } from '../common/read-route';
import { requestBearer } from './authenticate';
import { hashToken } from '../modules/auth/tokens';
import { readGraphQLBody } from './body';
import { requestNow } from './clock';
import { plannedBody } from './facts-execution';
import { wantsIde } from './ide';
import type { RateLimits } from './rate-limit';
import { sendError } from './respond';
import type { Route } from './route';
import type { Shutdown } from './shutdown';

/** Errors of a well-formed GraphQL request that the client simply got wrong. */
const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']);

/**
 * `/graphql` over GET and POST, in this order, cheapest refusal first: the method (405), the rate
 * limit (429), the test clock (400), the body limit and JSON (413, 400); then Apollo, which
 * parses, validates, gates (cost, authentication) and executes. A request still running after
 * REQUEST_TIMEOUT_MS is answered 503 TIMEOUT; its work is kept for `deps.shutdown` to await.
 */
export function graphqlRoute(deps: {
  apollo: ApolloServer<Context>;
  /** The queries Apollo has validated, run without its pipeline (src/http/prepared-query.ts). */
  prepared: PreparedQueries;
  orm: MikroORM;
  config: Config;
  logger: Logger;
  rateLimits: RateLimits;
  shutdown: Shutdown;
  /** The offline IDE for a browser's GET (src/http/ide.ts), or null when it is off. */
  ide?: ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) | null;
}): Route {
  const { apollo, prepared, orm, config, logger } = deps;
  return {
    methods: 'any',
    async handle(exchange) {
      const { req, res, url, requestId } = exchange;
      if (req.method !== 'GET' && req.method !== 'POST') {
        res.setHeader('allow', 'GET, POST');
        return sendError(res, 405, 'METHOD_NOT_ALLOWED', `Method ${req.method} is not allowed on /graphql; use GET or POST`);
      }
      // A browser opening /graphql: the offline IDE when it is on (Apollo's landing page, which
      // loads from a CDN, is disabled in src/http/apollo.ts).
      if (deps.ide && wantsIde(req, url)) return deps.ide(req, res);
      const bearer = requestBearer(req.headers.authorization);
      // Hashed once: the rate limiter keys its budget by it and authentication looks the token up by it.
      const bearerHash = bearer ? hashToken(bearer) : undefined;
      const charge = await deps.rateLimits.charge(req, res, bearer, bearerHash);
      if (charge.refused) return;
      const clock = requestNow(req.headers['x-clock-now'], config.clockOverride);
      if ('problem' in clock) return sendError(res, 400, 'BAD_REQUEST', clock.problem);
      const { now } = clock;
      const readFrom = readFromHeader(req.headers[READ_FROM_HEADER]);
      if ('problem' in readFrom) return sendError(res, 400, 'BAD_REQUEST', readFrom.problem);

      let body: unknown;
      if (req.method === 'POST') {
        const read = await readGraphQLBody(req, res, config.http.bodyLimitBytes);
        if (read.answered) return;
        body = read.body;
      }

      const ctx = createContext(orm, requestId, bearer, now);
      ctx.request.bearerHash = bearerHash;
      ctx.request.rateLimit = charge.budget;
      const accept = req.headers.accept;
      const viaApollo = async (): Promise<HTTPGraphQLResponse> => {
        const headers = new HeaderMap();
        for (const [k, v] of Object.entries(req.headers)) {
          if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        }
        const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: { method: req.method as string, headers, search: url.search, body }, context: async () => ctx });
        prepared.answered(accept, response);
        return response;
      };
      // A query Apollo has validated before, with an Accept it has answered: run without its pipeline (src/http/prepared-query.ts).
      const matched = req.method === 'POST' ? prepared.match(body, accept) : null;
      const execution = matched ? prepared.run(matched, ctx, readFrom.forcePrimary).then((answer) => answer ?? viaApollo()) : viaApollo();
      deps.shutdown.track(execution);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.limits.requestTimeoutMs);
      });
      const response = await Promise.race([execution, timedOut]);
      clearTimeout(timer);
      exchange.operationName = ctx.request.operationName;
      exchange.errorCodes = ctx.request.errorCodes;
      if (response === 'timeout') {
        // A query cannot be interrupted, but loops that breathe (scoring, overdue months) stop at
        // their next turn; the rest finishes in the background on its own fork, its result dropped.
        ctx.request.abandoned = true;
        execution.catch((e) => {
          if (!(e instanceof AbandonedError)) logger.error({ reqId: requestId, err: loggableError(e) }, 'timed-out request failed later');
        });
        exchange.errorCodes = ['TIMEOUT'];
        return sendError(res, 503, 'TIMEOUT', `The request took longer than ${config.limits.requestTimeoutMs} ms and was abandoned`);
      }
      await writeApolloResponse(res, response, ctx.request);
    },
  };
}

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

/**
 * Writes Apollo's answer: its headers, the spec's status, and the body whole or as it streams. A
 * fact connection's page planned by src/http/facts-execution.ts is already JSON bytes: they are
 * sent as they are.
 */
async function writeApolloResponse(res: http.ServerResponse, response: HTTPGraphQLResponse, request: RequestInfo): Promise<void> {
  for (const [k, v] of response.headers) res.setHeader(k, v);
  res.statusCode = specStatus(response);
  if (response.body.kind === 'complete') {
    const planned = plannedBody(request, response.body.string);
    if (planned) {
      res.setHeader(
        'content-length',
        planned.reduce((n, b) => n + b.length, 0),
      );
      // Corked: the chunks leave in one write (end() uncorks).
      res.cork();
      for (const chunk of planned) res.write(chunk);
      res.end();
      return;
    }
    res.setHeader('content-length', Buffer.byteLength(response.body.string));
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
