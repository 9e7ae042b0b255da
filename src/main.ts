/* Entry point of `npm start`: parse the config, build the embedded demo database on a first start,
 * open and migrate the database, seed an empty one, serve, and stop gracefully on SIGTERM or SIGINT. */
// First: graphql-js's mode is fixed when it is first loaded (src/common/graphql-mode.ts).
import './common/graphql-mode';
import 'reflect-metadata';
import v8 from 'node:v8';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from './common/config';
import { graphqlJsMode } from './common/graphql-mode';
import { createApp, type App } from './server';
import { DurabilityError } from './db/durability';
import type { DemoPrincipal } from './http/dashboard';
import { isEmpty, seedDemoAtomically } from '../seeds/demo.seeder';
import { DEMO_USERS } from '../seeds/demo-data';
import { demoTokensFile, loadDemoTokens, saveDemoTokens } from '../seeds/demo-tokens';
import { abandonDemoDatabase, buildDemoDatabase, needsDemoDatabase } from '../seeds/first-start';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  // How far the heap may grow past what is live between full collections (HEAP_GROWING_PERCENT,
  // docs/decisions.md "Issue 19: the server's memory"). V8 reads this flag each time it sets the
  // next collection's threshold, so setting it now covers the first start and every request.
  if (config.memory.heapGrowingPercent > 0) v8.setFlagsFromString(`--heap-growing-percent=${config.memory.heapGrowingPercent}`);
  // For what happens before the app (and its own logger) exists: the first start.
  const logger = pino({ level: config.log.level, base: { service: 'tiered-sla' } });
  // Demo principals (with tokens anyone reading the file can use) never in production.
  const demo = config.database.engine === 'sqlite' && config.database.sqlitePath !== ':memory:' && config.nodeEnv !== 'production';

  // Handlers first: a signal that arrives while seeding or binding still shuts down cleanly.
  let app: App | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!app) {
      // Nothing is served yet and nothing half-done is in place: a demo database being built is
      // renamed into place only when complete, and migrations are all or nothing.
      abandonDemoDatabase(config);
      logger.info({ signal }, 'stopped before serving');
      process.exit(0);
    }
    const running = app;
    running.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    running
      .close()
      .then(() => {
        running.logger.info('stopped');
        process.exit(0);
      })
      .catch((e) => {
        running.logger.error({ err: e }, 'error while shutting down');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // First start of the embedded database: built aside, put in place only once complete (a crash
  // at any point leaves either no database, rebuilt at the next start, or the whole demo).
  if (needsDemoDatabase(config)) {
    await buildDemoDatabase(config, logger, { principals: demo });
    logger.info({ database: config.database.sqlitePath }, 'seeded the demo company into the new embedded database');
  }
  // The sign-in page of the embedded demo offers its principals (issue 17; DASHBOARD_DEMO_SIGN_IN).
  let demoPrincipals: DemoPrincipal[] | null = null;
  app = await createApp(config, { demoPrincipals: () => demoPrincipals });
  if (config.database.seedDemoWhenEmpty && (await isEmpty(app.orm.em.fork()))) {
    // An empty database that already existed (made by `npm run migrate`) or in memory: seeded in
    // place, in one transaction, the token file written inside it before the commit.
    await seedDemoAtomically(app.orm.em.fork(), { principals: demo }, (tokens) => {
      if (demo && Object.keys(tokens).length) saveDemoTokens(config.database.sqlitePath as string, tokens);
    });
    app.logger.info({ database: config.database.sqlitePath }, 'seeded the demo company into the new embedded database');
  }
  const tokens = demo ? loadDemoTokens(config.database.sqlitePath as string) : null;
  if (tokens) {
    demoPrincipals = DEMO_USERS.filter((u) => tokens[u.key]).map((u) => ({ key: u.key, name: u.name, role: u.role, department: u.department, token: tokens[u.key] }));
    app.logger.info({ tokens, file: demoTokensFile(config.database.sqlitePath as string) }, 'demo tokens (embedded demo database only): send Authorization: Bearer <token>');
  }
  if (stopping) return;
  const url = await app.listen();
  app.logger.info({ url: `${url}/graphql`, engine: config.database.engine, graphqlJs: graphqlJsMode(), heapGrowingPercent: config.memory.heapGrowingPercent }, 'tiered-sla is serving');
}

main().catch((e) => {
  // A refusal the operator must act on: its message says what and how, a stack would bury it.
  if (e instanceof DurabilityError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(3);
  }
  process.stderr.write(`failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
