/* Entry point of `npm start`: parse the config, open and migrate the database, seed the demo
 * company into an empty embedded database, serve, and stop gracefully on SIGTERM or SIGINT. */
import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from './config';
import { createApp } from './server';
import { isEmpty, seedDemo } from '../seeds/demo.seeder';
import { demoTokensFile, loadDemoTokens, saveDemoTokens } from '../seeds/demo-tokens';

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
  const app = await createApp(config);

  // Handlers first: a signal that arrives while seeding or binding still shuts down cleanly.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    app
      .close()
      .then(() => {
        app.logger.info('stopped');
        process.exit(0);
      })
      .catch((e) => {
        app.logger.error({ err: e }, 'error while shutting down');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const demo = config.database.engine === 'sqlite' && config.database.sqlitePath !== ':memory:' && config.nodeEnv !== 'production';
  if (config.database.seedDemoWhenEmpty && (await isEmpty(app.orm.em.fork()))) {
    // Demo principals (with tokens anyone reading the file can use) never in production.
    const tokens = await seedDemo(app.orm.em.fork(), { principals: demo });
    if (demo && Object.keys(tokens).length) saveDemoTokens(config.database.sqlitePath as string, tokens);
    app.logger.info({ database: config.database.sqlitePath }, 'seeded the demo company into the new embedded database');
  }
  const tokens = demo ? loadDemoTokens(config.database.sqlitePath as string) : null;
  if (tokens) {
    app.logger.info({ tokens, file: demoTokensFile(config.database.sqlitePath as string) }, 'demo tokens (embedded demo database only): send Authorization: Bearer <token>');
  }
  if (stopping) return;
  const url = await app.listen();
  app.logger.info({ url: `${url}/graphql`, engine: config.database.engine }, 'tiered-sla is serving');
}

main().catch((e) => {
  process.stderr.write(`failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
