import type { FilterQuery } from '@mikro-orm/core';
import { type CursorPart, decodeCursor, encodeCursor } from '../../common/connection';
import { compareMonths, type Month } from '../../common/month';
import type { Context } from '../../context';
import { Agreement, type AgreementVersion, Tier } from '../agreements/agreement.entity';
import { MetricSource } from '../catalog/metric.entity';
import type { Department } from '../departments/department.entity';
import type { Service } from '../catalog/service.entity';
import { HandoffEvent } from '../handoffs/handoff.entity';
import { dueFor } from '../reports/report.service';
import { monthEndsAt } from '../../common/working-time';
import { isDisputed, measuredMonths, type MeasuredMonth, scoreMonths, windowMonths } from '../scorecards/scorecard.service';

/** Which facts: a window of months, optionally one tier, provider, customer, and changes since. */
export interface FactFilter {
  from: Month;
  to: Month;
  tier?: Tier | null;
  /** Department codes. */
  provider?: string | null;
  customer?: string | null;
  updatedSince?: Date | null;
}

/** One objective-month, flat, for a warehouse (the columns). */
export interface MeasurementFact {
  id: string;
  month: Month;
  agreementKey: string;
  tier: Tier;
  provider: string | null;
  customer: string | null;
  service: string | null;
  metric: string;
  unit: string;
  direction: string;
  target: number;
  warning: number | null;
  weight: number;
  value: number | null;
  status: string;
  attainment: number | null;
  excused: boolean;
  source: string;
  reportRevision: number | null;
  /** The month's latest report revision is disputed: the value and status are contested. */
  disputed: boolean;
  updatedAt: Date;
}

/** Where a pull is: its snapshot instant and the last fact returned. */
interface FactCursor {
  /** Snapshot: agreements created after it wait for the next (incremental) pull. */
  w: number;
  k: string;
  m: Month;
  i: number;
}

/** The measurement facts' cursor: the snapshot instant, then the last fact's agreement key, month and objective index. */
const FACT_CURSOR = { kind: 'measurementFacts', parts: ['date', 'string', 'month', 'integer'] as CursorPart[] };
/** The handoff facts' cursor: the snapshot instant, then the last row's updatedAt and id. */
const HANDOFF_CURSOR = { kind: 'handoffFacts', parts: ['date', 'date', 'uuid'] as CursorPart[] };

function factCursor(after: string): FactCursor {
  const [w, k, m, i] = decodeCursor(FACT_CURSOR.kind, after, FACT_CURSOR.parts) as [Date, string, Month, number];
  return { w: w.getTime(), k, m, i };
}

function handoffCursor(after: string): HandoffCursor {
  const [w, u, id] = decodeCursor(HANDOFF_CURSOR.kind, after, HANDOFF_CURSOR.parts) as [Date, Date, string];
  return { w: w.getTime(), u: u.getTime(), id };
}

/** The agreement tiers a filter selects: facts live on CUSTOMER and SERVICE agreements; CORPORATE means all of them. */
function tiersOf(filter: FactFilter): Tier | { $in: Tier[] } {
  return filter.tier && filter.tier !== Tier.CORPORATE ? filter.tier : { $in: [Tier.CUSTOMER, Tier.SERVICE] };
}

export interface FactPage {
  rows: MeasurementFact[];
  hasNextPage: boolean;
  endCursor: string | null;
  /** The snapshot instant: pass it as `updatedSince` in the next incremental pull. */
  asOf: Date;
}

/**
 * One page of measurement facts, in a stable order (agreement key, month, objective order) that
 * writes cannot shift: the first page fixes a snapshot instant (in the cursor), and agreements
 * created after it are left to the next pull, so paging while others write returns every fact of
 * the snapshot exactly once. `updatedSince` keeps the agreement-months whose inputs changed after
 * it (a report revision, an exclusion decision, handoffs, escalations, new terms) or whose due
 * instant passed after it (PENDING becoming NO_DATA), so incremental pulls see corrections.
 */
export async function measurementFacts(ctx: Context, filter: FactFilter, first: number, after?: string | null): Promise<FactPage> {
  const cursor = after ? factCursor(after) : null;
  const asOf = new Date(cursor?.w ?? ctx.request.receivedAt.getTime());
  const months = windowMonths(filter.from, filter.to);
  const where: FilterQuery<Agreement>[] = [{ tier: tiersOf(filter) }, { activatedAt: { $ne: null } }, { createdAt: { $lte: asOf } }];
  if (filter.provider) where.push({ provider: { code: filter.provider.trim().toUpperCase() } });
  if (filter.customer) where.push({ customer: { code: filter.customer.trim().toUpperCase() } });
  if (cursor) where.push({ key: { $gte: cursor.k } });
  const agreements = await ctx.em.find(Agreement, { $and: where }, { orderBy: { key: 'asc' } });

  const rows: MeasurementFact[] = [];
  let last: FactCursor | null = null;
  let more = false;
  // A few agreements at a time, in key order, until the page is full: a page costs what it holds,
  // not what the whole window holds.
  const perBatch = Math.max(5, Math.ceil(first / Math.max(1, months.length * 3)) + 1);
  for (let b = 0; b < agreements.length && !more; b += perBatch) {
    let items = (await measuredMonths(ctx, agreements.slice(b, b + perBatch), months)).sort((x, y) => (x.agreement.key < y.agreement.key ? -1 : x.agreement.key > y.agreement.key ? 1 : compareMonths(x.month, y.month)));
    if (cursor) items = items.filter((it) => it.agreement.key > cursor.k || (it.agreement.key === cursor.k && compareMonths(it.month, cursor.m) >= 0));
    if (!items.length) continue;
    const changed = await lastChanges(ctx, items, filter.from, filter.to);
    if (filter.updatedSince) items = items.filter((it) => (changed.get(itemKey(it)) ?? 0) > (filter.updatedSince as Date).getTime());
    for (let start = 0; start < items.length && !more; ) {
      const slice = items.slice(start, start + Math.max(20, Math.ceil(first / 3) + 1));
      start += slice.length;
      const scored = await scoreMonths(ctx, slice, ctx.request.now, { from: filter.from, to: filter.to });
      const names = await partyCodes(ctx, slice.map((x) => x.agreement));
      for (const sm of scored) {
        const key = itemKey(sm);
        for (const [index, o] of sm.objectives.entries()) {
          if (cursor && sm.agreement.key === cursor.k && sm.month === cursor.m && index <= cursor.i) continue;
          if (rows.length === first) {
            more = true;
            break;
          }
          const parties = names.get(sm.agreement.id) as { provider: string | null; customer: string | null; service: string | null };
          rows.push({
            id: `${sm.agreement.id}:${sm.month}:${o.objective.id}`,
            month: sm.month,
            agreementKey: sm.agreement.key,
            tier: sm.agreement.tier,
            ...parties,
            metric: o.metric.code,
            unit: o.metric.unit,
            direction: o.metric.direction,
            target: o.objective.target,
            warning: o.objective.warning ?? null,
            weight: o.objective.weight,
            value: o.value,
            status: o.result.status,
            attainment: o.result.attainment,
            excused: o.excused,
            source: o.metric.source,
            reportRevision: o.metric.source === MetricSource.MANUAL && sm.report?.revisionCount ? sm.report.revisionCount : null,
            disputed: isDisputed(sm),
            updatedAt: new Date(changed.get(key) ?? asOf.getTime()),
          });
          last = { w: asOf.getTime(), k: sm.agreement.key, m: sm.month, i: index };
        }
        if (more) break;
      }
    }
  }
  return { rows, hasNextPage: more, endCursor: last ? encodeCursor(FACT_CURSOR.kind, [new Date(last.w), last.k, last.m, last.i]) : after ?? null, asOf };
}

const itemKey = (it: { agreement: { id: string }; month: Month }) => `${it.agreement.id}|${it.month}`;

async function partyCodes(ctx: Context, agreements: Agreement[]): Promise<Map<string, { provider: string | null; customer: string | null; service: string | null }>> {
  const depts = await ctx.loaders.departmentById.loadMany(agreements.flatMap((a) => [a.provider?.id, a.customer?.id].filter((x): x is string => !!x)));
  const services = await ctx.loaders.serviceById.loadMany(agreements.map((a) => a.service?.id).filter((x): x is string => !!x));
  const code = new Map<string, string>();
  for (const d of [...depts, ...services] as Array<Department | Service | null | Error>) if (d && !(d instanceof Error)) code.set(d.id, d.code);
  return new Map(agreements.map((a) => [a.id, { provider: a.provider ? code.get(a.provider.id) ?? null : null, customer: a.customer ? code.get(a.customer.id) ?? null : null, service: a.service ? code.get(a.service.id) ?? null : null }]));
}

/**
 * When each agreement-month's facts last changed (epoch ms): the latest of its report, approved
 * exclusions, handoff metrics, escalations, the agreement's activation and resumptions, the
 * version in force in the month, and its end and due instant once the request's clock has passed
 * them. Batched per window for all agreements.
 */
async function lastChanges(ctx: Context, items: MeasuredMonth[], from: Month, to: Month): Promise<Map<string, number>> {
  const ids = [...new Set(items.map((i) => i.agreement.id))];
  const keys = ids.map((id) => `${id}|${from}|${to}`);
  const [reports, exclusions, handoffs, escalations] = await Promise.all([
    ctx.loaders.reportsInWindow.loadMany(keys),
    ctx.loaders.approvedExclusionsInWindow.loadMany(keys),
    ctx.loaders.handoffMonthsInWindow.loadMany(keys),
    ctx.loaders.escalationsInWindow.loadMany(keys),
  ]);
  const latest = new Map<string, number>();
  const bump = (key: string, at: Date) => latest.set(key, Math.max(latest.get(key) ?? 0, at.getTime()));
  ids.forEach((id, i) => {
    for (const rows of [reports[i], exclusions[i], handoffs[i], escalations[i]] as Array<Array<{ month: Month; updatedAt: Date }>>) for (const r of rows) bump(`${id}|${r.month}`, r.updatedAt);
  });
  for (const it of items) {
    const key = itemKey(it);
    // Not the agreement row's updatedAt: an amendment approved today bumps it, and every month of
    // the agreement back to its start seemed changed. What the agreement row changes for a month:
    // its first activation (the month's rows appear) and a resumption after a suspension that
    // covered months from then on (they are measured again).
    if (it.agreement.activatedAt) bump(key, it.agreement.activatedAt);
    const monthStart = Date.parse(`${it.month}-01T00:00:00Z`);
    for (const sp of it.agreement.suspensions) if (sp.to && Date.parse(sp.from) <= monthStart + 31 * 86_400_000) bump(key, new Date(sp.to));
    // The terms in force in the month: an amendment moves only the months from its effective month.
    bump(key, (it.version as AgreementVersion).createdAt);
    // Time-driven changes, once the scoring clock has passed them: the month's end (its rows are
    // scored from then on, rule 0) and its due instant (PENDING becomes NO_DATA).
    const now = ctx.request.now.getTime();
    const ends = monthEndsAt(it.version.calendar, it.month);
    if (ends.getTime() <= now) bump(key, ends);
    const due = dueFor(it.agreement, it.version, it.month).dueAt;
    if (due.getTime() <= now) bump(key, due);
  }
  return latest;
}

/** A handoff event, flat, for a warehouse. */
export interface HandoffFact {
  id: string;
  source: string;
  externalId: string;
  agreementKey: string;
  provider: string | null;
  customer: string | null;
  stage: string;
  month: Month;
  handedOffAt: Date;
  respondedAt: Date | null;
  acceptedAt: Date | null;
  rejectedAt: Date | null;
  rejectionReason: string | null;
  convertedAt: Date | null;
  qualityScore: number | null;
  responseHours: number | null;
  updatedAt: Date;
}

interface HandoffCursor {
  w: number;
  u: number;
  id: string;
}

/**
 * One page of handoff events ordered by (updatedAt, id), up to a snapshot instant fixed by the
 * first page: rows written during the pull carry a later updatedAt and wait for the next pull
 * (`updatedSince` = this pull's `asOf`), so every row is returned once per pull and changed ones
 * come back in the next.
 */
export async function handoffFacts(ctx: Context, filter: FactFilter, first: number, after?: string | null): Promise<{ rows: HandoffFact[]; hasNextPage: boolean; endCursor: string | null; asOf: Date }> {
  const cursor = after ? handoffCursor(after) : null;
  windowMonths(filter.from, filter.to);
  const asOf = new Date(cursor?.w ?? ctx.request.receivedAt.getTime());
  const where: FilterQuery<HandoffEvent>[] = [{ month: { $gte: filter.from, $lte: filter.to } }, { updatedAt: { $lte: asOf } }];
  if (filter.updatedSince) where.push({ updatedAt: { $gt: filter.updatedSince } });
  if (cursor) where.push({ $or: [{ updatedAt: { $gt: new Date(cursor.u) } }, { updatedAt: new Date(cursor.u), id: { $gt: cursor.id } }] });
  const agreementWhere: FilterQuery<Agreement>[] = [{ tier: tiersOf(filter) }];
  if (filter.provider) agreementWhere.push({ provider: { code: filter.provider.trim().toUpperCase() } });
  if (filter.customer) agreementWhere.push({ customer: { code: filter.customer.trim().toUpperCase() } });
  where.push({ agreement: { $and: agreementWhere } });
  const events = await ctx.em.find(HandoffEvent, { $and: where }, { orderBy: { updatedAt: 'asc', id: 'asc' }, limit: first + 1 });
  const page = events.slice(0, first);
  const agreements = await ctx.loaders.agreementById.loadMany([...new Set(page.map((e) => e.agreement.id))]);
  const byId = new Map((agreements as Array<Agreement | null>).filter((a): a is Agreement => !!a).map((a) => [a.id, a]));
  const names = await partyCodes(ctx, [...byId.values()]);
  const rows = page.map((e) => {
    const a = byId.get(e.agreement.id) as Agreement;
    const n = names.get(a.id);
    return {
      id: e.id,
      source: e.source,
      externalId: e.externalId,
      agreementKey: a.key,
      provider: n?.provider ?? null,
      customer: n?.customer ?? null,
      stage: e.stage,
      month: e.month,
      handedOffAt: e.handedOffAt,
      respondedAt: e.respondedAt ?? null,
      acceptedAt: e.acceptedAt ?? null,
      rejectedAt: e.rejectedAt ?? null,
      rejectionReason: e.rejectionReason ?? null,
      convertedAt: e.convertedAt ?? null,
      qualityScore: e.qualityScore ?? null,
      responseHours: e.responseHours ?? null,
      updatedAt: e.updatedAt,
    };
  });
  const lastRow = page[page.length - 1];
  return {
    rows,
    hasNextPage: events.length > first,
    endCursor: lastRow ? encodeCursor(HANDOFF_CURSOR.kind, [asOf, lastRow.updatedAt, lastRow.id]) : after ?? null,
    asOf,
  };
}
