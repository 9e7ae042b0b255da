import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DepartmentsCountDocument } from '../generated/graphql';
import { post, Role, startServer, type TestServer } from '../support/server';

/** A raw GraphQL POST with a token; returns status and parsed body. */
async function gql(s: TestServer, body: unknown, headers: Record<string, string> = {}) {
  const r = await post(`${s.url}/graphql`, typeof body === 'string' ? body : JSON.stringify(body), {
    authorization: `Bearer ${s.adminToken}`,
    accept: 'application/json',
    ...headers,
  });
  let json: { errors?: Array<{ message: string; extensions?: { code?: string } }>; data?: unknown } = {};
  try {
    json = JSON.parse(r.text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, json, headers: r.headers };
}

function nested(depth: number): string {
  // departments { edges { node { parent { parent { … code } } } } }
  let inner = 'code';
  for (let i = 0; i < depth - 4; i++) inner = `parent { ${inner} }`;
  return `{ departments(first: 1) { edges { node { ${inner} } } } }`;
}

describe('abusive requests are refused with a clear 4xx before any SQL runs', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer('sqlite', { seed: true });
    await s.data(DepartmentsCountDocument, { first: 1 }); // warm: the token's lastUsedAt is written now
  });
  afterAll(async () => {
    await s?.close();
  });

  const cases: Array<[string, () => Promise<{ status: number; json: { errors?: Array<{ message: string; extensions?: { code?: string } }> } }>, number, string, RegExp]> = [
    ['depth 20', () => gql(s, { query: nested(20) }), 400, 'QUERY_TOO_DEEP', /Query depth 20 exceeds the limit of 10/],
    ['1,000 aliases', () => gql(s, { query: `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: __typename`).join(' ')} }` }), 400, 'TOO_MANY_ALIASES', /more than 30 aliased fields/],
    ['first: 100000', () => gql(s, { query: '{ departments(first: 100000) { totalCount } }' }), 400, 'QUERY_TOO_COMPLEX', /Query cost 100001 exceeds the limit of 50000/],
    ['first: 100000 in a variable', () => gql(s, { query: 'query($n: Int) { departments(first: $n) { totalCount } }', variables: { n: 100000 } }), 400, 'QUERY_TOO_COMPLEX', /exceeds the limit/],
    ['a 9 MB body', () => gql(s, { query: '{ __typename }', variables: { pad: 'x'.repeat(9 * 1024 * 1024) } }), 413, 'PAYLOAD_TOO_LARGE', /exceeds the limit of 4194304 bytes/],
    ['a batched array', () => gql(s, [{ query: '{ __typename }' }, { query: '{ __typename }' }]), 400, 'BAD_REQUEST', /batch/i],
    ['too many tokens', () => gql(s, { query: `{ ${'__typename '.repeat(6000)}}` }), 400, 'TOO_MANY_TOKENS', /Document contains more tha[nt] 5000 tokens/],
  ];

  it.each(cases)('%s', async (_name, send, status, code, message) => {
    let response!: Awaited<ReturnType<typeof send>>;
    const statements = await s.countStatements(async () => {
      response = await send();
    });
    expect(response.status).toBe(status);
    expect(response.json.errors?.[0].extensions?.code).toBe(code);
    expect(response.json.errors?.[0].message).toMatch(message);
    expect(statements).toBe(0);
  });

  it('checks cost and values for every request of one query text, though the document is parsed once', async () => {
    // Apollo hands the same parsed document to each request of one text; what is kept with it must
    // not let a later request's variables through.
    const byVariable = 'query($n: Int, $s: String) { departments(first: $n, filter: { search: $s }) { totalCount } }';
    const codes = async (variables: Record<string, unknown>) => (await gql(s, { query: byVariable, variables })).json.errors?.map((e) => e.extensions?.code);
    expect(await codes({ n: 10 })).toBeUndefined();
    expect(await codes({ n: 100000 })).toEqual(['QUERY_TOO_COMPLEX']);
    expect(await codes({ n: 10, s: 'bad\u0000' })).toEqual(['BAD_USER_INPUT']);
    expect(await codes({ n: 'ten' })).toEqual(['BAD_USER_INPUT']);
    expect(await codes({ n: 10, s: 'fine' })).toBeUndefined();
    // Without variables: refused each time, and a second operation of the document costs its own.
    const literal = 'query Big { departments(first: 100000) { totalCount } } query Small { departments(first: 1) { totalCount } }';
    for (let i = 0; i < 2; i++) {
      expect((await gql(s, { query: literal, operationName: 'Big' })).json.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/Query cost 100001 exceeds/),
        extensions: { code: 'QUERY_TOO_COMPLEX' },
      });
      expect((await gql(s, { query: literal, operationName: 'Small' })).json.errors).toBeUndefined();
    }
    const badLiteral = '{ departments(first: 1, filter: { search: "bad\\u0000" }) { totalCount } }';
    for (let i = 0; i < 2; i++) expect((await gql(s, { query: badLiteral })).json.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('a mutation over GET: 405, no SQL', async () => {
    const q = encodeURIComponent('mutation { archiveMetric(input: { id: "00000000-0000-4000-8000-000000000000", expectedVersion: 1 }) { metric { id } } }');
    let status = 0;
    let text = '';
    const statements = await s.countStatements(async () => {
      const r = await fetch(`${s.url}/graphql?query=${q}`, { headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${s.adminToken}` } });
      status = r.status;
      text = await r.text();
    });
    expect(status).toBe(405);
    expect(JSON.parse(text).errors[0].message).toBe('GET requests only support query operations, not mutation operations');
    expect(statements).toBe(0);
  });

  it('an unauthenticated request: 401, and only the token lookup runs', async () => {
    const none = await s.countStatements(async () => {
      const r = await gql(s, { query: '{ departments(first: 1) { totalCount } }' }, { authorization: '' });
      expect(r.status).toBe(401);
      expect(r.json.errors?.[0]).toMatchObject({ message: 'Authentication required: send Authorization: Bearer <token>', extensions: { code: 'UNAUTHENTICATED' } });
    });
    expect(none).toBe(0);
    const unknown = await s.countStatements(async () => {
      const r = await gql(s, { query: '{ departments(first: 1) { totalCount } }' }, { authorization: 'Bearer tsla_not-a-real-token-at-all' });
      expect(r.status).toBe(401);
      expect(r.json.errors?.[0].message).toBe('The bearer token is not known');
    });
    expect(unknown).toBe(1);
    const malformed = await gql(s, { query: '{ departments(first: 1) { totalCount } }' }, { authorization: 'Basic abc' });
    expect(malformed.status).toBe(401);
    expect(malformed.json.errors?.[0].message).toBe('Malformed Authorization header: expected "Bearer <token>"');
  });

  it('leaves { __typename } open, without SQL', async () => {
    const statements = await s.countStatements(async () => {
      const r = await gql(s, { query: '{ __typename }' }, { authorization: '' });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ data: { __typename: 'Query' } });
    });
    expect(statements).toBe(0);
  });

  it('allows a legitimate deep-ish, wide query under the limits', async () => {
    const r = await gql(s, { query: nested(10) });
    expect(r.status).toBe(200);
    expect(r.json.errors).toBeUndefined();
  });

  it('still answers parse and validation failures with 400 for application/graphql-response+json, 200 for application/json', async () => {
    const plain = await gql(s, { query: '{ nope }' });
    expect(plain.status).toBe(200);
    expect(plain.json.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const modern = await gql(s, { query: '{ nope }' }, { accept: 'application/graphql-response+json' });
    expect(modern.status).toBe(400);
  });
});

describe('rate limit, timeout and production mode', () => {
  it('limits requests per token and per address, with Retry-After', async () => {
    const s = await startServer('sqlite', { env: { RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      const other = await s.tokenFor(Role.ANALYST);
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await gql(s, { query: '{ __typename }' })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const limited = await gql(s, { query: '{ __typename }' });
      expect(limited.json.errors?.[0]).toMatchObject({ message: expect.stringMatching(/Rate limit of 5 requests a minute exceeded; retry in \d+ s/), extensions: { code: 'RATE_LIMITED' } });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Another token has its own budget.
      expect((await gql(s, { query: '{ __typename }' }, { authorization: `Bearer ${other}` })).status).toBe(200);
      // A fresh random token per request gets no fresh budget: failed authentications count
      // against the address, and /metrics is limited too.
      const statuses2: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await gql(s, { query: '{ departments(first: 1) { totalCount } }' }, { authorization: `Bearer tsla_random_${i}_${'x'.repeat(20)}` });
        statuses2.push(r.status);
      }
      expect(statuses2).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
      expect((await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer tsla_random_metrics_xxxxxxxxxxxx' } })).status).toBe(429);
    } finally {
      await s.close();
    }
  });

  it('gives forged export links no fresh budget per token id they name: a bad signature counts as a failed authentication', async () => {
    const s = await startServer('sqlite', { env: { RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const token = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        statuses.push((await fetch(`${s.url}/export/credits.csv?from=2026-01&to=2026-03&expires=4102444800&token=${token}&sig=${'A'.repeat(43)}`)).status);
      }
      expect(statuses).toEqual([403, 403, 403, 403, 403, 429, 429, 429]);
    } finally {
      await s.close();
    }
  });

  it('abandons a request that outlives REQUEST_TIMEOUT_MS with 503', async () => {
    const s = await startServer('sqlite', { env: { REQUEST_TIMEOUT_MS: '100' }, seed: true });
    try {
      // A slow database, simulated: every statement waits 300 ms first. (A really slow SQLite
      // query cannot stand in: better-sqlite3 is synchronous and would stall the timer too.)
      const conn = s.app.orm.em.getConnection();
      const execute = conn.execute.bind(conn);
      vi.spyOn(conn, 'execute').mockImplementation(async (...args: Parameters<typeof execute>) => {
        await new Promise((r) => setTimeout(r, 300));
        return execute(...args);
      });
      const r = await gql(s, { query: '{ departments(first: 1) { totalCount } }' });
      vi.restoreAllMocks();
      expect(r.status).toBe(503);
      expect(r.json.errors?.[0]).toEqual({ message: 'The request took longer than 100 ms and was abandoned', extensions: { code: 'TIMEOUT' } });
    } finally {
      await s.close();
    }
  });

  it('turns introspection and field suggestions off in production', async () => {
    const dev = await startServer('sqlite');
    const prod = await startServer('sqlite', { env: { NODE_ENV: 'production' } });
    try {
      const introspection = { query: '{ __schema { queryType { name } } }' };
      expect((await gql(dev, introspection)).json).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
      const refused = await gql(prod, introspection);
      expect(refused.json.errors?.[0].message).toMatch(/introspection is not allowed/i);
      const typo = { query: '{ departmentz(first: 1) { totalCount } }' };
      expect((await gql(dev, typo)).json.errors?.[0].message).toContain('Did you mean');
      expect((await gql(prod, typo)).json.errors?.[0].message).not.toContain('Did you mean');
    } finally {
      await dev.close();
      await prod.close();
    }
  });
});
