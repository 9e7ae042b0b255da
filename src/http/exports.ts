import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { BadUserInputError, UnauthenticatedError } from '../common/errors';
import { loggableError } from '../common/logging';
import { createContext } from '../common/context';
import { type CsvKind, filterFromQuery, streamCsv } from '../modules/exports/csv';
import { authenticateBearer, requestBearer } from './authenticate';
import type { RateLimits } from './rate-limit';
import { sendError } from './respond';
import type { Route } from './route';

/**
 * `GET /export/measurements.csv` and `GET /export/handoffs.csv`: CSV exports for BI tools, with
 * the bearer token of any role, the same rate limit, and the same limits, filters and rows as the
 * facts connections (src/modules/exports/csv.ts). An error before the first row is a JSON error
 * (401, 400); one while streaming can only cut the connection, and is logged.
 */
export function csvExportRoute(kind: CsvKind, deps: { orm: MikroORM; logger: Logger; rateLimits: RateLimits }): Route {
  return {
    methods: ['GET'],
    async handle({ req, res, url, requestId }) {
      const bearer = requestBearer(req.headers.authorization);
      if (await deps.rateLimits.refuse(req, res, bearer)) return;
      const ctx = createContext(deps.orm, requestId, bearer, new Date());
      try {
        ctx.principal = await authenticateBearer(ctx.em, bearer);
        await streamCsv(ctx, kind, filterFromQuery(url.searchParams), res);
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
