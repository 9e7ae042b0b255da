/**
 * Ledger rows in memory and in SQL: the record of one agreement-month, how it is written as
 * `ledger_month` and `ledger_objective` rows and read back. Shared by the write side
 * (`ledger.service.ts`) and the readers that show closed months frozen.
 */
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/core';
import type { Month } from '../../common/month';
import { asDate, bool, dateOrNull, isTrue, numOrNull, type Sql, sqlOf } from '../../common/sql';
import type { AgreementMonthResult } from '../../scoring';
import { evaluateLedgerMonth, isDisputedState, type LedgerMonthInput, type MonthPhase, STATUS_RANK, sumsOf } from '../../scoring/ledger';

/** The objective facts a ledger row keeps besides the scoring inputs. */
export interface LedgerObjectiveMeta {
  objectiveId: string;
  position: number;
  metricId: string;
  metricCode: string;
  source: string;
  inheritedFromId: string | null;
}

/** One agreement-month of the ledger, in memory. */
export interface LedgerRecord {
  agreementId: string;
  month: Month;
  agreementKey: string;
  providerId: string;
  customerId: string;
  tier: string;
  versionNumber: number;
  dueDate: string;
  reportId: string | null;
  reportRevision: number | null;
  input: LedgerMonthInput;
  objectives: LedgerObjectiveMeta[];
  result: AgreementMonthResult;
  phase: MonthPhase;
  closed: boolean;
  closedAt: Date | null;
  lateDataAt: Date | null;
  computedAt: Date;
  validUntil: Date | null;
  updatedAt: Date;
  deleted: boolean;
}

/** The month's results, derived from its inputs by the pure rules. */
export const MONTH_RESULT_COLUMNS = [
  'status',
  'status_rank',
  'score',
  'sum_weighted',
  'sum_weight',
  'scored_count',
  'evaluated',
  'met',
  'breaches',
  'credit_percent',
  'credit_uncapped_percent',
  'credit_amount',
] as const;

/** Every `ledger_month` column: the stored inputs, the results, then the month's state. */
export const MONTH_COLUMNS = [
  ...[
    'agreement_id',
    'month',
    'agreement_key',
    'provider_id',
    'customer_id',
    'tier',
    'version_number',
    'compliance_target',
    'credit_cap_percent',
    'monthly_charge',
    'month_ends_at',
    'due_at',
    'due_date',
    'has_manual',
    'report_id',
    'report_status',
    'report_revision',
    'acknowledged_at',
    'acceptance_due_at',
    'deemed',
    'value_changes',
  ],
  ...MONTH_RESULT_COLUMNS,
  ...['disputed', 'phase', 'closed', 'closed_at', 'late_data_at', 'computed_at', 'valid_until', 'updated_at', 'deleted'],
] as const;

export const OBJECTIVE_COLUMNS = [
  'agreement_id',
  'month',
  'objective_id',
  'position',
  'metric_id',
  'metric_code',
  'source',
  'inherited_from_id',
  'direction',
  'target',
  'warning',
  'weight',
  'credit_percent',
  'input_value',
  'excused',
  'status',
  'attainment',
  'updated_at',
  'deleted',
] as const;

export function monthRow(sql: Sql, r: LedgerRecord): Record<string, unknown> {
  const sums = sumsOf(r.result);
  const report = r.input.report;
  return {
    agreement_id: r.agreementId,
    month: r.month,
    agreement_key: r.agreementKey,
    provider_id: r.providerId,
    customer_id: r.customerId,
    tier: r.tier,
    version_number: r.versionNumber,
    compliance_target: r.input.complianceTarget,
    credit_cap_percent: r.input.creditCapPercent,
    monthly_charge: r.input.monthlyCharge,
    month_ends_at: sql.date(r.input.monthEndsAt),
    due_at: sql.date(r.input.dueAt),
    due_date: r.dueDate,
    has_manual: bool(sql, r.input.hasManual),
    report_id: r.reportId,
    report_status: report?.status ?? null,
    report_revision: r.reportRevision,
    acknowledged_at: sql.date(report?.acknowledgedAt ?? null),
    acceptance_due_at: sql.date(report?.acceptanceDueAt ?? null),
    deemed: bool(sql, report?.deemed ?? false),
    value_changes: JSON.stringify(r.input.valueChanges.map((d) => d.toISOString())),
    status: r.result.status,
    status_rank: r.result.status ? STATUS_RANK[r.result.status] : null,
    score: r.result.score,
    sum_weighted: sums.weighted,
    sum_weight: sums.weight,
    scored_count: sums.scored,
    evaluated: sums.evaluated,
    met: sums.met,
    breaches: sums.breaches,
    credit_percent: r.result.credit.percent,
    credit_uncapped_percent: r.result.credit.uncappedPercent,
    credit_amount: r.result.credit.amount,
    disputed: bool(sql, isDisputedState(report)),
    phase: r.phase,
    closed: bool(sql, r.closed),
    closed_at: sql.date(r.closedAt),
    late_data_at: sql.date(r.lateDataAt),
    computed_at: sql.date(r.computedAt),
    valid_until: sql.date(r.validUntil),
    updated_at: sql.date(r.updatedAt),
    deleted: bool(sql, r.deleted),
  };
}

export function objectiveRows(sql: Sql, r: LedgerRecord, updatedAt: (i: number) => Date): Array<Record<string, unknown>> {
  return r.input.objectives.map((o, i) => ({
    agreement_id: r.agreementId,
    month: r.month,
    objective_id: o.objectiveId,
    position: r.objectives[i].position,
    metric_id: r.objectives[i].metricId,
    metric_code: r.objectives[i].metricCode,
    source: r.objectives[i].source,
    inherited_from_id: r.objectives[i].inheritedFromId,
    direction: o.direction,
    target: o.target,
    warning: o.warning,
    weight: o.weight,
    credit_percent: o.creditPercent,
    input_value: o.value,
    excused: bool(sql, o.excused),
    status: r.result.objectives[i].status,
    attainment: r.result.objectives[i].attainment,
    updated_at: sql.date(updatedAt(i)),
    deleted: bool(sql, r.deleted),
  }));
}

/** A stored row (and its objective rows, by position) back into a record. */
export function recordFromRows(m: Record<string, unknown>, objectives: Array<Record<string, unknown>>): LedgerRecord {
  const report =
    m.report_status == null ? null : { status: String(m.report_status), acknowledgedAt: dateOrNull(m.acknowledged_at), acceptanceDueAt: dateOrNull(m.acceptance_due_at), deemed: isTrue(m.deemed) };
  const os = [...objectives].sort((a, b) => Number(a.position) - Number(b.position));
  const input: LedgerMonthInput = {
    month: String(m.month),
    complianceTarget: Number(m.compliance_target),
    creditCapPercent: Number(m.credit_cap_percent),
    monthlyCharge: Number(m.monthly_charge),
    dueAt: asDate(m.due_at),
    monthEndsAt: asDate(m.month_ends_at),
    hasManual: isTrue(m.has_manual),
    report,
    objectives: os.map((o) => ({
      objectiveId: String(o.objective_id),
      direction: String(o.direction) as LedgerMonthInput['objectives'][number]['direction'],
      target: Number(o.target),
      warning: numOrNull(o.warning),
      weight: Number(o.weight),
      creditPercent: Number(o.credit_percent),
      value: numOrNull(o.input_value),
      excused: isTrue(o.excused),
    })),
    valueChanges: (JSON.parse(String(m.value_changes ?? '[]')) as string[]).map((d) => new Date(d)),
  };
  const closed = isTrue(m.closed);
  const computedAt = asDate(m.computed_at);
  return {
    agreementId: String(m.agreement_id),
    month: String(m.month),
    agreementKey: String(m.agreement_key),
    providerId: String(m.provider_id),
    customerId: String(m.customer_id),
    tier: String(m.tier),
    versionNumber: Number(m.version_number),
    dueDate: String(m.due_date),
    reportId: m.report_id == null ? null : String(m.report_id),
    reportRevision: numOrNull(m.report_revision),
    input,
    objectives: os.map((o) => ({
      objectiveId: String(o.objective_id),
      position: Number(o.position),
      metricId: String(o.metric_id),
      metricCode: String(o.metric_code),
      source: String(o.source),
      inheritedFromId: o.inherited_from_id == null ? null : String(o.inherited_from_id),
    })),
    // The stored result is the inputs evaluated at the instant it was computed (or closed).
    result: evaluateLedgerMonth(input, closed ? (dateOrNull(m.closed_at) ?? computedAt) : computedAt),
    phase: String(m.phase) as MonthPhase,
    closed,
    closedAt: dateOrNull(m.closed_at),
    lateDataAt: dateOrNull(m.late_data_at),
    computedAt,
    validUntil: dateOrNull(m.valid_until),
    updatedAt: asDate(m.updated_at),
    deleted: isTrue(m.deleted),
  };
}

/**
 * Per-request loader of the *closed* ledger months of an agreement in a window (keyed
 * `agreementId|from|to`): readers show these frozen instead of recomputing them.
 */
export function createLedgerLoaders(em: EntityManager) {
  return {
    closedMonthsInWindow: new DataLoader<string, LedgerRecord[]>(async (keys) => {
      const sql = sqlOf(em, { read: true });
      const out = new Map<string, LedgerRecord[]>(keys.map((k) => [k, []]));
      const windows = new Map<string, string[]>();
      for (const k of keys) {
        const [id, from, to] = k.split('|');
        windows.set(`${from}|${to}`, [...(windows.get(`${from}|${to}`) ?? []), id]);
      }
      for (const [window, ids] of windows) {
        const [from, to] = window.split('|');
        for (let i = 0; i < ids.length; i += 500) {
          const chunk = ids.slice(i, i + 500);
          const marks = chunk.map(() => '?').join(', ');
          const months = await sql.rows<Record<string, unknown>>(`select * from ledger_month where closed = ? and agreement_id in (${marks}) and month >= ? and month <= ?`, [
            bool(sql, true),
            ...chunk,
            from,
            to,
          ]);
          if (!months.length) continue;
          const objectives = await sql.rows<Record<string, unknown>>(
            `select o.* from ledger_objective o join ledger_month m on m.agreement_id = o.agreement_id and m.month = o.month
              where m.closed = ? and o.deleted = ? and o.agreement_id in (${marks}) and o.month >= ? and o.month <= ?`,
            [bool(sql, true), bool(sql, false), ...chunk, from, to],
          );
          const byKey = new Map<string, Array<Record<string, unknown>>>();
          for (const o of objectives) {
            const k = `${String(o.agreement_id)}|${String(o.month)}`;
            byKey.set(k, [...(byKey.get(k) ?? []), o]);
          }
          for (const m of months) out.get(`${String(m.agreement_id)}|${window}`)?.push(recordFromRows(m, byKey.get(`${String(m.agreement_id)}|${String(m.month)}`) ?? []));
        }
      }
      return keys.map((k) => out.get(k) ?? []);
    }),
  };
}
