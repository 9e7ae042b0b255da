import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { sendError, sendJson } from './respond';
import type { Route } from './route';
import { webDist } from './web-root';

/**
 * The dashboard's Content-Security-Policy: everything from this origin only, no inline script or
 * style, no plugins, no framing. `connect-src 'self'` covers the API and the live WebSocket of the
 * same origin; nothing the page loads can reach another machine.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every dashboard answer (page or asset). */
const COMMON_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** The pages of the dashboard (history routing): each answers index.html, and the script draws the view. */
const PAGE_RE = /^\/(org|handoffs|sign-in|agreements\/[^/]+(\/report|\/month)?|departments\/[^/]+)\/?$/;

/** One demo principal offered by the sign-in page of the embedded demo. */
export interface DemoPrincipal {
  key: string;
  name: string;
  role: string;
  department: string | null;
  token: string;
}

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

function load(file: string): StaticFile {
  const body = fs.readFileSync(file);
  return { body, type: TYPES[path.extname(file)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

function send(req: http.IncomingMessage, res: http.ServerResponse, file: StaticFile, headers: Record<string, string>): void {
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, { etag: file.etag, ...headers });
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, etag: file.etag, ...COMMON_HEADERS, ...headers });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

/**
 * The dashboard's routes (issue 17), read once from `dist/web` (built by `npm run build`): the page
 * at `/` and at every bookmarkable path, never cached without revalidation (it names the current
 * assets); the assets under content-hashed names, cached for a year as immutable; and, on the
 * embedded demo only, the demo principals the sign-in page offers. Without a build, the page says
 * how to make one (503).
 */
export function dashboardRoutes(options: { demoPrincipals: () => DemoPrincipal[] | null; dir?: string }): { routes: Map<string, Route>; fallback: (pathname: string) => Route | undefined } {
  const dir = options.dir ?? webDist();
  const routes = new Map<string, Route>();
  // A build being swapped in while this server starts may vanish under the reads: then it is served as not built.
  let index: StaticFile | null = null;
  const assetFiles = new Map<string, StaticFile>();
  try {
    index = load(path.join(dir, 'index.html'));
    for (const name of fs.readdirSync(path.join(dir, 'assets'))) assetFiles.set(name, load(path.join(dir, 'assets', name)));
  } catch {
    index = null;
    assetFiles.clear();
  }
  const page: Route = {
    methods: ['GET', 'HEAD'],
    async handle({ req, res }) {
      if (!index) return sendError(res, 503, 'UNAVAILABLE', 'The dashboard is not built: run `npm run build` (it writes dist/web)');
      send(req, res, index, { 'cache-control': 'no-cache', 'content-security-policy': DASHBOARD_CSP, 'x-frame-options': 'DENY' });
    },
  };
  routes.set('/', page);
  for (const [name, file] of assetFiles) {
    routes.set(`/assets/${name}`, {
      methods: ['GET', 'HEAD'],
      async handle({ req, res }) {
        send(req, res, file, { 'cache-control': 'public, max-age=31536000, immutable' });
      },
    });
  }
  routes.set('/dashboard/demo-principals', {
    methods: ['GET'],
    async handle({ res }) {
      const principals = options.demoPrincipals();
      if (!principals?.length) return sendError(res, 404, 'NOT_FOUND', 'No demo principals: this server does not run the embedded demo');
      res.setHeader('cache-control', 'no-store');
      sendJson(res, 200, { principals });
    },
  });
  return { routes, fallback: (pathname) => (PAGE_RE.test(pathname) ? page : undefined) };
}
