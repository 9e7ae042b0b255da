/* The composition of the API: the database, the schema, Apollo, the HTTP edge (src/http) and the
 * scheduler, wired together per config. Each concern of the edge lives in its own module there. */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/core';
import pino, { type Logger } from 'pino';
import type { Config } from './common/config';
import type { StatementCounter } from './db/mikro-orm.config';
import { openOrm } from './db/orm';
import { checkDurability } from './db/durability';
import { createApollo } from './http/apollo';
import { csvExportRoute } from './http/exports';
import { RecentWrites, type ReadRouting } from './common/read-route';
import { graphqlRoute } from './http/graphql';
import { dashboardRoutes, type DemoPrincipal } from './http/dashboard';
import { graphqlIde } from './http/ide';
import { createHttpServer } from './http/handler';
import { livenessRoute, readinessRoute } from './http/health';
import { attachLive, type LiveEdge } from './http/live';
import { ApiMetrics, metricsRoute } from './http/metrics';
import { RateLimits } from './http/rate-limit';
import type { PreparedQueries } from './http/prepared-query';
import type { Route } from './http/route';
import { Shutdown } from './http/shutdown';
import { JOBS, Scheduler } from './jobs/scheduler';
import { LiveFeed } from './modules/live/live-feed';
import { OutboxSignal } from './common/outbox-signal';
import { WebhookWorker } from './jobs/webhook-worker';
import { BackgroundBudget } from './common/background-budget';
import { provideWebhookSettings } from './modules/webhooks/webhook.settings';
import { provideExportLinkSettings } from './modules/exports/export-link';
import { FACT_TABLES } from './modules/exports/fact-tables';
import { provideMailer } from './modules/notifications/email.service';
import { PrincipalCache, providePrincipalCache } from './modules/auth/principal-cache';
import { buildApiSchema } from './schema';

/** A running (or ready to run) API server and what tests and the CLI need to reach into it. */
export interface App {
  config: Config;
  orm: MikroORM;
  /** SQL statements sent so far by this app's ORM. */
  statements: StatementCounter;
  metrics: ApiMetrics;
  logger: Logger;
  httpServer: http.Server;
  /** Time-driven transitions (src/jobs): started by `listen` when SCHEDULER_INTERVAL_MS > 0. */
  scheduler: Scheduler;
  /** Live updates: the instance's outbox tail (started by `listen`) and its WebSocket edge at /graphql. */
  live: { feed: LiveFeed; edge: LiveEdge };
  /** The principals of recently used tokens (PRINCIPAL_CACHE_SECONDS). */
  principals: PrincipalCache;
  /** The queries answered without Apollo's pipeline once Apollo has validated them (src/http/prepared-query.ts). */
  prepared: PreparedQueries;
  /** Signed webhooks (docs/webhooks.md): started by `listen` when WEBHOOK_POLL_MS > 0; tests call `tick(now)`. */
  webhooks: WebhookWorker;
  /** Starts listening on the configured host and port (0 picks a free one); resolves to the base URL. */
  listen(): Promise<string>;
  /**
   * Graceful stop: refuse new connections, let in-flight requests finish (closing idle
   * keep-alive sockets), force-close what remains after `shutdownTimeoutMs`, then stop Apollo
   * and close the database.
   */
  close(): Promise<void>;
}

/**
 * Builds the server for a config: opens (and migrates) the database, builds the schema and Apollo,
 * and wraps them in a plain Node HTTP server that this project controls (src/http: body limit,
 * CORS, health, readiness, metrics, request ids, logs, graceful shutdown). No globals: two apps
 * can run in one process, as the tests do.
 */
export async function createApp(config: Config, options: { logger?: Logger; demoPrincipals?: () => DemoPrincipal[] | null } = {}): Promise<App> {
  const logger = options.logger ?? pino({ level: config.log.level, base: { service: 'tiered-sla' } });
  const { orm, counter } = await openOrm(config);
  try {
    await checkDurability(orm, config, logger);
  } catch (e) {
    await orm.close(true);
    throw e;
  }
  const metrics = new ApiMetrics();
  // Tokens' principals, reused for PRINCIPAL_CACHE_SECONDS (src/modules/auth/principal-cache.ts).
  const principals = new PrincipalCache(config.auth.principalCacheMs);
  providePrincipalCache(orm.em, principals);
  const schema = buildApiSchema();
  // Where dashboard and BI reads go (src/common/read-route.ts): one instance's memory of who wrote just now.
  const readRouting: ReadRouting = { replicas: config.database.readUrls.length > 0, writes: new RecentWrites(config.database.readYourWritesMs) };
  const { apollo, prepared } = createApollo(config, schema, logger, readRouting, principals);
  await apollo.start();

  // On PostgreSQL the buckets are shared by every instance on the database (src/http/rate-limit.ts).
  const rateLimits = new RateLimits(config.limits.ratePerMinute, config.limits.rateStore === 'database' ? { kind: 'database', orm, logger } : { kind: 'memory' });
  const shutdown = new Shutdown();
  // The demo's principals (and their tokens) are offered only where the config allows it: the
  // embedded demo, never production (DASHBOARD_DEMO_SIGN_IN).
  // (A function: `npm start` learns the tokens of a database it seeds in place after this.)
  const demoPrincipals = () => (config.dashboard.demoSignIn ? options.demoPrincipals?.() || null : null);
  const ide = config.dashboard.graphqlIde ? graphqlIde({ token: () => demoPrincipals()?.find((p) => p.key === 'ADMIN')?.token ?? null }) : null;
  const dashboard = dashboardRoutes({ demoPrincipals });
  const routes = new Map<string, Route>([
    ...dashboard.routes,
    ['/graphql', graphqlRoute({ apollo, prepared, orm, config, logger, rateLimits, shutdown, ide })],
    ['/healthz', livenessRoute()],
    ['/readyz', readinessRoute({ orm, config, logger, shutdown })],
    ['/metrics', metricsRoute({ metrics, orm, rateLimits })],
    // One CSV route per fact table (`/export/<file>.csv`), from the same definitions as the facts connections.
    ...FACT_TABLES.map((table): [string, Route] => [`/export/${table.file}.csv`, csvExportRoute(table, { orm, logger, rateLimits, config, readRouting })]),
  ]);
  // The webhook worker's share of the main thread while requests are served (the edge counts them).
  const backgroundBudget = new BackgroundBudget(config.webhooks.cpuShare);
  const httpServer = createHttpServer({ routes, fallback: dashboard.fallback, config, logger, metrics, rateLimits, shutdown, backgroundBudget });

  // The e-mail jobs of the scheduler send through this app's SMTP server (none without SMTP_URL).
  const mailer = config.mail ? await provideMailer(orm.em, config.mail) : null;
  const scheduler = new Scheduler(orm, logger, config.schedulerIntervalMs, JOBS, config.schedulerClock);
  // Wakes the outbox's consumers (live feed, webhook worker) when events commit.
  const outboxSignal = new OutboxSignal(orm, logger);
  const feed = new LiveFeed(orm, logger, config.live, outboxSignal);
  const edge = attachLive({ server: httpServer, schema, orm, feed, config, logger, shutdown, principals });
  provideWebhookSettings(orm.em, config.webhooks);
  provideExportLinkSettings(orm.em, config.exportLinks);
  // Live updates first: a webhook batch waits a moment while the feed has events to send.
  const webhooks = new WebhookWorker(orm, logger, config.webhooks, { signal: outboxSignal, busy: () => feed.backlog > 0, budget: backgroundBudget });
  let closing: Promise<void> | undefined;
  return {
    config,
    orm,
    statements: counter,
    metrics,
    logger,
    httpServer,
    scheduler,
    live: { feed, edge },
    principals,
    prepared,
    webhooks,
    listen: async () => {
      await feed.start();
      await outboxSignal.start();
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.http.port, config.http.host, () => {
          const { port } = httpServer.address() as AddressInfo;
          scheduler.start();
          webhooks.start();
          const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
          resolve(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`);
        });
      });
    },
    close: () =>
      (closing ??= (async () => {
        // WebSockets first: an upgraded socket would hold the HTTP server's close open.
        await Promise.all([shutdown.drain(httpServer, config.http.shutdownTimeoutMs), edge.close(config.http.shutdownTimeoutMs)]);
        await outboxSignal.stop();
        await feed.stop();
        await scheduler.stop();
        await webhooks.stop();
        mailer?.transport.close();
        await apollo.stop();
        rateLimits.close();
        await orm.close(true);
      })()),
  };
}
