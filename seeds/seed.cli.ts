/* `npm run seed`: applies migrations, then seeds the demo company into DATABASE_URL (idempotent). */
import 'reflect-metadata';
import { ConfigError, loadConfig } from '../src/config';
import { openOrm } from '../src/db/orm';
import { DemoSeeder } from './demo.seeder';

async function main(): Promise<void> {
  const config = loadConfig();
  const { orm } = await openOrm(config);
  try {
    await orm.getSeeder().seed(DemoSeeder);
    process.stdout.write(`seeded the demo company into ${config.database.engine === 'sqlite' ? config.database.sqlitePath : 'PostgreSQL'}\n`);
  } finally {
    await orm.close(true);
  }
}

main().catch((e) => {
  process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
