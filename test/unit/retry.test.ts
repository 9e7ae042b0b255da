import { ApolloServer, HeaderMap } from '@apollo/server';
import { DeadlockException, UniqueConstraintViolationException } from '@mikro-orm/core';
import { GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PUBLIC_ERROR_CODES, TransientConflictError } from '../../src/common/errors';
import { isTransientFailure, RetryableConflict, retryTransient } from '../../src/common/retry';
import { formatError } from '../../src/http/apollo';

/** A driver error as node-postgres raises it, wrapped the way MikroORM's exception converter does. */
const driverError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('retryTransient', () => {
  it('runs a transaction again after a deadlock (40P01) or a serialization failure (40001)', async () => {
    const failures = [new DeadlockException(driverError('40P01')), new DeadlockException(driverError('40001')), driverError('40001'), new RetryableConflict('moved meanwhile')];
    let calls = 0;
    const retried: number[] = [];
    const result = await retryTransient(
      async () => {
        const failure = failures[calls++];
        if (failure) throw failure;
        return 'written';
      },
      { attempts: 5, baseDelayMs: 1, onRetry: (_e, n) => retried.push(n) },
    );
    expect(result).toBe('written');
    expect(calls).toBe(5);
    expect(retried).toEqual([1, 2, 3, 4]);
  });

  it('gives up after N attempts with TRANSIENT_CONFLICT, HTTP 503 and Retry-After, a public code', async () => {
    let calls = 0;
    const error = await retryTransient(
      async () => {
        calls++;
        throw new DeadlockException(driverError('40P01'));
      },
      { attempts: 3, baseDelayMs: 1 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(error).toBeInstanceOf(TransientConflictError);
    const e = error as TransientConflictError;
    expect(e.extensions.code).toBe('TRANSIENT_CONFLICT');
    expect(e.extensions.http).toEqual({ status: 503, headers: new Map([['retry-after', '1']]) });
    expect(isTransientFailure((e as { cause?: unknown }).cause)).toBe(true);
    expect(PUBLIC_ERROR_CODES.has('TRANSIENT_CONFLICT')).toBe(true);
    // The server's masking filter lets it through (INTERNAL would tell the client nothing).
    expect(formatError({ message: e.message, extensions: { code: 'TRANSIENT_CONFLICT' } }).extensions?.code).toBe('TRANSIENT_CONFLICT');
  });

  it("reaches the client as HTTP 503 with Retry-After through Apollo and the server's formatError", async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString, resolve: () => 'ok' } } }),
      mutation: new GraphQLObjectType({
        name: 'Mutation',
        fields: {
          write: {
            type: new GraphQLNonNull(GraphQLString),
            resolve: () => retryTransient(() => Promise.reject(new DeadlockException(driverError('40P01'))), { attempts: 2, baseDelayMs: 1 }),
          },
        },
      }),
    });
    const apollo = new ApolloServer({ schema, formatError, includeStacktraceInErrorResponses: false });
    await apollo.start();
    try {
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers: new HeaderMap([['content-type', 'application/json']]), search: '', body: { query: 'mutation { write }' } },
        context: async () => ({}),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      const body = JSON.parse(response.body.kind === 'complete' ? response.body.string : '{}') as { errors: Array<{ extensions: Record<string, unknown> }> };
      expect(body.errors[0].extensions).toEqual({ code: 'TRANSIENT_CONFLICT', retryAfterSeconds: 1 });
    } finally {
      await apollo.stop();
    }
  });

  it('does not retry anything else', async () => {
    for (const failure of [new UniqueConstraintViolationException(driverError('23505')), driverError('40P02'), new Error('bug')]) {
      let calls = 0;
      await expect(
        retryTransient(async () => {
          calls++;
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(calls).toBe(1);
    }
  });

  it.runIf(!!process.env.TEST_POSTGRES_URL)('survives a real deadlock on PostgreSQL', async () => {
    const url = process.env.TEST_POSTGRES_URL as string;
    const table = `retry_test_${process.pid}_${Date.now()}`;
    const a = new pg.Client({ connectionString: url });
    const b = new pg.Client({ connectionString: url });
    await a.connect();
    await b.connect();
    try {
      await a.query(`create table ${table} (id int primary key, n int not null)`);
      await a.query(`insert into ${table} values (1, 0), (2, 0)`);
      // The other session is never the deadlock's victim: it checks for one much later than `a`.
      await b.query(`set deadlock_timeout = '30s'`);
      let calls = 0;
      const result = await retryTransient(
        async () => {
          calls++;
          await a.query('begin');
          try {
            await a.query(`update ${table} set n = n + 1 where id = 1`);
            if (calls === 1) {
              // The first attempt meets a writer taking the same rows in the other order.
              await b.query('begin');
              await b.query(`update ${table} set n = n + 1 where id = 2`);
              const other = b.query(`update ${table} set n = n + 1 where id = 1`).then(() => b.query('commit'));
              const mine = a.query(`update ${table} set n = n + 1 where id = 2`);
              const outcome = await Promise.allSettled([mine]);
              if (outcome[0].status === 'rejected') {
                await a.query('rollback');
                await other;
                throw outcome[0].reason;
              }
            } else {
              await a.query(`update ${table} set n = n + 1 where id = 2`);
            }
            await a.query('commit');
            return calls;
          } catch (e) {
            await a.query('rollback').catch(() => undefined);
            throw e;
          }
        },
        { attempts: 3, baseDelayMs: 1 },
      );
      expect(result).toBe(2);
      // `b` committed once, `a` once (its first attempt was rolled back).
      expect((await a.query(`select id, n from ${table} order by id`)).rows).toEqual([
        { id: 1, n: 2 },
        { id: 2, n: 2 },
      ]);
    } finally {
      await a.query(`drop table if exists ${table}`).catch(() => undefined);
      await a.end();
      await b.end();
    }
  });
});
