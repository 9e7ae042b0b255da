import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { Config } from '../common/config';

/** Thrown at start when the database would acknowledge commits it may lose; `main` prints the message alone. */
export class DurabilityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurabilityError';
  }
}

/**
 * What the database promises about a committed transaction, as read back from the connection the
 * server uses (so a per-database, per-role or per-URL setting counts as well as the server's).
 */
export interface Durability {
  engine: Config['database']['engine'];
  /** SQLite: `PRAGMA synchronous` (NORMAL or FULL); PostgreSQL: `SHOW synchronous_commit`. */
  setting: string;
  /** Whether a commit is on the primary's disk before it is acknowledged. */
  durable: boolean;
}

const SQLITE_SYNCHRONOUS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

/** Reads the durability setting in force on the server's own connection. */
export async function readDurability(orm: MikroORM, engine: Config['database']['engine']): Promise<Durability> {
  const conn = orm.em.getConnection();
  if (engine === 'sqlite') {
    const row = (await conn.execute('pragma synchronous', [], 'get')) as { synchronous: number };
    const setting = SQLITE_SYNCHRONOUS[row.synchronous] ?? String(row.synchronous);
    // WAL with NORMAL: never corrupted, but the last commits can be lost on power failure.
    return { engine, setting, durable: setting === 'FULL' || setting === 'EXTRA' };
  }
  const row = (await conn.execute('show synchronous_commit', [], 'get')) as { synchronous_commit: string };
  const setting = row.synchronous_commit;
  // on, remote_write and remote_apply flush the local WAL before acknowledging (and may wait for a
  // standby); local flushes locally and does not wait for one; only off acknowledges before the flush.
  return { engine, setting, durable: setting !== 'off' };
}

/**
 * The start-up check (issue 18, docs/decisions.md "Durability at start"): on PostgreSQL,
 * `synchronous_commit = off` stops the server unless `POSTGRES_ALLOW_ASYNC_COMMIT=true`, which
 * starts it with a warning. SQLite's setting is the operator's choice (`SQLITE_SYNCHRONOUS`) and is
 * only logged. Returns what was read.
 */
export async function checkDurability(orm: MikroORM, config: Config, logger: Logger): Promise<Durability> {
  const d = await readDurability(orm, config.database.engine);
  if (d.engine === 'postgresql' && !d.durable) {
    const fix =
      'synchronous_commit is off for this database: PostgreSQL acknowledges a commit before writing it to disk, so a crash loses credits, ' +
      'disputes and reports the API has confirmed. Fix: ALTER DATABASE <name> SET synchronous_commit = on (or ALTER ROLE <user> …, or remove it ' +
      'from postgresql.conf or the connection options), then start again; or set POSTGRES_ALLOW_ASYNC_COMMIT=true to accept the risk.';
    if (!config.database.allowAsyncCommit) throw new DurabilityError(`refusing to start: ${fix}`);
    logger.warn({ synchronousCommit: d.setting }, `POSTGRES_ALLOW_ASYNC_COMMIT=true: starting anyway; ${fix}`);
  } else {
    logger.info({ engine: d.engine, [d.engine === 'sqlite' ? 'synchronous' : 'synchronousCommit']: d.setting }, 'database durability');
  }
  return d;
}
