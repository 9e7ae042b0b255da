/*
 * Soak: one server on a fresh SQLite demo, a mixed read/write load for N seconds (75 in the full
 * run, 15 with --short, --seconds N), the child's RSS sampled every second from /proc/<pid>/status.
 * Fails on any error (HTTP ≠ 200, a GraphQL error, INTERNAL, a timeout) or when the RSS at the end
 * exceeds the RSS at half-time by more than 25 % (the second half must not keep growing; judged on
 * soaks of 60 s or more, shorter ones are still warming up), or the peak exceeds 1 GiB.
 */
import { openReportMonth } from './concurrency';
import { type Context, errorCodes, fmt, gql, gqlData, type GqlReply, mib, monthBefore, type Outcome, rng, rssOf, type Scenario, sleep, startSqliteDemo, truncate } from './lib';

const CONCURRENCY = 16;
const GROWTH_BOUND = 1.25;
const PEAK_BOUND = 1024 * 1024 * 1024;

async function soak(ctx: Context): Promise<Outcome> {
  const seconds = ctx.options.seconds ?? (ctx.options.short ? 15 : 75);
  const { server, tokens } = await startSqliteDemo('soak');
  try {
    const now = new Date();
    const last = monthBefore(now, 1);
    const yearAgo = monthBefore(now, 12);
    const ids = await gqlData<{ a: { id: string }; b: { id: string; effectiveObjectives: Array<{ id: string; metric: { code: string; source: string } }> }; c: { id: string } }>(
      server.url,
      tokens.ADMIN,
      `query($m: Month!) { a: agreement(key: "MKT-SALES") { id } b: agreement(key: "IT-SALES-CRM") { id effectiveObjectives(at: $m) { id metric { code source } } } c: agreement(key: "SALES-CS") { id } }`,
      { m: last },
    );
    const open = await openReportMonth(server.url, tokens.ADMIN, 'IT-SALES-CRM');
    if (!open) throw new Error('no agreement-month of the demo takes report submissions');
    const dept = await gqlData<{ createDepartment: { department: { id: string; version: number } } }>(
      server.url,
      tokens.ADMIN,
      `mutation { createDepartment(input: { code: "SOAK", name: "Soak" }) { department { id version } } }`,
    );
    const deptId = dept.createDepartment.department.id;
    const random = rng(ctx.options.seed + 11);
    let n = 0;
    type Op = { name: string; weight: number; run(): Promise<GqlReply> };
    const ops: Op[] = [
      { name: 'departments', weight: 10, run: () => gql(server.url, tokens.ANALYST, `{ departments(first: 50) { totalCount edges { node { code name parent { code } services { code } } } } }`) },
      {
        name: 'agreements+scorecard',
        weight: 8,
        run: () =>
          gql(
            server.url,
            tokens.ANALYST,
            `query($m: Month!) { agreements(first: 20) { edges { node { key status scorecard(month: $m) { score status objectives { metric { code } value status } } } } } }`,
            { m: last },
          ),
      },
      {
        name: 'organisationScorecard',
        weight: 2,
        run: () =>
          gql(
            server.url,
            tokens.ANALYST,
            `query($f: Month!, $t: Month!) { organisationScorecard(from: $f, to: $t) { score compliance { rate } byDepartment { department { code } score } } }`,
            { f: yearAgo, t: last },
            { timeoutMs: 15_000 },
          ),
      },
      {
        name: 'measurementFacts',
        weight: 3,
        run: () =>
          gql(
            server.url,
            tokens.ANALYST,
            `query($f: Month!, $t: Month!) { measurementFacts(filter: { from: $f, to: $t }, first: 200) { edges { node { month agreementKey metric value status } } } }`,
            { f: yearAgo, t: last },
            { timeoutMs: 15_000 },
          ),
      },
      { name: 'handoffEvents', weight: 4, run: () => gql(server.url, tokens.ANALYST, `{ handoffEvents(first: 100) { totalCount edges { node { externalId month responseHours } } } }`) },
      { name: 'overdueReports', weight: 3, run: () => gql(server.url, tokens.ANALYST, `{ overdueReports { agreement { key } month workingDaysOverdue } }`) },
      { name: 'me', weight: 10, run: () => gql(server.url, tokens.HEAD_IT, `{ me { name role department { code } } }`) },
      {
        name: 'createDepartment',
        weight: 3,
        run: () =>
          gql(server.url, tokens.ADMIN, `mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { department { id } userErrors { code message } } }`, {
            i: { code: `SOAK-${++n}`, name: `Soak ${n}`, idempotencyKey: `soak-${n}`, parentId: deptId },
          }),
      },
      {
        name: 'updateDepartment',
        weight: 3,
        run: async () => {
          const v = await gqlData<{ department: { version: number } }>(server.url, tokens.ADMIN, `query($id: ID!) { department(id: $id) { version } }`, { id: deptId });
          return gql(server.url, tokens.ADMIN, `mutation($i: UpdateDepartmentInput!) { updateDepartment(input: $i) { department { version } userErrors { code } } }`, {
            i: { id: deptId, expectedVersion: v.department.version, name: `Soak ${++n}` },
          });
        },
      },
      {
        name: 'recordHandoffEvents',
        weight: 3,
        run: () => {
          const k = ++n;
          const start = Date.parse(`${monthBefore(now, 3 + (k % 6))}-03T08:00:00Z`);
          const events = Array.from({ length: 100 }, (_, j) => ({
            externalId: `soak-${k}-${j}`,
            agreementId: [ids.a.id, ids.b.id, ids.c.id][j % 3],
            stage: 'lead',
            handedOffAt: new Date(start + j * 3_600_000).toISOString(),
            respondedAt: new Date(start + j * 3_600_000 + 1_800_000).toISOString(),
            qualityScore: j,
          }));
          return gql(
            server.url,
            tokens.INTEGRATION_CRM,
            `mutation($i: RecordHandoffEventsInput!) { recordHandoffEvents(input: $i) { batch { received } userErrors { field code message } } }`,
            { i: { source: 'soak', events } },
            { timeoutMs: 15_000 },
          );
        },
      },
      {
        name: 'submitReport',
        weight: 2,
        run: () =>
          gql(server.url, tokens.ADMIN, `mutation($i: SubmitReportInput!) { submitReport(input: $i) { revision { number } userErrors { field code message } } }`, {
            i: { agreementId: open.agreementId, month: open.month, values: open.values, narrative: `soak ${++n}` },
          }),
      },
      {
        name: 'openEscalation',
        weight: 1,
        run: () =>
          gql(server.url, tokens.INTEGRATION_CRM, `mutation($i: OpenEscalationInput!) { openEscalation(input: $i) { escalation { id } userErrors { code message } } }`, {
            i: { agreementId: ids.b.id, severity: 'LOW', title: `soak ${++n}`, description: 'soak' },
          }),
      },
    ];
    const total = ops.reduce((a, o) => a + o.weight, 0);
    const choose = () => {
      let x = random() * total;
      for (const o of ops) if ((x -= o.weight) < 0) return o;
      return ops[0];
    };
    const counts = new Map<string, { ok: number; err: number }>();
    const errors: string[] = [];
    let errorCount = 0;
    const rss: number[] = [];
    const t0 = Date.now();
    const end = t0 + seconds * 1000;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const r = rssOf(server.pid);
        if (r !== null) rss.push(r);
        await sleep(1000);
      }
    })();
    const worker = async () => {
      while (Date.now() < end) {
        const op = choose();
        let r: GqlReply;
        try {
          r = await op.run();
        } catch (e) {
          errorCount++;
          if (errors.length < 20) errors.push(`${op.name}: ${e instanceof Error ? truncate(e.message, 300) : String(e)}`);
          continue;
        }
        const c = counts.get(op.name) ?? { ok: 0, err: 0 };
        const payload = r.json?.data ? (Object.values(r.json.data)[0] as { userErrors?: Array<{ code: string }> } | null) : null;
        // Version conflicts between our own concurrent updates are expected answers, not errors.
        const userErrors = (payload?.userErrors ?? []).filter((u) => u.code !== 'CONFLICT');
        if (r.status !== 200 || r.json?.errors?.length || userErrors.length) {
          c.err++;
          errorCount++;
          if (errors.length < 20) errors.push(`${op.name}: ${r.timedOut ? 'client timeout' : `HTTP ${r.status} ${errorCodes(r).join(',')}`} ${server.loggedError(r.reqId) ?? truncate(r.text, 300)}`);
        } else c.ok++;
        counts.set(op.name, c);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    sampling = false;
    await sampler;
    const elapsed = (Date.now() - t0) / 1000;
    const requests = [...counts.values()].reduce((a, c) => a + c.ok + c.err, 0);
    const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN);
    const mid = median(rss.slice(Math.floor(rss.length * 0.45), Math.ceil(rss.length * 0.55)));
    const last10 = median(rss.slice(Math.floor(rss.length * 0.9)));
    const peak = Math.max(...rss);
    const failures = [...errors];
    if (errorCount > errors.length) failures.push(`… ${errorCount - errors.length} more errors`);
    // Under a minute the heap is still warming up: the growth rule is judged on soaks of 60 s or more.
    const judged = seconds >= 60;
    if (judged && last10 > mid * GROWTH_BOUND) failures.push(`RSS grew in the second half: ${mib(mid)} at half-time → ${mib(last10)} at the end (bound ×${GROWTH_BOUND})`);
    if (peak > PEAK_BOUND) failures.push(`RSS peak ${mib(peak)} above ${mib(PEAK_BOUND)}`);
    return {
      status: failures.length ? 'fail' : 'pass',
      figures: [
        `${fmt(requests)} requests in ${fmt(elapsed, 1)} s (${fmt(requests / elapsed, 1)} req/s, ${CONCURRENCY} in flight), ${errorCount} errors`,
        `RSS: start ${mib(rss[0] ?? NaN)}, peak ${mib(peak)}, half-time ${mib(mid)}, end ${mib(last10)} (${rss.length} samples; bound: ${judged ? `end ≤ ${GROWTH_BOUND} × half-time, ` : 'growth not judged under 60 s, '}peak ≤ 1 GiB)`,
        `by operation: ${[...counts.entries()].map(([k, c]) => `${k} ${c.ok}${c.err ? `/${c.err} err` : ''}`).join(', ')}`,
      ],
      failures,
    };
  } finally {
    await server.stop();
  }
}

export const soakScenario: Scenario = { name: 'soak', description: 'mixed read/write load with RSS sampling', run: soak };
