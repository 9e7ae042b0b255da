/*
 * Direct, read-only access to the database under test, for checks that must not trust the API
 * (which rows of which batch exist after a SIGKILL). SQLite through better-sqlite3 (read-only, WAL:
 * safe beside the running server), PostgreSQL through pg.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export interface Db {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** `sql` uses `?` placeholders; they are rewritten to `$n` for PostgreSQL. */
export async function openDb(databaseUrl: string): Promise<Db> {
  if (databaseUrl.startsWith('sqlite:') || databaseUrl.startsWith('file:')) {
    const file = databaseUrl.replace(/^(sqlite|file):/, '');
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return {
      async all<T>(sql: string, params: unknown[] = []) {
        return db.prepare(sql).all(...params) as T[];
      },
      async close() {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  // The database is dropped WITH (FORCE) at the end or on Ctrl-C: its connection ends then.
  client.on('error', () => undefined);
  await client.connect();
  return {
    async all<T>(sql: string, params: unknown[] = []) {
      let n = 0;
      const text = sql.replace(/\?/g, () => `$${++n}`);
      return (await client.query(text, params)).rows as T[];
    },
    async close() {
      await client.end();
    },
  };
}

/** Row counts of the tables the demo seeds, for "is the demo complete" checks. */
export const DEMO_TABLES = [
  'department',
  'service',
  'metric',
  'app_user',
  'api_token',
  'agreement',
  'agreement_version',
  'objective',
  'report',
  'report_revision',
  'handoff_event',
  'escalation',
] as const;

export async function tableCounts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of DEMO_TABLES) {
    const rows = await db.all<{ n: number | string }>(`select count(*) as n from ${t}`);
    out[t] = Number(rows[0].n);
  }
  return out;
}
