import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDurability } from '../../src/db/durability';
import { ensureBuilt, launch, mainScript } from '../support/process';
import { engines, startServer } from '../support/server';
import { DepartmentsDocument } from '../generated/graphql';

const FIX =
  'synchronous_commit is off for this database: PostgreSQL acknowledges a commit before writing it to disk, so a crash loses credits, disputes and reports the API has confirmed. Fix: ALTER DATABASE <name> SET synchronous_commit = on (or ALTER ROLE <user> …, or remove it from postgresql.conf or the connection options), then start again; or set POSTGRES_ALLOW_ASYNC_COMMIT=true to accept the risk.';

// Issue 18, point 4: what a commit promises is chosen (SQLite) or checked at start (PostgreSQL).

describe('SQLITE_SYNCHRONOUS', () => {
  for (const [value, pragma] of [
    ['NORMAL', 1],
    ['FULL', 2],
    [undefined, 1],
  ] as const) {
    it(`${value ?? 'unset'}: the server's connection runs PRAGMA synchronous = ${pragma} in WAL`, async () => {
      const s = await startServer('sqlite', { seed: true, env: value ? { SQLITE_SYNCHRONOUS: value } : {} });
      try {
        // The server serves over it (a read over HTTP), and the pragma read back on its one connection is the chosen one.
        const r = await s.data(DepartmentsDocument, { first: 3 });
        expect(r.departments.edges.length).toBe(3);
        const conn = s.app.orm.em.getConnection();
        expect(await conn.execute('pragma synchronous', [], 'get')).toEqual({ synchronous: pragma });
        expect(await conn.execute('pragma journal_mode', [], 'get')).toEqual({ journal_mode: 'wal' });
        expect(await readDurability(s.app.orm, 'sqlite')).toEqual({ engine: 'sqlite', setting: value ?? 'NORMAL', durable: value === 'FULL' });
      } finally {
        await s.close();
      }
    });
  }
});

describe.runIf(engines().includes('postgresql'))('synchronous_commit on PostgreSQL, checked at start', () => {
  // The suite's body is collected even when it is skipped (SQLite only): no URL is parsed then.
  const admin = process.env.TEST_POSTGRES_URL ?? 'postgres://unset/';
  const name = `tsla_test_durability_${randomBytes(4).toString('hex')}`;
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const sql = async (text: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  beforeAll(async () => {
    ensureBuilt();
    await sql(`create database "${name}"`);
  }, 120_000);
  afterAll(() => sql(`drop database if exists "${name}" with (force)`));

  it('reads on from a default database (in-process server)', async () => {
    const s = await startServer('postgresql');
    try {
      expect(await readDurability(s.app.orm, 'postgresql')).toEqual({ engine: 'postgresql', setting: 'on', durable: true });
    } finally {
      await s.close();
    }
  });

  it('refuses to start on a database set to off, naming the setting and the fix; starts with a warning when POSTGRES_ALLOW_ASYNC_COMMIT=true; accepts local', async () => {
    await sql(`alter database "${name}" set synchronous_commit = off`);
    const refused = launch(mainScript, { DATABASE_URL: url.toString() });
    await expect(refused.serving).rejects.toThrow(`exited (3) before serving: refusing to start: ${FIX}\n`);
    expect((await refused.exit).code).toBe(3);

    const allowed = launch(mainScript, { DATABASE_URL: url.toString(), POSTGRES_ALLOW_ASYNC_COMMIT: 'true' });
    await allowed.serving;
    const logged = allowed.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; synchronousCommit?: string });
    const warning = logged.filter((l) => l.synchronousCommit !== undefined);
    expect(warning.map((l) => [l.level, l.synchronousCommit, l.msg])).toEqual([[40, 'off', `POSTGRES_ALLOW_ASYNC_COMMIT=true: starting anyway; ${FIX}`]]);
    allowed.child.kill('SIGTERM');
    expect((await allowed.exit).code).toBe(0);

    // local: the commit is flushed to this server's disk (only a standby is not waited for): durable here, started without a warning.
    await sql(`alter database "${name}" set synchronous_commit = local`);
    const local = launch(mainScript, { DATABASE_URL: url.toString() });
    await local.serving;
    const info = local.lines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; synchronousCommit?: string })
      .filter((l) => l.synchronousCommit !== undefined);
    expect(info.map((l) => [l.level, l.synchronousCommit, l.msg])).toEqual([[30, 'local', 'database durability']]);
    local.child.kill('SIGTERM');
    expect((await local.exit).code).toBe(0);
  }, 120_000);
});
