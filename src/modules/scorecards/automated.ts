import { groupBy } from '../../common/collections';
import type { Month } from '../../common/month';
import type { Context } from '../../common/context';
import type { AgreementVersion } from '../agreements/agreement.entity';
import { versionAt } from '../agreements/agreement.rules';
import { escalationMetricValues } from '../escalations/escalation.service';
import type { Agreement } from '../agreements/agreement.entity';
import { dueOf } from '../reports/report.service';
import { frictionReportDelivered } from '../../scoring/automated';
import type { EscalationRow, FrictionRevisionRow, HandoffMonthRow, MeasurementMonthRow } from './scorecard.loaders';
import { type Metric, MetricFeed } from '../catalog/metric.entity';
import { handoffMetricValues } from '../handoffs/handoff.service';
import { loadManyOrThrow } from '../../common/loaders';

/** One agreement-month whose automated values are asked for. */
export interface AgreementMonthKey {
  agreementId: string;
  month: Month;
}

/**
 * Computes AUTOMATED metrics for many agreement-months at once (batched through the request's
 * loaders): for each metric code it serves, a map from `agreementId|month` to the value; a
 * missing entry means no data.
 */
export type AutomatedSource = (ctx: Pick<Context, 'loaders'>, items: AgreementMonthKey[], window: MeasureWindow) => Promise<Map<string, Map<string, number>>>;

/** The months measured, and the instant each agreement-month (`agreementId|month`) is measured at: `now`, or its close instant. */
export interface MeasureWindow {
  from: Month;
  to: Month;
  now: Date;
  at?: (key: string) => Date;
}

const keysOf = (items: AgreementMonthKey[], from: Month, to: Month) => {
  const ids = [...new Set(items.map((i) => i.agreementId))];
  return { ids, keys: ids.map((id) => `${id}|${from}|${to}`) };
};

function put(out: Map<string, Map<string, number>>, code: string, key: string, value: number | null): void {
  if (value === null) return;
  if (!out.has(code)) out.set(code, new Map());
  out.get(code)?.set(key, value);
}

/** Working days after the due date that the month's report was first submitted (0: on time). */
const reports: AutomatedSource = async (ctx, items, { from, to }) => {
  const { ids, keys } = keysOf(items, from, to);
  const lists = await loadManyOrThrow(ctx.loaders.reportsInWindow, keys);
  const out = new Map<string, Map<string, number>>();
  lists.forEach((list, i) => {
    if (list instanceof Error) throw list;
    for (const r of list) put(out, 'REPORT_DAYS_LATE', `${ids[i]}|${r.month}`, r.lateByWorkingDays ?? null);
  });
  return out;
};

/** Volume, acceptance, response times, conversion and quality of handoffs (kept per agreement-month at ingest). */
const handoffs: AutomatedSource = async (ctx, items, { from, to }) => {
  const { ids, keys } = keysOf(items, from, to);
  const lists = await loadManyOrThrow(ctx.loaders.handoffMonthsInWindow, keys);
  const out = new Map<string, Map<string, number>>();
  lists.forEach((list, i) => {
    if (list instanceof Error) throw list;
    for (const m of list as HandoffMonthRow[]) {
      const values = handoffMetricValues(m);
      for (const [code, value] of Object.entries(values)) put(out, code, `${ids[i]}|${m.month}`, value);
    }
  });
  // A month without any handoff had a volume of 0 (the other rates have no data).
  for (const item of items) if (!out.get('HANDOFF_VOLUME')?.has(`${item.agreementId}|${item.month}`)) put(out, 'HANDOFF_VOLUME', `${item.agreementId}|${item.month}`, 0);
  return out;
};

/** Escalations answered on time, their 90th percentile response and mean time to resolve. */
const escalations: AutomatedSource = async (ctx, items, { from, to, now, at }) => {
  const { ids, keys } = keysOf(items, from, to);
  const [lists, versions] = await Promise.all([loadManyOrThrow(ctx.loaders.escalationsInWindow, keys), loadManyOrThrow(ctx.loaders.versionsByAgreement, ids)]);
  const out = new Map<string, Map<string, number>>();
  lists.forEach((list, i) => {
    if (list instanceof Error) throw list;
    const vs = versions[i];
    const byMonth = groupBy(list as EscalationRow[], (e) => e.month);
    for (const [month, group] of byMonth) {
      const values = escalationMetricValues(group, (e) => (versionAt(vs, e.month) as AgreementVersion).calendar, at?.(`${ids[i]}|${month}`) ?? now);
      for (const [code, value] of Object.entries(values)) put(out, code, `${ids[i]}|${month}`, value);
    }
  });
  // A month without escalations kept nobody waiting: 100 % on time, 0 hours (docs/decisions.md).
  for (const item of items) {
    const key = `${item.agreementId}|${item.month}`;
    for (const [code, vacuous] of [
      ['ESCALATION_RESPONSE_ON_TIME', 100],
      ['ESCALATION_RESPONSE_P90', 0],
      ['ESCALATION_MTTR', 0],
    ] as const) {
      if (!out.get(code)?.has(key)) put(out, code, key, vacuous);
    }
  }
  return out;
};

/** Values of EXTERNAL metrics, kept per agreement-month-metric at ingest (`recordMeasurements`), by metric code. */
const external: AutomatedSource = async (ctx, items, { from, to }) => {
  const { ids, keys } = keysOf(items, from, to);
  const lists = await loadManyOrThrow(ctx.loaders.measurementMonthsInWindow, keys);
  const out = new Map<string, Map<string, number>>();
  lists.forEach((list, i) => {
    if (list instanceof Error) throw list;
    for (const m of list as MeasurementMonthRow[]) put(out, m.metricCode, `${ids[i]}|${m.month}`, m.value);
  });
  return out;
};

/**
 * Whether the month's friction report came with its items by the due date (issue 16): 1 once a
 * revision with at least one friction item was submitted by the report's due instant, 0 once that
 * instant has passed without one, no value before it (src/scoring/automated.ts).
 */
const frictionReports: AutomatedSource = async (ctx, items, { from, to, now, at }) => {
  const { ids, keys } = keysOf(items, from, to);
  const [lists, versions, agreements] = await Promise.all([
    loadManyOrThrow(ctx.loaders.frictionRevisionsInWindow, keys),
    loadManyOrThrow(ctx.loaders.versionsByAgreement, ids),
    loadManyOrThrow(ctx.loaders.agreementById, ids, 'Agreement'),
  ]);
  const revisionsBy = new Map<string, FrictionRevisionRow[]>();
  lists.forEach((list, i) => {
    if (list instanceof Error) throw list;
    for (const r of list) revisionsBy.set(`${ids[i]}|${r.month}`, [...(revisionsBy.get(`${ids[i]}|${r.month}`) ?? []), r]);
  });
  const index = new Map(ids.map((id, i) => [id, i]));
  const out = new Map<string, Map<string, number>>();
  for (const item of items) {
    const i = index.get(item.agreementId) as number;
    const due = dueOf(agreements[i] as Agreement, versions[i], item.month);
    if (!due) continue;
    const key = `${item.agreementId}|${item.month}`;
    put(out, 'FRICTION_REPORT_DELIVERED', key, frictionReportDelivered(revisionsBy.get(key) ?? [], due.dueAt, at?.(key) ?? now));
  }
  return out;
};

/**
 * The computations of the AUTOMATED metrics, by feed (`MetricFeed`, documented in the schema and
 * docs/metrics.md); each result is keyed by the feed's name, EXTERNAL's by metric code. A metric
 * whose feed is not here has no values, so its objectives are NO_DATA once due.
 */
export const AUTOMATED_SOURCES: Record<string, AutomatedSource> = {
  REPORT_DAYS_LATE: reports,
  HANDOFF_VOLUME: handoffs,
  HANDOFF_ACCEPTANCE_RATE: handoffs,
  HANDOFF_RESPONSE_MEDIAN: handoffs,
  HANDOFF_RESPONSE_P90: handoffs,
  HANDOFF_CONVERSION_RATE: handoffs,
  HANDOFF_QUALITY: handoffs,
  ESCALATION_RESPONSE_ON_TIME: escalations,
  ESCALATION_RESPONSE_P90: escalations,
  ESCALATION_MTTR: escalations,
  FRICTION_REPORT_DELIVERED: frictionReports,
  EXTERNAL: external,
};

/** What the automated values read of a metric: its code, and its feed (a metric without one, stored before feeds, is read by its code). */
export type AutomatedMetric = Pick<Metric, 'code' | 'feed'>;

/** Every automated value the metrics need, each source run once: per metric code, a map from `agreementId|month` to the value. */
export async function automatedValues(ctx: Pick<Context, 'loaders'>, metrics: Iterable<AutomatedMetric>, items: AgreementMonthKey[], window: MeasureWindow): Promise<Map<string, Map<string, number>>> {
  const wanted = [...metrics].map((m) => ({ code: m.code, feed: m.feed ?? m.code }));
  const sources = new Set<AutomatedSource>();
  for (const m of wanted) if (AUTOMATED_SOURCES[m.feed]) sources.add(AUTOMATED_SOURCES[m.feed]);
  const computed = new Map<string, Map<string, number>>();
  for (const result of await Promise.all([...sources].map((s) => s(ctx, items, window)))) for (const [key, values] of result) computed.set(key, values);
  const out = new Map<string, Map<string, number>>();
  for (const m of wanted) {
    const values = computed.get(m.feed === MetricFeed.EXTERNAL ? m.code : m.feed);
    if (values) out.set(m.code, values);
  }
  return out;
}
