import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { loggableError } from '../common/logging';
import type { Config } from '../common/config';
import { sendJson } from './respond';
import type { Route } from './route';
import type { Shutdown } from './shutdown';

/** How long readiness waits for the database before calling it unavailable. */
const READINESS_TIMEOUT_MS = 2000;

/** `GET /healthz`: open, no SQL: the process is up and answering. */
export function livenessRoute(): Route {
  return { methods: ['GET'], handle: async ({ res }) => sendJson(res, 200, { status: 'ok' }) };
}

/**
 * `GET /readyz`: open; 200 while the database answers `select 1` within two seconds, 503 once
 * shutdown has begun (so a balancer stops sending) or when the database does not answer.
 */
export function readinessRoute(deps: { orm: MikroORM; config: Config; logger: Logger; shutdown: Shutdown }): Route {
  return {
    methods: ['GET'],
    async handle({ res, requestId }) {
      if (deps.shutdown.started) return sendJson(res, 503, { status: 'shutting down' });
      try {
        await withTimeout(deps.orm.em.getConnection().execute('select 1', [], 'get'), READINESS_TIMEOUT_MS);
        return sendJson(res, 200, { status: 'ready', database: deps.config.database.engine });
      } catch (e) {
        deps.logger.warn({ reqId: requestId, err: loggableError(e) }, 'readiness check failed');
        return sendJson(res, 503, { status: 'database unavailable' });
      }
    },
  };
}

/** `promise`, or a rejection after `ms` (the promise itself runs on; its result is dropped). */
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
