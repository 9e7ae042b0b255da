import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The PostgreSQL 15 binaries of this machine (Debian's layout). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * Why a test of replicas cannot run here, or null when it can: it needs PostgreSQL (TEST_POSTGRES_URL,
 * as every PostgreSQL test), the server binaries to start its own pair of clusters, and root (to
 * run them as the `postgres` user: PostgreSQL refuses to run as root).
 */
export function replicaClusterUnavailable(): string | null {
  if (!process.env.TEST_POSTGRES_URL) return 'TEST_POSTGRES_URL is not set (SQLite-only run; read replicas need PostgreSQL)';
  if (!fs.existsSync(path.join(PG_BIN, 'pg_basebackup'))) return `no PostgreSQL server binaries in ${PG_BIN}`;
  if (process.getuid?.() !== 0) return 'not running as root (the clusters run as the postgres user through runuser)';
  return null;
}

/** A free TCP port on 127.0.0.1 (the kernel's choice, released before the cluster binds it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary as the postgres user. */
async function asPostgres(binary: string, args: string[]): Promise<void> {
  await run('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, binary), ...args], { timeout: 60_000 });
}

/**
 * A primary and a streaming replica of it, started for one test file: the system cluster's
 * pg_hba allows no replication connections (and is not ours to edit), so this pair lives in a
 * temporary directory, on free ports, with trust authentication on 127.0.0.1 only. The replica
 * logs every statement (`log_statement = all`, each line prefixed by its database) so a test can
 * count what reached it.
 */
export interface ReplicaCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` of the primary: an admin URL, as TEST_POSTGRES_URL is. */
  primaryAdminUrl: string;
  /** The URL of database `name` on the primary or the replica. */
  primaryUrl(name: string): string;
  replicaUrl(name: string): string;
  /** Statements the replica has received for database `name` so far (its log's statement lines). */
  replicaStatements(name: string): number;
  /** The statements themselves, oldest first (to explain a count). */
  replicaLog(name: string): string[];
  /** Stops and restarts WAL replay on the replica (it keeps answering reads, from an older state). */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Waits until the replica has replayed everything the primary had written when called. */
  caughtUp(): Promise<void>;
  /** Stops both clusters at once and removes their directory. */
  stop(): Promise<void>;
}

/** Starts the pair: `initdb` a primary (`wal_level = replica`), `pg_basebackup -R -X stream` a replica, start both. */
export async function startReplicaCluster(): Promise<ReplicaCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsla-replicas-'));
  fs.chmodSync(dir, 0o700);
  await run('chown', ['postgres:postgres', dir]);
  const primaryDir = path.join(dir, 'primary');
  const replicaDir = path.join(dir, 'replica');
  const replicaLog = path.join(dir, 'replica.log');
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const started: string[] = [];
  const stop = async () => {
    for (const d of started.reverse()) await asPostgres('pg_ctl', ['-D', d, 'stop', '-m', 'immediate']).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await asPostgres('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    // Durability is not under test: fsync off keeps the set-up to a few seconds on a busy machine.
    fs.appendFileSync(
      path.join(primaryDir, 'postgresql.conf'),
      [`port = ${primaryPort}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`, 'wal_level = replica', 'max_wal_senders = 4', 'fsync = off', 'shared_buffers = 16MB', ''].join(
        '\n',
      ),
    );
    fs.appendFileSync(path.join(primaryDir, 'pg_hba.conf'), 'host replication postgres 127.0.0.1/32 trust\n');
    await asPostgres('pg_ctl', ['-D', primaryDir, '-l', path.join(dir, 'primary.log'), '-w', 'start']);
    started.push(primaryDir);
    await asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
    // The copied postgresql.conf is the primary's: the last setting of a name wins.
    fs.appendFileSync(path.join(replicaDir, 'postgresql.conf'), [`port = ${replicaPort}`, 'hot_standby = on', "log_statement = 'all'", "log_line_prefix = '[%d] '", ''].join('\n'));
    await asPostgres('pg_ctl', ['-D', replicaDir, '-l', replicaLog, '-w', 'start']);
    started.push(replicaDir);
  } catch (e) {
    await stop();
    throw e;
  }
  const url = (port: number, name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
  const query = async <T>(port: number, sql: string): Promise<T[]> => {
    // The `postgres` database: the control statements are not counted as the app's.
    const client = new pg.Client({ connectionString: url(port, 'postgres') });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const statements = (name: string): string[] => {
    const prefix = `[${name}] `;
    // One line per simple query (`statement:`) and per execution of a parameterised one (`execute …:`).
    return (
      fs
        .readFileSync(replicaLog, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith(prefix) && /^LOG: {2}(statement|execute [^:]*): /.test(line.slice(prefix.length)))
        .map((line) => line.slice(prefix.length))
        // knex asks each new pooled connection for the server's version: set-up, not a read.
        .filter((line) => line !== 'LOG:  statement: select version();')
    );
  };
  return {
    primaryAdminUrl: url(primaryPort, 'postgres'),
    primaryUrl: (name) => url(primaryPort, name),
    replicaUrl: (name) => url(replicaPort, name),
    replicaStatements: (name) => statements(name).length,
    replicaLog: statements,
    async pauseReplay() {
      await query(replicaPort, 'select pg_wal_replay_pause()');
    },
    async resumeReplay() {
      await query(replicaPort, 'select pg_wal_replay_resume()');
    },
    async caughtUp() {
      const [{ lsn }] = await query<{ lsn: string }>(primaryPort, 'select pg_current_wal_lsn()::text as lsn');
      for (;;) {
        const [{ done }] = await query<{ done: boolean }>(replicaPort, `select pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn as done`);
        if (done) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop,
  };
}
