import { newId } from '../../common/ids';
import type { EntityManager } from '@mikro-orm/core';
import { isUUID } from 'class-validator';
import { touchLedger } from '../../common/ledger-touch';
import { groupBy } from '../../common/collections';
import { lockAgreementMonths } from '../../common/locks';
import { addMonths, apiMonthProblem, monthRange, type Month } from '../../common/month';
import { asDate, type Sql, sqlOf } from '../../common/sql';
import { runMutation, type MutationResult } from '../../common/mutation';
import { RetryableConflict } from '../../common/retry';
import { UserError, UserErrorCode, UserErrorsException } from '../../common/user-error';
import { type BusinessCalendar, localDateOf, monthEndsAt } from '../../common/working-time';
import type { Context, Principal } from '../../common/context';
import { principalOf } from '../../common/authorization';
import { assertMay } from '../../common/policy';
import { ForbiddenError } from '../../common/errors';
import { Role } from '../../common/role';
import { aggregateMeasurements, type MeasuredInterval } from '../../scoring/measurements';
import { Agreement, AgreementVersion, Tier } from '../agreements/agreement.entity';
import { activeInMonth, agreementParties, versionAt } from '../agreements/agreement.rules';
import { type MeasurementAggregation, Metric, MetricFeed, MetricSource } from '../catalog/metric.entity';
import { MeasurementBatch } from './measurement.entity';
import type { RecordMeasurementsInput } from './measurement.inputs';
import { checkBatch } from '../../common/ingest';

/** Most measurements one call takes (as handoff events). */
export const MAX_MEASUREMENTS = 5000;
/** Rows per INSERT: well under SQLite's bound-parameter limit (13 columns each). */
const ROWS_PER_STATEMENT = 500;
/** The longest interval one measurement may span: it is counted in every month it overlaps. */
const MAX_INTERVAL_DAYS = 92;
const DAY = 86_400_000;

interface Row {
  id: string;
  source: string;
  external_id: string;
  agreement_id: string;
  metric_id: string;
  month: Month | null;
  starts_at: Date;
  ends_at: Date;
  value: number;
  /** Who sent it: written on insert only, so a re-send (an admin's correction) keeps the sender. */
  recorded_by_user_id: string;
}

/** An agreement-month-metric whose value a batch changes. */
interface Touched {
  agreementId: string;
  metricId: string;
  month: Month;
}

/** The calendar of an agreement around `at`: the version of its UTC month, else its first. */
const calendarAt = (versions: AgreementVersion[], at: Date): BusinessCalendar | null => (versionAt(versions, at.toISOString().slice(0, 7)) ?? versions[0])?.calendar ?? null;

/** The instants `month` starts and ends at in the calendar's zone. */
const monthBounds = (calendar: Pick<BusinessCalendar, 'timeZone'>, month: Month) => ({ from: monthEndsAt(calendar, addMonths(month, -1)), to: monthEndsAt(calendar, month) });

/** The months (in the calendar's zone) an interval `[from, to)` overlaps. */
const monthsOf = (calendar: Pick<BusinessCalendar, 'timeZone'>, from: Date, to: Date): Month[] =>
  monthRange(localDateOf(calendar, from).slice(0, 7), localDateOf(calendar, new Date(to.getTime() - 1)).slice(0, 7));

/**
 * Records a batch of measurements of EXTERNAL metrics from monitoring or ticketing systems, all or
 * nothing: every problem of every measurement is listed by index (`measurements[3].interval`) and
 * nothing is written. A re-sent external id (per source) updates its measurement. Admins, and
 * INTEGRATION principals for agreements one of whose parties is their department, may write. The
 * touched agreement-months' values are recomputed (src/scoring/measurements.ts) and the ledger
 * re-scores them in the same transaction; a closed month keeps its frozen results and is marked
 * as having late data, as for handoff events (DESIGN §5).
 */
export function recordMeasurements(ctx: Context, input: RecordMeasurementsInput, now = ctx.request.now): Promise<MutationResult<MeasurementBatch>> {
  return runMutation(ctx, (em) => ingestMeasurements(em, input, { principal: principalOf(ctx), now }));
}

/** The ingest itself, inside the caller's transaction: {@link recordMeasurements} for the API, the demo seeder for its own. */
export async function ingestMeasurements(
  em: EntityManager,
  input: RecordMeasurementsInput,
  options: { principal: Pick<Principal, 'role' | 'departmentIds' | 'userId'>; now: Date },
): Promise<MeasurementBatch> {
  const p = options.principal;
  const now = options.now;
  const { source, errors } = checkBatch(input.source, input.measurements, 'measurements', 'measurement', MAX_MEASUREMENTS);

  // Agreements and metrics named by id or key/code: each looked up once for the batch.
  const agreementRefs = [...new Set(input.measurements.map((m) => m.agreement.trim()))];
  const agreementIds = agreementRefs.filter((r) => isUUID(r)).map((r) => r.toLowerCase());
  const agreementKeys = agreementRefs.filter((r) => !isUUID(r)).map((r) => r.toUpperCase());
  const agreements = agreementRefs.length ? await em.find(Agreement, { $or: [{ id: { $in: agreementIds } }, { key: { $in: agreementKeys } }] }) : [];
  const agreementBy = new Map<string, Agreement>();
  for (const a of agreements) agreementBy.set(a.id, a).set(a.key, a);
  const metricRefs = [...new Set(input.measurements.map((m) => m.metric.trim()))];
  const metrics = metricRefs.length
    ? await em.find(Metric, {
        $or: [{ id: { $in: metricRefs.filter((r) => isUUID(r)).map((r) => r.toLowerCase()) } }, { code: { $in: metricRefs.filter((r) => !isUUID(r)).map((r) => r.toUpperCase()) } }],
      })
    : [];
  const metricBy = new Map<string, Metric>();
  for (const m of metrics) metricBy.set(m.id, m).set(m.code, m);
  const versions = groupBy(agreements.length ? await em.find(AgreementVersion, { agreement: { $in: agreements.map((a) => a.id) } }) : [], (v) => v.agreement.id);

  const firstIndex = new Map<string, number>();
  const rows: Row[] = [];
  const future = now.getTime() + 5 * 60_000;
  const currentMonth = now.toISOString().slice(0, 7);
  input.measurements.forEach((m, i) => {
    const at = (field: string) => `measurements[${i}].${field}`;
    const before = errors.length;
    const externalId = m.externalId.trim();
    if (!externalId || externalId.length > 200) errors.push(new UserError(at('externalId'), externalId ? UserErrorCode.INVALID : UserErrorCode.REQUIRED, 'externalId: expected 1 to 200 characters'));
    else if (firstIndex.has(externalId))
      errors.push(new UserError(at('externalId'), UserErrorCode.INVALID, `externalId: ${externalId} appears twice in the batch (measurements[${firstIndex.get(externalId)}])`));
    else firstIndex.set(externalId, i);

    const ref = m.agreement.trim();
    const agreement = agreementBy.get(isUUID(ref) ? ref.toLowerCase() : ref.toUpperCase());
    if (!agreement) {
      errors.push(new UserError(at('agreement'), UserErrorCode.NOT_FOUND, `no agreement has ${isUUID(ref) ? 'id' : 'key'} ${ref}`));
    } else {
      // The whole batch is refused at the first measurement this principal may not record.
      assertMay(
        { principal: p },
        'measurement:ingest',
        agreementParties(agreement),
        () => `A ${p.role} principal may not record measurements for agreement ${agreement.key} (measurements[${i}]): only admins and the integrations of its parties do`,
      );
      if (agreement.tier === Tier.CORPORATE)
        errors.push(new UserError(at('agreement'), UserErrorCode.INVALID, `agreement ${agreement.key} is CORPORATE: measure the CUSTOMER or SERVICE agreement that scores the objective`));
    }

    const metricRef = m.metric.trim();
    const metric = metricBy.get(isUUID(metricRef) ? metricRef.toLowerCase() : metricRef.toUpperCase());
    if (!metric) errors.push(new UserError(at('metric'), UserErrorCode.NOT_FOUND, `no metric has ${isUUID(metricRef) ? 'id' : 'code'} ${metricRef}`));
    else if (metric.source !== MetricSource.AUTOMATED || metric.feed !== MetricFeed.EXTERNAL)
      errors.push(
        new UserError(
          at('metric'),
          UserErrorCode.INVALID,
          `metric ${metric.code} is ${metric.source === MetricSource.MANUAL ? 'MANUAL (reported by its provider’s head)' : `fed by ${metric.feed ?? 'nothing'}`}: only EXTERNAL metrics take measurements`,
        ),
      );
    else if (metric.archivedAt) errors.push(new UserError(at('metric'), UserErrorCode.INVALID, `metric ${metric.code} is archived`));

    if (!Number.isFinite(m.value)) errors.push(new UserError(at('value'), UserErrorCode.INVALID, `value: expected a finite number, received ${m.value}`));
    else if (metric && ((metric.minValue != null && m.value < metric.minValue) || (metric.maxValue != null && m.value > metric.maxValue)))
      errors.push(new UserError(at('value'), UserErrorCode.INVALID, `value: expected ${metric.minValue ?? '-∞'} to ${metric.maxValue ?? '∞'} for ${metric.code}, received ${m.value}`));

    let period: { from: Date; to: Date } | null = null;
    if ((m.month == null) === (m.interval == null)) {
      errors.push(new UserError(at('interval'), UserErrorCode.INVALID, 'interval: give either a month or an interval, not both nor neither'));
    } else if (m.interval) {
      const { from, to } = m.interval;
      if (to.getTime() <= from.getTime())
        errors.push(new UserError(at('interval.to'), UserErrorCode.INVALID, `interval.to: expected after ${from.toISOString()} (interval.from), received ${to.toISOString()}`));
      else if (to.getTime() > future) errors.push(new UserError(at('interval.to'), UserErrorCode.INVALID, `interval.to: ${to.toISOString()} is in the future`));
      else if (to.getTime() - from.getTime() > MAX_INTERVAL_DAYS * DAY)
        errors.push(new UserError(at('interval'), UserErrorCode.INVALID, `interval: expected at most ${MAX_INTERVAL_DAYS} days, received ${Math.ceil((to.getTime() - from.getTime()) / DAY)}`));
      else period = { from, to };
    } else if (m.month) {
      const problem = apiMonthProblem(m.month);
      if (problem) errors.push(new UserError(at('month'), UserErrorCode.INVALID, `month: ${problem}`));
      else if (m.month > currentMonth) errors.push(new UserError(at('month'), UserErrorCode.INVALID, `month: ${m.month} has not begun`));
    }
    if (!agreement || !metric || errors.length > before) return;
    const vs = versions.get(agreement.id) ?? [];
    const calendar = period ? calendarAt(vs, period.from) : ((versionAt(vs, m.month as Month) ?? vs[0])?.calendar ?? null);
    if (!calendar) return;
    if (!period) period = monthBounds(calendar, m.month as Month);
    if (!monthsOf(calendar, period.from, period.to).some((month) => activeInMonth(agreement, vs, month))) {
      errors.push(
        new UserError(at(m.interval ? 'interval' : 'month'), UserErrorCode.INVALID, `agreement ${agreement.key} was not ACTIVE in the month${m.interval ? 's of the interval' : ` ${m.month}`}`),
      );
      return;
    }
    rows.push({
      id: newId(),
      source,
      external_id: externalId,
      agreement_id: agreement.id,
      metric_id: metric.id,
      month: m.month ?? null,
      starts_at: period.from,
      ends_at: period.to,
      value: m.value,
      recorded_by_user_id: p.userId,
    });
  });
  if (errors.length) throw new UserErrorsException(errors);

  // One canonical order, as handoff events: rows and month locks in ascending order.
  rows.sort((a, b) => (a.external_id < b.external_id ? -1 : a.external_id > b.external_id ? 1 : 0));
  const sql = sqlOf(em);
  const touched = new Map<string, Touched>();
  const calendars = new Map<string, BusinessCalendar>();
  const touchRow = (agreementId: string, metricId: string, from: Date, to: Date) => {
    const vs = versions.get(agreementId) ?? [];
    const calendar = calendarAt(vs, from);
    if (!calendar) return;
    for (const month of monthsOf(calendar, from, to)) {
      touched.set(`${agreementId}|${metricId}|${month}`, { agreementId, metricId, month });
      const cal = (versionAt(vs, month) ?? vs[0])?.calendar;
      if (cal) calendars.set(`${agreementId}|${month}`, cal);
    }
  };
  for (const r of rows) touchRow(r.agreement_id, r.metric_id, r.starts_at, r.ends_at);
  await lockAgreementMonths(
    em,
    [...touched.values()].map((t) => ({ agreementId: t.agreementId, month: t.month })),
  );
  // Re-sent measurements: counted as updates, and the months they counted in recomputed too (a
  // measurement may move to another interval, metric or agreement).
  const lockedKeys = new Set(touched.keys());
  const existing = new Set<string>();
  const earlier: Array<{ agreementId: string; month: string }> = [];
  const ids = rows.map((r) => r.external_id);
  for (let i = 0; i < ids.length; i += 900) {
    const query = sql
      .knex('measurement')
      .select('external_id', 'agreement_id', 'metric_id', 'starts_at', 'ends_at', 'recorded_by_user_id')
      .where('source', source)
      .whereIn('external_id', ids.slice(i, i + 900))
      .transacting(sql.trx);
    if (sql.pg) query.orderByRaw('"external_id" collate "C"').forUpdate();
    const found: Array<{ external_id: string; agreement_id: string; metric_id: string; starts_at: unknown; ends_at: unknown; recorded_by_user_id: string | null }> = await query;
    // A re-sent id whose measurement is another agreement's: the sender must be allowed to record
    // for that agreement too, or it could move (and so erase) measurements of agreements it is no
    // party to by reusing their source and external id.
    const foreign = [...new Set(found.map((f) => f.agreement_id).filter((id) => !agreementBy.has(id)))];
    if (foreign.length) {
      const owners = new Map((await em.find(Agreement, { id: { $in: foreign } })).map((a) => [a.id, a]));
      for (const f of found) {
        const owner = owners.get(f.agreement_id);
        if (!owner) continue;
        assertMay(
          { principal: p },
          'measurement:ingest',
          agreementParties(owner),
          () =>
            `A ${p.role} principal may not change measurement ${source}/${f.external_id} (measurements[${firstIndex.get(f.external_id)}]): it belongs to agreement ${owner.key}, whose parties’ integrations and admins alone record for it`,
        );
      }
    }
    // A re-send by another principal than the one that sent it: refused unless it is an admin's
    // correction, so one party's integration cannot rewrite the other's measurements by reusing its
    // source name (both may record for the agreement). A null sender predates the column.
    if (p.role !== Role.ADMIN) {
      const taken = found
        .filter((f) => f.recorded_by_user_id != null && f.recorded_by_user_id !== p.userId)
        .sort((a, b) => (firstIndex.get(a.external_id) ?? 0) - (firstIndex.get(b.external_id) ?? 0))[0];
      if (taken)
        throw new ForbiddenError(
          `A ${p.role} principal may not change measurement ${source}/${taken.external_id} (measurements[${firstIndex.get(taken.external_id)}]): another principal sent it, and only the integration that sent it or an admin may change it`,
        );
    }
    const moved = found.filter((f) => !versions.has(f.agreement_id));
    if (moved.length)
      for (const v of await em.find(AgreementVersion, { agreement: { $in: [...new Set(moved.map((f) => f.agreement_id))] } }))
        versions.set(v.agreement.id, [...(versions.get(v.agreement.id) ?? []), v]);
    for (const f of found) {
      existing.add(f.external_id);
      touchRow(f.agreement_id, f.metric_id, asDate(f.starts_at), asDate(f.ends_at));
    }
  }
  for (const [k, t] of touched) if (!lockedKeys.has(k)) earlier.push({ agreementId: t.agreementId, month: t.month });
  // Months a moved measurement leaves: locked too (out of the canonical order; a rare deadlock is retried).
  await lockAgreementMonths(em, earlier);
  const stamp = sql.date(new Date());
  const values = rows.map((r) => ({ ...r, starts_at: sql.date(r.starts_at), ends_at: sql.date(r.ends_at), version: 1, created_at: stamp, updated_at: stamp }));
  const merged = ['agreement_id', 'metric_id', 'month', 'starts_at', 'ends_at', 'value', 'updated_at'];
  for (let i = 0; i < values.length; i += ROWS_PER_STATEMENT) {
    const written = await sql.upsert('measurement', values.slice(i, i + ROWS_PER_STATEMENT), ['source', 'external_id'], merged, sql.pg ? 'external_id' : undefined);
    const raced = written.find((w) => !w.inserted && !existing.has(String(w.key)));
    if (raced) throw new RetryableConflict(`measurement ${source}/${String(raced.key)} was created by a concurrent batch`);
  }
  const aggregationOf = new Map<string, MeasurementAggregation>();
  const metricIds = [...new Set([...touched.values()].map((t) => t.metricId))];
  for (const m of metricIds.length ? await em.find(Metric, { id: { $in: metricIds } }) : []) if (m.aggregation) aggregationOf.set(m.id, m.aggregation);
  await recomputeMonths(sql, [...touched.values()], calendars, aggregationOf, stamp);
  const byAgreement = groupBy([...touched.values()], (t) => t.agreementId);
  touchLedger(em, now, ...[...byAgreement].map(([agreementId, list]) => ({ agreementId, months: [...new Set(list.map((t) => t.month))] })));

  const batch = em.create(MeasurementBatch, { source, received: rows.length, created: rows.length - existing.size, updated: existing.size, recordedByUserId: p.userId });
  await em.flush();
  return batch;
}

/**
 * Recomputes the stored value of each agreement-month-metric from every measurement overlapping
 * the month; one with none left loses its row. The caller holds the months' locks.
 */
async function recomputeMonths(sql: Sql, months: Touched[], calendars: Map<string, BusinessCalendar>, aggregationOf: Map<string, MeasurementAggregation>, stamp: Date | number | null): Promise<void> {
  const groups = groupBy(months, (t) => `${t.agreementId}|${t.metricId}`);
  const rows: Array<Record<string, unknown>> = [];
  const gone: Touched[] = [];
  for (const [key, list] of groups) {
    const [agreementId, metricId] = key.split('|');
    const bounds = list.map((t) => ({ t, ...monthBounds(calendars.get(`${agreementId}|${t.month}`) as BusinessCalendar, t.month) }));
    const from = Math.min(...bounds.map((b) => b.from.getTime()));
    const to = Math.max(...bounds.map((b) => b.to.getTime()));
    const found: Array<{ external_id: string; starts_at: unknown; ends_at: unknown; value: number | string }> = await sql
      .knex('measurement')
      .select('external_id', 'starts_at', 'ends_at', 'value')
      .where({ agreement_id: agreementId, metric_id: metricId })
      .where('starts_at', '<', sql.date(new Date(to)))
      .where('ends_at', '>', sql.date(new Date(from)))
      .transacting(sql.trx);
    const intervals: MeasuredInterval[] = found.map((f) => ({ from: asDate(f.starts_at).getTime(), to: asDate(f.ends_at).getTime(), value: Number(f.value), key: f.external_id }));
    const aggregation = aggregationOf.get(metricId);
    for (const b of bounds) {
      const inMonth = intervals.filter((m) => m.to > b.from.getTime() && m.from < b.to.getTime());
      const value = aggregation ? aggregateMeasurements(aggregation, inMonth, b.from.getTime(), b.to.getTime()) : null;
      if (value === null) gone.push(b.t);
      else rows.push({ id: newId(), agreement_id: agreementId, metric_id: metricId, month: b.t.month, value, measurements: inMonth.length, version: 1, created_at: stamp, updated_at: stamp });
    }
  }
  rows.sort((a, b) => (`${a.agreement_id}|${a.metric_id}|${a.month}` < `${b.agreement_id}|${b.metric_id}|${b.month}` ? -1 : 1));
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    await sql.upsert('measurement_month', rows.slice(i, i + ROWS_PER_STATEMENT), ['agreement_id', 'metric_id', 'month'], ['value', 'measurements', 'updated_at']);
  }
  for (const t of gone) await sql.knex('measurement_month').where({ agreement_id: t.agreementId, metric_id: t.metricId, month: t.month }).delete().transacting(sql.trx);
}
