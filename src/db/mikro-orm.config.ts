import path from 'node:path';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { type Options, ReflectMetadataProvider } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { SeedManager } from '@mikro-orm/seeder';
import type { Config } from '../common/config';
import { projectRoot } from '../common/paths';
import { entities } from './entities';
import { AuditSubscriber } from '../modules/audit/audit.subscriber';
import { migrationsFor } from './migrations';
import { cacheStatements } from './statement-cache';
import { AppEntityManager } from './entity-manager';
import { oneStatementAtATime } from './one-statement-at-a-time';

/** Counts SQL statements sent by one ORM instance; tests read it to assert batching. */
export class StatementCounter {
  count = 0;
  /** Set to collect the SQL text too (tests that explain a count). */
  log: string[] | null = null;
}

/** Where each engine's migration sources live (the create command writes there). */
export function migrationsSourceDir(engine: Config['database']['engine']): string {
  return path.join(projectRoot(), 'src', 'db', 'migrations', engine);
}

/**
 * MikroORM options for a parsed {@link Config}. Migrations come from an explicit list (not a
 * folder glob) so the same code runs compiled, under vitest and from the CLI; schema
 * auto-update is never used outside tests.
 */
export function ormOptions(config: Config, counter?: StatementCounter): Options {
  const db = config.database;
  const common = {
    entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator, SeedManager],
    subscribers: [new AuditSubscriber()],
    // Skips flushes that provably write nothing (src/db/entity-manager.ts).
    entityManager: AppEntityManager,
    discovery: { warnWhenNoEntities: true },
    // Entities are loaded on purpose, per request, through loaders; never implicitly.
    forceUndefined: false,
    allowGlobalContext: false,
    debug: false,
    onQuery: (sql: string) => {
      if (counter) {
        counter.count++;
        counter.log?.push(sql);
      }
      return sql;
    },
    // The rate limit's buckets (src/http/rate-limit.ts) have a table but no entity: not the diff's to drop.
    schemaGenerator: { skipTables: ['rate_limit'] },
    migrations: {
      migrationsList: migrationsFor(db.engine),
      path: migrationsSourceDir(db.engine),
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts' as const,
      silent: true,
    },
  };
  if (db.engine === 'postgresql') {
    return {
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: db.url,
      pool: {
        min: 0,
        max: 10,
        // A transaction's statements reach its one connection one after another, whichever layer
        // sends them (src/db/one-statement-at-a-time.ts): pg 9 refuses one sent while another runs.
        afterCreate: (conn: Parameters<typeof oneStatementAtATime>[0], done: (err: Error | null, conn: unknown) => void) => {
          oneStatementAtATime(conn);
          done(null, conn);
        },
      },
      // Replicas serve only the reads that ask for them (src/common/read-route.ts): MikroORM's
      // default would send every find outside a transaction to a replica, the reads a principal
      // makes right after its own write included.
      replicas: db.readUrls.map((url, i) => ({ name: `read-${i + 1}`, clientUrl: url })),
      preferReadReplicas: false,
    } as Options;
  }
  return {
    ...common,
    driver: BetterSqliteDriver,
    dbName: db.sqlitePath,
    // One connection: SQLite serialises writers anyway, and a single connection keeps
    // transactions and pragmas simple. WAL lets readers of other processes proceed during writes.
    pool: {
      min: 1,
      max: 1,
      idleTimeoutMillis: Number.MAX_SAFE_INTEGER,
      afterCreate: (conn: { pragma: (sql: string) => unknown; prepare: (sql: string) => unknown }, done: (err: Error | null, conn: unknown) => void) => {
        try {
          // knex prepares every statement it runs anew; the connection keeps them (statement-cache.ts).
          cacheStatements(conn);
          if (db.sqlitePath !== ':memory:') conn.pragma('journal_mode = WAL');
          conn.pragma('foreign_keys = ON');
          conn.pragma('busy_timeout = 5000');
          // NORMAL or FULL (SQLITE_SYNCHRONOUS; README "Durability"): validated by loadConfig, never free text.
          conn.pragma(`synchronous = ${db.sqliteSynchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
          done(null, conn);
        } catch (e) {
          done(e as Error, conn);
        }
      },
    },
  } as Options;
}
