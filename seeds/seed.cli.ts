/* `npm run seed`: applies migrations, then seeds the demo company into DATABASE_URL (idempotent).
 * Demo principals and their tokens are created unless NODE_ENV=production; the secrets of the
 * tokens created now are printed once. Seeding is one transaction: killed part-way, it leaves the
 * database as it found it, and the next run seeds everything (and prints every token). */
import 'reflect-metadata';
import { ConfigError, loadConfig } from '../src/common/config';
import { openOrm } from '../src/db/orm';
import { seedDemoAtomically } from './demo.seeder';

async function main(): Promise<void> {
  const config = loadConfig();
  const { orm } = await openOrm(config);
  try {
    // The secrets are printed inside the transaction, just before it commits (writes to a pipe or
    // a file are synchronous on Linux): a run killed after the commit has printed them already. A
    // run killed between the print and the commit printed secrets that never took effect; the
    // next run seeds again and prints the ones that do.
    await seedDemoAtomically(orm.em.fork(), { principals: config.nodeEnv !== 'production' }, (tokens) => {
      for (const [key, secret] of Object.entries(tokens)) process.stdout.write(`${key.padEnd(18)} ${secret}\n`);
    });
    process.stdout.write(`seeded the demo company into ${config.database.engine === 'sqlite' ? config.database.sqlitePath : 'PostgreSQL'}\n`);
  } finally {
    await orm.close(true);
  }
}

main().catch((e) => {
  process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
