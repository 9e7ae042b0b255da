/*
 * Random SIGKILLs under concurrent writes. Per round: writers run against the server (handoff
 * batches of 200 events as the CRM integration, createDepartment with idempotency keys as the
 * admin, submitReport as the head of IT), the server is SIGKILLed at a random moment, restarted on
 * the same database, and then:
 *   - every acknowledged write exists (departments by code through the API, every event of every
 *     acknowledged batch in the database, every acknowledged report revision through the API);
 *   - no batch is partial: a batch without an answer has all its events or none, a refused one none;
 *   - the derived handoff metrics agree with the events (handoff_month.volume = count of events);
 *   - nothing answered INTERNAL or 5xx before the kill.
 * Plus, on SQLite, kills during the very first start (while the demo is being seeded): the
 * restarted server must hold the complete demo and a working demo admin token.
 */
import { openReportMonth } from './concurrency';
import { openDb, tableCounts, type Db } from './db';
import {
  type Context,
  errorCodes,
  fmt,
  gql,
  gqlData,
  monthBefore,
  type Outcome,
  pool,
  readDemoTokens,
  rng,
  type Scenario,
  type ServerProc,
  sleep,
  startPgDemo,
  startServer,
  startSqliteDemo,
  tempDir,
} from './lib';
import path from 'node:path';
import fs from 'node:fs';

const BATCH = 200;
const RECORD = `mutation($i: RecordHandoffEventsInput!) { recordHandoffEvents(input: $i) { batch { id received created updated } userErrors { field code message } } }`;
const CREATE_DEPT = `mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { department { id code version } userErrors { field code message } } }`;
const SUBMIT = `mutation($i: SubmitReportInput!) { submitReport(input: $i) { report { id revisionCount } revision { number } userErrors { field code message } } }`;

type State = 'acked' | 'refused' | 'unknown';

interface BatchRec {
  ids: string[];
  state: State;
}

interface Setup {
  agreements: Array<{ id: string; key: string }>;
  /** IT-SALES-CRM, its MANUAL objective ids in `reportMonth`. */
  report: { agreementId: string; key: string; month: string; values: Array<{ objectiveId: string; value: number }> } | null;
  eventMonthStart: number;
}

async function prepare(url: string, tokens: Record<string, string>, now: Date): Promise<Setup> {
  const keys = ['MKT-SALES', 'SALES-CS', 'IT-SALES-CRM'];
  const agreements: Setup['agreements'] = [];
  for (const key of keys) {
    const d = await gqlData<{ agreement: { id: string } }>(url, tokens.ADMIN, `query($k: String!) { agreement(key: $k) { id } }`, { k: key });
    agreements.push({ id: d.agreement.id, key });
  }
  const open = await openReportMonth(url, tokens.ADMIN, 'IT-SALES-CRM');
  const report: Setup['report'] = open && open.values.length ? { agreementId: open.agreementId, key: open.key, month: open.month, values: open.values } : null;
  const eventMonth = monthBefore(now, 2);
  return { agreements, report, eventMonthStart: Date.parse(`${eventMonth}-02T00:00:00Z`) };
}

interface RoundResult {
  /** The first refusal of each kind, to tell why writes were refused. */
  refusals: Map<string, string>;
  batches: BatchRec[];
  departments: Array<{ code: string; state: State }>;
  revisions: Array<{ number: number | null; state: State }>;
  internal: string[];
}

/** Runs the writers until the server dies; returns what each write was told. */
async function writeUntilKilled(server: ServerProc, tokens: Record<string, string>, setup: Setup, round: number, killAfterMs: number, random: () => number): Promise<RoundResult> {
  const result: RoundResult = { refusals: new Map(), batches: [], departments: [], revisions: [], internal: [] };
  const refused = (kind: string, r: Awaited<ReturnType<typeof gql>>) => {
    if (!result.refusals.has(kind)) result.refusals.set(kind, `HTTP ${r.status} ${r.text.slice(0, 240)}`);
  };
  let alive = true;
  const url = server.url;
  const note = (what: string, r: Awaited<ReturnType<typeof gql>>) => {
    if (r.status >= 500 || errorCodes(r).includes('INTERNAL')) result.internal.push(`${what}: HTTP ${r.status} ${errorCodes(r).join(',')} ${server.loggedError(r.reqId) ?? ''}`.trim());
  };
  const batchWriter = async (w: number) => {
    for (let k = 0; alive && k < 1000; k++) {
      const ids = Array.from({ length: BATCH }, (_, j) => `r${round}-w${w}-b${k}-e${j}`);
      const events = ids.map((externalId, j) => {
        const a = setup.agreements[(j + k) % setup.agreements.length];
        const handed = setup.eventMonthStart + Math.floor(random() * 22 * 24) * 3_600_000 + j * 1000;
        return {
          externalId,
          agreementId: a.id,
          stage: 'lead',
          handedOffAt: new Date(handed).toISOString(),
          respondedAt: new Date(handed + 3_600_000).toISOString(),
          acceptedAt: j % 3 ? new Date(handed + 7_200_000).toISOString() : null,
          qualityScore: j % 100,
        };
      });
      const rec: BatchRec = { ids, state: 'unknown' };
      result.batches.push(rec);
      const r = await gql(url, tokens.INTEGRATION_CRM, RECORD, { i: { source: `torture-kill-r${round}`, events } }, { timeoutMs: 30_000 });
      if (r.status === 0) {
        alive = false;
        return;
      }
      note(`recordHandoffEvents round ${round}`, r);
      const p = (r.json?.data?.recordHandoffEvents ?? null) as { batch: { received: number } | null; userErrors: unknown[] } | null;
      rec.state = p?.batch?.received === BATCH && !p.userErrors.length && !r.json?.errors?.length ? 'acked' : 'refused';
      if (rec.state === 'refused') refused('recordHandoffEvents', r);
    }
  };
  const deptWriter = async (w: number) => {
    for (let n = 0; alive && n < 5000; n++) {
      const code = `K${round}W${w}N${n}`;
      const rec = { code, state: 'unknown' as State };
      result.departments.push(rec);
      const r = await gql(url, tokens.ADMIN, CREATE_DEPT, { i: { code, name: `Kill round ${round}`, idempotencyKey: `kill-${round}-${w}-${n}` } }, { timeoutMs: 30_000 });
      if (r.status === 0) {
        alive = false;
        return;
      }
      note(`createDepartment round ${round}`, r);
      const p = (r.json?.data?.createDepartment ?? null) as { department: { code: string } | null } | null;
      rec.state = p?.department?.code === code ? 'acked' : 'refused';
      if (rec.state === 'refused') refused('createDepartment', r);
    }
  };
  const reportWriter = async () => {
    if (!setup.report) return;
    for (let n = 0; alive && n < 1000; n++) {
      const rec = { number: null as number | null, state: 'unknown' as State };
      result.revisions.push(rec);
      const input = {
        agreementId: setup.report.agreementId,
        month: setup.report.month,
        values: setup.report.values,
        narrative: `kill round ${round} submission ${n}`,
        idempotencyKey: `kill-report-${round}-${n}`,
      };
      const r = await gql(url, tokens.ADMIN, SUBMIT, { i: input }, { timeoutMs: 30_000 });
      if (r.status === 0) {
        alive = false;
        return;
      }
      note(`submitReport round ${round}`, r);
      const p = (r.json?.data?.submitReport ?? null) as { revision: { number: number } | null } | null;
      if (p?.revision) {
        rec.number = p.revision.number;
        rec.state = 'acked';
      } else {
        rec.state = 'refused';
        refused('submitReport', r);
      }
    }
  };
  const killer = (async () => {
    await sleep(killAfterMs);
    await server.sigkill();
    alive = false;
  })();
  await Promise.all([batchWriter(0), batchWriter(1), batchWriter(2), deptWriter(0), deptWriter(1), reportWriter(), killer]);
  return result;
}

interface Tally {
  rounds: number;
  kills: number;
  batchesAcked: number;
  batchesUnknown: number;
  batchesRefused: number;
  eventsAcked: number;
  unknownStored: number;
  departmentsAcked: number;
  revisionsAcked: number;
  restartMs: number[];
  failures: string[];
}

async function verifyRound(server: ServerProc, db: Db, tokens: Record<string, string>, setup: Setup, round: number, r: RoundResult, t: Tally): Promise<void> {
  const fail = (s: string) => t.failures.push(`round ${round}: ${s}`);
  for (const s of r.internal) fail(`before the kill: ${s}`);
  const stored = new Set((await db.all<{ external_id: string }>(`select external_id from handoff_event where source = ?`, [`torture-kill-r${round}`])).map((x) => x.external_id));
  for (const [i, b] of r.batches.entries()) {
    const present = b.ids.filter((id) => stored.has(id)).length;
    if (b.state === 'acked') {
      t.batchesAcked++;
      t.eventsAcked += b.ids.length;
      if (present !== b.ids.length) fail(`acknowledged batch ${i}: only ${present}/${b.ids.length} events survived`);
    } else if (b.state === 'unknown') {
      t.batchesUnknown++;
      if (present === b.ids.length) t.unknownStored++;
      else if (present !== 0) fail(`unanswered batch ${i} is partial: ${present}/${b.ids.length} events stored`);
    } else {
      t.batchesRefused++;
      if (present) fail(`refused batch ${i} stored ${present} events`);
    }
  }
  const acked = r.departments.filter((d) => d.state === 'acked');
  t.departmentsAcked += acked.length;
  await pool(
    8,
    acked.map((d) => async () => {
      const q = await gql(server.url, tokens.ANALYST, `query($c: String!) { department(code: $c) { code } }`, { c: d.code }, { timeoutMs: 10_000 });
      if ((q.json?.data?.department as { code?: string } | undefined)?.code !== d.code) fail(`acknowledged department ${d.code} missing after restart: ${q.status} ${q.text.slice(0, 200)}`);
    }),
  );
  const revisions = r.revisions.filter((x) => x.state === 'acked').map((x) => x.number as number);
  t.revisionsAcked += revisions.length;
  if (revisions.length && setup.report) {
    const q = await gqlData<{ agreement: { report: { revisions: Array<{ number: number }> } | null } }>(
      server.url,
      tokens.ANALYST,
      `query($k: String!, $m: Month!) { agreement(key: $k) { report(month: $m) { revisions { number } } } }`,
      { k: setup.report.key, m: setup.report.month },
    );
    const have = new Set((q.agreement.report?.revisions ?? []).map((x) => x.number));
    for (const n of revisions) if (!have.has(n)) fail(`acknowledged report revision ${n} missing after restart`);
  }
  // Derived metrics agree with the events of every month these agreements have events in.
  const mismatch = await db.all<{ agreement_id: string; month: string; volume: number; events: number }>(
    `select m.agreement_id, m.month, m.volume, (select count(*) from handoff_event e where e.agreement_id = m.agreement_id and e.month = m.month) as events from handoff_month m where m.agreement_id in (?, ?, ?)`,
    setup.agreements.map((a) => a.id),
  );
  for (const m of mismatch) {
    if (Number(m.volume) !== Number(m.events)) fail(`handoff_month ${setup.agreements.find((a) => a.id === m.agreement_id)?.key} ${m.month}: volume ${m.volume}, but ${m.events} events stored`);
  }
}

async function killRounds(ctx: Context, engine: 'sqlite' | 'postgresql'): Promise<Outcome> {
  const rounds = ctx.options.short ? 3 : 25;
  const random = rng(ctx.options.seed + (engine === 'sqlite' ? 1 : 2));
  const started = engine === 'sqlite' ? await startSqliteDemo('kills') : await startPgDemo(ctx.options.pgUrl, 'kills');
  let server = started.server;
  const { tokens, databaseUrl } = started;
  const t: Tally = {
    rounds: 0,
    kills: 0,
    batchesAcked: 0,
    batchesUnknown: 0,
    batchesRefused: 0,
    eventsAcked: 0,
    unknownStored: 0,
    departmentsAcked: 0,
    revisionsAcked: 0,
    restartMs: [],
    failures: [],
  };
  const db = await openDb(databaseUrl);
  try {
    const setup = await prepare(server.url, tokens, new Date());
    if (!setup.report) ctx.log('  (no agreement-month takes report submissions: submitReport writer off)');
    else ctx.log(`  report submissions go to ${setup.report.key} ${setup.report.month}`);
    for (let round = 1; round <= rounds; round++) {
      const killAfter = 300 + Math.floor(random() * 1700);
      const r = await writeUntilKilled(server, tokens, setup, round, killAfter, random);
      t.kills++;
      try {
        server = await startServer({ databaseUrl, readyTimeoutMs: 60_000 });
      } catch (e) {
        t.failures.push(`round ${round}: the server did not come back after the kill: ${e instanceof Error ? e.message.slice(0, 1500) : String(e)}`);
        break;
      }
      t.restartMs.push(server.startMs);
      await verifyRound(server, db, tokens, setup, round, r, t);
      t.rounds++;
      const acked = r.batches.filter((b) => b.state === 'acked').length;
      for (const [kind, why] of r.refusals) ctx.log(`  round ${round}: ${kind} refused (first): ${why}`);
      const by = (list: Array<{ state: State }>) => `${list.filter((x) => x.state === 'acked').length}/${list.length}`;
      ctx.log(
        `  round ${round}: killed after ${killAfter} ms; acknowledged/sent: batches ${acked}/${r.batches.length}, departments ${by(r.departments)}, report revisions ${by(r.revisions)}; restart ${Math.round(server.startMs)} ms`,
      );
    }
  } finally {
    await server.stop();
    await db.close();
  }
  const restart = t.restartMs.length ? t.restartMs.reduce((a, b) => a + b, 0) / t.restartMs.length : NaN;
  return {
    status: t.failures.length ? 'fail' : 'pass',
    figures: [
      `${t.kills} SIGKILLs, ${t.rounds} rounds verified (${engine})`,
      `acknowledged and found after restart: ${fmt(t.batchesAcked)} batches (${fmt(t.eventsAcked)} events), ${fmt(t.departmentsAcked)} departments, ${fmt(t.revisionsAcked)} report revisions`,
      `unanswered batches: ${t.batchesUnknown} (${t.unknownStored} complete, ${t.batchesUnknown - t.unknownStored} absent); refused batches: ${t.batchesRefused}`,
      `mean restart to /healthz: ${fmt(restart)} ms`,
    ],
    failures: t.failures,
  };
}

/** Kills during the first start of a fresh SQLite file (while the demo is being seeded). */
async function firstStartKills(ctx: Context): Promise<Outcome> {
  const rounds = ctx.options.short ? 1 : 5;
  const random = rng(ctx.options.seed + 3);
  const failures: string[] = [];
  // The reference: a first start that is not interrupted.
  const ref = await startSqliteDemo('firststart-ref');
  const refDb = await openDb(ref.databaseUrl);
  const reference = await tableCounts(refDb);
  await refDb.close();
  await ref.server.stop();
  const seedMs = ref.server.startMs;
  let interrupted = 0;
  for (let round = 1; round <= rounds; round++) {
    const dir = tempDir('firststart');
    const file = path.join(dir, 'demo.sqlite');
    const databaseUrl = `sqlite:${file}`;
    const killAfter = 150 + Math.floor(random() * Math.max(300, seedMs - 150));
    const s = await startServer({ databaseUrl, noWait: true });
    await sleep(killAfter);
    const wasUp = (await gql(s.url, null, '{ __typename }', undefined, { timeoutMs: 500 })).status === 200;
    await s.sigkill();
    if (!wasUp) interrupted++;
    let again: ServerProc;
    try {
      again = await startServer({ databaseUrl, readyTimeoutMs: 60_000 });
    } catch (e) {
      failures.push(`first start killed after ${killAfter} ms: the next start failed: ${e instanceof Error ? e.message.slice(0, 800) : String(e)}`);
      continue;
    }
    try {
      const db = await openDb(databaseUrl);
      const counts = await tableCounts(db);
      await db.close();
      const missing = Object.entries(reference)
        .filter(([k, n]) => counts[k] !== n)
        .map(([k, n]) => `${k} ${counts[k]}/${n}`);
      if (missing.length) failures.push(`first start killed after ${killAfter} ms${wasUp ? ' (already serving)' : ''}: after restart the demo is incomplete: ${missing.join(', ')}`);
      let tokens: Record<string, string> | null = null;
      try {
        tokens = fs.existsSync(file) ? readDemoTokens(file) : null;
      } catch {
        tokens = null;
      }
      if (!tokens?.ADMIN) failures.push(`first start killed after ${killAfter} ms: after restart there is no demo token file beside the database`);
      else {
        const me = await gql(again.url, tokens.ADMIN, '{ me { role } }');
        if ((me.json?.data?.me as { role?: string } | undefined)?.role !== 'ADMIN')
          failures.push(`first start killed after ${killAfter} ms: the demo ADMIN token does not work after restart (${me.status} ${errorCodes(me).join(',')})`);
      }
      ctx.log(
        `  first start killed after ${killAfter} ms (${wasUp ? 'already serving' : 'while starting/seeding'}): ${missing.length ? `incomplete (${missing.length} tables differ)` : 'complete after restart'}`,
      );
    } finally {
      await again.stop();
    }
  }
  return {
    status: failures.length ? 'fail' : 'pass',
    figures: [`${rounds} SIGKILLs during a first start (${interrupted} before it served; an uninterrupted first start took ${fmt(seedMs)} ms)`],
    failures,
  };
}

export const killsSqlite: Scenario = {
  name: 'kills-sqlite',
  description: 'random SIGKILLs under concurrent writes on SQLite: acknowledged writes survive, no batch is partial',
  run: (ctx) => killRounds(ctx, 'sqlite'),
};

export const killsPg: Scenario = {
  name: 'kills-pg',
  description: 'random SIGKILLs under concurrent writes on PostgreSQL: acknowledged writes survive, no batch is partial',
  needsPg: true,
  run: (ctx) => killRounds(ctx, 'postgresql'),
};

export const firstStart: Scenario = {
  name: 'kills-first-start',
  description: 'SIGKILL during the first start (demo seeding) of a SQLite file: the next start holds the whole demo',
  run: firstStartKills,
};
