/**
 * The write side of the score ledger (DESIGN §5, §8): brings the ledger rows of agreement-months
 * up to date with the facts, closes months whose close instant has passed, posts their credit,
 * and keeps closed months frozen. Every write that changes an input calls `touchLedger`
 * (src/common/ledger-touch.ts) inside its transaction, and `openOrm` provides {@link syncLedger} to it; the scheduler calls {@link advanceLedger} when instants pass;
 * `npm run ledger:rebuild` calls {@link rebuildLedger}.
 */
import { newId } from '../../common/ids';
import type { EntityManager } from '@mikro-orm/core';
import { lockAgreementMonths } from '../../common/locks';
import { addMonths, compareMonths, monthRange, type Month } from '../../common/month';
import { type AnyEventInput, emitEvents, type EventAgreement, type EventInput } from '../../common/events';
import { type Sql, sqlOf } from '../../common/sql';
import type { LedgerScope } from '../../common/ledger-touch';
import { sharedLoadersOver } from '../../common/wiring';
import type { Loaders } from '../../db/request-loaders';
import { closeInstant, evaluateLedgerMonth, horizonOf, isDisputedState, type LedgerMonthInput, objectiveNews, phaseAt, validUntil } from '../../scoring/ledger';
import { type LedgerRecord, MONTH_COLUMNS, monthRow, OBJECTIVE_COLUMNS, objectiveRows, recordFromRows } from './ledger.rows';
import { bool, dateOrNull } from '../../common/sql';
import { Agreement, type AgreementVersion, Tier } from '../agreements/agreement.entity';
import { MetricSource } from '../catalog/metric.entity';
import { deadline } from '../escalations/escalation.service';
import { measuredMonths, reportStateOf, scoreMonths, type ScoredMonth } from '../scorecards/scorecard.service';
import { CloseCause, CreditEntryKind } from './ledger.entity';
import { loadManyOrThrow } from '../../common/loaders';

/** Agreements synced per batch by the scheduler and the rebuild. */
const AGREEMENTS_PER_BATCH = 100;

const keyOf = (agreementId: string, month: Month) => `${agreementId}|${month}`;

// ---------------------------------------------------------------------------------------------
// Building records

function recordOf(s: ScoredMonth, valueChanges: Date[], at: Date, notBefore: Date | null): LedgerRecord {
  const input: LedgerMonthInput = {
    month: s.month,
    complianceTarget: s.version.complianceTarget,
    creditCapPercent: s.version.creditCapPercent,
    monthlyCharge: s.version.monthlyCharge,
    dueAt: s.dueAt,
    monthEndsAt: s.monthEndsAt,
    hasManual: s.objectives.some((o) => o.metric.source === MetricSource.MANUAL),
    report: reportStateOf(s.report),
    objectives: s.objectives.map((o) => ({
      objectiveId: o.objective.id,
      direction: o.metric.direction,
      target: o.objective.target,
      warning: o.objective.warning ?? null,
      weight: o.objective.weight,
      creditPercent: o.objective.creditPercent,
      value: o.value ?? o.valueSoFar,
      excused: o.excused,
    })),
    valueChanges,
  };
  return {
    agreementId: s.agreement.id,
    month: s.month,
    agreementKey: s.agreement.key,
    providerId: s.agreement.provider?.id ?? '',
    customerId: s.agreement.customer?.id ?? '',
    tier: s.agreement.tier,
    versionNumber: s.version.number,
    dueDate: s.dueDate,
    reportId: input.report ? (s.report?.id ?? null) : null,
    reportRevision: input.report ? (s.report?.revisionCount ?? null) : null,
    input,
    objectives: s.objectives.map((o, position) => ({
      objectiveId: o.objective.id,
      position,
      metricId: o.metric.id,
      metricCode: o.metric.code,
      source: o.metric.source,
      inheritedFromId: o.inheritedFrom,
    })),
    result: evaluateLedgerMonth(input, at),
    phase: phaseAt(input, at),
    closed: false,
    closedAt: null,
    lateDataAt: null,
    computedAt: at,
    validUntil: validUntil(input, at, notBefore),
    updatedAt: at,
    deleted: false,
  };
}

/** A ledger record's agreement as an event's envelope names it (CORPORATE agreements have no parties). */
function eventAgreementOf(r: LedgerRecord): EventAgreement {
  return { id: r.agreementId, key: r.agreementKey, provider: r.providerId ? { id: r.providerId } : null, customer: r.customerId ? { id: r.customerId } : null };
}

const NEWS_TYPES = { AT_RISK: 'objective.at_risk', BREACHED: 'objective.breached', RECOVERED: 'objective.recovered' } as const;

/** The objective.* events of a month whose record moves from `previous` to `next`, by objective. */
function objectiveNewsOf(previous: LedgerRecord, next: LedgerRecord, now: Date): AnyEventInput[] {
  const before = new Map(previous.input.objectives.map((o, i) => [o.objectiveId, previous.result.objectives[i]?.status ?? null]));
  const out: AnyEventInput[] = [];
  next.input.objectives.forEach((o, i) => {
    const after = next.result.objectives[i].status;
    const news = objectiveNews(before.get(o.objectiveId) ?? null, after);
    if (!news) return;
    out.push({
      type: NEWS_TYPES[news],
      occurredAt: now,
      agreement: eventAgreementOf(next),
      payload: {
        month: next.month,
        objectiveId: o.objectiveId,
        metricCode: next.objectives[i].metricCode,
        statusBefore: before.get(o.objectiveId) ?? null,
        statusAfter: after,
        value: o.value ?? null,
        target: o.target,
        warning: o.warning ?? null,
      },
    });
  });
  return out;
}

/** The record closed at `at`: its inputs evaluated then, frozen from then on. */
function closedRecord(r: LedgerRecord, at: Date): LedgerRecord {
  return { ...r, result: evaluateLedgerMonth(r.input, at), phase: 'CLOSED', closed: true, closedAt: at, computedAt: at, validUntil: null };
}

/** What a reader sees of a month: when it changes, `updatedAt` moves (and only then). */
function shown(r: LedgerRecord): string {
  const { result: x } = r;
  return JSON.stringify([
    x.status,
    x.score,
    x.credit.percent,
    x.credit.amount,
    isDisputedState(r.input.report),
    r.phase,
    r.closed,
    r.versionNumber,
    r.reportRevision,
    r.input.report?.status ?? null,
    r.deleted,
    r.lateDataAt?.getTime() ?? null,
  ]);
}

function shownObjective(r: LedgerRecord, i: number): string {
  const o = r.input.objectives[i];
  const x = r.result.objectives[i];
  return JSON.stringify([x.status, x.attainment, o.value, o.excused, o.target, o.warning, o.weight, o.creditPercent, r.phase === 'RUNNING', r.deleted]);
}

/** What a reader sees of a month's objectives, by objective. */
const objectivesShown = (r: LedgerRecord): string => JSON.stringify(r.input.objectives.map((o, i) => [o.objectiveId, shownObjective(r, i)]));

/** A record as JSON (a close's snapshot) and back. */
const snapshotOf = (r: LedgerRecord): string => JSON.stringify({ ...r, result: undefined });
function fromSnapshot(json: string): LedgerRecord {
  const x = JSON.parse(json) as LedgerRecord;
  const d = (v: unknown) => (v == null ? null : new Date(v as string));
  const input: LedgerMonthInput = {
    ...x.input,
    dueAt: new Date(x.input.dueAt),
    monthEndsAt: new Date(x.input.monthEndsAt),
    report: x.input.report ? { ...x.input.report, acknowledgedAt: d(x.input.report.acknowledgedAt), acceptanceDueAt: d(x.input.report.acceptanceDueAt) } : null,
    valueChanges: x.input.valueChanges.map((v) => new Date(v)),
  };
  const closedAt = d(x.closedAt) as Date;
  return { ...x, input, closedAt, lateDataAt: d(x.lateDataAt), computedAt: new Date(x.computedAt), validUntil: null, updatedAt: new Date(x.updatedAt), result: evaluateLedgerMonth(input, closedAt) };
}

/** Stored rows of some agreements over a month range, by key. */
async function loadStored(sql: Sql, agreementIds: string[], from: Month, to: Month): Promise<Map<string, LedgerRecord>> {
  const out = new Map<string, LedgerRecord>();
  for (let i = 0; i < agreementIds.length; i += 500) {
    const ids = agreementIds.slice(i, i + 500);
    const marks = ids.map(() => '?').join(', ');
    const months = await sql.rows<Record<string, unknown>>(`select * from ledger_month where agreement_id in (${marks}) and month >= ? and month <= ?`, [...ids, from, to]);
    const objectives = await sql.rows<Record<string, unknown>>(`select * from ledger_objective where agreement_id in (${marks}) and month >= ? and month <= ? and deleted = ?`, [
      ...ids,
      from,
      to,
      bool(sql, false),
    ]);
    const byKey = new Map<string, Array<Record<string, unknown>>>();
    for (const o of objectives) {
      const k = keyOf(String(o.agreement_id), String(o.month));
      byKey.set(k, [...(byKey.get(k) ?? []), o]);
    }
    for (const m of months) {
      const k = keyOf(String(m.agreement_id), String(m.month));
      out.set(k, recordFromRows(m, byKey.get(k) ?? []));
    }
  }
  return out;
}

interface CloseState {
  /** The close in force (not reopened): its id, snapshot and late-data mark. */
  active: { id: string; record: LedgerRecord; lateDataAt: Date | null } | null;
  /** The latest reopening of the month: it cannot close again before it. */
  reopenedAt: Date | null;
  reopeningId: string | null;
}

/** The month closes of some agreements over a month range, as rows (with their close instants). */
async function readCloses(sql: Sql, agreementIds: string[], from: Month, to: Month): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < agreementIds.length; i += 500) {
    const ids = agreementIds.slice(i, i + 500);
    out.push(
      ...(await sql.rows<Record<string, unknown>>(
        `select id, agreement_id, month, closed_at, snapshot, late_data_at, reopened_at, reopening_id from month_close where agreement_id in (${ids.map(() => '?').join(', ')}) and month >= ? and month <= ?`,
        [...ids, from, to],
      )),
    );
  }
  return out;
}

/** The close state of each agreement-month of {@link readCloses}' rows, by key. */
function closesOf(rows: Array<Record<string, unknown>>): Map<string, CloseState> {
  const out = new Map<string, CloseState>();
  for (const r of rows) {
    const k = keyOf(String(r.agreement_id), String(r.month));
    const state = out.get(k) ?? { active: null, reopenedAt: null, reopeningId: null };
    const reopenedAt = dateOrNull(r.reopened_at);
    if (!reopenedAt) state.active = { id: String(r.id), record: fromSnapshot(String(r.snapshot)), lateDataAt: dateOrNull(r.late_data_at) };
    else if (!state.reopenedAt || reopenedAt > state.reopenedAt) {
      state.reopenedAt = reopenedAt;
      state.reopeningId = r.reopening_id == null ? null : String(r.reopening_id);
    }
    out.set(k, state);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sync

/**
 * How a sync treats a closed month whose facts now differ from what it froze. `markLate` (the
 * default, for writes): data arrived for it, so it is marked (`lateDataAt`). The scheduler and the
 * rebuild bring no data: a difference they see came from time alone (an unanswered escalation's
 * response deadline passing after the close), or was marked by the write that brought it.
 */
export interface SyncOptions {
  markLate?: boolean;
  /**
   * Take each month's advisory lock (the default). A rebuild holds the whole ledger instead: tens
   * of thousands of month locks in one transaction exhaust PostgreSQL's lock table.
   */
  lockMonths?: boolean;
}

/** What a sync did, for logs, tests and benchmarks. */
export interface SyncResult {
  months: number;
  written: number;
  closed: number;
  tombstoned: number;
}

/**
 * Brings the ledger rows of the scoped agreement-months up to `now`, inside the caller's
 * transaction, with the months' locks held:
 * - a month with a close in force stays frozen; new data for it only marks it (`lateDataAt`);
 * - a stored open month whose close instant has passed (the scheduler was behind) is closed first
 *   with the inputs it had, so data arriving in this very write is late for it;
 * - otherwise the month is recomputed from the facts, and closed at once when its close instant
 *   has passed (an acknowledgement in this write);
 * - a month that left the measured set is tombstoned.
 * Rows are written only when what they show changed (`updatedAt` moves only then).
 */
export async function syncLedger(em: EntityManager, scopes: LedgerScope[], now: Date, options: SyncOptions = {}): Promise<SyncResult> {
  const markLate = options.markLate ?? true;
  const out: SyncResult = { months: 0, written: 0, closed: 0, tombstoned: 0 };
  if (!scopes.length) return out;
  const sql = sqlOf(em);
  // The write's own loaders when it shared them (a report submission: the terms it read), else fresh ones.
  const ctx = { loaders: sharedLoadersOver(em) };
  // PostgreSQL: a rebuild (which holds the table EXCLUSIVE) and this sync do not interleave; taken
  // before anything is read, so a sync never acts on what a rebuild replaces meanwhile. Sent with
  // the horizon's read in one round trip (two statements without parameters).
  const horizon = await storedHorizon(sql, now, sql.pg);

  // Every month of an agreement when no month is named, and its ancestors' (a child's lifecycle
  // decides whether the parent is measured).
  const wanted = new Map<string, Set<Month>>();
  const all = new Set<string>();
  for (const s of scopes) {
    const set = wanted.get(s.agreementId) ?? new Set<Month>();
    if (s.months) for (const m of s.months) set.add(m);
    else all.add(s.agreementId);
    wanted.set(s.agreementId, set);
  }
  let agreements = (await loadManyOrThrow(ctx.loaders.agreementById, [...wanted.keys()])).filter((a): a is Agreement => !!a);
  for (let layer = agreements.filter((a) => all.has(a.id)), depth = 0; layer.length && depth < 5; depth++) {
    const parents = [...new Set(layer.map((a) => a.parent?.id).filter((id): id is string => !!id && !all.has(id)))];
    for (const id of parents) {
      all.add(id);
      if (!wanted.has(id)) wanted.set(id, new Set());
    }
    layer = (await loadManyOrThrow(ctx.loaders.agreementById, parents)).filter((a): a is Agreement => !!a);
    agreements = [...agreements, ...layer.filter((a) => !agreements.some((b) => b.id === a.id))];
  }
  const versions = new Map<string, AgreementVersion[]>();
  const loaded = await loadManyOrThrow(
    ctx.loaders.versionsByAgreement,
    agreements.map((a) => a.id),
  );
  agreements.forEach((a, i) => versions.set(a.id, loaded[i]));
  for (const id of all) {
    const vs = versions.get(id) ?? [];
    if (!vs.length) continue;
    const first = vs.map((v) => v.effectiveFrom).reduce((a, b) => (compareMonths(a, b) < 0 ? a : b));
    const set = wanted.get(id) as Set<Month>;
    if (compareMonths(first, horizon) <= 0) for (const m of monthRange(first, horizon)) set.add(m);
  }
  const keys: Array<{ agreementId: string; month: Month }> = [];
  for (const [agreementId, months] of wanted) for (const month of months) keys.push({ agreementId, month });
  if (!keys.length) return out;
  out.months = keys.length;
  const monthList = [...new Set(keys.map((k) => k.month))].sort(compareMonths);
  const from = monthList[0];
  const to = monthList[monthList.length - 1];
  if (options.lockMonths !== false) await lockAgreementMonths(em, keys);
  await em.flush();

  // The facts, scored at `now` (not frozen: the ledger is what freezes).
  const wantedKeys = new Set(keys.map((k) => keyOf(k.agreementId, k.month)));
  const items = (await measuredMonths(ctx, agreements, monthList)).filter((m) => wantedKeys.has(keyOf(m.agreement.id, m.month)));
  const ids = [...wanted.keys()];
  // The closes are read once (issue 19 goal 2: a submission read them twice); only when one of
  // the scope's months closed after `now` are they taken back and read again.
  let closeRows = await readCloses(sql, ids, from, to);
  const scoped = new Set(keys.map((k) => k.agreementId));
  if (closeRows.some((r) => scoped.has(String(r.agreement_id)) && (dateOrNull(r.closed_at) as Date).getTime() > now.getTime())) {
    await takeBackLaterCloses(sql, keys, now);
    closeRows = await readCloses(sql, ids, from, to);
  }
  // One after the other: a transaction's connection runs one statement at a time.
  const stored = await loadStored(sql, ids, from, to);
  const closes = closesOf(closeRows);
  // A reopened month closes again no earlier than its reopening; it is scored at that instant.
  const notBefore = new Map([...closes].filter(([, c]) => c.reopenedAt).map(([k, c]) => [k, c.reopenedAt as Date]));
  const scored = await scoreMonths(ctx, items, now, { from, to }, { frozen: false, closeNotBefore: notBefore });
  const changes = await valueChangesOf(ctx, scored, from, to);
  const fresh = new Map<string, ScoredMonth>(scored.map((s) => [keyOf(s.agreement.id, s.month), s]));

  // `updatedAt` is stamped on the server's clock, as every other row's (BI pulls compare it with
  // their snapshot instants, taken on the server's clock), whatever clock the write scored at.
  const stamp = new Date();
  const monthWrites: LedgerRecord[] = [];
  const objectiveWrites: Array<{ record: LedgerRecord; previous: LedgerRecord | null }> = [];
  const closings: Array<{ record: LedgerRecord; cause: CloseCause; reopeningId: string | null }> = [];
  const lateMarks: Array<{ id: string }> = [];
  const storedRow = (r: LedgerRecord) => JSON.stringify(monthRow(sql, { ...r, updatedAt: stamp }));
  const news: AnyEventInput[] = [];
  const write = (next: LedgerRecord, previous: LedgerRecord | null) => {
    if (previous && !previous.deleted && !next.deleted) news.push(...objectiveNewsOf(previous, next, now));
    // Objectives count too: a running month's automated value so far changes while every status
    // stays PENDING (a handoff, an escalation missing its deadline), and its objective row must follow.
    if (previous && shown(previous) === shown(next) && objectivesShown(previous) === objectivesShown(next)) {
      // Same to a reader: the row is still rewritten when anything it keeps moved (the evaluation
      // instant, its validity, or an input that shows nowhere yet, such as the deadline of an
      // escalation answered since), with its `updatedAt` kept.
      if (storedRow(previous) !== storedRow(next)) monthWrites.push({ ...next, updatedAt: previous.updatedAt });
      return;
    }
    monthWrites.push({ ...next, updatedAt: stamp });
    objectiveWrites.push({ record: { ...next, updatedAt: stamp }, previous });
    out.written++;
  };

  for (const k of [...wantedKeys].sort()) {
    const previous = stored.get(k) ?? null;
    const close = closes.get(k) ?? { active: null, reopenedAt: null, reopeningId: null };
    const s = fresh.get(k);
    const current = s ? recordOf(s, changes.get(k) ?? [], now, close.reopenedAt) : null;
    if (close.active) {
      // Frozen: late data is kept and shown as such, and changes nothing until a reopening.
      let lateDataAt = close.active.lateDataAt;
      if (!lateDataAt && markLate && current && lateFor(close.active.record, current)) {
        lateDataAt = now;
        lateMarks.push({ id: close.active.id });
      }
      write({ ...close.active.record, lateDataAt }, previous);
      continue;
    }
    const due = previous && !previous.deleted && !previous.closed ? closeInstant(previous.input, close.reopenedAt) : null;
    if (previous && due && due.getTime() <= now.getTime() && previous.computedAt.getTime() <= due.getTime()) {
      // The scheduler was behind: the month closed with what it had then, its stored inputs,
      // except the values that change by time alone (an escalation missing its deadline before
      // the close), taken as the facts scored at the close instant give them. Everything else
      // this write brings is late.
      const movedByTime = previous.input.valueChanges.some((d) => d.getTime() >= previous.computedAt.getTime() && d.getTime() < due.getTime());
      const frozen = closedRecord(movedByTime && current ? withTimeBoundValues(previous, current) : previous, due);
      const lateDataAt = markLate && current && lateFor(frozen, current) ? now : null;
      closings.push({ record: { ...frozen, lateDataAt }, cause: causeOf(previous, due, close.reopenedAt), reopeningId: close.reopeningId });
      write({ ...frozen, lateDataAt }, previous);
      out.closed++;
      continue;
    }
    if (!current) {
      if (previous && !previous.deleted) {
        write({ ...previous, deleted: true, computedAt: now, validUntil: null }, previous);
        out.tombstoned++;
      }
      continue;
    }
    const at = closeInstant(current.input, close.reopenedAt);
    if (at && at.getTime() <= now.getTime()) {
      const frozen = closedRecord(current, at);
      closings.push({ record: frozen, cause: causeOf(current, at, close.reopenedAt), reopeningId: close.reopeningId });
      write(frozen, previous);
      out.closed++;
      continue;
    }
    write(current, previous);
  }

  await store(sql, monthWrites, objectiveWrites, stamp);
  // The objectives' news, then the closes' (one statement for both when there are few).
  await emitEvents(em, [...news, ...(await postCloses(sql, closings, now, stamp))]);
  // Every mark is at `now`: one statement per 500 closes, not one per close (a batch of late
  // events marks each closed month it touches).
  for (let i = 0; i < lateMarks.length; i += 500) {
    const chunk = lateMarks.slice(i, i + 500);
    await sql.run(`update month_close set late_data_at = ? where id in (${chunk.map(() => '?').join(', ')})`, [sql.date(now), ...chunk.map((m) => m.id)]);
  }
  return out;
}

/**
 * A write at an instant before a month's close (a test clock, `X-Clock-Now`, going back; or two
 * instances whose clocks differ by less than the gap): the ledger is kept as if the writes came in
 * the order of their instants, so the closes and postings after this one's instant are taken
 * back, and the month closes again when its instant passes, with this write's data counted.
 */
async function takeBackLaterCloses(sql: Sql, keys: Array<{ agreementId: string; month: Month }>, now: Date): Promise<void> {
  const ids = [...new Set(keys.map((k) => k.agreementId))];
  const months = keys.map((k) => k.month);
  const from = months.reduce((a, b) => (compareMonths(a, b) < 0 ? a : b));
  const to = months.reduce((a, b) => (compareMonths(a, b) > 0 ? a : b));
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const marks = chunk.map(() => '?').join(', ');
    const later = await sql.rows<{ n: number | string }>(`select count(*) as n from month_close where agreement_id in (${marks}) and month >= ? and month <= ? and closed_at > ?`, [
      ...chunk,
      from,
      to,
      sql.date(now),
    ]);
    if (!Number(later[0]?.n ?? 0)) continue;
    await sql.run(`delete from month_close where agreement_id in (${marks}) and month >= ? and month <= ? and closed_at > ?`, [...chunk, from, to, sql.date(now)]);
    // The entries taken back leave tombstones, so BI pulls (creditFacts) delete their copies.
    await sql.run(
      `insert into credit_tombstone (id, agreement_id, month, deleted_at) select id, agreement_id, month, ? from credit_entry where agreement_id in (${marks}) and month >= ? and month <= ? and posted_at > ?`,
      [sql.date(new Date()), ...chunk, from, to, sql.date(now)],
    );
    await sql.run(`delete from credit_entry where agreement_id in (${marks}) and month >= ? and month <= ? and posted_at > ?`, [...chunk, from, to, sql.date(now)]);
    await sql.run(`update month_close set reopened_at = null, reopening_id = null where agreement_id in (${marks}) and month >= ? and month <= ? and reopened_at > ?`, [
      ...chunk,
      from,
      to,
      sql.date(now),
    ]);
  }
}

/** Metrics whose value moves by time alone (an unanswered escalation missing its deadline). */
const TIME_BOUND_METRICS = new Set(['ESCALATION_RESPONSE_ON_TIME']);

/** A stored record with its time-bound values taken from a fresh one (the rest stays as stored). */
function withTimeBoundValues(stored: LedgerRecord, fresh: LedgerRecord): LedgerRecord {
  const freshValue = new Map(fresh.input.objectives.map((o) => [o.objectiveId, o.value]));
  const objectives = stored.input.objectives.map((o, i) =>
    TIME_BOUND_METRICS.has(stored.objectives[i].metricCode) && freshValue.has(o.objectiveId) ? { ...o, value: freshValue.get(o.objectiveId) ?? null } : o,
  );
  return { ...stored, input: { ...stored.input, objectives } };
}

/** Whether data now differs from what a closed month froze (values, exclusions, terms, report). */
function lateFor(frozen: LedgerRecord, current: LedgerRecord): boolean {
  const a = frozen.input;
  const b = current.input;
  // A month closes SUBMITTED only by silence: the deemed acknowledgement the scheduler records
  // later is the same fact, not late data.
  const status = (r: LedgerMonthInput['report']) => (r?.status === 'SUBMITTED' ? 'ACKNOWLEDGED' : (r?.status ?? null));
  return (
    JSON.stringify(a.objectives) !== JSON.stringify(b.objectives) ||
    status(a.report) !== status(b.report) ||
    frozen.reportRevision !== current.reportRevision ||
    frozen.versionNumber !== current.versionNumber
  );
}

function causeOf(r: LedgerRecord, at: Date, reopenedAt: Date | null): CloseCause {
  if (reopenedAt && at.getTime() === reopenedAt.getTime()) return CloseCause.REOPENED;
  if (!r.input.hasManual) return CloseCause.DUE;
  if (r.input.report?.status === 'SUBMITTED' || r.input.report?.deemed) return CloseCause.DEEMED;
  return CloseCause.ACKNOWLEDGED;
}

/** Instants after which a value changes by time: an unanswered escalation of the month counts as missed, a friction report not delivered by its due instant counts as 0. */
async function valueChangesOf(ctx: { loaders: Loaders }, scored: ScoredMonth[], from: Month, to: Month): Promise<Map<string, Date[]>> {
  const out = new Map<string, Date[]>();
  const ids = [...new Set(scored.map((s) => s.agreement.id))];
  if (!ids.length) return out;
  const lists = await loadManyOrThrow(
    ctx.loaders.escalationsInWindow,
    ids.map((id) => `${id}|${from}|${to}`),
  );
  const calendars = new Map(scored.map((s) => [keyOf(s.agreement.id, s.month), s.version.calendar]));
  ids.forEach((id, i) => {
    const list = lists[i];
    if (list instanceof Error) throw list;
    for (const e of list) {
      if (e.responseHours != null) continue;
      const calendar = calendars.get(keyOf(id, e.month));
      if (!calendar) continue;
      const k = keyOf(id, e.month);
      out.set(k, [...(out.get(k) ?? []), deadline(e, calendar, e.responseTargetHours)]);
    }
  });
  // A friction report not yet delivered turns FRICTION_REPORT_DELIVERED from no value to 0 at its due instant.
  for (const s of scored) {
    if (s.objectives.some((o) => o.metric.code === 'FRICTION_REPORT_DELIVERED' && o.value === null)) {
      const k = keyOf(s.agreement.id, s.month);
      out.set(k, [...(out.get(k) ?? []), s.dueAt]);
    }
  }
  return out;
}

async function store(sql: Sql, months: LedgerRecord[], objectives: Array<{ record: LedgerRecord; previous: LedgerRecord | null }>, now: Date): Promise<void> {
  const rows = months.map((r) => monthRow(sql, r));
  const merged = MONTH_COLUMNS.filter((c) => c !== 'agreement_id' && c !== 'month');
  for (let i = 0; i < rows.length; i += 200) await sql.upsert('ledger_month', rows.slice(i, i + 200), ['agreement_id', 'month'], [...merged], undefined, { versioned: false });
  const objectiveRowsOut: Array<Record<string, unknown>> = [];
  const gone: Array<{ agreementId: string; month: Month; ids: string[] }> = [];
  for (const { record, previous } of objectives) {
    const before = new Map((previous?.input.objectives ?? []).map((o, i) => [o.objectiveId, previous ? shownObjective(previous, i) : '']));
    const prevUpdated = previous?.updatedAt ?? now;
    objectiveRowsOut.push(...objectiveRows(sql, record, (i) => (before.get(record.input.objectives[i].objectiveId) === shownObjective(record, i) ? prevUpdated : now)));
    const ids = new Set(record.input.objectives.map((o) => o.objectiveId));
    const left = [...before.keys()].filter((id) => !ids.has(id));
    if (left.length) gone.push({ agreementId: record.agreementId, month: record.month, ids: left });
  }
  const merge = OBJECTIVE_COLUMNS.filter((c) => c !== 'agreement_id' && c !== 'month' && c !== 'objective_id');
  for (let i = 0; i < objectiveRowsOut.length; i += 200)
    await sql.upsert('ledger_objective', objectiveRowsOut.slice(i, i + 200), ['agreement_id', 'month', 'objective_id'], [...merge], undefined, { versioned: false });
  for (const g of gone) {
    await sql.run(`update ledger_objective set deleted = ?, updated_at = ? where agreement_id = ? and month = ? and objective_id in (${g.ids.map(() => '?').join(', ')})`, [
      bool(sql, true),
      sql.date(now),
      g.agreementId,
      g.month,
      ...g.ids,
    ]);
  }
}

/**
 * Records closes and posts their credit: CLOSE the first time, ADJUSTMENT (the difference from
 * what was posted before) after a reopening. A few statements for any number of closes.
 */
async function postCloses(sql: Sql, closings: Array<{ record: LedgerRecord; cause: CloseCause; reopeningId: string | null }>, now: Date, stamp: Date): Promise<Array<EventInput<'month.closed'>>> {
  if (!closings.length) return [];
  const posted = new Map<string, { n: number; total: number }>();
  const reasons = new Map<string, string>();
  const ids = [...new Set(closings.map((c) => c.record.agreementId))];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await sql.rows<{ agreement_id: string; month: string; n: number | string; total: number | string | null }>(
      `select agreement_id, month, count(*) as n, sum(delta) as total from credit_entry where agreement_id in (${chunk.map(() => '?').join(', ')}) group by agreement_id, month`,
      chunk,
    );
    for (const r of rows) posted.set(keyOf(String(r.agreement_id), String(r.month)), { n: Number(r.n), total: Number(r.total ?? 0) });
  }
  const reopeningIds = [...new Set(closings.map((c) => c.reopeningId).filter((id): id is string => !!id))];
  if (reopeningIds.length) {
    for (const r of await sql.rows<{ id: string; reason: string }>(`select id, reason from month_reopening where id in (${reopeningIds.map(() => '?').join(', ')})`, reopeningIds))
      reasons.set(String(r.id), r.reason);
  }
  const closes = closings.map(({ record: r, cause }) => ({
    id: newId(),
    agreement_id: r.agreementId,
    month: r.month,
    closed_at: sql.date(r.closedAt),
    cause,
    snapshot: snapshotOf(r),
    late_data_at: sql.date(r.lateDataAt),
    reopened_at: null,
    reopening_id: null,
  }));
  const entries = closings.map(({ record: r, reopeningId }) => {
    const before = posted.get(keyOf(r.agreementId, r.month));
    const credited = r.result.objectives.map((o, i) => (o.status === 'BREACHED' || o.status === 'NO_DATA' ? r.objectives[i].metricCode : null)).filter((c): c is string => !!c);
    return {
      id: newId(),
      agreement_id: r.agreementId,
      month: r.month,
      kind: before?.n ? CreditEntryKind.ADJUSTMENT : CreditEntryKind.CLOSE,
      percent: r.result.credit.percent,
      amount: r.result.credit.amount,
      delta: Math.round((r.result.credit.amount - (before?.total ?? 0)) * 1e9) / 1e9,
      objectives: JSON.stringify(credited),
      provider_id: r.providerId,
      customer_id: r.customerId,
      posted_at: sql.date(r.closedAt),
      reason: reopeningId ? (reasons.get(reopeningId) ?? null) : null,
      // The write's instant on the server's clock (BI incremental pulls), not the close instant.
      recorded_at: sql.date(stamp),
    };
  });
  for (let i = 0; i < closes.length; i += 500) await sql.insert('month_close', closes.slice(i, i + 500));
  for (let i = 0; i < entries.length; i += 500) await sql.insert('credit_entry', entries.slice(i, i + 500));
  // One `month.closed` per close, written by the caller in this transaction (docs/events.md).
  return closings.map(({ record: r, cause }, i) => ({
    type: 'month.closed' as const,
    occurredAt: now,
    agreement: eventAgreementOf(r),
    payload: {
      month: r.month,
      closedAt: (r.closedAt as Date).toISOString(),
      cause,
      kind: entries[i].kind === CreditEntryKind.CLOSE ? ('CLOSE' as const) : ('ADJUSTMENT' as const),
      percent: entries[i].percent,
      amount: entries[i].amount,
      delta: entries[i].delta,
    },
  }));
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** The ledger's horizon as stored, moved up to `now`'s when that is later. */
async function storedHorizon(sql: Sql, now: Date, lockForSync = false): Promise<Month> {
  const [row] = lockForSync ? await lockedHorizon(sql) : await sql.rows<{ horizon: string | null }>(HORIZON);
  const h = horizonOf(now);
  return row?.horizon && compareMonths(row.horizon, h) > 0 ? row.horizon : h;
}

const HORIZON = 'select horizon from ledger_state where id = 1';
/** A sync's table lock ({@link syncLedger}), then the stored horizon: one round trip, pg's simple protocol (no parameters). */
const LOCK_SYNC = 'lock table ledger_month in row exclusive mode';

/** PostgreSQL: takes a sync's table lock and reads the stored horizon in one round trip. */
async function lockedHorizon(sql: Sql): Promise<Array<{ horizon: string | null }>> {
  const client = await sql.connection<{ query(text: string): Promise<Array<{ rows: Array<{ horizon: string | null }> }>> }>();
  sql.counted(LOCK_SYNC);
  sql.counted(HORIZON);
  const results = await client.query(`${LOCK_SYNC}; ${HORIZON}`);
  return results[1].rows;
}

/** Every agreement that may have measured months, by id. */
async function measurableIds(sql: Sql): Promise<string[]> {
  const rows = await sql.rows<{ id: string }>(`select id from agreement where tier in (?, ?) and activated_at is not null order by id`, [Tier.CUSTOMER, Tier.SERVICE]);
  return rows.map((r) => String(r.id));
}

async function setHorizon(sql: Sql, horizon: Month, builtAt: Date | null): Promise<void> {
  await sql.upsert('ledger_state', [{ id: 1, horizon, built_at: sql.date(builtAt) }], ['id'], builtAt ? ['horizon', 'built_at'] : ['horizon'], undefined, { versioned: false });
}

/**
 * The scheduler's part (DESIGN §8): when a new month comes within the horizon, every agreement
 * gets its rows; rows whose evaluation has stopped holding (a month ended, a report fell due, an
 * acceptance window passed) are synced at `now`, closing months as their instants pass. Bounded:
 * at most `limit` stale months per call (the next tick takes the rest).
 */
export async function advanceLedger(em: EntityManager, now: Date, limit = 2_000): Promise<number> {
  const sql = sqlOf(em);
  let changed = 0;
  const [state] = await sql.rows<{ horizon: string | null }>('select horizon from ledger_state where id = 1');
  const target = horizonOf(now);
  if (!state?.horizon) return rebuildLedger(em, now).then((r) => r.months);
  if (compareMonths(state.horizon, target) < 0) {
    const months = monthRange(addMonths(state.horizon, 1), target);
    const ids = await measurableIds(sql);
    // Every month lock of the tick at once, in ascending order (batches locking their own would
    // take them out of order across batches, and deadlock with a writer of two agreements).
    await lockAgreementMonths(
      em,
      ids.flatMap((agreementId) => months.map((month) => ({ agreementId, month }))),
    );
    for (let i = 0; i < ids.length; i += AGREEMENTS_PER_BATCH)
      changed += (
        await syncLedger(
          em,
          ids.slice(i, i + AGREEMENTS_PER_BATCH).map((agreementId) => ({ agreementId, months })),
          now,
          { markLate: false, lockMonths: false },
        )
      ).written;
    await setHorizon(sql, target, null);
  }
  const stale = await sql.rows<{ agreement_id: string; month: string }>(
    'select agreement_id, month from ledger_month where deleted = ? and closed = ? and valid_until <= ? order by valid_until, agreement_id, month limit ?',
    [bool(sql, false), bool(sql, false), sql.date(now), limit],
  );
  const byAgreement = new Map<string, Month[]>();
  for (const s of stale) byAgreement.set(String(s.agreement_id), [...(byAgreement.get(String(s.agreement_id)) ?? []), String(s.month)]);
  const scopes = [...byAgreement].map(([agreementId, months]) => ({ agreementId, months }));
  await lockAgreementMonths(
    em,
    stale.map((r) => ({ agreementId: String(r.agreement_id), month: String(r.month) })),
  );
  for (let i = 0; i < scopes.length; i += AGREEMENTS_PER_BATCH) changed += (await syncLedger(em, scopes.slice(i, i + AGREEMENTS_PER_BATCH), now, { markLate: false, lockMonths: false })).written;
  return changed;
}

/**
 * Recomputes the whole ledger from the facts at `now` (`npm run ledger:rebuild`, the migration
 * that introduced it, a fresh demo): the rows are dropped and rebuilt; closed months come back
 * from their close records, the frozen results being facts in their own right.
 */
export async function rebuildLedger(em: EntityManager, now: Date): Promise<SyncResult> {
  // All or nothing, and the table lock below needs a transaction.
  if (!em.isInTransaction()) return em.transactional((tem) => rebuildLedger(tem, now));
  const sql = sqlOf(em);
  // The whole ledger at once (PostgreSQL): writers wait at their first ledger write until the
  // rebuild commits, then sync their months over the rebuilt rows. Reads go on.
  if (sql.pg) await sql.run('lock table ledger_month in exclusive mode');
  // Never a horizon earlier than the one kept (a rebuild at an earlier instant keeps every month).
  const horizon = await storedHorizon(sql, now);
  await sql.run('delete from ledger_objective');
  await sql.run('delete from ledger_month');
  await setHorizon(sql, horizon, now);
  const total: SyncResult = { months: 0, written: 0, closed: 0, tombstoned: 0 };
  const ids = await measurableIds(sql);
  for (let i = 0; i < ids.length; i += AGREEMENTS_PER_BATCH) {
    const r = await syncLedger(
      em,
      ids.slice(i, i + AGREEMENTS_PER_BATCH).map((agreementId) => ({ agreementId })),
      now,
      { markLate: false, lockMonths: false },
    );
    total.months += r.months;
    total.written += r.written;
    total.closed += r.closed;
    total.tombstoned += r.tombstoned;
    em.clear();
  }
  return total;
}

/** The rows of the whole ledger in a stable order, for comparisons (tests, `ledger:rebuild --check`). */
export async function ledgerDump(em: EntityManager): Promise<{ months: Array<Record<string, unknown>>; objectives: Array<Record<string, unknown>> }> {
  const sql = sqlOf(em);
  const months = await sql.rows<Record<string, unknown>>('select * from ledger_month where deleted = ? order by agreement_id, month', [bool(sql, false)]);
  const objectives = await sql.rows<Record<string, unknown>>('select * from ledger_objective where deleted = ? order by agreement_id, month, objective_id', [bool(sql, false)]);
  return { months, objectives };
}

/** What a reader sees of the ledger, row by row: every column but the bookkeeping of when rows were evaluated and stamped. */
async function shownRows(sql: Sql): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const hidden = new Set(['computed_at', 'valid_until', 'updated_at']);
  const norm = (r: Record<string, unknown>) =>
    JSON.stringify(
      Object.keys(r)
        .filter((k) => !hidden.has(k))
        .sort()
        .map((k) => {
          const v = r[k];
          if (v instanceof Date) return [k, v.getTime()];
          if (typeof v === 'boolean') return [k, v ? 1 : 0];
          if (k.endsWith('_at') && v != null) return [k, asTime(v)];
          return [k, v === undefined ? null : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && !k.endsWith('_id') && k !== 'month' ? Number(v) : v];
        }),
    );
  for (const r of await sql.rows<Record<string, unknown>>('select * from ledger_month where deleted = ?', [bool(sql, false)])) out.set(`m|${String(r.agreement_id)}|${String(r.month)}`, norm(r));
  for (const r of await sql.rows<Record<string, unknown>>('select * from ledger_objective where deleted = ?', [bool(sql, false)]))
    out.set(`o|${String(r.agreement_id)}|${String(r.month)}|${String(r.objective_id)}`, norm(r));
  const [closes] = await sql.rows<{ n: number | string }>('select count(*) as n from month_close');
  const [entries] = await sql.rows<{ n: number | string }>('select count(*) as n from credit_entry');
  out.set('closes', String(Number(closes.n)));
  out.set('credit entries', String(Number(entries.n)));
  return out;
}

const asTime = (v: unknown): number => dateOrNull(v)?.getTime() ?? NaN;

/** Thrown to roll back the rebuild a check made. */
class CheckDone extends Error {
  constructor(readonly differences: string[]) {
    super('ledger check done');
  }
}

/**
 * Whether the kept ledger equals a from-scratch recomputation at `now` (the model-based test, and
 * `npm run ledger:rebuild -- --check`): time-driven transitions are applied first (what the
 * scheduler does at `now`), then the rows a reader sees are compared with those a rebuild writes,
 * in a transaction that is rolled back. Returns the differences (none when equal), at most `max`.
 */
export async function compareWithRebuild(em: EntityManager, now: Date, max = 20): Promise<{ rows: number; differences: string[] }> {
  let rows = 0;
  try {
    await em.transactional(async (tem) => {
      const sql = sqlOf(tem);
      while ((await advanceLedger(tem, now, 10_000)) > 0);
      const kept = await shownRows(sql);
      await rebuildLedger(tem, now);
      const rebuilt = await shownRows(sql);
      rows = kept.size;
      const differences: string[] = [];
      for (const key of new Set([...kept.keys(), ...rebuilt.keys()])) {
        if (kept.get(key) === rebuilt.get(key)) continue;
        differences.push(`${key}: kept ${kept.get(key) ?? '(none)'}, rebuilt ${rebuilt.get(key) ?? '(none)'}`);
        if (differences.length >= max) break;
      }
      throw new CheckDone(differences);
    });
  } catch (e) {
    if (e instanceof CheckDone) return { rows, differences: e.differences };
    throw e;
  }
  throw new Error('unreachable');
}
