import { touchLedger } from '../../common/ledger-touch';
import { groupBy } from '../../common/collections';
import { newId } from '../../common/ids';
import { finished } from 'node:stream/promises';
import type { Submittable } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager } from '@mikro-orm/core';
import { isUUID } from 'class-validator';
import { lockAgreementMonths } from '../../common/locks';
import { loadersOver, shareLoaders } from '../../common/wiring';
import type { Loaders } from '../../db/request-loaders';
import { type Sql, sqlOf } from '../../common/sql';
import type { Month } from '../../common/month';
import { runMutation, type MutationResult } from '../../common/mutation';
import { RetryableConflict } from '../../common/retry';
import { UserError, UserErrorCode, UserErrorsException } from '../../common/user-error';
import { type BusinessCalendar, localDateOf, workingHoursBetweenMillis } from '../../common/working-time';
import type { Context, Principal } from '../../common/context';
import { handoffMetricValues, handoffStats, handoffStatsOf, type HandoffStats, RESPONSE_MEDIAN, RESPONSE_P90 } from '../../scoring/automated';
import { Agreement, AgreementVersion, Tier } from '../agreements/agreement.entity';
import { activeInMonth, agreementParties, versionAt } from '../agreements/agreement.rules';
import { principalOf } from '../../common/authorization';
import { assertMay } from '../../common/policy';
import { ForbiddenError } from '../../common/errors';
import { Role } from '../../common/role';
import { HandoffBatch } from './handoff.entity';
import type { HandoffEventInput, RecordHandoffEventsInput } from './handoff.inputs';
import { checkBatch } from '../../common/ingest';

/** Most events one call takes (DESIGN §6, the handoffs issue). */
export const MAX_EVENTS = 5000;
/** Rows per INSERT of handoff months: well under SQLite's bound-parameter limit (14 columns each). */
const ROWS_PER_STATEMENT = 500;

/** An event after validation, with what the ingest derives: its month and its response time. */
interface Row {
  id: string;
  source: string;
  external_id: string;
  agreement_id: string;
  stage: string;
  month: Month;
  /** Instants as epoch milliseconds (as SQLite stores them). */
  handed_off_at: number;
  responded_at: number | null;
  accepted_at: number | null;
  rejected_at: number | null;
  rejection_reason: string | null;
  converted_at: number | null;
  quality_score: number | null;
  response_hours: number | null;
  /** Who sent it: written on insert only, so a re-send (an admin's correction) keeps the sender. */
  recorded_by_user_id: string;
  /** Its agreement-month, shared by the batch's events of that month. */
  slot: MonthSlot;
}

/** An agreement-month a batch writes to, looked up once per batch: the version in force, and whether its events are counted as touched yet. */
interface MonthSlot {
  month: Month;
  version: AgreementVersion | null;
  touched: boolean;
}

/**
 * Two days: farther than any time zone's offset from UTC (−12 to +14 hours), so an instant at least
 * this far from both ends of its UTC month is in that same month in every zone.
 */
const ZONE_MARGIN_MS = 2 * 86_400_000;

// The handoff metric rules are pure: src/scoring/automated.ts.
export { handoffMetricValues, handoffStats, type HandoffStats };

const TIMES = ['respondedAt', 'acceptedAt', 'rejectedAt', 'convertedAt'] as const;

/**
 * A handoff event as the ingest reads it: {@link HandoffEventInput} with its instants as epoch
 * milliseconds (valid ones; null or absent when not sent). The HTTP fast path
 * (handoff.fast-input.ts) reads them so from the request, without a `Date` per instant; the
 * resolver's and the seeders' `Date`s are turned into them by {@link inMillis}.
 */
export type HandoffEventMillis = Omit<HandoffEventInput, 'handedOffAt' | (typeof TIMES)[number]> & { handedOffAt: number } & { [K in (typeof TIMES)[number]]?: number | null };
export interface HandoffEventsMillis {
  source: string;
  events: HandoffEventMillis[];
}

const millisOf = (d: Date | null | undefined): number | null => (d == null ? null : d.getTime());

const isMillis = (input: RecordHandoffEventsInput | HandoffEventsMillis): input is HandoffEventsMillis => input.events.length === 0 || typeof input.events[0].handedOffAt === 'number';

/** An input's events with their instants as epoch milliseconds. */
export function inMillis(input: RecordHandoffEventsInput): HandoffEventsMillis {
  return {
    source: input.source,
    events: input.events.map((e) => ({
      ...e,
      handedOffAt: e.handedOffAt.getTime(),
      respondedAt: millisOf(e.respondedAt),
      acceptedAt: millisOf(e.acceptedAt),
      rejectedAt: millisOf(e.rejectedAt),
      convertedAt: millisOf(e.convertedAt),
    })),
  };
}

/** The ISO form of an instant in epoch milliseconds, as error messages and PostgreSQL's parameters write it. */
const iso = (t: number): string => new Date(t).toISOString();

/**
 * Records a batch of handoff events from automation, all or nothing: every problem of every
 * event is listed by index (`events[12].acceptedAt`) and nothing is written. A re-sent external
 * id (per source) updates its event. Admins, and INTEGRATION principals for agreements one of
 * whose parties is their department, may write. The touched agreement-months' metrics are
 * recomputed in the same transaction, under locks that serialise the writers of each
 * agreement-month; a deadlock or serialization failure runs the whole batch again (runMutation).
 */
export function recordHandoffEvents(ctx: Context, input: RecordHandoffEventsInput | HandoffEventsMillis, now = ctx.request.now): Promise<MutationResult<HandoffBatch>> {
  return runMutation(ctx, (em) => ingestHandoffEvents(em, input, { principal: principalOf(ctx), now }));
}

/**
 * The ingest itself, inside the caller's transaction `em`: {@link recordHandoffEvents} for the
 * API, the demo and large-data seeders for theirs (with an admin-like principal).
 */
export async function ingestHandoffEvents(
  em: EntityManager,
  sent: RecordHandoffEventsInput | HandoffEventsMillis,
  options: { principal: Pick<Principal, 'role' | 'departmentIds' | 'userId'>; now: Date },
): Promise<HandoffBatch> {
  const input = isMillis(sent) ? sent : inMillis(sent);
  const p = options.principal;
  const now = options.now;
  const { source, errors } = checkBatch(input.source, input.events, 'events', 'event', MAX_EVENTS);

  // Lower-cased and checked once per distinct id sent, not once per event.
  const sentIds = new Set<string>();
  for (const e of input.events) sentIds.add(e.agreementId);
  const agreementIds = [...new Set([...sentIds].map((id) => id.toLowerCase()).filter((id) => isUUID(id)))];
  const agreements = new Map((agreementIds.length ? await em.find(Agreement, { id: { $in: agreementIds } }) : []).map((a) => [a.id, a]));
  const versions = groupBy(agreements.size ? await em.find(AgreementVersion, { agreement: { $in: [...agreements.keys()] } }) : [], (v) => v.agreement.id);
  // The terms read here stay as they are in this write (an ingest changes no agreement): the ledger
  // sync at its end takes them from these loaders instead of reading them again.
  shareLoaders(em, termsLoaders(em, agreements.values(), versions));
  const firstIndex = new Map<string, number>();
  // Per agreement, by month index (year × 12 + month − 1), without a string built per event: the
  // calendar of its terms in a UTC month (with the instants between which no zone's local month
  // differs from it), and the agreement-months' slots.
  const calendars = new Map<Agreement, Map<number, { calendar: BusinessCalendar | null; from: number; to: number }>>();
  const slots = new Map<Agreement, Map<number, MonthSlot>>();
  /** Agreements this principal was checked for (once per agreement, at its first event). */
  const allowed = new Set<string>();
  const rows: Row[] = [];
  const future = now.getTime() + 5 * 60_000;
  const utcMonthIndex = utcMonthIndexer();
  const events = input.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const before = errors.length;
    const externalId = e.externalId.trim();
    if (!externalId || externalId.length > 200)
      errors.push(new UserError(at(i, 'externalId'), externalId ? UserErrorCode.INVALID : UserErrorCode.REQUIRED, 'externalId: expected 1 to 200 characters'));
    else if (firstIndex.has(externalId))
      errors.push(new UserError(at(i, 'externalId'), UserErrorCode.INVALID, `externalId: ${externalId} appears twice in the batch (events[${firstIndex.get(externalId)}])`));
    else firstIndex.set(externalId, i);
    const stage = e.stage.trim();
    if (!stage || stage.length > 100) errors.push(new UserError(at(i, 'stage'), stage ? UserErrorCode.INVALID : UserErrorCode.REQUIRED, 'stage: expected 1 to 100 characters'));
    const agreement = agreements.get(e.agreementId.toLowerCase());
    if (!agreement) {
      errors.push(new UserError(at(i, 'agreementId'), UserErrorCode.NOT_FOUND, `no agreement has id ${e.agreementId}`));
    } else {
      // The whole batch is refused at the first event this principal may not record (the answer
      // is the same for every event of one agreement, so it is asked once, at its first).
      if (!allowed.has(agreement.id)) {
        assertMay(
          { principal: p },
          'handoff:ingest',
          agreementParties(agreement),
          () => `A ${p.role} principal may not record handoff events for agreement ${agreement.key} (events[${i}]): only admins and the integrations of its parties do`,
        );
        allowed.add(agreement.id);
      }
      if (agreement.tier === Tier.CORPORATE)
        errors.push(new UserError(at(i, 'agreementId'), UserErrorCode.INVALID, `agreement ${agreement.key} is CORPORATE: handoffs flow along CUSTOMER and SERVICE agreements`));
    }
    const handed = e.handedOffAt;
    if (handed > future) errors.push(new UserError(at(i, 'handedOffAt'), UserErrorCode.INVALID, `handedOffAt: ${iso(handed)} is in the future`));
    for (const f of TIMES) {
      const time = e[f];
      if (time == null) continue;
      if (time < handed) errors.push(new UserError(at(i, f), UserErrorCode.INVALID, `${f}: expected ${iso(handed)} (handedOffAt) or later, received ${iso(time)}`));
      else if (time > future) errors.push(new UserError(at(i, f), UserErrorCode.INVALID, `${f}: ${iso(time)} is in the future`));
    }
    const responded = e.respondedAt ?? null;
    const accepted = e.acceptedAt ?? null;
    const rejected = e.rejectedAt ?? null;
    const converted = e.convertedAt ?? null;
    if (accepted !== null && rejected !== null) errors.push(new UserError(at(i, 'rejectedAt'), UserErrorCode.INVALID, 'rejectedAt: an event is accepted or rejected, not both'));
    const reason = e.rejectionReason?.trim() || null;
    if (rejected !== null && !reason) errors.push(new UserError(at(i, 'rejectionReason'), UserErrorCode.REQUIRED, 'rejectionReason: a rejection says why'));
    if (reason && rejected === null) errors.push(new UserError(at(i, 'rejectionReason'), UserErrorCode.INVALID, 'rejectionReason: only a rejected event has one'));
    if (converted !== null && rejected !== null) errors.push(new UserError(at(i, 'convertedAt'), UserErrorCode.INVALID, 'convertedAt: a rejected event does not convert'));
    if (e.qualityScore != null && !(Number.isFinite(e.qualityScore) && e.qualityScore >= 0 && e.qualityScore <= 100)) {
      errors.push(new UserError(at(i, 'qualityScore'), UserErrorCode.INVALID, `qualityScore: expected 0 to 100, received ${e.qualityScore}`));
    }
    if (!agreement || errors.length > before) continue;
    // Terms per agreement and month are looked up once per batch, not once per event.
    const utcIndex = utcMonthIndex(handed);
    let byUtcMonth = calendars.get(agreement);
    if (!byUtcMonth) calendars.set(agreement, (byUtcMonth = new Map()));
    let terms = byUtcMonth.get(utcIndex);
    if (!terms) {
      const vs = versions.get(agreement.id) ?? [];
      const start = Date.UTC(Math.floor(utcIndex / 12), utcIndex % 12, 1);
      const end = Date.UTC(Math.floor(utcIndex / 12), (utcIndex % 12) + 1, 1);
      byUtcMonth.set(utcIndex, (terms = { calendar: (versionAt(vs, monthOfIndex(utcIndex)) ?? vs[0])?.calendar ?? null, from: start + ZONE_MARGIN_MS, to: end - ZONE_MARGIN_MS }));
    }
    // The calendar's local month: the UTC month unless the instant is near either end of it.
    const monthIndex = terms.calendar && (handed < terms.from || handed >= terms.to) ? monthIndexOf(localDateOf(terms.calendar, new Date(handed))) : utcIndex;
    let byMonth = slots.get(agreement);
    if (!byMonth) slots.set(agreement, (byMonth = new Map()));
    let slot = byMonth.get(monthIndex);
    if (!slot) {
      const vs = versions.get(agreement.id) ?? [];
      const month = monthOfIndex(monthIndex);
      byMonth.set(monthIndex, (slot = { month, version: activeInMonth(agreement, vs, month) ? (versionAt(vs, month) as AgreementVersion) : null, touched: false }));
    }
    const version = slot.version;
    if (!version) {
      errors.push(new UserError(at(i, 'handedOffAt'), UserErrorCode.INVALID, `handedOffAt: agreement ${agreement.key} was not ACTIVE in ${slot.month}`));
      continue;
    }
    rows.push({
      id: newId(),
      source,
      external_id: externalId,
      agreement_id: agreement.id,
      stage,
      month: slot.month,
      handed_off_at: handed,
      responded_at: responded,
      accepted_at: accepted,
      rejected_at: rejected,
      rejection_reason: reason,
      converted_at: converted,
      quality_score: e.qualityScore ?? null,
      response_hours: responded !== null ? Math.round(workingHoursBetweenMillis(version.calendar, handed, responded) * 1e6) / 1e6 : null,
      recorded_by_user_id: p.userId,
      slot,
    });
  }
  if (errors.length) throw new UserErrorsException(errors);

  // One canonical order (issue 12): every writer takes the events, and the locks of their
  // agreement-months, in ascending order, so overlapping batches queue instead of deadlocking.
  rows.sort((a, b) => (a.external_id < b.external_id ? -1 : a.external_id > b.external_id ? 1 : 0));
  const sql = sqlOf(em);
  const touched = new Map<string, { agreementId: string; month: string }>();
  /** The touched months by agreement: asked without building a key for each re-sent event. */
  const touchedMonths = new Map<string, Set<string>>();
  const isTouched = (agreementId: string, month: string) => touchedMonths.get(agreementId)?.has(month) === true;
  const touch = (agreementId: string, month: string) => {
    let months = touchedMonths.get(agreementId);
    if (!months) touchedMonths.set(agreementId, (months = new Set()));
    if (months.has(month)) return;
    months.add(month);
    touched.set(`${agreementId}|${month}`, { agreementId, month });
  };
  for (const r of rows) {
    if (r.slot.touched) continue;
    r.slot.touched = true;
    touch(r.agreement_id, r.month);
  }
  // The agreement-months written to are locked before anything is written or counted, so
  // concurrent batches about one month recount it one after the other, each seeing the others'
  // committed events (PostgreSQL advisory locks; SQLite runs one transaction at a time).
  await lockAgreementMonths(em, touched.values());
  // Re-sent events: counted as updates, and their earlier months recomputed too (an event may
  // move to another month or agreement). On PostgreSQL the rows are read FOR UPDATE, before
  // anything is written: the latest committed state, which no one else can change before this
  // transaction ends. On SQLite, whose one connection runs one transaction at a time, they are
  // read the same way (without FOR UPDATE: nothing else writes until this transaction ends), by a
  // prepared statement per chunk, and then each event is inserted or updated: one statement per
  // event, as a plain upsert would. Either way the checks below see the same rows in the same
  // order (chunks of the sorted ids, each in id order), so a refused batch names the same event,
  // and a refusal rolls the whole transaction back.
  const existing = new Set<string>();
  const earlier: Array<{ agreementId: string; month: string }> = [];
  const ids = rows.map((r) => r.external_id);
  const checkFound = async (found: Found[]) => {
    // One pass over the rows read: each becomes an update and its month is touched, and what the
    // refusals below need is noted (a refusal rolls the whole transaction back, so nothing done
    // here outlives it). The refusals come in the order they always came.
    let foreign: Set<string> | undefined;
    let taken: Found | undefined;
    const admin = p.role === Role.ADMIN;
    for (let i = 0; i < found.length; i++) {
      const f = found[i];
      const externalId = f[0];
      const agreementId = f[1];
      const month = f[2];
      if (!agreements.has(agreementId)) (foreign ??= new Set()).add(agreementId);
      // The first such event in the batch's order.
      if (!admin && f[3] != null && f[3] !== p.userId && (taken === undefined || (firstIndex.get(externalId) ?? 0) < (firstIndex.get(taken[0]) ?? 0))) taken = f;
      existing.add(externalId);
      if (isTouched(agreementId, month)) continue;
      earlier.push({ agreementId, month });
      touch(agreementId, month);
    }
    // A re-sent id whose event is another agreement's: the sender must be allowed to record for
    // that agreement too, or it could move events out of agreements it is no party to.
    if (foreign) {
      const owners = new Map((await em.find(Agreement, { id: { $in: [...foreign] } })).map((a) => [a.id, a]));
      for (const f of found) {
        const owner = owners.get(f[1]);
        if (!owner) continue;
        assertMay(
          { principal: p },
          'handoff:ingest',
          agreementParties(owner),
          () =>
            `A ${p.role} principal may not change handoff event ${source}/${f[0]} (events[${firstIndex.get(f[0])}]): it belongs to agreement ${owner.key}, whose parties’ integrations and admins alone record for it`,
        );
      }
    }
    // A re-send by another principal than the one that sent it: refused unless it is an admin's
    // correction, so one party's integration cannot rewrite the other's events by reusing its
    // source name (both may record for the agreement). A null sender predates the column.
    if (taken)
      throw new ForbiddenError(
        `A ${p.role} principal may not change handoff event ${source}/${taken[0]} (events[${firstIndex.get(taken[0])}]): another principal sent it, and only the integration that sent it or an admin may change it`,
      );
  };
  // Positions in the sorted ids, made only when a re-sent event was found (never for new events).
  let position: Map<string, number> | undefined;
  const chunkOf = (id: string) => Math.floor(((position ??= new Map(ids.map((x, i) => [x, i]))).get(id) ?? 0) / LOOKUP_CHUNK);
  /** The found rows by chunk of {@link LOOKUP_CHUNK} sorted ids, checked chunk after chunk. */
  const checkByChunk = async (found: Found[]) => {
    const chunks = new Map<number, Found[]>();
    for (const f of found) {
      const c = chunkOf(f[0]);
      const list = chunks.get(c);
      if (list) list.push(f);
      else chunks.set(c, [f]);
    }
    for (const c of [...chunks.keys()].sort((a, b) => a - b)) await checkFound(chunks.get(c) as Found[]);
  };
  // Stamped when written, after the locks, on the server's clock (as every other row's
  // updatedAt): BI pulls compare these stamps with their snapshot instants, and a stamp taken at
  // the request's arrival could be seconds older than the commit after waiting for the locks, so
  // a pull in between missed the rows for good. (What remains, the batch's own write time, goes
  // with a commit-ordered change sequence in the score ledger's work.)
  let stamp: Date;
  if (sql.pg) {
    const client = await sql.connection<PgClient>();
    sql.counted(PG_LOOKUP, [source, ids]);
    await checkByChunk((await client.query<Found>({ text: PG_LOOKUP, values: [source, ids], rowMode: 'array' })).rows);
    // An event moving away from a month this batch does not otherwise touch: that month is locked
    // too (out of the canonical order, so a rare deadlock is possible; it is retried).
    await lockAgreementMonths(em, earlier);
    stamp = new Date();
    await writePostgres(sql, source, rows, existing, stamp);
  } else {
    const found: Found[][] = [];
    for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) found.push(await takenSqlite(sql, source, ids.slice(i, i + LOOKUP_CHUNK)));
    // Each chunk's rows are the ones checkByChunk would group under it: checked chunk after chunk.
    for (const chunk of found) if (chunk.length) await checkFound(chunk);
    stamp = new Date();
    await writeSqlite(sql, source, rows, existing, stamp.getTime());
  }
  await recomputeMonths(sql, [...touched.values()], sql.date(stamp));
  touchLedger(em, options.now ?? new Date(), ...[...touched.values()].map((t) => ({ agreementId: t.agreementId, months: [t.month] })));

  const batch = em.create(HandoffBatch, { source, received: rows.length, created: rows.length - existing.size, updated: existing.size, recordedByUserId: p.userId });
  await em.flush();
  return batch;
}

/** Loaders over `em` that already hold these agreements and all their versions (oldest first, as the loader gives them). */
function termsLoaders(em: EntityManager, agreements: Iterable<Agreement>, versions: Map<string, AgreementVersion[]>): Loaders {
  const loaders = loadersOver(em);
  for (const a of agreements) {
    loaders.agreementById.prime(a.id, a);
    loaders.versionsByAgreement.prime(
      a.id,
      [...(versions.get(a.id) ?? [])].sort((x, y) => x.number - y.number),
    );
  }
  return loaders;
}

/** The field of event `i` (`events[12].acceptedAt`), as errors name it. */
const at = (i: number, field: string) => `events[${i}].${field}`;

/**
 * A re-sent event's row as the lookups read it, an array rather than an object per row: external
 * id, agreement, month, sender (null before the column existed).
 */
type Found = [externalId: string, agreementId: string, month: string, recordedBy: string | null];

/** External ids per existence query: within SQLite's and PostgreSQL's bound-parameter limits. */
const LOOKUP_CHUNK = 900;

/**
 * The UTC month index (year × 12 + month − 1) of an instant in epoch milliseconds. The last month
 * found is kept with its bounds: a batch's events mostly fall in a few months, so a `Date` is made
 * only when an event's month differs from the one before.
 */
function utcMonthIndexer(): (t: number) => number {
  let from = 0;
  let to = 0;
  let index = -1;
  return (t) => {
    if (t >= from && t < to) return index;
    const d = new Date(t);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth();
    from = Date.UTC(year, month, 1);
    to = Date.UTC(year, month + 1, 1);
    return (index = year * 12 + month);
  };
}

/** `YYYY-MM` of a month index (year × 12 + month − 1). */
function monthOfIndex(index: number): Month {
  const m = (index % 12) + 1;
  return `${Math.floor(index / 12)}-${m < 10 ? '0' : ''}${m}` as Month;
}

/** The month index (year × 12 + month − 1) of a `YYYY-MM-DD` local date. */
const monthIndexOf = (date: string): number => Number(date.slice(0, 4)) * 12 + Number(date.slice(5, 7)) - 1;

/** What a re-send changes: everything but the identity, the first stamp and the sender (DESIGN §6). */
const MERGED = [
  'agreement_id',
  'stage',
  'month',
  'handed_off_at',
  'responded_at',
  'accepted_at',
  'rejected_at',
  'rejection_reason',
  'converted_at',
  'quality_score',
  'response_hours',
  'updated_at',
] as const;
/** The columns of a new event, in the order of the statements' parameters (bench/ingest.ts writes and compares the same). */
export const INSERTED = [
  'id',
  'version',
  'created_at',
  'updated_at',
  'source',
  'external_id',
  'agreement_id',
  'stage',
  'month',
  'handed_off_at',
  'responded_at',
  'accepted_at',
  'rejected_at',
  'rejection_reason',
  'converted_at',
  'quality_score',
  'response_hours',
  'recorded_by_user_id',
] as const;

const SQLITE_INSERT = `insert into "handoff_event" (${INSERTED.map((c) => `"${c}"`).join(', ')}) values (${INSERTED.map(() => '?').join(', ')}) on conflict ("source", "external_id") do nothing`;
const SQLITE_UPDATE = `update "handoff_event" set ${MERGED.map((c) => `"${c}" = ?`).join(', ')}, "version" = "version" + 1 where "source" = ? and "external_id" = ?`;

interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
}
/** The two prepared statements of each SQLite connection, prepared once. */
const sqliteStatements = new WeakMap<SqliteDatabase, { insert: SqliteStatement; update: SqliteStatement }>();

async function sqliteStatementsOf(sql: Sql): Promise<{ insert: SqliteStatement; update: SqliteStatement }> {
  const db = await sql.connection<SqliteDatabase>();
  let prepared = sqliteStatements.get(db);
  if (!prepared) sqliteStatements.set(db, (prepared = { insert: db.prepare(SQLITE_INSERT), update: db.prepare(SQLITE_UPDATE) }));
  return prepared;
}

/** SQLite: the rows of these external ids already recorded (one chunk of the sorted ids), in id order, by a statement prepared once per chunk size. */
async function takenSqlite(sql: Sql, source: string, ids: string[]): Promise<Found[]> {
  const db = await sql.connection<SqliteDatabase>();
  let bySize = sqliteLookups.get(db);
  if (!bySize) sqliteLookups.set(db, (bySize = new Map()));
  let lookup = bySize.get(ids.length);
  if (!lookup) {
    const text = sqliteLookup(ids.length);
    bySize.set(ids.length, (lookup = { text, statement: (db.prepare(text) as unknown as { raw(on: boolean): SqliteLookup }).raw(true) }));
  }
  sql.counted(lookup.text, NO_PARAMS);
  return lookup.statement.all(source, ...ids);
}

const sqliteLookup = (n: number) =>
  `select "external_id", "agreement_id", "month", "recorded_by_user_id" from "handoff_event" where "source" = ? and "external_id" in (${new Array<string>(n).fill('?').join(', ')})`;
interface SqliteLookup {
  all(...params: unknown[]): Found[];
}
/** The lookups of each SQLite connection, by chunk size (the full chunk and the last one of each batch size). */
const sqliteLookups = new WeakMap<SqliteDatabase, Map<number, { text: string; statement: SqliteLookup }>>();
/** The parameters {@link Sql.counted} is told of for a statement run here (not built anew for each event). */
const NO_PARAMS: unknown[] = [];

/**
 * SQLite: each event written by one prepared statement on the transaction's connection, as a
 * plain upsert through the driver would: an `INSERT` for a new one, an `UPDATE` (everything but
 * the identity, the first stamp and the sender) for a re-sent one (`existing`, read before).
 */
async function writeSqlite(sql: Sql, source: string, rows: Row[], existing: Set<string>, stamp: number): Promise<void> {
  const { insert, update } = await sqliteStatementsOf(sql);
  for (const r of rows) {
    if (existing.has(r.external_id)) {
      sql.counted(SQLITE_UPDATE, NO_PARAMS);
      update.run(
        r.agreement_id,
        r.stage,
        r.month,
        r.handed_off_at,
        r.responded_at,
        r.accepted_at,
        r.rejected_at,
        r.rejection_reason,
        r.converted_at,
        r.quality_score,
        r.response_hours,
        stamp,
        source,
        r.external_id,
      );
      continue;
    }
    sql.counted(SQLITE_INSERT, NO_PARAMS);
    const { changes } = insert.run(
      r.id,
      1,
      stamp,
      stamp,
      source,
      r.external_id,
      r.agreement_id,
      r.stage,
      r.month,
      r.handed_off_at,
      r.responded_at,
      r.accepted_at,
      r.rejected_at,
      r.rejection_reason,
      r.converted_at,
      r.quality_score,
      r.response_hours,
      r.recorded_by_user_id,
    );
    // Read as new a moment ago in this transaction, which alone writes: not expected.
    if (changes !== 1) throw new RetryableConflict(`handoff event ${source}/${r.external_id} was created meanwhile`);
  }
}

/** The events of a batch already recorded, locked for this transaction, in the canonical order. */
const PG_LOOKUP = `select "external_id", "agreement_id", "month", "recorded_by_user_id" from "handoff_event" where "source" = $1 and "external_id" = any($2::varchar[]) order by "external_id" collate "C" for update`;

/**
 * SQLite: one agreement-month's events folded in one scan of its index by `handoff_stats`, an
 * aggregate registered on the connection ({@link sqliteMonthStats}): what {@link handoffStats}
 * reads of each event, without a row object or array per event.
 */
const SQLITE_MONTH_STATS = `select "handoff_stats"(("accepted_at" is not null), ("rejected_at" is not null), ("converted_at" is not null), "response_hours", "quality_score") from "handoff_event" where "agreement_id" = ? and "month" = ?`;

/**
 * What `handoff_stats` gathers of one agreement-month (one at a time: a query runs synchronously
 * to its end): the counts, the response hours (sorted afterwards) and the quality scores' sum, added
 * in the rows' order as {@link handoffStats} adds them. Reused from month to month.
 */
const folded = { volume: 0, accepted: 0, rejected: 0, converted: 0, hours: new Float64Array(1024), responded: 0, qualitySum: 0, scored: 0 };

function foldEvent(_: unknown, accepted: number, rejected: number, converted: number, hours: number | null, quality: number | null): void {
  const f = folded;
  f.volume++;
  f.accepted += accepted;
  f.rejected += rejected;
  f.converted += converted;
  if (hours !== null) {
    if (f.responded === f.hours.length) {
      const grown = new Float64Array(f.hours.length * 2);
      grown.set(f.hours);
      f.hours = grown;
    }
    f.hours[f.responded++] = hours;
  }
  if (quality !== null) {
    f.qualitySum += quality;
    f.scored++;
  }
}

interface SqliteStatsDatabase {
  prepare(sql: string): { pluck(on: boolean): { get(...params: unknown[]): unknown } };
  aggregate(name: string, options: { start: () => unknown; step: typeof foldEvent; result: () => null }): unknown;
}
const sqliteStatsReaders = new WeakMap<object, { get(...params: unknown[]): unknown }>();

/** SQLite: the handoff statistics of one agreement-month, by {@link SQLITE_MONTH_STATS} (the aggregate registered and the statement prepared once per connection). */
async function sqliteMonthStats(sql: Sql): Promise<(agreementId: string, month: string) => HandoffStats> {
  const db = await sql.connection<SqliteStatsDatabase>();
  let reader = sqliteStatsReaders.get(db);
  if (!reader) {
    db.aggregate('handoff_stats', { start: () => 0, step: foldEvent, result: () => null });
    reader = db.prepare(SQLITE_MONTH_STATS).pluck(true);
    sqliteStatsReaders.set(db, reader);
  }
  const read = reader;
  return (agreementId, month) => {
    const f = folded;
    f.volume = f.accepted = f.rejected = f.converted = f.responded = f.qualitySum = f.scored = 0;
    sql.counted(SQLITE_MONTH_STATS);
    read.get(agreementId, month);
    // Float64Array's sort is numeric ascending, as handoffStats' `(a, b) => a - b` (no NaN is stored).
    const hours = f.hours.subarray(0, f.responded).sort();
    return handoffStatsOf({
      volume: f.volume,
      accepted: f.accepted,
      rejected: f.rejected,
      converted: f.converted,
      responded: f.responded,
      responseHoursAt: (rank) => hours[rank],
      qualitySum: f.qualitySum,
      scored: f.scored,
    });
  };
}

/** PostgreSQL types of {@link INSERTED}, for the arrays of one `unnest`. */
const PG_TYPES: Record<(typeof INSERTED)[number], string> = {
  id: 'uuid',
  version: 'int',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
  source: 'varchar',
  external_id: 'varchar',
  agreement_id: 'uuid',
  stage: 'varchar',
  month: 'varchar',
  handed_off_at: 'timestamptz',
  responded_at: 'timestamptz',
  accepted_at: 'timestamptz',
  rejected_at: 'timestamptz',
  rejection_reason: 'text',
  converted_at: 'timestamptz',
  quality_score: 'float8',
  response_hours: 'float8',
  recorded_by_user_id: 'varchar',
};
/** The columns with one value for the whole batch (version 1, the stamp twice, the source, the sender). */
const BATCH_SCALARS = new Set<string>(['version', 'created_at', 'updated_at', 'source', 'recorded_by_user_id']);
/** Columns sent as arrays: the ones that differ from row to row, in {@link INSERTED}'s order. */
const PG_ARRAYS = INSERTED.filter((c) => !BATCH_SCALARS.has(c));
const PG_UPSERT = (() => {
  const param = new Map<string, string>(PG_ARRAYS.map((c) => [c, `"t"."${c}"`]));
  const arrays = PG_ARRAYS.map((c, i) => `$${i + 1}::${PG_TYPES[c]}[]`).join(', ');
  const n = PG_ARRAYS.length;
  // One value for the whole batch: version 1, the stamp twice, the source, the sender.
  const scalar: Record<string, string> = {
    version: '1',
    created_at: `$${n + 1}::timestamptz`,
    updated_at: `$${n + 1}::timestamptz`,
    source: `$${n + 2}::varchar`,
    recorded_by_user_id: `$${n + 3}::varchar`,
  };
  const select = INSERTED.map((c) => param.get(c) ?? scalar[c]).join(', ');
  // Only the updated rows come back (none for a batch of new events): a new event among them
  // raced with a concurrent batch.
  return (
    `with "written" as (insert into "handoff_event" (${INSERTED.map((c) => `"${c}"`).join(', ')}) select ${select} from unnest(${arrays}) with ordinality as "t"(${PG_ARRAYS.map((c) => `"${c}"`).join(', ')}, "n") order by "t"."n" ` +
    `on conflict ("source", "external_id") do update set ${MERGED.map((c) => `"${c}" = excluded."${c}"`).join(', ')}, "version" = "handoff_event"."version" + 1 ` +
    `returning "external_id", ("xmax" = 0) as "inserted") select "external_id" as "key" from "written" where not "inserted"`
  );
})();

interface PgClient {
  query<T>(text: string, values: unknown[]): Promise<{ rows: T[] }>;
  /** Rows as arrays of the columns, in their order. */
  query<T>(config: { text: string; values: unknown[]; rowMode: 'array' }): Promise<{ rows: T[] }>;
  query<Q extends Submittable>(submittable: Q): Q;
}

/** New events: `COPY … FROM STDIN` in the text format, every column of {@link INSERTED} in its order. */
const PG_COPY = `copy "handoff_event" (${INSERTED.map((c) => `"${c}"`).join(', ')}) from stdin`;
/** The unique key a concurrent batch's event of the same external id hits. */
const PG_EXTERNAL_KEY = 'handoff_event_source_external_id_unique';

/**
 * PostgreSQL: new events (not found by the lookup) by `COPY … FROM STDIN`, the bulk load PostgreSQL
 * writes fastest (issue 19: as fast as the baseline's COPY of the same rows), re-sent ones (read
 * and locked by the lookup) by one `INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO UPDATE …
 * RETURNING` (the updated rows' ids only), thirteen array parameters instead of 5,000 × 18 bound
 * values. Both in the canonical (external id) order, so overlapping batches lock their rows in the
 * same order. An event that was new when read but existed when written was created meanwhile by a
 * concurrent batch about other months, whose month is not known here: the COPY fails on the unique
 * key (or the upsert inserts it) and the batch runs again.
 */
async function writePostgres(sql: Sql, source: string, rows: Row[], existing: Set<string>, stamp: Date): Promise<void> {
  if (!rows.length) return;
  const client = await sql.connection<PgClient>();
  const fresh = existing.size ? rows.filter((r) => !existing.has(r.external_id)) : rows;
  if (fresh.length) await copyPostgres(sql, client, source, fresh, stamp);
  if (existing.size)
    await upsertPostgres(
      sql,
      client,
      source,
      rows.filter((r) => existing.has(r.external_id)),
      existing,
      stamp,
    );
}

/** A value of COPY's text format: `\N` for null; backslash, newline, carriage return and tab escaped. */
const copyText = (v: string | null): string => (v === null ? '\\N' : COPY_SPECIAL.test(v) ? v.replace(COPY_ESCAPES, (c) => COPY_ESCAPED[c]) : v);
const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES = /[\\\n\r\t]/g;
const COPY_ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const copyInstant = (t: number | null): string => (t === null ? '\\N' : iso(t));
/** A number as the upsert's arrays send it (pg's `String(n)`: the shortest text that reads back the same double). */
const copyNumber = (n: number | null): string => (n === null ? '\\N' : String(n));

/** New events by `COPY … FROM STDIN` (text format, one message); a unique-key violation is a concurrent batch's event. */
async function copyPostgres(sql: Sql, client: PgClient, source: string, rows: Row[], stamp: Date): Promise<void> {
  // The columns of INSERTED, tab-separated: id, version, created_at, updated_at, source, then the event's.
  const head = `\t1\t${stamp.toISOString()}\t${stamp.toISOString()}\t${copyText(source)}\t`;
  let text = '';
  for (const r of rows) {
    text +=
      r.id +
      head +
      copyText(r.external_id) +
      '\t' +
      r.agreement_id +
      '\t' +
      copyText(r.stage) +
      '\t' +
      r.month +
      '\t' +
      iso(r.handed_off_at) +
      '\t' +
      copyInstant(r.responded_at) +
      '\t' +
      copyInstant(r.accepted_at) +
      '\t' +
      copyInstant(r.rejected_at) +
      '\t' +
      copyText(r.rejection_reason) +
      '\t' +
      copyInstant(r.converted_at) +
      '\t' +
      copyNumber(r.quality_score) +
      '\t' +
      copyNumber(r.response_hours) +
      '\t' +
      copyText(r.recorded_by_user_id) +
      '\n';
  }
  sql.counted(PG_COPY);
  const stream = client.query(copyFrom(PG_COPY));
  stream.end(text);
  try {
    await finished(stream);
  } catch (e) {
    const error = e as { code?: string; constraint?: string; detail?: string };
    if (error.code === '23505' && error.constraint === PG_EXTERNAL_KEY) throw new RetryableConflict(`a handoff event of ${source} was created by a concurrent batch (${error.detail ?? ''})`);
    throw e;
  }
}

/** Re-sent events: one `INSERT … SELECT FROM unnest(arrays) … ON CONFLICT DO UPDATE`, which returns the updated ones' ids. */
async function upsertPostgres(sql: Sql, client: PgClient, source: string, rows: Row[], existing: Set<string>, stamp: Date): Promise<void> {
  const columns: unknown[][] = PG_ARRAYS.map(() => new Array<unknown>(rows.length));
  const isoOrNull = (t: number | null) => (t === null ? null : iso(t));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    columns[0][i] = r.id;
    columns[1][i] = r.external_id;
    columns[2][i] = r.agreement_id;
    columns[3][i] = r.stage;
    columns[4][i] = r.month;
    columns[5][i] = iso(r.handed_off_at);
    columns[6][i] = isoOrNull(r.responded_at);
    columns[7][i] = isoOrNull(r.accepted_at);
    columns[8][i] = isoOrNull(r.rejected_at);
    columns[9][i] = r.rejection_reason;
    columns[10][i] = isoOrNull(r.converted_at);
    columns[11][i] = r.quality_score;
    columns[12][i] = r.response_hours;
  }
  const params = [...columns, stamp.toISOString(), source, rows[0].recorded_by_user_id];
  sql.counted(PG_UPSERT, params);
  const { rows: updated } = await client.query<{ key: string }>(PG_UPSERT, params);
  const raced = updated.find((w) => !existing.has(w.key));
  if (raced) throw new RetryableConflict(`handoff event ${source}/${raced.key} was created by a concurrent batch`);
}

/**
 * Recomputes and stores the handoff metrics of agreement-months from their events, in key order.
 * The caller holds the months' locks ({@link lockAgreementMonths}), so the count is complete.
 */
async function recomputeMonths(sql: Sql, months: Array<{ agreementId: string; month: string }>, stamp: Date | number | null): Promise<void> {
  /** SQLite: each agreement-month's statistics, folded by one aggregate query on its index. */
  const folds = new Map<string, HandoffStats>();
  if (!sql.pg) {
    const statsOf = await sqliteMonthStats(sql);
    for (const m of months) {
      const key = `${m.agreementId}|${m.month}`;
      if (!folds.has(key)) folds.set(key, statsOf(m.agreementId, m.month));
    }
  }
  // PostgreSQL: each agreement-month added up where its events are, one row per month (and the two
  // response hours on either side of each percentile's rank), instead of every event sent over.
  const tallied = sql.pg ? await tallyPostgres(sql, months) : undefined;
  const ordered = [...months].sort((a, b) => (a.agreementId < b.agreementId ? -1 : a.agreementId > b.agreementId ? 1 : a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
  const rows = ordered.map((m) => {
    const key = `${m.agreementId}|${m.month}`;
    const s = folds.get(key) ?? tallied?.get(key) ?? handoffStats([]);
    return {
      id: newId(),
      agreement_id: m.agreementId,
      month: m.month,
      volume: s.volume,
      accepted: s.accepted,
      rejected: s.rejected,
      converted: s.converted,
      responded: s.responded,
      response_median_hours: s.responseMedianHours,
      response_p90_hours: s.responseP90Hours,
      mean_quality: s.meanQuality,
      version: 1,
      created_at: stamp,
      updated_at: stamp,
    };
  });
  const merged = ['volume', 'accepted', 'rejected', 'converted', 'responded', 'response_median_hours', 'response_p90_hours', 'mean_quality', 'updated_at'];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    await sql.upsert('handoff_month', rows.slice(i, i + ROWS_PER_STATEMENT), ['agreement_id', 'month'], merged);
  }
}

/** The rank ⌊(n − 1) × p⌋ of a percentile among `n` sorted values, in SQL: double precision as in {@link percentileAt}. */
const pgRank = (n: string, p: number) => `floor((${n} - 1)::float8 * ${p}::float8)::int`;

/**
 * Each agreement-month's tally (PostgreSQL), added up by the database: counts, the quality scores'
 * sum, and the response hours at the two ranks {@link percentileAt} reads for the median and for
 * the 90th percentile (arrays count from 1). The months come as two arrays (agreement, month), and
 * their events are found on the (agreement, month) index.
 */
const PG_TALLY = `select "agreement_id", "month", "volume", "accepted", "rejected", "converted", "responded", "quality_sum", "scored",
  ${pgRank('"responded"', RESPONSE_MEDIAN)} as "median_rank", "hours"[${pgRank('"responded"', RESPONSE_MEDIAN)} + 1] as "median_below", "hours"[${pgRank('"responded"', RESPONSE_MEDIAN)} + 2] as "median_above",
  ${pgRank('"responded"', RESPONSE_P90)} as "p90_rank", "hours"[${pgRank('"responded"', RESPONSE_P90)} + 1] as "p90_below", "hours"[${pgRank('"responded"', RESPONSE_P90)} + 2] as "p90_above"
from (select "e"."agreement_id", "e"."month", count(*)::int as "volume", count("e"."accepted_at")::int as "accepted", count("e"."rejected_at")::int as "rejected",
    count("e"."converted_at")::int as "converted", count("e"."response_hours")::int as "responded", sum("e"."quality_score") as "quality_sum", count("e"."quality_score")::int as "scored",
    array_agg("e"."response_hours" order by "e"."response_hours") filter (where "e"."response_hours" is not null) as "hours"
  from unnest($1::uuid[], $2::varchar[]) as "w"("agreement_id", "month") join "handoff_event" as "e" on "e"."agreement_id" = "w"."agreement_id" and "e"."month" = "w"."month"
  group by "e"."agreement_id", "e"."month") as "t"`;
interface PgTally {
  agreement_id: string;
  month: string;
  volume: number;
  accepted: number;
  rejected: number;
  converted: number;
  responded: number;
  quality_sum: number | null;
  scored: number;
  median_rank: number | null;
  median_below: number | null;
  median_above: number | null;
  p90_rank: number | null;
  p90_below: number | null;
  p90_above: number | null;
}

/** The statistics of agreement-months from their tallies ({@link PG_TALLY}); a month without events has none. */
async function tallyPostgres(sql: Sql, months: Array<{ agreementId: string; month: string }>): Promise<Map<string, HandoffStats>> {
  const client = await sql.connection<PgClient>();
  const params = [months.map((m) => m.agreementId), months.map((m) => m.month)];
  sql.counted(PG_TALLY, params);
  const { rows } = await client.query<PgTally>(PG_TALLY, params);
  const out = new Map<string, HandoffStats>();
  for (const t of rows) {
    // The response hours by rank: the ones the database picked, for percentileAt to ask for.
    const hours = new Map<number, number | null>();
    if (t.responded) {
      const median = t.median_rank as number;
      const p90 = t.p90_rank as number;
      hours
        .set(median, t.median_below)
        .set(median + 1, t.median_above)
        .set(p90, t.p90_below)
        .set(p90 + 1, t.p90_above);
    }
    const responseHoursAt = (rank: number) => {
      const h = hours.get(rank);
      if (h == null) throw new Error(`handoff tally of ${t.agreement_id}|${t.month}: no response hours at rank ${rank}`);
      return h;
    };
    out.set(`${t.agreement_id}|${t.month}`, handoffStatsOf({ ...t, qualitySum: t.quality_sum ?? 0, responseHoursAt }));
  }
  return out;
}
