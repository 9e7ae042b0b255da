import { MikroORM } from '@mikro-orm/core';
import type { Config } from '../common/config';
import { ormOptions, StatementCounter } from './mikro-orm.config';
import { provideLedgerSync } from '../common/ledger-touch';
import { provideLoaders } from '../common/wiring';
import { rebuildLedger, syncLedger } from '../modules/ledger/ledger.service';
import { createLoaders } from './request-loaders';

// What the layers below are given rather than import (src/common/wiring.ts, ledger-touch.ts): the
// loaders of every module, and the ledger's sync that every write's transaction runs before commit.
provideLoaders(createLoaders);
provideLedgerSync(async (em, scopes, now) => {
  await syncLedger(em, scopes, now);
});

/**
 * Opens the database of a config: creates the PostgreSQL database or the SQLite file if missing,
 * and applies pending migrations (all or nothing). Returns the ORM and its statement counter.
 */
export async function openOrm(config: Config, options: { migrate?: boolean } = {}): Promise<{ orm: MikroORM; counter: StatementCounter }> {
  const counter = new StatementCounter();
  let orm = await MikroORM.init(ormOptions(config, counter));
  try {
    // MikroORM's ensureDatabase, when it creates the database, reconnects the driver, and closing a
    // connection forgets its options: each replica would then reconnect to the primary's URL. A
    // database made just now gets an ORM of its own (the check makes the database; the second
    // init finds it and keeps its replicas).
    if (options.migrate !== false && config.database.readUrls.length && (await orm.schema.ensureDatabase())) {
      await orm.close(true);
      orm = await MikroORM.init(ormOptions(config, counter));
    }
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
  // The migration that made the score ledger made it empty: a database that had data gets its
  // ledger built from the facts now, once (a ledger with a horizon is kept by the writes).
  if (applied.some((m) => m.name.endsWith('_score_ledger'))) await orm.em.fork().transactional((em) => rebuildLedger(em, new Date()));
  return applied.map((m) => m.name);
}
