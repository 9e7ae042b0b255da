import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/core';
import type { Month } from '../../common/month';
import { asDate, sqlOf } from '../../common/sql';
import type { Tier } from '../agreements/agreement.entity';
import type { HandoffStats } from '../../scoring/automated';
import { ExclusionStatus } from '../reports/report.entity';
import { frictionItemsColumn } from '../reports/friction.service';
import { type Severity } from '../../common/severity';

/** Ids per statement: well under SQLite's bound-parameter limit, whatever the list's size. */
const CHUNK = 500;

/** A reported value of the latest revision, as scores read it. */
export interface LatestValue {
  month: Month;
  objectiveId: string;
  value: number;
}

/**
 * A loader of rows of an agreement in a month window, keyed `agreementId|from|to`: all keys with
 * one window are answered by one statement per 500 agreements.
 */
export function windowed<T>(load: (ids: string[], from: Month, to: Month) => Promise<Array<{ agreementId: string; row: T }>>): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(async (keys) => {
    const windows = new Map<string, Set<string>>();
    for (const key of keys) {
      const [id, from, to] = key.split('|');
      const window = `${from}|${to}`;
      windows.set(window, (windows.get(window) ?? new Set()).add(id));
    }
    const out = new Map<string, T[]>(keys.map((k) => [k, []]));
    for (const [window, idSet] of windows) {
      const [from, to] = window.split('|');
      const ids = [...idSet];
      for (let i = 0; i < ids.length; i += CHUNK) {
        for (const { agreementId, row } of await load(ids.slice(i, i + CHUNK), from, to)) out.get(`${agreementId}|${window}`)?.push(row);
      }
    }
    return keys.map((k) => out.get(k) ?? []);
  });
}

/** The facts of a report that scores read (plain rows: hydrating entities costs more than scoring). */
export interface ReportRow {
  id: string;
  month: Month;
  revisionCount: number;
  lateByWorkingDays: number | null;
  /** As stored: DISPUTED marks the month disputed (deemed acknowledgement never applies to it). */
  status: string;
  updatedAt: Date;
  /** The latest revision's verdict state: when acknowledged (or deemed), when its window ends. */
  acknowledgedAt: Date | null;
  acceptanceDueAt: Date | null;
  deemed: boolean;
}

export interface ExclusionRow {
  month: Month;
  objectiveId: string;
  updatedAt: Date;
}

/** A stored `handoff_month` row: the month's handoff statistics (src/scoring/automated.ts), kept at ingest. */
export interface HandoffMonthRow extends HandoffStats {
  month: Month;
  updatedAt: Date;
}

/** A stored `measurement_month` row: an EXTERNAL metric's value in an agreement-month, kept at ingest. */
export interface MeasurementMonthRow {
  month: Month;
  metricCode: string;
  value: number;
  updatedAt: Date;
}

export interface EscalationRow {
  month: Month;
  severity: Severity;
  openedAt: Date;
  responseHours: number | null;
  responseTargetHours: number;
  resolutionHours: number | null;
  updatedAt: Date;
}

/** A submitted report revision as FRICTION_REPORT_DELIVERED reads it. */
export interface FrictionRevisionRow {
  month: Month;
  submittedAt: Date;
  items: number;
}

/**
 * An agreement's id, key, tier and title as plain values: all a scorecard's `byAgreement` usually
 * shows of its agreements, without hydrating thousands of entities for it (scorecard.views.ts
 * decides from the query which one it needs).
 */
export interface AgreementHead {
  id: string;
  key: string;
  tier: Tier;
  title: string;
}

/** The fields of `Agreement` an {@link AgreementHead} answers as the entity would. */
export const AGREEMENT_HEAD_FIELDS: ReadonlySet<string> = new Set(['__typename', 'id', 'key', 'tier', 'title']);

/**
 * One statement for any number of ids, its text the same whatever their number (the ids are one
 * JSON parameter), so SQLite prepares it once per connection.
 */
const AGREEMENT_HEADS = {
  sqlite: 'select id, key, tier, title from agreement where id in (select value from json_each(?))',
  pg: 'select id, key, tier, title from agreement where id in (select jsonb_array_elements_text(?::jsonb)::uuid)',
};

/** SQLite hands dates back as epoch milliseconds; MikroORM's PostgreSQL driver as timestamp strings. */
export const asNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Per-request loaders of the facts scores are computed from, as plain rows. */
export function createScorecardLoaders(em: EntityManager) {
  // Inside a transaction (an exclusion being checked, a write's ledger sync) reads must use its
  // connection; a request routed to a replica reads the facts of its scores there
  // (src/common/read-route.ts). Loaders dispatched in one tick reach a transaction's one PostgreSQL
  // connection one after another (src/db/one-statement-at-a-time.ts); outside, each takes a pool
  // connection.
  // The parameters bound, on both engines: SQLite keeps one prepared statement per text
  // (statement-cache.ts), PostgreSQL receives them apart from the text on the connection itself
  // (sqlOf); MikroORM's `execute` wrote them into the text, a new statement to compile for every
  // agreement-month on SQLite and knex's `raw` on PostgreSQL.
  const rows = <T>(sql: string, params: unknown[]): Promise<T[]> => sqlOf(em, { read: true }).rows<T>(sql, params);
  const inWindow = (ids: string[], from: Month, to: Month) => ({ where: `month >= ? and month <= ? and agreement_id in (${ids.map(() => '?').join(', ')})`, params: [from, to, ...ids] });
  return {
    /** {@link AgreementHead}s by id (null for a missing one), read where the request's dashboard reads go. */
    agreementHeadById: new DataLoader<string, AgreementHead | null>(async (ids) => {
      const sql = sqlOf(em, { read: true });
      const found = await sql.arrays(sql.pg ? AGREEMENT_HEADS.pg : AGREEMENT_HEADS.sqlite, [JSON.stringify(ids)]);
      const byId = new Map<string, AgreementHead>();
      for (const [id, key, tier, title] of found) byId.set(String(id), { id: String(id), key: String(key), tier: tier as Tier, title: String(title) });
      return ids.map((id) => byId.get(id) ?? null);
    }),
    /** Reports of an agreement in a window (lateness, revision numbers, last change). */
    reportsInWindow: windowed<ReportRow>(async (ids, from, to) => {
      const w = inWindow(ids, from, to);
      const found = await rows<Record<string, unknown>>(
        `select p.id, p.agreement_id, p.month, p.status, p.revision_count, p.late_by_working_days, p.updated_at, r.acknowledged_at, r.acceptance_due_at, r.deemed
           from report p left join report_revision r on r.id = p.latest_revision_id where ${w.where.replace(/\b(month|agreement_id)\b/g, 'p.$1')} order by p.month`,
        w.params,
      );
      return found.map((r) => ({
        agreementId: String(r.agreement_id),
        row: {
          id: String(r.id),
          month: String(r.month),
          status: String(r.status),
          revisionCount: Number(r.revision_count),
          lateByWorkingDays: asNumber(r.late_by_working_days),
          updatedAt: asDate(r.updated_at),
          acknowledgedAt: r.acknowledged_at == null ? null : asDate(r.acknowledged_at),
          acceptanceDueAt: r.acceptance_due_at == null ? null : asDate(r.acceptance_due_at),
          deemed: r.deemed === true || r.deemed === 1 || r.deemed === '1',
        },
      }));
    }),
    /** The values of the latest revision of each report in a window: one join, however many revisions. */
    latestValuesInWindow: windowed<LatestValue>(async (ids, from, to) => {
      const found = await rows<{ agreement_id: string; month: string; objective_id: string; value: number | string }>(
        `select p.agreement_id, p.month, v.objective_id, v.value from report p join report_value v on v.revision_id = p.latest_revision_id
          where p.month >= ? and p.month <= ? and p.agreement_id in (${ids.map(() => '?').join(', ')})`,
        [from, to, ...ids],
      );
      return found.map((r) => ({ agreementId: r.agreement_id, row: { month: r.month, objectiveId: r.objective_id, value: Number(r.value) } }));
    }),
    /** Handoff metrics per agreement-month (kept at ingest). */
    handoffMonthsInWindow: windowed<HandoffMonthRow>(async (ids, from, to) => {
      const w = inWindow(ids, from, to);
      const found = await rows<Record<string, unknown>>(
        `select agreement_id, month, volume, accepted, rejected, converted, responded, response_median_hours, response_p90_hours, mean_quality, updated_at from handoff_month where ${w.where}`,
        w.params,
      );
      return found.map((r) => ({
        agreementId: String(r.agreement_id),
        row: {
          month: String(r.month),
          volume: Number(r.volume),
          accepted: Number(r.accepted),
          rejected: Number(r.rejected),
          converted: Number(r.converted),
          responded: Number(r.responded),
          responseMedianHours: asNumber(r.response_median_hours),
          responseP90Hours: asNumber(r.response_p90_hours),
          meanQuality: asNumber(r.mean_quality),
          updatedAt: asDate(r.updated_at),
        },
      }));
    }),
    /** EXTERNAL metric values per agreement-month (kept at ingest), with the metric's code. */
    measurementMonthsInWindow: windowed<MeasurementMonthRow>(async (ids, from, to) => {
      const w = inWindow(ids, from, to);
      const found = await rows<Record<string, unknown>>(
        `select mm.agreement_id, mm.month, m.code, mm.value, mm.updated_at from measurement_month mm join metric m on m.id = mm.metric_id where ${w.where.replace(/\b(month|agreement_id)\b/g, 'mm.$1')}`,
        w.params,
      );
      return found.map((r) => ({ agreementId: String(r.agreement_id), row: { month: String(r.month), metricCode: String(r.code), value: Number(r.value), updatedAt: asDate(r.updated_at) } }));
    }),
    /** Escalations opened in a window. */
    escalationsInWindow: windowed<EscalationRow>(async (ids, from, to) => {
      const w = inWindow(ids, from, to);
      const found = await rows<Record<string, unknown>>(
        `select agreement_id, month, severity, opened_at, response_hours, response_target_hours, resolution_hours, updated_at from escalation where ${w.where} order by opened_at, id`,
        w.params,
      );
      return found.map((r) => ({
        agreementId: String(r.agreement_id),
        row: {
          month: String(r.month),
          severity: r.severity as Severity,
          openedAt: asDate(r.opened_at),
          responseHours: asNumber(r.response_hours),
          responseTargetHours: Number(r.response_target_hours),
          resolutionHours: asNumber(r.resolution_hours),
          updatedAt: asDate(r.updated_at),
        },
      }));
    }),
    /** Every submitted revision of the reports in a window, with how many friction items each carries (FRICTION_REPORT_DELIVERED). */
    frictionRevisionsInWindow: windowed<FrictionRevisionRow>(async (ids, from, to) => {
      const found = await rows<Record<string, unknown>>(
        `select p.agreement_id, p.month, r.submitted_at, r.friction_items from report p join report_revision r on r.report_id = p.id
          where p.month >= ? and p.month <= ? and p.agreement_id in (${ids.map(() => '?').join(', ')}) order by p.month, r.number`,
        [from, to, ...ids],
      );
      return found.map((r) => ({ agreementId: String(r.agreement_id), row: { month: String(r.month), submittedAt: asDate(r.submitted_at), items: frictionItemsColumn(r.friction_items).length } }));
    }),
    /** APPROVED exclusions of an agreement in a window: only those excuse. */
    approvedExclusionsInWindow: windowed<ExclusionRow>(async (ids, from, to) => {
      const w = inWindow(ids, from, to);
      const found = await rows<Record<string, unknown>>(`select agreement_id, month, objective_id, updated_at from exclusion where status = ? and ${w.where}`, [ExclusionStatus.APPROVED, ...w.params]);
      return found.map((r) => ({ agreementId: String(r.agreement_id), row: { month: String(r.month), objectiveId: String(r.objective_id), updatedAt: asDate(r.updated_at) } }));
    }),
  };
}
