/* `npm run seed`: applies migrations, then seeds the demo company into DATABASE_URL (idempotent).
 * Demo principals and their tokens are created unless NODE_ENV=production; the secrets of the
 * tokens created now are printed once. Seeding is one transaction: killed part-way, it leaves the
 * database as it found it, and the next run seeds everything (and prints every token). */
import 'reflect-metadata';
import { ConfigError, loadConfig } from '../src/config';
import { openOrm } from '../src/db/orm';
import { seedDemoAtomically } from './demo.seeder';

async function main(): Promise<void> {
  const config = loadConfig();
  const { orm } = await openOrm(config);
  try {
    const tokens = await seedDemoAtomically(orm.em.fork(), { principals: config.nodeEnv !== 'production' });
    process.stdout.write(`seeded the demo company into ${config.database.engine === 'sqlite' ? config.database.sqlitePath : 'PostgreSQL'}\n`);
    for (const [key, secret] of Object.entries(tokens)) process.stdout.write(`${key.padEnd(18)} ${secret}\n`);
  } finally {
    await orm.close(true);
  }
}

main().catch((e) => {
  process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
