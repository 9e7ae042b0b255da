/**
 * Issue 12: every argument that sets an amount of work is bounded before any work starts, bad text
 * never reaches the database, forged cursors are refused, and what answered INTERNAL no longer does.
 * Each case below failed before the fix (a frozen server, a driver error masked as INTERNAL, or a
 * wrong answer); each now gets a 4xx naming the argument, with no SQL beyond authentication.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLogDocument, DepartmentsDocument, MeasuredAgreementVersionsDocument, SearchDepartmentsDocument, SearchServicesDocument, CreateDepartmentDocument } from '../generated/graphql';
import { engines, post, startServer, type TestServer } from '../support/server';

type Json = { errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>; data?: Record<string, unknown> | null };

/** A raw GraphQL POST as the admin (hostile values are easier to send raw); status and parsed body. */
async function gql(s: TestServer, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> {
  const r = await post(`${s.url}/graphql`, JSON.stringify({ query, variables }), { authorization: `Bearer ${s.adminToken}`, accept: 'application/graphql-response+json', ...headers });
  return { status: r.status, json: JSON.parse(r.text) as Json };
}

const forged = (json: string) => Buffer.from(json).toString('base64url');
const NOW = '2026-11-26T12:00:00Z';

describe.each(engines())('bounded work and clean refusals (%s)', (engine) => {
  let s: TestServer;
  /** SQL statements of a request refused in a resolver before it reads anything: authentication only. */
  let authOnly: number;

  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
    await s.data(DepartmentsDocument, { first: 1 }); // the token's lastUsedAt is written now, not in a counted request
    authOnly = await s.countStatements(async () => {
      const r = await gql(s, '{ department(id: "x", code: "y") { id } }');
      expect(r.json.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  // [name, query, variables, the field named, the message], refused before any SQL (variables are
  // checked before authentication).
  const atTheEdge: Array<[string, string, Record<string, unknown>, string, RegExp]> = [
    [
      'overdueReports(asOf: 9999-12-31)',
      'query($a: DateTime) { overdueReports(asOf: $a) { month } }',
      { a: '9999-12-31T23:59:59Z' },
      '',
      /DateTime: expected an instant from 2000-01-01T00:00:00.000Z to before 2100-01-01T00:00:00.000Z/,
    ],
    ['overdueReports(asOf: 2600-12-31)', 'query($a: DateTime) { overdueReports(asOf: $a) { month } }', { a: '2600-12-31T23:59:59Z' }, '', /to before 2100-01-01/],
    ['overdueReports(asOf: 0000-01-01)', 'query($a: DateTime) { overdueReports(asOf: $a) { month } }', { a: '0000-01-01T00:00:00Z' }, '', /DateTime: /],
    ['overdueReports(from: 0001-01)', 'query($f: Month) { overdueReports(from: $f) { month } }', { f: '0001-01' }, '', /Month: expected a month from 2000-01 to 2099-12, received "0001-01"/],
    ['auditLog(filter: { from: 0000-01-01 })', 'query($f: AuditFilter) { auditLog(filter: $f) { edges { node { id } } } }', { f: { from: '0000-01-01T00:00:00Z' } }, '', /DateTime: /],
    [
      'a 50,000-character search',
      'query($s: String) { departments(filter: { search: $s }) { edges { node { id } } } }',
      { s: 'x'.repeat(50_000) },
      'filter.search',
      /filter\.search: expected at most 20000 characters, received 50000/,
    ],
    [
      'a NUL byte in a name',
      'mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { department { id } } }',
      { i: { code: 'NUL', name: 'A\u0000B' } },
      'input.name',
      /input\.name: contains a NUL character/,
    ],
    [
      'a lone surrogate in a name',
      'mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { department { id } } }',
      { i: { code: 'SUR', name: 'A\ud800B' } },
      'input.name',
      /input\.name: contains a lone UTF-16 surrogate/,
    ],
    ['a NUL byte in a literal', 'mutation { createDepartment(input: { code: "NUL", name: "A\\u0000B" }) { department { id } } }', {}, 'input.name', /input\.name: contains a NUL character/],
    ['a NUL byte in a search', 'query($s: String) { departments(filter: { search: $s }) { edges { node { id } } } }', { s: '\u0000' }, 'filter.search', /NUL/],
    ['a NUL byte in an undeclared variable', 'query { departments { edges { node { id } } } }', { s: '\u0000' }, '$s', /\$s: contains a NUL/],
    [
      '10,000 handoff events',
      'mutation($i: RecordHandoffEventsInput!) { recordHandoffEvents(input: $i) { batch { received } } }',
      { i: { source: 'crm', events: Array.from({ length: 10_000 }, () => 0) } },
      'input.events',
      /input\.events: expected at most 5000 items, received 10000/,
    ],
    [
      '5,001 handoff events',
      'mutation($i: RecordHandoffEventsInput!) { recordHandoffEvents(input: $i) { batch { received } } }',
      { i: { source: 'crm', events: Array.from({ length: 5001 }, () => ({})) } },
      'input.events',
      /expected at most 5000 items, received 5001/,
    ],
    [
      'a value nested 40 deep',
      'query($s: String) { departments(filter: { search: $s }) { edges { node { id } } } }',
      { s: 'x', deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) },
      `$deep${'[0]'.repeat(33)}`,
      /nested deeper than 32 levels/,
    ],
  ];

  it.each(atTheEdge)('refuses %s at the edge, before any SQL', async (_name, query, variables, field, message) => {
    let r!: Awaited<ReturnType<typeof gql>>;
    const statements = await s.countStatements(async () => {
      r = await gql(s, query, variables);
    });
    expect(r.status).toBe(400);
    expect(r.json.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.json.errors?.[0].message).toMatch(message);
    if (field) expect(r.json.errors?.[0].extensions?.field).toBe(field);
    expect(statements).toBe(0);
  });

  // Refused by the service, after authentication and before reading anything.
  const inTheService: Array<[string, string, Record<string, unknown>, string, RegExp]> = [
    [
      'overdueReports(asOf: two years ahead)',
      'query($a: DateTime) { overdueReports(asOf: $a) { month } }',
      { a: '2028-11-26T12:00:00Z' },
      'asOf',
      /asOf: expected an instant at most 366 days after now \(2027-11-27T12:00:00.000Z\), received 2028-11-26T12:00:00.000Z/,
    ],
    ['reviewsDue(asOf: 2099-12-31)', 'query($a: DateTime) { reviewsDue(asOf: $a) { reviewDate } }', { a: '2099-12-31T23:59:59Z' }, 'asOf', /asOf: expected an instant at most 366 days after now/],
    [
      'organisationScorecard over 61 months',
      'query($f: Month!, $t: Month!) { organisationScorecard(from: $f, to: $t) { score } }',
      { f: '2020-01', t: '2025-01' },
      'to',
      /to: expected a window of at most 60 months, received 61/,
    ],
    ['measurementFacts over 100 years', 'query($f: FactFilter!) { measurementFacts(filter: $f) { asOf } }', { f: { from: '2000-01', to: '2099-12' } }, 'to', /at most 60 months/],
    [
      'a 201-character search',
      'query($s: String) { departments(filter: { search: $s }) { edges { node { id } } } }',
      { s: 'x'.repeat(201) },
      'filter.search',
      /filter\.search: expected at most 200 characters, received 201/,
    ],
    ['a cursor that decodes to 1e999', 'query($a: String) { departments(after: $a) { edges { node { id } } } }', { a: forged('1e999') }, 'after', /after: expected a cursor returned by this list/],
    [
      'a cursor holding Infinity',
      'query($a: String) { departments(after: $a) { edges { node { id } } } }',
      { a: forged('["Department(code,id)",1e999,"00000000-0000-4000-8000-000000000000"]') },
      'after',
      /after: expected a cursor/,
    ],
    [
      'a facts cursor {"w":1e20}',
      'query($a: String) { measurementFacts(filter: { from: "2026-01", to: "2026-02" }, after: $a) { asOf } }',
      { a: forged('{"w":1e20}') },
      'after',
      /after: expected a cursor returned by this list \(endCursor of measurementFacts\)/,
    ],
    [
      'a handoff facts cursor with a year-0 instant',
      'query($a: String) { handoffFacts(filter: { from: "2026-01", to: "2026-02" }, after: $a) { asOf } }',
      { a: forged('["handoffFacts",{"d":"0000-01-01T00:00:00Z"},{"d":"2026-01-01T00:00:00Z"},"00000000-0000-4000-8000-000000000000"]') },
      'after',
      /after: expected a cursor/,
    ],
  ];

  it.each(inTheService)('refuses %s with BAD_USER_INPUT, reading nothing', async (_name, query, variables, field, message) => {
    let r!: Awaited<ReturnType<typeof gql>>;
    const statements = await s.countStatements(async () => {
      r = await gql(s, query, variables, { 'x-clock-now': NOW });
    });
    expect(r.json.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.json.errors?.[0].message).toMatch(message);
    expect(r.json.errors?.[0].extensions?.field).toBe(field);
    expect(statements).toBeLessThanOrEqual(authOnly);
  });

  it('keeps /healthz answering while the worst argument of every bounded field is sent at once', async () => {
    // Before the fix one of these (asOf far ahead) held the event loop for minutes and /healthz
    // with it. The bound below is not a performance goal: it is 50 times a slice of work and far
    // under the minute the freeze lasted, so it separates a refusal from a frozen server.
    let stop = false;
    let slowest = 0;
    let pings = 0;
    const pinger = (async () => {
      while (!stop) {
        const started = performance.now();
        const r = await fetch(`${s.url}/healthz`);
        expect(r.status).toBe(200);
        slowest = Math.max(slowest, performance.now() - started);
        pings++;
      }
    })();
    const worst = [...atTheEdge, ...inTheService].map(([, query, variables]) => gql(s, query, variables, { 'x-clock-now': NOW }));
    // And the largest arguments that are accepted: a year ahead from 2000, five-year windows.
    const accepted: Array<[string, Record<string, unknown>]> = [
      ['query($a: DateTime, $f: Month) { overdueReports(asOf: $a, from: $f) { month } }', { a: '2027-11-27T12:00:00Z', f: '2000-01' }],
      ['query($a: DateTime) { reviewsDue(asOf: $a) { reviewDate } }', { a: '2027-11-27T12:00:00Z' }],
      ['query($f: Month!, $t: Month!) { organisationScorecard(from: $f, to: $t) { score byAgreement { score } } }', { f: '2022-01', t: '2026-12' }],
      ['query($f: FactFilter!) { measurementFacts(filter: $f, first: 2000) { edges { node { id status } } } }', { f: { from: '2022-01', to: '2026-12' } }],
    ];
    const largest = accepted.map(([query, variables]) => gql(s, query, variables, { 'x-clock-now': NOW }));
    const results = await Promise.all(worst);
    const answered = await Promise.all(largest);
    stop = true;
    await pinger;
    for (const r of results) expect(r.json.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    for (const r of answered) expect(r.json.errors).toBeUndefined();
    expect(pings).toBeGreaterThan(0);
    expect(slowest).toBeLessThan(1000);
  });

  it('refuses the cursor of one list given to another', async () => {
    const audit = await s.data(AuditLogDocument, { first: 1 });
    const auditCursor = audit.auditLog.pageInfo.endCursor as string;
    expect(auditCursor).toBeTruthy();
    const departments = await s.data(DepartmentsDocument, { first: 1 });
    const departmentCursor = departments.departments.pageInfo.endCursor as string;
    for (const [query, after] of [
      ['query($a: String) { departments(after: $a) { edges { node { id } } } }', auditCursor],
      ['query($a: String) { agreements(after: $a) { edges { node { id } } } }', departmentCursor],
      ['query($a: String) { handoffFacts(filter: { from: "2026-01", to: "2026-02" }, after: $a) { asOf } }', departmentCursor],
    ]) {
      const r = await gql(s, query, { a: after });
      expect(r.json.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
    }
    // Its own cursor still pages.
    const second = await s.request(DepartmentsDocument, { first: 1, after: departmentCursor });
    expect(second.errors).toBeUndefined();
    expect(second.data!.departments.edges[0].node.code > departments.departments.edges[0].node.code).toBe(true);
  });

  it('answers `subscription { … }` over HTTP as a request error (subscriptions are served over WebSocket), not INTERNAL', async () => {
    const r = await gql(s, 'subscription { events { id } }');
    expect(r.status).toBe(400);
    expect(r.json.errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    expect(r.json.errors?.[0].message).toBe('Subscriptions are served over WebSocket (the graphql-transport-ws protocol) at /graphql, not over HTTP');
  });

  it('writes nothing for a refused NUL byte: no department, no audit entry', async () => {
    const before = await s.data(AuditLogDocument, { first: 1 });
    await gql(s, 'mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { department { id } } }', { i: { code: 'NULX', name: 'x\u0000' } });
    const r = await gql(s, '{ department(code: "NULX") { id } }');
    expect(r.json.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const after = await s.data(AuditLogDocument, { first: 1 });
    expect(after.auditLog.edges[0].node.id).toBe(before.auditLog.edges[0].node.id);
  });

  it('answers the documented measuredOnly query with whole agreements (a partial load reached the resolver)', async () => {
    const r = await s.request(MeasuredAgreementVersionsDocument, { first: 50 });
    expect(r.errors).toBeUndefined();
    const keys = r.data?.agreements.edges.map((e) => e.node.key) ?? [];
    expect(keys).toEqual(['FIN-SALES', 'IT-MKT', 'IT-SALES-CRM', 'MKT-SALES', 'SALES-CS']);
    for (const e of r.data?.agreements.edges ?? []) {
      expect(e.node.lockVersion).toBeGreaterThanOrEqual(1);
      expect(e.node.title.length).toBeGreaterThan(0);
    }
  });

  it('folds case and accents the same way on both engines (İ, ß, Ä)', async () => {
    const names = ['İzmir Office', 'izmir lab', 'IZMIR desk', 'Straße', 'STRASSE', 'Ärger', 'ärger'];
    for (const [i, name] of names.entries()) {
      const r = await s.data(CreateDepartmentDocument, { input: { code: `FOLD${i}`, name } });
      expect(r.createDepartment.userErrors).toEqual([]);
    }
    const found = async (search: string) => (await s.data(SearchDepartmentsDocument, { search })).departments.edges.map((e) => e.node.name).filter((n) => names.includes(n));
    for (const q of ['İ', 'İzmir', 'izmir', 'IZMIR', 'i̇zmir']) expect(await found(q)).toEqual(['İzmir Office', 'izmir lab', 'IZMIR desk']);
    for (const q of ['ß', 'ss', 'STRASSE', 'straße']) expect(await found(q)).toEqual(['Straße', 'STRASSE']);
    for (const q of ['ärg', 'ÄRG', 'ÄRGER', 'arger']) expect(await found(q)).toEqual(['Ärger', 'ärger']);
    // By code too, and after a rename the new name is what is found.
    expect(await found('fold0')).toEqual(['İzmir Office']);
    // Services and metrics search the same way.
    expect((await s.data(SearchServicesDocument, { search: 'crm' })).services.edges.map((e) => e.node.code)).toContain('CRM');
    expect((await s.data(SearchServicesDocument, { search: 'zzz-none' })).services.edges).toEqual([]);
  });
});
