import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DepartmentDocument, DepartmentsDocument, ServicesDocument } from '../generated/graphql';
import { engines, memoryLogger, post, startServer, type TestServer } from '../support/server';

/** Sends a body in chunks without a content-length, as a streaming client would. */
function postChunked(url: string, chunks: Buffer[]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'EPIPE' || (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe.each(engines())('HTTP layer on %s', (engine) => {
  let s: TestServer;
  const log = memoryLogger();
  beforeAll(async () => {
    s = await startServer(engine, { logger: log.logger, seed: true });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: engine });
  });

  it('echoes a request id and logs the request with its operation name and duration', async () => {
    const r = await post(`${s.url}/graphql`, JSON.stringify({ query: 'query Probe { departments(first: 1) { totalCount } }' }), {
      'x-request-id': 'probe-42',
      authorization: `Bearer ${s.adminToken}`,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('probe-42');
    const line = log.lines.find((l) => l.reqId === 'probe-42');
    expect(line).toMatchObject({ msg: 'request', method: 'POST', path: '/graphql', status: 200, operationName: 'Probe' });
    expect(typeof line?.durationMs).toBe('number');
    const generated = await post(`${s.url}/graphql`, JSON.stringify({ query: '{ __typename }' }), { 'x-request-id': 'bad id with spaces' });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('marks every GraphQL answer cache-control: no-store (data, errors, a document that does not parse, no credentials)', async () => {
    const headers = { authorization: `Bearer ${s.adminToken}` };
    const answers = [
      await post(`${s.url}/graphql`, JSON.stringify({ query: 'query Probe { departments(first: 1) { totalCount } }' }), headers),
      await post(`${s.url}/graphql`, JSON.stringify({ query: '{ department(code: "NOPE") { code } }' }), headers),
      await post(`${s.url}/graphql`, JSON.stringify({ query: '{ nope' }), headers),
      await post(`${s.url}/graphql`, JSON.stringify({ query: '{ departments(first: 1) { totalCount } }' })),
    ];
    expect(answers.map((r) => [r.status, r.headers.get('cache-control')])).toEqual([
      [200, 'no-store'],
      [200, 'no-store'],
      [200, 'no-store'],
      [401, 'no-store'],
    ]);
  });

  it('answers an unknown operationName with a 400 naming it, whatever the document holds (the fuzzer found a 500)', async () => {
    const documents = [
      'query A { __typename }',
      'query A { departments(first: 1) { totalCount } }',
      'query A { measurementFacts(filter: { from: "2026-01", to: "2026-02" }) { edges { node { id } } } }',
      'mutation A { revokeApiToken(input: { id: "x" }) { __typename } }',
    ];
    for (const query of documents) {
      const r = await post(`${s.url}/graphql`, JSON.stringify({ query, operationName: 'B' }), { authorization: `Bearer ${s.adminToken}` });
      const body = JSON.parse(r.text) as { errors?: Array<{ message: string }> };
      expect({ query, status: r.status, error: body.errors?.[0]?.message }).toEqual({ query, status: 400, error: 'Unknown operation named "B".' });
    }
  });

  it('exposes Prometheus metrics: requests and durations by operation, errors by code', async () => {
    await s.data(DepartmentsDocument, { first: 1 });
    await s.request(DepartmentDocument, { code: 'NOPE' });
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    const r = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const text = await r.text();
    expect(text).toMatch(/graphql_requests_total\{operation="Departments"\} [1-9]/);
    expect(text).toMatch(/graphql_request_duration_seconds_count\{operation="Departments"\} [1-9]/);
    expect(text).toMatch(/graphql_request_duration_seconds_bucket\{le="0.005",operation="Departments"\} \d+/);
    expect(text).toMatch(/graphql_errors_total\{code="NOT_FOUND"\} [1-9]/);
    expect(text).toMatch(/http_requests_total\{route="\/graphql",method="POST",status="200"\} [1-9]/);
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('refuses a body over the limit with 413, whether announced or streamed, before parsing it', async () => {
    const big = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(9 * 1024 * 1024) } });
    const announced = await post(`${s.url}/graphql`, big);
    expect(announced.status).toBe(413);
    expect(JSON.parse(announced.text)).toEqual({ errors: [{ message: 'Request body exceeds the limit of 4194304 bytes', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    const streamed = await postChunked(
      s.url,
      Array.from({ length: 140 }, () => Buffer.alloc(64 * 1024, 'x')),
    );
    expect(streamed.status).toBe(413);
    // The server is still healthy afterwards.
    expect((await s.request(DepartmentsDocument, { first: 1 })).status).toBe(200);
  });

  it('answers malformed JSON with 400, an unknown path with 404 and a wrong method with 405', async () => {
    const bad = await post(`${s.url}/graphql`, '{"query": ');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).errors[0]).toEqual({ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } });
    const missing = await fetch(`${s.url}/nope`);
    expect(missing.status).toBe(404);
    const put = await fetch(`${s.url}/graphql`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
  });

  it('takes the test clock only when CLOCK_OVERRIDE is on, and only a real instant', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const bad = await post(`${s.url}/graphql`, body, { 'content-type': 'application/json', 'x-clock-now': 'yesterday' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).errors[0]).toEqual({ message: 'X-Clock-Now: expected an ISO 8601 instant, received "yesterday"', extensions: { code: 'BAD_REQUEST' } });
    // Far in the future it would set as much work as an unbounded asOf (the torture suite froze
    // overdueReports with it): the same range as every instant argument.
    const far = await post(`${s.url}/graphql`, body, { 'content-type': 'application/json', 'x-clock-now': '2600-12-31T23:59:59Z' });
    expect(far.status).toBe(400);
    expect(JSON.parse(far.text).errors[0]).toEqual({
      message: 'X-Clock-Now: expected an instant from 2000-01-01T00:00:00.000Z to before 2100-01-01T00:00:00.000Z, received 2600-12-31T23:59:59.000Z',
      extensions: { code: 'BAD_REQUEST' },
    });
    const off = await startServer(engine, { env: { CLOCK_OVERRIDE: 'false' } });
    try {
      const refused = await post(`${off.url}/graphql`, body, { 'content-type': 'application/json', 'x-clock-now': '2026-01-01T00:00:00Z' });
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.text).errors[0].message).toBe('X-Clock-Now is not allowed here (CLOCK_OVERRIDE is off)');
    } finally {
      await off.close();
    }
  });

  it('blocks simple cross-site requests (CSRF prevention) and mutations over GET', async () => {
    const textPlain = await post(`${s.url}/graphql`, JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'text/plain' });
    expect(textPlain.status).toBe(400);
    expect(textPlain.text).toContain('Cross-Site Request Forgery');
    const q = encodeURIComponent('mutation { archiveMetric(input: { id: "00000000-0000-4000-8000-000000000000", expectedVersion: 1 }) { metric { id } } }');
    const headers = { 'apollo-require-preflight': 'true', authorization: `Bearer ${s.adminToken}` };
    const viaGet = await fetch(`${s.url}/graphql?query=${q}`, { headers });
    expect(viaGet.status).toBe(405);
    const readViaGet = await fetch(`${s.url}/graphql?query=${encodeURIComponent('{ departments(first: 1) { totalCount } }')}`, { headers });
    expect(readViaGet.status).toBe(200);
  });

  it('masks unexpected errors as INTERNAL, with no SQL in the response, and logs them in full', async () => {
    await s.app.orm.em.getConnection().execute('alter table service rename to service_gone');
    const r = await s.request(ServicesDocument, { first: 1 }, { 'x-request-id': 'broken-1' });
    expect(r.errors).toEqual([{ message: 'Internal server error', locations: [{ line: 2, column: 3 }], path: ['services'], extensions: { code: 'INTERNAL' } }]);
    const logged = log.lines.find((l) => l.reqId === 'broken-1' && l.level === 50);
    expect(logged?.msg).toBe('unexpected error while executing GraphQL; masked as INTERNAL');
    expect(JSON.stringify(logged?.err)).toMatch(/service/);
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.adminToken}` } })).text();
    expect(metrics).toMatch(/graphql_errors_total\{code="INTERNAL"\} [1-9]/);
  });
});

describe('CORS', () => {
  let s: TestServer;
  let closed: TestServer;
  beforeAll(async () => {
    s = await startServer('sqlite', { env: { CORS_ORIGINS: 'https://dash.example.com' } });
    closed = await startServer('sqlite');
  });
  afterAll(async () => {
    await s?.close();
    await closed?.close();
  });

  it('answers a preflight from an allowed origin and names it', async () => {
    const r = await fetch(`${s.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://dash.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    expect(r.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('sends no allow-origin header to other origins, nor when CORS is not configured', async () => {
    const other = await fetch(`${s.url}/graphql`, { method: 'POST', headers: { origin: 'https://evil.example.com', 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const none = await fetch(`${closed.url}/graphql`, { method: 'POST', headers: { origin: 'https://dash.example.com', 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });
});
