import { MikroORM } from '@mikro-orm/core';
import type { Config } from '../config';
import { ormOptions, StatementCounter } from './mikro-orm.config';

/**
 * Opens the database of a config: creates the PostgreSQL database or the SQLite file if missing,
 * and applies pending migrations (all or nothing). Returns the ORM and its statement counter.
 */
export async function openOrm(config: Config, options: { migrate?: boolean } = {}): Promise<{ orm: MikroORM; counter: StatementCounter }> {
  const counter = new StatementCounter();
  const orm = await MikroORM.init(ormOptions(config, counter));
  try {
    if (options.migrate !== false) await migrateUp(orm);
  } catch (e) {
    await orm.close(true);
    throw e;
  }
  return { orm, counter };
}

/** Applies pending migrations; returns the names applied. */
export async function migrateUp(orm: MikroORM): Promise<string[]> {
  await orm.schema.ensureDatabase();
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}
