import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { Config } from '../common/config';
import { BadUserInputError, UnauthenticatedError } from '../common/errors';
import { loggableError } from '../common/logging';
import { createContext } from '../common/context';
import { chooseReadSource, READ_FROM_HEADER, READ_SOURCE_HEADER, readFromHeader, type ReadRouting } from '../common/read-route';
import { authenticateTokenId } from '../modules/auth/auth.service';
import { filterFromQuery, streamCsv } from '../modules/exports/csv';
import { isLinkRequest, verifyLink } from '../modules/exports/export-link';
import type { FactTable } from '../modules/exports/fact-table';
import { authenticateBearer, requestBearer } from './authenticate';
import { requestNow } from './clock';
import type { RateLimits } from './rate-limit';
import { sendError } from './respond';
import type { Route } from './route';

/**
 * `GET /export/<file>.csv` of a fact table: a CSV export for BI tools, with the same rate limit,
 * limits, filters and rows as the table's facts connection (src/modules/exports/csv.ts). The
 * caller is the bearer token of any role, or, without an Authorization header, a signed link
 * (`createExportLink`): its signature must match (else 403), it must not have expired, and the
 * token it was made with must still stand (else 401). The test clock (`X-Clock-Now`) applies where
 * the configuration allows it. An error before the first row is a JSON error (401, 403, 400); one
 * while streaming can only cut the connection, and is logged.
 */
export function csvExportRoute(table: FactTable, deps: { orm: MikroORM; logger: Logger; rateLimits: RateLimits; config: Config; readRouting: ReadRouting }): Route {
  return {
    methods: ['GET'],
    async handle({ req, res, url, requestId }) {
      const bearer = requestBearer(req.headers.authorization);
      const link = bearer === undefined && isLinkRequest(url.searchParams);
      // A link's requests count against a bucket of the token it was made with.
      if (await deps.rateLimits.refuse(req, res, link ? `link:${url.searchParams.get('token') ?? ''}` : bearer)) return;
      const clock = requestNow(req.headers['x-clock-now'], deps.config.clockOverride);
      if ('problem' in clock) return sendError(res, 400, 'BAD_REQUEST', clock.problem);
      const readFrom = readFromHeader(req.headers[READ_FROM_HEADER]);
      if ('problem' in readFrom) return sendError(res, 400, 'BAD_REQUEST', readFrom.problem);
      const ctx = createContext(deps.orm, requestId, bearer, clock.now);
      try {
        const filter = filterFromQuery(url.searchParams);
        if (link) {
          const verified = await verifyLink(ctx.em, table.file, filter, url.searchParams, ctx.request.now);
          if ('status' in verified) {
            // A forged or altered link is a failed authentication too (a 401 is charged when answered).
            if (verified.status === 403) deps.rateLimits.failed(req);
            return sendError(res, verified.status, verified.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN', verified.message);
          }
          ctx.principal = await authenticateTokenId(ctx.em, verified.tokenId);
        } else {
          ctx.principal = await authenticateBearer(ctx.em, bearer);
        }
        // A read like the facts connection's: from a replica unless the principal wrote just now
        // or the client asked for the primary (src/common/read-route.ts).
        res.setHeader(READ_SOURCE_HEADER, chooseReadSource(ctx, deps.readRouting, { mutation: false, forcePrimary: readFrom.forcePrimary }));
        await streamCsv(ctx, table, filter, res);
      } catch (e) {
        if (res.headersSent) {
          deps.logger.error({ err: loggableError(e), reqId: requestId }, 'CSV export failed while streaming');
          res.destroy(e as Error);
          return;
        }
        if (e instanceof UnauthenticatedError) return sendError(res, 401, 'UNAUTHENTICATED', e.message);
        if (e instanceof BadUserInputError) return sendError(res, 400, 'BAD_USER_INPUT', e.message);
        throw e;
      }
    },
  };
}
