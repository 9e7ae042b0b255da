import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/core';
import type { Month } from '../../common/month';
import { Escalation } from '../escalations/escalation.entity';
import { HandoffMonth } from '../handoffs/handoff.entity';
import { Exclusion, ExclusionStatus, Report } from '../reports/report.entity';

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

/** Per-request loaders of the facts scores are computed from. */
export function createScorecardLoaders(em: EntityManager) {
  return {
    /** Reports of an agreement in a window (lateness, revision numbers). */
    reportsInWindow: windowed<Report>(async (ids, from, to) =>
      (await em.find(Report, { agreement: { $in: ids }, month: { $gte: from, $lte: to } }, { orderBy: { month: 'asc' } })).map((row) => ({ agreementId: row.agreement.id, row })),
    ),
    /** The values of the latest revision of each report in a window: one join, however many revisions. */
    latestValuesInWindow: windowed<LatestValue>(async (ids, from, to) => {
      const rows: Array<{ agreement_id: string; month: string; objective_id: string; value: number | string }> = await em.getConnection().execute(
        `select p.agreement_id, p.month, v.objective_id, v.value from report p join report_value v on v.revision_id = p.latest_revision_id
          where p.month >= ? and p.month <= ? and p.agreement_id in (${ids.map(() => '?').join(', ')})`,
        [from, to, ...ids],
        'all',
        // Inside a transaction (an exclusion being checked) the read must use its connection.
        em.getTransactionContext(),
      );
      return rows.map((r) => ({ agreementId: r.agreement_id, row: { month: r.month, objectiveId: r.objective_id, value: Number(r.value) } }));
    }),
    /** Handoff metrics per agreement-month (kept at ingest). */
    handoffMonthsInWindow: windowed<HandoffMonth>(async (ids, from, to) =>
      (await em.find(HandoffMonth, { agreement: { $in: ids }, month: { $gte: from, $lte: to } })).map((row) => ({ agreementId: row.agreement.id, row })),
    ),
    /** Escalations opened in a window. */
    escalationsInWindow: windowed<Escalation>(async (ids, from, to) =>
      (await em.find(Escalation, { agreement: { $in: ids }, month: { $gte: from, $lte: to } }, { orderBy: { openedAt: 'asc', id: 'asc' } })).map((row) => ({ agreementId: row.agreement.id, row })),
    ),
    /** APPROVED exclusions of an agreement in a window: only those excuse. */
    approvedExclusionsInWindow: windowed<Exclusion>(async (ids, from, to) =>
      (await em.find(Exclusion, { agreement: { $in: ids }, month: { $gte: from, $lte: to }, status: ExclusionStatus.APPROVED })).map((row) => ({ agreementId: row.agreement.id, row })),
    ),
  };
}
