/* Issue 12, defect 4: a crash during the first start must not leave a broken demo. The compiled
 * server is killed (SIGKILL) at several points of its first start on a fresh folder, started
 * again, and must then hold the same demo as an undisturbed start, with a token file whose every
 * token authenticates. `npm run seed` on PostgreSQL is killed the same way (with TEST_POSTGRES_URL). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoTokensFile } from '../../seeds/demo-tokens';
import { ensureBuilt, launch, type Launched, mainScript, root } from '../support/process';
import { freshDatabase } from '../support/server';

const main = mainScript;
const seedCli = path.join(root, 'dist', 'seeds', 'seed.cli.js');
const migrateCli = path.join(root, 'dist', 'src', 'cli', 'migrate.js');

beforeAll(ensureBuilt, 120_000);

/** Rows in every table of an SQLite file (read only, after the server stopped). */
function sqliteCounts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name").all() as Array<{ name: string }>;
    return Object.fromEntries(tables.map((t) => [t.name, (db.prepare(`select count(*) as n from "${t.name}"`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

/** Rows in every table of a PostgreSQL database. */
async function postgresCounts(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>("select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name");
    const counts: Record<string, number> = {};
    for (const t of tables.rows) counts[t.name] = Number((await client.query<{ n: string }>(`select count(*) as n from "${t.name}"`)).rows[0].n);
    return counts;
  } finally {
    await client.end();
  }
}

/** The tokens that do not authenticate (`{ me { id } }` over HTTP), with what came back. */
async function failingTokens(url: string, tokens: Record<string, string>): Promise<string[]> {
  const failing: string[] = [];
  for (const [key, token] of Object.entries(tokens)) {
    const r = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ me { id } }' }) });
    const body = (await r.json()) as { data?: { me?: { id?: string } } };
    if (r.status !== 200 || !body.data?.me?.id) failing.push(`${key}: HTTP ${r.status}`);
  }
  return failing;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A head's inbox size and action item kinds, over HTTP with its demo token (issue 15: the demo tells its heads). */
async function inboxOf(url: string, token: string): Promise<{ total: number; actions: string[] }> {
  const r = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ inbox(first: 1) { totalCount } actionItems { kind agreementKey } }' }),
  });
  const body = (await r.json()) as { data: { inbox: { totalCount: number }; actionItems: Array<{ kind: string; agreementKey: string }> } };
  return { total: body.data.inbox.totalCount, actions: body.data.actionItems.map((i) => `${i.kind} ${i.agreementKey}`) };
}

/** Counts that differ from the expected ones, as readable lines. */
function differences(actual: Record<string, number>, expected: Record<string, number>): string[] {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return tables.filter((t) => actual[t] !== expected[t]).map((t) => `${t} ${actual[t] ?? 'missing'} of ${expected[t] ?? 'none'}`);
}

describe('the first start of the embedded demo survives a crash (SIGKILL) at any point', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsla-first-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * What an undisturbed first start makes (rows per table, the files in its folder, the token
   * keys), and how long it stays busy between creating its database file and serving.
   */
  let expected: { counts: Record<string, number>; files: string[]; tokenKeys: string[]; busyMs: number };

  /** The files of a folder, without the live SQLite log files of its database (`<db>-wal`, `<db>-shm`). */
  const filesOf = (file: string) =>
    fs.existsSync(path.dirname(file))
      ? fs
          .readdirSync(path.dirname(file))
          .filter((f) => !['-wal', '-shm'].some((s) => f === `${path.basename(file)}${s}`))
          .sort()
      : [];

  /** Launches the server on `file`; resolves once a new SQLite file shows up beside it (the start began its work on the database). */
  async function launchUntilDatabase(file: string): Promise<{ p: Launched; at: number }> {
    const before = new Set(fs.existsSync(path.dirname(file)) ? fs.readdirSync(path.dirname(file)) : []);
    const p = launch(main, { DATABASE_URL: `sqlite:${file}` });
    let ended = false;
    p.exit.then(() => (ended = true));
    for (;;) {
      const now = fs.existsSync(path.dirname(file)) ? fs.readdirSync(path.dirname(file)) : [];
      if (now.some((f) => f.includes('.sqlite') && !before.has(f)) || p.served()) return { p, at: Date.now() };
      if (ended) throw new Error(`the server exited before creating its database: ${p.lines.join('\n')}`);
      await sleep(2);
    }
  }

  /** Starts the server on `file`, checks every token of the token file, stops it with SIGTERM; returns what it found. */
  async function startAndCheck(file: string): Promise<{ problems: string[]; counts: Record<string, number>; tokens: Record<string, string> }> {
    const p = launch(main, { DATABASE_URL: `sqlite:${file}` });
    const problems: string[] = [];
    let tokens: Record<string, string> = {};
    try {
      const url = await p.serving;
      if (!fs.existsSync(demoTokensFile(file))) problems.push('no token file');
      else {
        tokens = JSON.parse(fs.readFileSync(demoTokensFile(file), 'utf8')) as Record<string, string>;
        problems.push(...(await failingTokens(url, tokens)).map((t) => `token ${t}`));
      }
    } finally {
      p.child.kill('SIGTERM');
      const { code } = await p.exit;
      if (code !== 0) problems.push(`exit code ${code}`);
    }
    return { problems, counts: sqliteCounts(file), tokens };
  }

  it('an undisturbed first start (the reference)', async () => {
    const file = path.join(dir, 'reference', 'demo.sqlite');
    const { p, at } = await launchUntilDatabase(file);
    const url = await p.serving;
    const busyMs = Date.now() - at;
    // The demo's heads have an inbox, and Marketing, Sales and Finance something to do.
    const demoTokens = JSON.parse(fs.readFileSync(demoTokensFile(file), 'utf8')) as Record<string, string>;
    const heads = Object.fromEntries(await Promise.all(['HEAD_MKT', 'HEAD_SALES', 'HEAD_CS', 'HEAD_IT', 'HEAD_FIN'].map(async (k) => [k, await inboxOf(url, demoTokens[k])] as const)));
    expect(Object.values(heads).every((h) => h.total > 0)).toBe(true);
    // (Early in a month, last month's reports also await acknowledgement: the lists may hold more.)
    expect(heads.HEAD_MKT.actions).toContain('DECIDE_AMENDMENT IT-MKT');
    expect(heads.HEAD_SALES.actions).toContain('DECIDE_AMENDMENT SALES-CS');
    expect(heads.HEAD_FIN.actions).toContain('SUBMIT_REPORT FIN-SALES');
    p.child.kill('SIGTERM');
    expect((await p.exit).code).toBe(0);
    const checked = await startAndCheck(file);
    expect(checked.problems).toEqual([]);
    expected = { counts: checked.counts, files: filesOf(file), tokenKeys: Object.keys(checked.tokens).sort(), busyMs };
    expect(expected.files).toEqual(['demo.demo-tokens.json', 'demo.sqlite']);
    expect(expected.tokenKeys).toHaveLength(10);
    expect(expected.counts.department).toBe(7);
    expect(expected.counts.app_user).toBe(10);
    expect(expected.counts.handoff_event).toBeGreaterThan(6000);
  }, 60_000);

  it('killed at several points of its first start, the next start serves the whole demo with working tokens', async () => {
    // Kill points spread over the time the reference start was busy with its database (migrating,
    // seeding, putting files in place); the last trial first migrates the database with
    // `npm run migrate`, so the server seeds an existing empty database in place.
    const trials = [
      { at: 0.15, premigrated: false },
      { at: 0.4, premigrated: false },
      { at: 0.65, premigrated: false },
      { at: 0.9, premigrated: false },
      { at: 0.4, premigrated: true },
    ];
    const report: string[] = [];
    let broken = 0;
    let killedMidStart = 0;
    for (const [i, trial] of trials.entries()) {
      // A kill after the server served proves nothing (this run was faster than the reference):
      // then the trial starts over on a fresh folder, killing twice as early.
      let file = '';
      let at = trial.at;
      let servedBeforeKill = true;
      for (let attempt = 0; servedBeforeKill && attempt < 3; attempt++) {
        at = trial.at / 2 ** attempt;
        file = path.join(dir, `kill-${i}-${attempt}`, 'demo.sqlite');
        if (trial.premigrated) {
          fs.mkdirSync(path.dirname(file));
          execFileSync(process.execPath, [migrateCli, 'up'], { cwd: root, env: { PATH: process.env.PATH ?? '', DATABASE_URL: `sqlite:${file}` }, stdio: 'ignore' });
        }
        const launched = await launchUntilDatabase(file);
        await sleep(Math.max(0, launched.at + Math.round(expected.busyMs * at) - Date.now()));
        servedBeforeKill = launched.p.served();
        launched.p.child.kill('SIGKILL');
        await launched.p.exit;
      }
      // A kill that counts: after the start began working on the database, before it served.
      if (!servedBeforeKill) killedMidStart++;
      const checked = await startAndCheck(file);
      const problems = [...checked.problems, ...differences(checked.counts, expected.counts)];
      const files = filesOf(file);
      if (JSON.stringify(files) !== JSON.stringify(expected.files)) problems.push(`files ${files.join(', ')}`);
      if (JSON.stringify(Object.keys(checked.tokens).sort()) !== JSON.stringify(expected.tokenKeys)) problems.push(`token keys [${Object.keys(checked.tokens).join(', ')}]`);
      if (problems.length) broken++;
      report.push(`kill at ${Math.round(at * 100)} %${trial.premigrated ? ' (premigrated)' : ''}${servedBeforeKill ? ' (after serving)' : ''}: ${problems.length ? problems.join('; ') : 'complete'}`);
    }
    process.stdout.write(`first start, ${broken} of ${trials.length} kills left a broken demo:\n  ${report.join('\n  ')}\n`);
    // The test must be able to fail: most kills landed while the first start was busy.
    expect(killedMidStart, report.join('\n')).toBeGreaterThanOrEqual(3);
    expect(report.filter((r) => !r.endsWith(': complete'))).toEqual([]);
  }, 150_000);

  it('deletes a half-built database left by a crash and builds the demo again', async () => {
    const file = path.join(dir, 'leftover', 'demo.sqlite');
    fs.mkdirSync(path.dirname(file));
    // What a killed first start leaves: a database still being built (and its log), and possibly a
    // token file written just before the database would have been put in place.
    fs.writeFileSync(`${file}-building`, 'not a database');
    fs.writeFileSync(`${file}-building-wal`, 'not a log');
    fs.writeFileSync(demoTokensFile(file), JSON.stringify({ ADMIN: 'tsla_of_a_database_that_never_was' }));
    const checked = await startAndCheck(file);
    expect(checked.problems).toEqual([]);
    expect(differences(checked.counts, expected.counts)).toEqual([]);
    expect(Object.keys(checked.tokens).sort()).toEqual(expected.tokenKeys);
    expect(filesOf(file)).toEqual(expected.files);
  }, 60_000);
});

const postgres = process.env.TEST_POSTGRES_URL ? describe : describe.skip;

postgres('`npm run seed` on PostgreSQL is all or nothing', () => {
  const drops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  /** Runs the seed command to its end; returns the demo tokens it printed. */
  async function seed(url: string): Promise<Record<string, string>> {
    const out = execFileSync(process.execPath, [seedCli], { cwd: root, env: { PATH: process.env.PATH ?? '', DATABASE_URL: url }, encoding: 'utf8' });
    return Object.fromEntries(
      out
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .filter((parts) => parts.length === 2 && parts[1].startsWith('tsla_')),
    );
  }

  async function freshUrl(): Promise<string> {
    const { config, drop } = await freshDatabase('postgresql');
    drops.push(drop);
    return config.database.url;
  }

  /** Launches `npm run seed` on `url`; resolves once its migrations are committed (seeding begins), or it ended. */
  async function launchUntilMigrated(url: string): Promise<{ p: Launched; at: number }> {
    const p = launch(seedCli, { DATABASE_URL: url });
    let ended = false;
    p.exit.then(() => (ended = true));
    let client: pg.Client | null = null;
    try {
      for (;;) {
        if (ended) return { p, at: Date.now() };
        try {
          if (!client) {
            const c = new pg.Client({ connectionString: url });
            c.on('error', () => undefined);
            await c.connect();
            client = c;
          }
          const r = await client.query<{ n: string }>('select count(*) as n from mikro_orm_migrations');
          if (Number(r.rows[0].n) > 0) return { p, at: Date.now() };
        } catch {
          // The database or the migrations table does not exist yet.
        }
        await sleep(10);
      }
    } finally {
      await client?.end().catch(() => undefined);
    }
  }

  it('killed while seeding, a second run seeds the whole demo and prints a working token for every demo user', async () => {
    const referenceUrl = await freshUrl();
    const { p: ref, at: migratedAt } = await launchUntilMigrated(referenceUrl);
    expect((await ref.exit).code).toBe(0);
    const seedMs = Date.now() - migratedAt;
    const referenceTokens = Object.fromEntries(ref.lines.map((l) => l.trim().split(/\s+/)).filter((parts) => parts.length === 2 && parts[1].startsWith('tsla_')));
    const reference = await postgresCounts(referenceUrl);
    expect(Object.keys(referenceTokens)).toHaveLength(10);
    expect(reference.handoff_event).toBeGreaterThan(6000);

    const report: string[] = [];
    for (const fraction of [0.3, 0.7]) {
      // A seed that ended before the kill proves nothing (this run was faster than the reference):
      // then the trial starts over on a fresh database, killing twice as early.
      let url = '';
      let at = fraction;
      let signal: NodeJS.Signals | null = null;
      let killedLines: string[] = [];
      for (let attempt = 0; signal !== 'SIGKILL' && attempt < 3; attempt++) {
        at = fraction / 2 ** attempt;
        url = await freshUrl();
        const launched = await launchUntilMigrated(url);
        await sleep(Math.max(0, launched.at + Math.round(seedMs * at) - Date.now()));
        launched.p.child.kill('SIGKILL');
        ({ signal } = await launched.p.exit);
        killedLines = launched.p.lines;
      }
      // Killed after its commit, the first run has printed the secrets (just before committing)
      // and the second finds the demo complete and prints none: the first run's are the ones.
      let tokens = await seed(url);
      if (!Object.keys(tokens).length) tokens = Object.fromEntries(killedLines.map((l) => l.trim().split(/\s+/)).filter((parts) => parts.length === 2 && parts[1].startsWith('tsla_')));
      const problems = differences(await postgresCounts(url), reference);
      if (Object.keys(tokens).length !== Object.keys(referenceTokens).length) problems.push(`printed ${Object.keys(tokens).length} tokens of ${Object.keys(referenceTokens).length}`);
      // The printed tokens authenticate on a server over the same database.
      const server = launch(main, { DATABASE_URL: url });
      try {
        problems.push(...(await failingTokens(await server.serving, tokens)).map((tk) => `token ${tk}`));
      } finally {
        server.child.kill('SIGTERM');
        await server.exit;
      }
      report.push(`kill at ${Math.round(at * 100)} %${signal === 'SIGKILL' ? '' : ' (had already finished)'}: ${problems.length ? problems.join('; ') : 'complete'}`);
    }
    process.stdout.write(`npm run seed on PostgreSQL:\n  ${report.join('\n  ')}\n`);
    expect(
      report.filter((r) => r.includes('had already finished')),
      'the seed command ended before it was killed',
    ).toEqual([]);
    expect(report.filter((r) => !r.endsWith(': complete'))).toEqual([]);
  }, 120_000);
});
