import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeAndBudgetDocument, MeDocument, RateLimitBudgetDocument } from '../generated/graphql';
import { fields, meAs } from '../support/rate-limit';
import { engines, Role, startServer, type TestServer } from '../support/server';

describe.each(engines())('rate limits and their fields on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(engine, { env: { RATE_LIMIT_PER_MINUTE: '5', CORS_ORIGINS: 'https://dash.example.com' } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('says on every charged answer what is left, and refuses the sixth request a minute with 429 and Retry-After', async () => {
    const client = s.as(await s.tokenFor(Role.ANALYST));
    const seen: Array<{ status: number; limit: number; remaining: number }> = [];
    for (let i = 0; i < 5; i++) {
      const r = await client.request(MeDocument);
      const f = fields(r.headers);
      seen.push({ status: r.status, limit: f.limit, remaining: f.remaining });
      expect(f.reset).toBeGreaterThanOrEqual(1);
      expect(f.reset).toBeLessThanOrEqual(60);
    }
    expect(seen).toEqual([5, 4, 3, 2, 1].map((n) => ({ status: 200, limit: 5, remaining: n - 1 })));
    const refused = await client.request(MeDocument);
    expect(refused.status).toBe(429);
    expect(refused.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^Rate limit of 5 requests a minute exceeded; retry in \d+ s$/), extensions: { code: 'RATE_LIMITED' } });
    const f = fields(refused.headers);
    expect({ limit: f.limit, remaining: f.remaining }).toEqual({ limit: 5, remaining: 0 });
    expect(Number(refused.headers.get('retry-after'))).toBe(f.reset);
    expect(f.reset).toBeGreaterThanOrEqual(1);
    expect(f.reset).toBeLessThanOrEqual(60);
  });

  it('tells the caller its own budget in rateLimit, after this request was charged', async () => {
    const client = s.as(await s.tokenFor(Role.ANALYST));
    const before = Date.now();
    const first = await client.request(RateLimitBudgetDocument);
    expect(first.status).toBe(200);
    expect(first.data?.rateLimit).toMatchObject({ limit: 5, remaining: 4 });
    const resetAt = Date.parse(first.data?.rateLimit?.resetAt ?? '');
    // The window began with this request: it ends a minute later (RateLimit-Reset rounds up to seconds).
    expect(resetAt).toBeGreaterThan(before);
    expect(resetAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect((await client.data(RateLimitBudgetDocument)).rateLimit).toMatchObject({ limit: 5, remaining: 3 });
    const third = await client.data(MeAndBudgetDocument);
    expect(third.rateLimit).toEqual({ remaining: 2 });
    // Another token's budget is its own.
    expect((await s.as(await s.tokenFor(Role.ANALYST)).data(RateLimitBudgetDocument)).rateLimit).toMatchObject({ limit: 5, remaining: 4 });
    // Only for an authenticated caller.
    const anonymous = await s.as(null).request(RateLimitBudgetDocument);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('charges the CSV exports and /metrics alike, and exposes the fields to browsers', async () => {
    const token = await s.tokenFor(Role.ANALYST);
    const auth = { authorization: `Bearer ${token}` };
    const metrics = await fetch(`${s.url}/metrics`, { headers: auth });
    expect(metrics.status).toBe(200);
    expect(fields(metrics.headers)).toMatchObject({ limit: 5, remaining: 4 });
    const csv = await fetch(`${s.url}/export/credits.csv?from=2026-01&to=2026-03`, { headers: auth });
    expect(csv.status).toBe(200);
    await csv.text();
    expect(fields(csv.headers)).toMatchObject({ limit: 5, remaining: 3 });
    const browser = await fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { ...auth, origin: 'https://dash.example.com', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(browser.status).toBe(200);
    expect(fields(browser.headers)).toMatchObject({ limit: 5, remaining: 2 });
    expect(browser.headers.get('access-control-allow-origin')).toBe('https://dash.example.com');
    expect((browser.headers.get('access-control-expose-headers') ?? '').split(',')).toEqual(['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']);
  });

  it('refuses an address after five failed authentications a minute, whatever token it sends next', async () => {
    // Its own server: this blocks the test's address.
    const t = await startServer(engine, { env: { RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await meAs(t, `tsla_made_up_${i}_${'x'.repeat(20)}`)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401]);
      // A 401 is charged once its answer is out: the last one may still be on its way to the store.
      await expect.poll(async () => (await meAs(t, t.adminToken)).status).toBe(429);
      const refused = await meAs(t, t.adminToken);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { errors: Array<{ message: string }> }).errors[0].message).toMatch(/^Too many failed authentications from this address \(5 a minute\); retry in \d+ s$/);
      const f = fields(refused.headers);
      expect({ limit: f.limit, remaining: f.remaining }).toEqual({ limit: 5, remaining: 0 });
      expect(Number(refused.headers.get('retry-after'))).toBe(f.reset);
    } finally {
      await t.close();
    }
  });

  it('sends no fields and answers rateLimit null while limits are off', async () => {
    const t = await startServer(engine, { env: { RATE_LIMIT_PER_MINUTE: '0' } });
    try {
      const r = await t.request(RateLimitBudgetDocument);
      expect(r.status).toBe(200);
      expect(r.data).toEqual({ rateLimit: null });
      expect(['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'].map((h) => r.headers.get(h))).toEqual([null, null, null, null]);
    } finally {
      await t.close();
    }
  });
});
