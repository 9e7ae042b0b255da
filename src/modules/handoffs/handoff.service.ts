import { touchLedger } from '../../common/ledger-touch';
import { groupBy } from '../../common/collections';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { isUUID } from 'class-validator';
import { lockAgreementMonths } from '../../common/locks';
import { type Sql, sqlOf } from '../../common/sql';
import type { Month } from '../../common/month';
import { runMutation, type MutationResult } from '../../common/mutation';
import { RetryableConflict } from '../../common/retry';
import { UserError, UserErrorCode, UserErrorsException } from '../../common/user-error';
import { type BusinessCalendar, localDateOf, workingHoursBetween } from '../../common/working-time';
import type { Context, Principal } from '../../common/context';
import { handoffMetricValues, handoffStats, type HandoffStats } from '../../scoring/automated';
import { Agreement, AgreementVersion, Tier } from '../agreements/agreement.entity';
import { activeInMonth, agreementParties, versionAt } from '../agreements/agreement.rules';
import { principalOf } from '../../common/authorization';
import { assertMay } from '../../common/policy';
import { ForbiddenError } from '../../common/errors';
import { Role } from '../../common/role';
import { HandoffBatch } from './handoff.entity';
import type { RecordHandoffEventsInput } from './handoff.inputs';
import { checkBatch } from '../../common/ingest';

/** Most events one call takes (DESIGN §6, the handoffs issue). */
export const MAX_EVENTS = 5000;
/** Rows per INSERT: well under SQLite's bound-parameter limit (18 columns each). */
const ROWS_PER_STATEMENT = 500;

/** An event after validation, with what the ingest derives: its month and its response time. */
interface Row {
  id: string;
  source: string;
  external_id: string;
  agreement_id: string;
  stage: string;
  month: Month;
  handed_off_at: Date;
  responded_at: Date | null;
  accepted_at: Date | null;
  rejected_at: Date | null;
  rejection_reason: string | null;
  converted_at: Date | null;
  quality_score: number | null;
  response_hours: number | null;
  /** Who sent it: written on insert only, so a re-send (an admin's correction) keeps the sender. */
  recorded_by_user_id: string;
}

// The handoff metric rules are pure: src/scoring/automated.ts.
export { handoffMetricValues, handoffStats, type HandoffStats };

const TIMES = ['respondedAt', 'acceptedAt', 'rejectedAt', 'convertedAt'] as const;

/**
 * Records a batch of handoff events from automation, all or nothing: every problem of every
 * event is listed by index (`events[12].acceptedAt`) and nothing is written. A re-sent external
 * id (per source) updates its event. Admins, and INTEGRATION principals for agreements one of
 * whose parties is their department, may write. The touched agreement-months' metrics are
 * recomputed in the same transaction, under locks that serialise the writers of each
 * agreement-month; a deadlock or serialization failure runs the whole batch again (runMutation).
 */
export function recordHandoffEvents(ctx: Context, input: RecordHandoffEventsInput, now = ctx.request.now): Promise<MutationResult<HandoffBatch>> {
  return runMutation(ctx, (em) => ingestHandoffEvents(em, input, { principal: principalOf(ctx), now }));
}

/**
 * The ingest itself, inside the caller's transaction `em`: {@link recordHandoffEvents} for the
 * API, the demo and large-data seeders for theirs (with an admin-like principal).
 */
export async function ingestHandoffEvents(
  em: EntityManager,
  input: RecordHandoffEventsInput,
  options: { principal: Pick<Principal, 'role' | 'departmentIds' | 'userId'>; now: Date },
): Promise<HandoffBatch> {
  const p = options.principal;
  const now = options.now;
  const { source, errors } = checkBatch(input.source, input.events, 'events', 'event', MAX_EVENTS);

  const agreementIds = [...new Set(input.events.map((e) => e.agreementId.toLowerCase()).filter((id) => isUUID(id)))];
  const agreements = new Map((agreementIds.length ? await em.find(Agreement, { id: { $in: agreementIds } }) : []).map((a) => [a.id, a]));
  const versions = groupBy(agreements.size ? await em.find(AgreementVersion, { agreement: { $in: [...agreements.keys()] } }) : [], (v) => v.agreement.id);
  const firstIndex = new Map<string, number>();
  const calendars = new Map<string, BusinessCalendar | null>();
  const inForce = new Map<string, AgreementVersion | null>();
  const rows: Row[] = [];
  const future = now.getTime() + 5 * 60_000;
  input.events.forEach((e, i) => {
    const at = (field: string) => `events[${i}].${field}`;
    const before = errors.length;
    const externalId = e.externalId.trim();
    if (!externalId || externalId.length > 200) errors.push(new UserError(at('externalId'), externalId ? UserErrorCode.INVALID : UserErrorCode.REQUIRED, 'externalId: expected 1 to 200 characters'));
    else if (firstIndex.has(externalId))
      errors.push(new UserError(at('externalId'), UserErrorCode.INVALID, `externalId: ${externalId} appears twice in the batch (events[${firstIndex.get(externalId)}])`));
    else firstIndex.set(externalId, i);
    const stage = e.stage.trim();
    if (!stage || stage.length > 100) errors.push(new UserError(at('stage'), stage ? UserErrorCode.INVALID : UserErrorCode.REQUIRED, 'stage: expected 1 to 100 characters'));
    const agreement = agreements.get(e.agreementId.toLowerCase());
    if (!agreement) {
      errors.push(new UserError(at('agreementId'), UserErrorCode.NOT_FOUND, `no agreement has id ${e.agreementId}`));
    } else {
      // The whole batch is refused at the first event this principal may not record.
      assertMay(
        { principal: p },
        'handoff:ingest',
        agreementParties(agreement),
        () => `A ${p.role} principal may not record handoff events for agreement ${agreement.key} (events[${i}]): only admins and the integrations of its parties do`,
      );
      if (agreement.tier === Tier.CORPORATE)
        errors.push(new UserError(at('agreementId'), UserErrorCode.INVALID, `agreement ${agreement.key} is CORPORATE: handoffs flow along CUSTOMER and SERVICE agreements`));
    }
    const handedOffAt = e.handedOffAt;
    if (handedOffAt.getTime() > future) errors.push(new UserError(at('handedOffAt'), UserErrorCode.INVALID, `handedOffAt: ${handedOffAt.toISOString()} is in the future`));
    for (const f of TIMES) {
      const t = e[f];
      if (!t) continue;
      if (t.getTime() < handedOffAt.getTime())
        errors.push(new UserError(at(f), UserErrorCode.INVALID, `${f}: expected ${handedOffAt.toISOString()} (handedOffAt) or later, received ${t.toISOString()}`));
      else if (t.getTime() > future) errors.push(new UserError(at(f), UserErrorCode.INVALID, `${f}: ${t.toISOString()} is in the future`));
    }
    if (e.acceptedAt && e.rejectedAt) errors.push(new UserError(at('rejectedAt'), UserErrorCode.INVALID, 'rejectedAt: an event is accepted or rejected, not both'));
    const reason = e.rejectionReason?.trim() || null;
    if (e.rejectedAt && !reason) errors.push(new UserError(at('rejectionReason'), UserErrorCode.REQUIRED, 'rejectionReason: a rejection says why'));
    if (reason && !e.rejectedAt) errors.push(new UserError(at('rejectionReason'), UserErrorCode.INVALID, 'rejectionReason: only a rejected event has one'));
    if (e.convertedAt && e.rejectedAt) errors.push(new UserError(at('convertedAt'), UserErrorCode.INVALID, 'convertedAt: a rejected event does not convert'));
    if (e.qualityScore != null && !(Number.isFinite(e.qualityScore) && e.qualityScore >= 0 && e.qualityScore <= 100)) {
      errors.push(new UserError(at('qualityScore'), UserErrorCode.INVALID, `qualityScore: expected 0 to 100, received ${e.qualityScore}`));
    }
    if (!agreement || errors.length > before) return;
    const vs = versions.get(agreement.id) ?? [];
    const utcMonth = handedOffAt.toISOString().slice(0, 7);
    // Terms per agreement and month are looked up once per batch, not once per event.
    const termsKey = `${agreement.id}|${utcMonth}`;
    let calendar = calendars.get(termsKey);
    if (calendar === undefined) calendars.set(termsKey, (calendar = (versionAt(vs, utcMonth) ?? vs[0])?.calendar ?? null));
    const month = calendar ? localDateOf(calendar, handedOffAt).slice(0, 7) : utcMonth;
    const monthKey = `${agreement.id}|${month}`;
    let version = inForce.get(monthKey);
    if (version === undefined) inForce.set(monthKey, (version = activeInMonth(agreement, vs, month) ? (versionAt(vs, month) as AgreementVersion) : null));
    if (!version) {
      errors.push(new UserError(at('handedOffAt'), UserErrorCode.INVALID, `handedOffAt: agreement ${agreement.key} was not ACTIVE in ${month}`));
      return;
    }
    rows.push({
      id: randomUUID(),
      source,
      external_id: externalId,
      agreement_id: agreement.id,
      stage,
      month,
      handed_off_at: handedOffAt,
      responded_at: e.respondedAt ?? null,
      accepted_at: e.acceptedAt ?? null,
      rejected_at: e.rejectedAt ?? null,
      rejection_reason: reason,
      converted_at: e.convertedAt ?? null,
      quality_score: e.qualityScore ?? null,
      response_hours: e.respondedAt ? Math.round(workingHoursBetween(version.calendar, handedOffAt, e.respondedAt) * 1e6) / 1e6 : null,
      recorded_by_user_id: p.userId,
    });
  });
  if (errors.length) throw new UserErrorsException(errors);

  // One canonical order (issue 12): every writer takes the events, and the locks of their
  // agreement-months, in ascending order, so overlapping batches queue instead of deadlocking.
  rows.sort((a, b) => (a.external_id < b.external_id ? -1 : a.external_id > b.external_id ? 1 : 0));
  const sql = sqlOf(em);
  const touched = new Map<string, { agreementId: string; month: string }>();
  const touch = (agreementId: string, month: string) => touched.set(`${agreementId}|${month}`, { agreementId, month });
  for (const r of rows) touch(r.agreement_id, r.month);
  // The agreement-months written to are locked before anything is written or counted, so
  // concurrent batches about one month recount it one after the other, each seeing the others'
  // committed events (PostgreSQL advisory locks; SQLite runs one transaction at a time).
  await lockAgreementMonths(em, touched.values());
  // Re-sent events: counted as updates, and their earlier months recomputed too (an event may
  // move to another month or agreement). On PostgreSQL the rows are read FOR UPDATE: the latest
  // committed state, which no one else can change before this transaction ends.
  const existing = new Set<string>();
  const earlier: Array<{ agreementId: string; month: string }> = [];
  const ids = rows.map((r) => r.external_id);
  for (let i = 0; i < ids.length; i += 900) {
    const query = sql
      .knex('handoff_event')
      .select('external_id', 'agreement_id', 'month', 'recorded_by_user_id')
      .where('source', source)
      .whereIn('external_id', ids.slice(i, i + 900))
      .transacting(sql.trx);
    if (sql.pg) query.orderByRaw('"external_id" collate "C"').forUpdate();
    const found: Array<{ external_id: string; agreement_id: string; month: string; recorded_by_user_id: string | null }> = await query;
    // A re-sent id whose event is another agreement's: the sender must be allowed to record for
    // that agreement too, or it could move events out of agreements it is no party to.
    const foreign = [...new Set(found.map((f) => f.agreement_id).filter((id) => !agreements.has(id)))];
    if (foreign.length) {
      const owners = new Map((await em.find(Agreement, { id: { $in: foreign } })).map((a) => [a.id, a]));
      for (const f of found) {
        const owner = owners.get(f.agreement_id);
        if (!owner) continue;
        assertMay(
          { principal: p },
          'handoff:ingest',
          agreementParties(owner),
          () =>
            `A ${p.role} principal may not change handoff event ${source}/${f.external_id} (events[${firstIndex.get(f.external_id)}]): it belongs to agreement ${owner.key}, whose parties’ integrations and admins alone record for it`,
        );
      }
    }
    // A re-send by another principal than the one that sent it: refused unless it is an admin's
    // correction, so one party's integration cannot rewrite the other's events by reusing its
    // source name (both may record for the agreement). A null sender predates the column.
    if (p.role !== Role.ADMIN) {
      const taken = found
        .filter((f) => f.recorded_by_user_id != null && f.recorded_by_user_id !== p.userId)
        .sort((a, b) => (firstIndex.get(a.external_id) ?? 0) - (firstIndex.get(b.external_id) ?? 0))[0];
      if (taken)
        throw new ForbiddenError(
          `A ${p.role} principal may not change handoff event ${source}/${taken.external_id} (events[${firstIndex.get(taken.external_id)}]): another principal sent it, and only the integration that sent it or an admin may change it`,
        );
    }
    for (const f of found) {
      existing.add(f.external_id);
      if (!touched.has(`${f.agreement_id}|${f.month}`)) earlier.push({ agreementId: f.agreement_id, month: f.month });
      touch(f.agreement_id, f.month);
    }
  }
  // An event moving away from a month this batch does not otherwise touch: that month is locked
  // too (out of the canonical order, so a rare deadlock is possible; it is retried).
  await lockAgreementMonths(em, earlier);
  // Stamped when written, after the locks, on the server's clock (as every other row's
  // updatedAt): BI pulls compare these stamps with their snapshot instants, and a stamp taken at
  // the request's arrival could be seconds older than the commit after waiting for the locks, so
  // a pull in between missed the rows for good. (What remains, the batch's own write time, goes
  // with a commit-ordered change sequence in the score ledger's work.)
  const stamp = sql.date(new Date());
  const values = rows.map((r) => ({
    ...r,
    handed_off_at: sql.date(r.handed_off_at),
    responded_at: sql.date(r.responded_at),
    accepted_at: sql.date(r.accepted_at),
    rejected_at: sql.date(r.rejected_at),
    converted_at: sql.date(r.converted_at),
    version: 1,
    created_at: stamp,
    updated_at: stamp,
  }));
  const merged = ['agreement_id', 'stage', 'month', 'handed_off_at', 'responded_at', 'accepted_at', 'rejected_at', 'rejection_reason', 'converted_at', 'quality_score', 'response_hours', 'updated_at'];
  for (let i = 0; i < values.length; i += ROWS_PER_STATEMENT) {
    const written = await sql.upsert('handoff_event', values.slice(i, i + ROWS_PER_STATEMENT), ['source', 'external_id'], merged, sql.pg ? 'external_id' : undefined);
    // An event that was new when read but existed when written: a concurrent batch about other
    // months created it meanwhile, and the month it counted in is not known here. Run again.
    const raced = written.find((w) => !w.inserted && !existing.has(String(w.key)));
    if (raced) throw new RetryableConflict(`handoff event ${source}/${String(raced.key)} was created by a concurrent batch`);
  }
  await recomputeMonths(sql, [...touched.values()], stamp);
  touchLedger(em, options.now ?? new Date(), ...[...touched.values()].map((t) => ({ agreementId: t.agreementId, months: [t.month] })));

  const batch = em.create(HandoffBatch, { source, received: rows.length, created: rows.length - existing.size, updated: existing.size, recordedByUserId: p.userId });
  await em.flush();
  return batch;
}

/**
 * Recomputes and stores the handoff metrics of agreement-months from their events, in key order.
 * The caller holds the months' locks ({@link lockAgreementMonths}), so the count is complete.
 */
async function recomputeMonths(sql: Sql, months: Array<{ agreementId: string; month: string }>, stamp: Date | number | null): Promise<void> {
  const agreementIds = [...new Set(months.map((m) => m.agreementId))];
  const monthSet = [...new Set(months.map((m) => m.month))];
  const wanted = new Set(months.map((m) => `${m.agreementId}|${m.month}`));
  const groups = new Map<string, Array<{ accepted: boolean; rejected: boolean; converted: boolean; responseHours: number | null; qualityScore: number | null }>>();
  for (let i = 0; i < agreementIds.length; i += 500) {
    const events: Array<{ agreement_id: string; month: string; accepted_at: unknown; rejected_at: unknown; converted_at: unknown; response_hours: number | null; quality_score: number | null }> =
      await sql
        .knex('handoff_event')
        .select('agreement_id', 'month', 'accepted_at', 'rejected_at', 'converted_at', 'response_hours', 'quality_score')
        .whereIn('agreement_id', agreementIds.slice(i, i + 500))
        .whereIn('month', monthSet)
        .transacting(sql.trx);
    for (const e of events) {
      const key = `${e.agreement_id}|${e.month}`;
      if (!wanted.has(key)) continue;
      const list = groups.get(key) ?? [];
      list.push({
        accepted: e.accepted_at != null,
        rejected: e.rejected_at != null,
        converted: e.converted_at != null,
        responseHours: e.response_hours === null ? null : Number(e.response_hours),
        qualityScore: e.quality_score === null ? null : Number(e.quality_score),
      });
      groups.set(key, list);
    }
  }
  const ordered = [...months].sort((a, b) => (a.agreementId < b.agreementId ? -1 : a.agreementId > b.agreementId ? 1 : a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
  const rows = ordered.map((m) => {
    const s = handoffStats(groups.get(`${m.agreementId}|${m.month}`) ?? []);
    return {
      id: randomUUID(),
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
