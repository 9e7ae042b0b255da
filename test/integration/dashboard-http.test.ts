/* The dashboard's and the IDE's HTTP edge (issue 17), without a browser: what each config serves
 * at /, at the bookmarkable paths, at /dashboard/demo-principals and to a browser's GET /graphql. */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoPrincipal } from '../../src/http/dashboard';
import { engines, Role, startServer, type TestServer } from '../support/server';

const PAGE_PATHS = ['/', '/org', '/handoffs', '/sign-in', '/agreements/MKT-SALES', '/agreements/MKT-SALES/report', '/agreements/MKT-SALES/month', '/departments/SALES'];

describe.each(engines())('dashboard edge on %s', (engine) => {
  let dev: TestServer;
  let prod: TestServer;
  const principals: DemoPrincipal[] = [];

  beforeAll(async () => {
    // On by default on the embedded SQLite demo only (test/unit/config.test.ts); said outright here for PostgreSQL.
    dev = await startServer(engine, { env: { DASHBOARD_DEMO_SIGN_IN: 'true' }, demoPrincipals: () => principals });
    principals.push({ key: 'ADMIN', name: 'Ada Admin', role: 'ADMIN', department: null, token: await dev.tokenFor(Role.ADMIN) });
    prod = await startServer(engine, { env: { NODE_ENV: 'production' }, demoPrincipals: () => principals });
  });
  afterAll(async () => {
    await dev?.close();
    await prod?.close();
  });

  it('answers the page at / and at each bookmarkable path (or 503 saying how to build it), with its CSP; other paths stay 404', async () => {
    for (const p of PAGE_PATHS) {
      const res = await fetch(`${dev.url}${p}`);
      // dist/web exists after `npm run build` (npm test builds first); without it the page says so.
      expect([200, 503]).toContain(res.status);
      if (res.status === 200) {
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(res.headers.get('content-security-policy')).toBe(
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        );
        expect(res.headers.get('cache-control')).toBe('no-cache');
        const etag = res.headers.get('etag') as string;
        expect((await fetch(`${dev.url}${p}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
      } else {
        expect(((await res.json()) as { errors: Array<{ message: string }> }).errors[0].message).toContain('npm run build');
      }
    }
    for (const p of ['/agreements', '/agreements/A/B/C', '/nope', '/assets/app-UNKNOWN.js']) expect((await fetch(`${dev.url}${p}`)).status).toBe(404);
    expect((await fetch(`${dev.url}/`, { method: 'POST' })).status).toBe(404);
  });

  it('offers the demo principals only where the config allows the demo sign-in', async () => {
    const res = await fetch(`${dev.url}/dashboard/demo-principals`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(((await res.json()) as { principals: DemoPrincipal[] }).principals).toEqual(principals);
    const refused = await fetch(`${prod.url}/dashboard/demo-principals`);
    expect(refused.status).toBe(404);
    expect(JSON.stringify(await refused.json())).not.toContain('tsla_');
  });

  it('gives a browser the offline GraphiQL at /graphql outside production, prefilled with the demo admin token, and no CDN landing page anywhere', async () => {
    const ide = await fetch(`${dev.url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(ide.status).toBe(200);
    expect(ide.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await ide.text();
    // (Booleans: a failed match would print 9 MB of GraphiQL.)
    expect(html.includes('YogaGraphiQL.renderYogaGraphiQL')).toBe(true);
    expect(html.includes(`Bearer ${principals[0].token}`)).toBe(true);
    expect(/https:\/\/(embeddable-sandbox|apollo-server-landing-page)\./.test(html)).toBe(false);
    // Only the gzipped page is kept (src/http/ide.ts): a client that does not take gzip gets the same page inflated.
    expect(ide.headers.get('content-encoding')).toBe('gzip');
    const plain = await new Promise<{ encoding?: string; length: number; body: string }>((resolve, reject) => {
      http
        .get(`${dev.url}/graphql`, { headers: { accept: 'text/html', 'accept-encoding': 'identity' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], length: Number(res.headers['content-length']), body: Buffer.concat(chunks).toString() }));
        })
        .on('error', reject);
    });
    expect(plain.encoding).toBeUndefined();
    expect(plain.length).toBe(Buffer.byteLength(plain.body));
    expect(plain.body === html).toBe(true);
    // An operation in the URL is still GraphQL over GET, whatever the browser accepts.
    const get = await fetch(`${dev.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json, text/html', 'apollo-require-preflight': 'true' } });
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });

    const off = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
    // In production: no IDE and no landing page; the GET is plain GraphQL over HTTP (refused here, as a possible CSRF).
    expect(off.status).toBe(400);
    expect(off.headers.get('content-type')).toContain('application/json');
    expect(((await off.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe('BAD_REQUEST');
  });
});
