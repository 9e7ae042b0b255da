import { gunzipSync, gzipSync } from 'node:zlib';
import type http from 'node:http';

/**
 * The IDE page's policy: GraphiQL is one page of inline script and style (with Monaco's workers
 * started from blob: URLs), so inline code is allowed here, unlike on the dashboard; but it may
 * talk to this origin only, so the page works, and leaks nothing, on a machine without internet.
 */
export const IDE_CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline' blob:",
  "worker-src 'self' blob:",
  "style-src 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const DEFAULT_QUERY = `# The offline GraphQL IDE of tiered-sla: the schema is in the Docs pane (top left).
query Me {
  me {
    name
    role
    department { code name }
  }
}
`;

/** Whether a GET of /graphql is a browser opening the page (HTML wanted, no operation in the URL). */
export function wantsIde(req: http.IncomingMessage, url: URL): boolean {
  if (req.method !== 'GET' || url.searchParams.has('query')) return false;
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html');
}

/**
 * The offline GraphiQL (issue 17): the page `@graphql-yoga/render-graphiql` renders with GraphiQL
 * inlined (about 9 MB, 2 MB gzipped), rendered and compressed once on first use. On the embedded
 * demo, `token` prefills the Authorization header of new tabs.
 *
 * Memory (issue 19 goal 4): the renderer's module is a 9 MB string of source that no API request
 * needs, so it is loaded on the first page view, not at start; and only the gzipped page is kept
 * (every browser accepts gzip; a client that does not gets it inflated per request).
 */
export function graphqlIde(options: { token: () => string | null }): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  let page: { gzip: Buffer; token: string | null } | undefined;
  return async (req, res) => {
    const token = options.token();
    if (!page || page.token !== token) {
      const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
      const html = renderGraphiQL({
        title: 'tiered-sla GraphQL IDE',
        endpoint: '/graphql',
        defaultQuery: DEFAULT_QUERY,
        headers: token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined,
        subscriptionsProtocol: 'WS',
        favicon: 'data:,',
      });
      page = { gzip: gzipSync(html), token };
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? page.gzip : gunzipSync(page.gzip);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      vary: 'accept, accept-encoding',
      'cache-control': 'no-cache',
      'content-security-policy': IDE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  };
}
