/*
 * The concurrent checks shared by the idempotency, version-race and two-instance scenarios. Each
 * takes one or more server URLs (requests alternate between them) and returns figures and the
 * failures it saw. Every request has a client timeout; at most `limit` are in flight.
 */
import type { Db } from './db';
import { errorCodes, explain, gql, gqlData, type GqlReply, monthBefore, pool, rng } from './lib';

export interface Check {
  figures: string[];
  failures: string[];
  requests: number;
}

const LIMIT = 50;

function describe(r: GqlReply): string {
  if (r.status === 0) return r.timedOut ? 'client timeout' : `no answer (${r.error})`;
  const logged = explain(r.reqId);
  return `HTTP ${r.status} ${errorCodes(r).join(',') || ''} ${logged ? `(server log: ${logged})` : r.text.slice(0, 200)}`.trim();
}

/** Replies that break the suite's basic rule: INTERNAL, 5xx, no answer. */
function broken(r: GqlReply): boolean {
  return r.status === 0 || r.status >= 500 || errorCodes(r).includes('INTERNAL');
}

function tally(values: string[]): string {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.entries()].map(([k, n]) => `${n}× ${k}`).join('; ');
}

/**
 * `replays` concurrent sends of one createDepartment, one openEscalation and one submitReport,
 * each with a single idempotency key: exactly one row each, every answer identical; then
 * mismatched inputs under the same key: IDEMPOTENCY_KEY_REUSED.
 */
export async function idempotencyReplays(urls: string[], tokens: Record<string, string>, replays: number, tag: string, db: Db): Promise<Check> {
  const failures: string[] = [];
  const figures: string[] = [];
  let requests = 0;
  const at = (i: number) => urls[i % urls.length];

  // 1. createDepartment
  const code = `IDEM-${tag}`.toUpperCase().slice(0, 40);
  const deptQuery = `mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { department { id code name version } userErrors { field code message } } }`;
  const deptReplies = await pool(
    LIMIT,
    Array.from({ length: replays }, (_, i) => () => gql(at(i), tokens.ADMIN, deptQuery, { i: { code, name: 'Idempotent', idempotencyKey: `key-${tag}` } }, { timeoutMs: 20_000 })),
  );
  requests += deptReplies.length;
  const bodies = deptReplies.map((r) => (broken(r) ? `BROKEN ${describe(r)}` : JSON.stringify(r.json?.data ?? r.json?.errors)));
  const distinct = new Set(bodies);
  if (distinct.size !== 1) failures.push(`createDepartment × ${replays} with one key: ${distinct.size} different answers: ${tally(bodies.map((b) => b.slice(0, 160)))}`);
  const first = deptReplies.find((r) => r.status === 200)?.json?.data?.createDepartment as { department?: { id: string } } | undefined;
  if (!first?.department) failures.push(`createDepartment × ${replays}: no answer carried the department (${bodies[0].slice(0, 200)})`);
  const rows = await db.all<{ n: number | string }>(`select count(*) as n from department where code = ?`, [code]);
  if (Number(rows[0].n) !== 1) failures.push(`createDepartment × ${replays}: ${rows[0].n} rows with code ${code}`);
  figures.push(`createDepartment: ${replays} concurrent replays of one key → ${rows[0].n} row, ${distinct.size} distinct answer(s)`);

  // 2. openEscalation (its title is not unique: only the key keeps it to one row)
  const agreement = await gqlData<{ agreement: { id: string } }>(urls[0], tokens.ADMIN, `{ agreement(key: "IT-SALES-CRM") { id } }`);
  const title = `idem-${tag}`;
  const escQuery = `mutation($i: OpenEscalationInput!) { openEscalation(input: $i) { escalation { id title status version } userErrors { field code message } } }`;
  const escReplies = await pool(
    LIMIT,
    Array.from(
      { length: replays },
      (_, i) => () =>
        gql(
          at(i),
          tokens.INTEGRATION_CRM,
          escQuery,
          { i: { agreementId: agreement.agreement.id, severity: 'LOW', title, description: 'replayed', idempotencyKey: `esc-${tag}` } },
          { timeoutMs: 20_000 },
        ),
    ),
  );
  requests += escReplies.length;
  const escBodies = escReplies.map((r) => (broken(r) ? `BROKEN ${describe(r)}` : JSON.stringify(r.json?.data ?? r.json?.errors)));
  const escDistinct = new Set(escBodies);
  if (escDistinct.size !== 1) failures.push(`openEscalation × ${replays} with one key: ${escDistinct.size} different answers: ${tally(escBodies.map((b) => b.slice(0, 160)))}`);
  const escRows = await db.all<{ n: number | string }>(`select count(*) as n from escalation where title = ?`, [title]);
  if (Number(escRows[0].n) !== 1) failures.push(`openEscalation × ${replays}: ${escRows[0].n} escalations titled ${title}`);
  figures.push(`openEscalation: ${replays} concurrent replays of one key → ${escRows[0].n} row, ${escDistinct.size} distinct answer(s)`);

  // 3. submitReport (one revision)
  const open = await openReportMonth(urls[0], tokens.ADMIN, 'IT-SALES-CRM');
  if (!open) throw new Error('no agreement-month of the demo takes report submissions');
  const { month, values } = open;
  const readCount = async () =>
    (
      await gqlData<{ agreement: { report: { revisionCount: number } | null } }>(
        urls[0],
        tokens.ADMIN,
        `query($k: String!, $m: Month!) { agreement(key: $k) { report(month: $m) { revisionCount } } }`,
        { k: open.key, m: month },
      )
    ).agreement.report?.revisionCount ?? 0;
  const before = await readCount();
  const eo = { agreement: { id: open.agreementId } };
  const subQuery = `mutation($i: SubmitReportInput!) { submitReport(input: $i) { report { id revisionCount } revision { id number } userErrors { field code message } } }`;
  const subN = Math.min(replays, 300);
  const subReplies = await pool(
    LIMIT,
    Array.from(
      { length: subN },
      (_, i) => () => gql(at(i), tokens.ADMIN, subQuery, { i: { agreementId: eo.agreement.id, month, values, narrative: `replayed ${tag}`, idempotencyKey: `sub-${tag}` } }, { timeoutMs: 20_000 }),
    ),
  );
  requests += subReplies.length;
  const subRevisions = subReplies.map((r) =>
    broken(r) ? `BROKEN ${describe(r)}` : JSON.stringify((r.json?.data?.submitReport as { revision?: unknown } | undefined)?.revision ?? r.json?.data ?? r.json?.errors),
  );
  const subDistinct = new Set(subRevisions);
  if (subDistinct.size !== 1) failures.push(`submitReport × ${subN} with one key: ${subDistinct.size} different revisions: ${tally(subRevisions.map((b) => b.slice(0, 160)))}`);
  const added = (await readCount()) - before;
  if (added !== 1) failures.push(`submitReport × ${subN} with one key: ${added} revisions added (expected 1); first answer: ${subRevisions[0].slice(0, 300)}`);
  figures.push(`submitReport (${open.key} ${month}): ${subN} concurrent replays of one key → ${added} revision added, ${subDistinct.size} distinct answer(s)`);

  // 4. the same key with another input: IDEMPOTENCY_KEY_REUSED, never INTERNAL
  const mismatched = await pool(
    LIMIT,
    Array.from({ length: 40 }, (_, i) => () => gql(at(i), tokens.ADMIN, deptQuery, { i: { code, name: `Other name ${i}`, idempotencyKey: `key-${tag}` } }, { timeoutMs: 20_000 })),
  );
  requests += mismatched.length;
  const codes = mismatched.map((r) =>
    broken(r) ? `BROKEN ${describe(r)}` : ((r.json?.data?.createDepartment as { userErrors?: Array<{ code: string }> } | undefined)?.userErrors ?? []).map((e) => e.code).join(',') || 'no user error',
  );
  if (codes.some((c) => c !== 'IDEMPOTENCY_KEY_REUSED')) failures.push(`createDepartment with a reused key and another input: ${tally(codes)}`);
  figures.push(`reused key with another input × 40: ${tally(codes)}`);
  return { figures, failures, requests };
}

/**
 * `races` rounds of `contenders` concurrent updates with the same expectedVersion, on a department,
 * a service and an agreement (suspend, then resume): exactly one winner, the rest CONFLICT.
 */
export async function versionRaces(urls: string[], tokens: Record<string, string>, races: number, contenders: number, tag: string): Promise<Check> {
  const failures: string[] = [];
  let requests = 0;
  let winnersOk = 0;
  const at = (i: number) => urls[i % urls.length];
  const dept = await gqlData<{ createDepartment: { department: { id: string; version: number } } }>(
    urls[0],
    tokens.ADMIN,
    `mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { department { id version } } }`,
    { i: { code: `RACE-${tag}`.toUpperCase().slice(0, 40), name: 'Race' } },
  );
  const provider = dept.createDepartment.department.id;
  const svc = await gqlData<{ createService: { service: { id: string; version: number } } }>(
    urls[0],
    tokens.ADMIN,
    `mutation($i: CreateServiceInput!) { createService(input: $i) { service { id version } } }`,
    { i: { code: `RACESVC-${tag}`.toUpperCase().slice(0, 40), name: 'Race', providerId: provider } },
  );
  const agr = await gqlData<{ agreement: { id: string; lockVersion: number } }>(urls[0], tokens.ADMIN, `{ agreement(key: "IT-MKT") { id lockVersion } }`);

  const kinds = [
    {
      name: 'updateDepartment',
      query: `mutation($i: UpdateDepartmentInput!) { r: updateDepartment(input: $i) { node: department { version } userErrors { field code message } } }`,
      input: (v: number, i: number) => ({ id: provider, expectedVersion: v, name: `Race ${v}-${i}` }),
      version: async () => (await gqlData<{ department: { version: number } }>(urls[0], tokens.ADMIN, `query($id: ID!) { department(id: $id) { version } }`, { id: provider })).department.version,
    },
    {
      name: 'updateService',
      query: `mutation($i: UpdateServiceInput!) { r: updateService(input: $i) { node: service { version } userErrors { field code message } } }`,
      input: (v: number, i: number) => ({ id: svc.createService.service.id, expectedVersion: v, name: `Race ${v}-${i}` }),
      version: async () =>
        (await gqlData<{ service: { version: number } }>(urls[0], tokens.ADMIN, `query($id: ID!) { service(id: $id) { version } }`, { id: svc.createService.service.id })).service.version,
    },
    {
      name: 'suspendAgreement/resumeAgreement',
      query: '',
      input: (v: number) => ({ id: agr.agreement.id, expectedVersion: v, reason: 'race' }),
      version: async () => (await gqlData<{ agreement: { lockVersion: number; status: string } }>(urls[0], tokens.ADMIN, `{ agreement(key: "IT-MKT") { lockVersion status } }`)).agreement.lockVersion,
    },
  ];
  const outcomes: string[] = [];
  for (let race = 0; race < races; race++) {
    const kind = kinds[race % kinds.length];
    let query = kind.query;
    if (!query) {
      const status = (await gqlData<{ agreement: { status: string } }>(urls[0], tokens.ADMIN, `{ agreement(key: "IT-MKT") { status } }`)).agreement.status;
      const op = status === 'SUSPENDED' ? 'resumeAgreement' : 'suspendAgreement';
      query = `mutation($i: AgreementTransitionInput!) { r: ${op}(input: $i) { node: agreement { lockVersion } userErrors { field code message } } }`;
    }
    const v = await kind.version();
    const replies = await pool(
      LIMIT,
      Array.from({ length: contenders }, (_, i) => () => gql(at(i), tokens.ADMIN, query, { i: kind.input(v, i) }, { timeoutMs: 20_000 })),
    );
    requests += replies.length;
    let wins = 0;
    const other: string[] = [];
    for (const r of replies) {
      if (broken(r)) {
        other.push(`BROKEN ${describe(r)}`);
        continue;
      }
      const p = r.json?.data?.r as { node: unknown; userErrors: Array<{ code: string }> } | undefined;
      if (p?.node && !p.userErrors.length) wins++;
      else if (p && p.userErrors.length && p.userErrors.every((e) => e.code === 'CONFLICT')) continue;
      else other.push(JSON.stringify(r.json).slice(0, 200));
    }
    const after = await kind.version();
    const ok = wins === 1 && other.length === 0 && after === v + 1;
    if (ok) winnersOk++;
    else
      failures.push(
        `${kind.name} race ${race + 1} (${contenders} contenders, expectedVersion ${v}): ${wins} winner(s), version ${v} → ${after}${other.length ? `; other answers: ${tally(other)}` : ''}`,
      );
    outcomes.push(kind.name);
  }
  return { figures: [`${races} version races × ${contenders} contenders (${tally(outcomes)}): ${winnersOk} with exactly one winner and the rest CONFLICT`], failures, requests };
}

/**
 * `rounds` rounds of `writers` concurrent handoff batches whose external ids overlap (the same ids
 * in different orders and sub-sets): every batch is answered without INTERNAL (no deadlock), and
 * afterwards handoff_month.volume equals the number of stored events of every month touched.
 */
export async function overlappingBatches(urls: string[], tokens: Record<string, string>, rounds: number, writers: number, tag: string, db: Db, seed: number): Promise<Check> {
  const failures: string[] = [];
  const random = rng(seed);
  let requests = 0;
  let ok = 0;
  const agreements: Array<{ id: string; key: string }> = [];
  for (const key of ['MKT-SALES', 'SALES-CS', 'IT-SALES-CRM'])
    agreements.push({ key, id: (await gqlData<{ agreement: { id: string } }>(urls[0], tokens.ADMIN, `query($k: String!) { agreement(key: $k) { id } }`, { k: key })).agreement.id });
  const months = [monthBefore(new Date(), 5), monthBefore(new Date(), 6)];
  const RECORD = `mutation($i: RecordHandoffEventsInput!) { recordHandoffEvents(input: $i) { batch { received created updated } userErrors { field code message } } }`;
  const outcomes: string[] = [];
  let checked = 0;
  let bad = 0;
  for (let round = 0; round < rounds; round++) {
    const pool300 = Array.from({ length: 300 }, (_, j) => `ov-${tag}-${round}-${j}`);
    const replies = await pool(
      LIMIT,
      Array.from({ length: writers }, (_, w) => () => {
        // Each writer: 200 of the 300 ids, shuffled, spread over two months and three agreements.
        // Even rounds: overlapping ids in different orders; odd rounds: disjoint ids into the same months.
        const ids = round % 2 === 0 ? [...pool300].sort(() => random() - 0.5).slice(0, 200) : Array.from({ length: 200 }, (_, j) => `ov-${tag}-${round}-w${w}-${j}`);
        const events = ids.map((externalId) => {
          const n = Number(externalId.split('-').pop()) + w * 7;
          const month = months[(n + w) % 2];
          const handed = Date.parse(`${month}-03T08:00:00Z`) + (n % 20) * 86_400_000 + w * 60_000;
          return {
            externalId,
            agreementId: agreements[(n + w) % 3].id,
            stage: 'lead',
            handedOffAt: new Date(handed).toISOString(),
            respondedAt: new Date(handed + 5_400_000).toISOString(),
            qualityScore: (n + w) % 100,
          };
        });
        return gql(urls[w % urls.length], tokens.INTEGRATION_CRM, RECORD, { i: { source: `overlap-${tag}`, events } }, { timeoutMs: 30_000 });
      }),
    );
    requests += replies.length;
    const answers = replies.map((r) =>
      broken(r)
        ? `BROKEN ${describe(r)}`
        : (r.json?.data?.recordHandoffEvents as { batch?: { received: number } } | undefined)?.batch?.received === 200
          ? 'recorded'
          : `refused ${JSON.stringify(r.json).slice(0, 200)}`,
    );
    outcomes.push(...answers);
    if (answers.every((a) => a === 'recorded')) ok++;
    else failures.push(`${round % 2 ? 'disjoint' : 'overlapping'} batches round ${round + 1} (${writers} writers): ${tally(answers)}`);
    // After every round: the derived monthly metrics equal the stored events.
    const mismatch = await db.all<{ agreement_id: string; month: string; volume: number; events: number }>(
      `select m.agreement_id, m.month, m.volume, (select count(*) from handoff_event e where e.agreement_id = m.agreement_id and e.month = m.month) as events from handoff_month m where m.agreement_id in (?, ?, ?) and m.month in (?, ?)`,
      [...agreements.map((a) => a.id), ...months],
    );
    checked += mismatch.length;
    for (const m of mismatch) {
      if (Number(m.volume) !== Number(m.events)) {
        bad++;
        failures.push(
          `after ${round % 2 ? 'disjoint' : 'overlapping'} batches round ${round + 1}: handoff_month ${agreements.find((a) => a.id === m.agreement_id)?.key} ${m.month}: volume ${m.volume}, but ${m.events} events stored`,
        );
      }
    }
  }
  return {
    figures: [
      `${rounds} rounds × ${writers} concurrent batches of 200 (overlapping ids, then disjoint ids into the same months): ${ok} rounds all recorded (${tally(outcomes.map((o) => o.slice(0, 60)))}); ${checked - bad}/${checked} agreement-month checks with metrics equal to their events`,
    ],
    failures,
    requests,
  };
}

/**
 * An agreement-month that still takes report submissions (no report yet, or one not
 * ACKNOWLEDGED), preferring `key`, from last month backwards (this month last), and the ids of its
 * MANUAL effective objectives with a plausible value. Submitted as the admin (who may act for the
 * provider).
 */
export async function openReportMonth(
  url: string,
  token: string,
  key: string,
): Promise<{ agreementId: string; key: string; month: string; values: Array<{ objectiveId: string; value: number }> } | null> {
  const d = await gqlData<{ agreements: { edges: Array<{ node: { id: string; key: string; tier: string; status: string; reports: Array<{ month: string; status: string }> } }> } }>(
    url,
    token,
    `{ agreements(first: 100) { edges { node { id key tier status reports { month status } } } } }`,
  );
  const candidates = d.agreements.edges
    .map((e) => e.node)
    .filter((a) => a.tier !== 'CORPORATE' && a.status === 'ACTIVE')
    .sort((a, b) => (a.key === key ? -1 : b.key === key ? 1 : a.key.localeCompare(b.key)));
  for (const back of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0]) {
    const month = monthBefore(new Date(), back);
    for (const a of candidates) {
      if (a.reports.some((r) => r.month === month && r.status === 'ACKNOWLEDGED')) continue;
      const eo = await gqlData<{ agreement: { effectiveObjectives: Array<{ id: string; metric: { code: string; source: string; unit: string; minValue: number | null; maxValue: number | null } }> } }>(
        url,
        token,
        `query($k: String!, $m: Month!) { agreement(key: $k) { effectiveObjectives(at: $m) { id metric { code source unit minValue maxValue } } } }`,
        { k: a.key, m: month },
      );
      const manual = eo.agreement.effectiveObjectives.filter((o) => o.metric.source === 'MANUAL');
      if (!manual.length) continue;
      const plausible = (m: { unit: string; minValue: number | null; maxValue: number | null }) =>
        m.unit === 'BOOLEAN' ? 1 : m.unit === 'PERCENT' ? 99.5 : m.maxValue !== null && m.maxValue < 2 ? m.maxValue : Math.max(m.minValue ?? 0, 2);
      return { agreementId: a.id, key: a.key, month, values: manual.map((o) => ({ objectiveId: o.id, value: plausible(o.metric) })) };
    }
  }
  return null;
}
