import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../src/common/config';
import { openOrm } from '../src/db/orm';
import { type DemoTokens, seedDemoAtomically } from './demo.seeder';
import { removeDemoTokens, saveDemoTokens, syncFile, syncFolder } from './demo-tokens';

/** Where the first start builds the embedded demo database before putting it in place. */
export function buildingPath(sqlitePath: string): string {
  return `${sqlitePath}-building`;
}

/** The files SQLite keeps beside a database: its write-ahead log, shared memory and rollback journal. */
const COMPANIONS = ['-wal', '-shm', '-journal'];

function removeDatabase(file: string, options: { companionsOnly?: boolean } = {}): void {
  for (const suffix of options.companionsOnly ? COMPANIONS : ['', ...COMPANIONS]) fs.rmSync(`${file}${suffix}`, { force: true });
}

/** Whether `npm start` builds the demo database: seeding is on and the embedded database file does not exist yet. */
export function needsDemoDatabase(config: Config): boolean {
  const db = config.database;
  return db.seedDemoWhenEmpty && db.engine === 'sqlite' && db.sqlitePath !== undefined && db.sqlitePath !== ':memory:' && !fs.existsSync(db.sqlitePath);
}

/**
 * The first start of the embedded demo, atomic (issue 12). The database is built in
 * `<file>-building` beside the target: migrated, seeded in one transaction, switched out of WAL
 * mode and closed, so the file alone holds everything, and flushed to disk. Then the token file is
 * written (atomically), and the database is renamed into place as the very last step. So:
 *
 * - a database file at the target path is always a complete demo, and is never touched here;
 * - a crash before the rename leaves only a half-built file (deleted and built again by the next
 *   start) and perhaps a token file without its database (replaced by the next start);
 * - a database without its token file cannot happen: the tokens are on disk before the rename.
 *
 * Leftovers of a crashed start are deleted first, as is a stray log of a database that is gone
 * (SQLite would replay an old `-wal` into the new file) and a token file of no database.
 */
export async function buildDemoDatabase(config: Config, logger: Logger, options: { principals: boolean }): Promise<void> {
  const target = config.database.sqlitePath as string;
  const building = buildingPath(target);
  if (fs.existsSync(building)) logger.warn({ file: building }, 'deleting a demo database left half-built by an interrupted first start');
  removeDatabase(building);
  removeDatabase(target, { companionsOnly: true });
  removeDemoTokens(target);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  logger.info({ database: target, building }, 'first start: building the demo database (put in place once complete)');

  const { orm } = await openOrm({ ...config, database: { ...config.database, url: building, sqlitePath: building } });
  let tokens: DemoTokens;
  try {
    tokens = await seedDemoAtomically(orm.em.fork(), { principals: options.principals });
    // Checkpoints the log into the file and deletes it: the renamed file is the whole database.
    // (The server's connection turns WAL on again when it opens it.)
    const [mode] = (await orm.em.getConnection().execute('pragma journal_mode = DELETE')) as Array<{ journal_mode: string }>;
    if (mode?.journal_mode !== 'delete') throw new Error(`could not leave WAL mode on ${building} (journal_mode is ${mode?.journal_mode})`);
  } finally {
    await orm.close(true);
  }
  for (const suffix of COMPANIONS) {
    if (fs.existsSync(`${building}${suffix}`)) throw new Error(`${building}${suffix} is still there after closing the new database; not putting it in place`);
  }
  syncFile(building);
  // The tokens before the database: a crash between the two leaves tokens of no database (the
  // next start builds both again), never a database whose token secrets are lost.
  if (options.principals && Object.keys(tokens).length) saveDemoTokens(target, tokens);
  fs.renameSync(building, target);
  syncFolder(path.dirname(target));
}

/** Best-effort clean-up when the process is stopped while building: the next start would delete it anyway. */
export function abandonDemoDatabase(config: Config): void {
  if (config.database.sqlitePath) removeDatabase(buildingPath(config.database.sqlitePath));
}
