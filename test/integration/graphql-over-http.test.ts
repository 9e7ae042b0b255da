import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role, startServer, type TestServer } from '../support/server';

/**
 * SHOULDs of the GraphQL-over-HTTP spec we do not meet, each with its reason (also in the
 * README). Everything else, and every MUST, passes.
 */
const KNOWN_SHOULD_GAPS: Record<string, string> = {};

describe('GraphQL over HTTP audits (graphql-http)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer('sqlite');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('passes every MUST, and every SHOULD but the documented ones', async () => {
    // The API needs a token for anything but { __typename }; the audits check the protocol, so
    // they run as an analyst (read-only).
    const token = await s.tokenFor(Role.ANALYST);
    const fetchFn = (input: string, init: RequestInit = {}) => fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } });
    const results = await auditServer({ url: `${s.url}/graphql`, fetchFn });
    const count = (req: string, status: string) => results.filter((r) => r.name.startsWith(req) && r.status === status).length;
    const failures = results.filter((r) => r.status !== 'ok');
    const details = await Promise.all(
      failures.map(async (r) => `${r.status} ${r.id} ${r.name}: ${'reason' in r ? r.reason : ''} ${'response' in r ? JSON.stringify(await r.response.text?.().catch(() => '')) : ''}`),
    );
    // Printed on purpose: the audit's counts belong in the test output (issue 3).
    console.log(
      `graphql-http audits: ${results.length} run; MUST ${count('MUST', 'ok')} ok, ${count('MUST', 'error')} failed; ` +
        `SHOULD ${count('SHOULD', 'ok')} ok, ${count('SHOULD', 'warn')} failed; MAY ${count('MAY', 'ok')} ok, ${count('MAY', 'notice')} not met`,
    );
    for (const d of details) console.log(d);
    expect(results.filter((r) => r.name.startsWith('MUST') && r.status !== 'ok')).toEqual([]);
    expect(
      results
        .filter((r) => r.name.startsWith('SHOULD') && r.status !== 'ok')
        .map((r) => r.id)
        .sort(),
    ).toEqual(Object.keys(KNOWN_SHOULD_GAPS).sort());
  });
});
