/* Entry point of `npm start`: parse the config, open and migrate the database, seed the demo
 * company into an empty embedded database, serve, and stop gracefully on SIGTERM or SIGINT. */
import 'reflect-metadata';
import { ConfigError, loadConfig, type Config } from './config';
import { createApp } from './server';
import { DemoSeeder, isEmpty } from '../seeds/demo.seeder';

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

  if (config.database.seedDemoWhenEmpty && (await isEmpty(app.orm.em.fork()))) {
    await app.orm.getSeeder().seed(DemoSeeder);
    app.logger.info({ database: config.database.sqlitePath }, 'seeded the demo company into the new embedded database');
  }
  if (stopping) return;
  const url = await app.listen();
  app.logger.info({ url: `${url}/graphql`, engine: config.database.engine }, 'tiered-sla is serving');
}

main().catch((e) => {
  process.stderr.write(`failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
