import type { Month } from '../../common/month';
import type { Context } from '../../common/context';
import { score as scoreOf } from '../../scoring';
import { Agreement } from '../agreements/agreement.entity';
import { type ScoredMonth, measuredMonths, scoreMonths } from './scorecard.service';
import { readConnectionType } from '../../common/read-route';
import { windowMonths } from '../../common/month-window';
import { HandoffEvent, HandoffMonth } from '../handoffs/handoff.entity';
import { handoffStats, type HandoffStats } from '../handoffs/handoff.service';
import { chainConversion, handoffRates } from '../../scoring/automated';

/** One stage of a chain: an agreement along which handoffs flowed, its figures over the window. */
export interface ChainStageData {
  position: number;
  agreement: Agreement;
  stages: string[];
  stats: HandoffStats;
  /** accepted / decided, a fraction in [0, 1]. */
  acceptanceRate: number | null;
  /** converted / volume, a fraction in [0, 1]. */
  conversionRate: number | null;
  /** Pooled score of its handoff objectives over the window (DESIGN §4.3); null when it has none. */
  score: number | null;
  scored: ScoredMonth[];
}

export interface ChainData {
  stages: ChainStageData[];
  /** The share (a fraction in [0, 1]) of what entered the first stage that converted at every stage: the product of the stages' conversion rates. */
  endToEndConversion: number | null;
  bottleneck: ChainStageData | null;
}

/**
 * The path of agreements along which handoffs flowed from department `from` to department `to`
 * in the window (DESIGN §6): the shortest path over provider → customer edges of agreements with
 * handoff events in the window (ties broken by agreement key). Each stage carries its volume,
 * acceptance, response times, conversion and its score against its handoff objectives; the
 * bottleneck is the stage with the worst score (the lowest conversion when none is scored).
 */
export async function handoffChain(ctx: Context, from: string, to: string, start: Month, end: Month): Promise<ChainData> {
  const months = await ctx.em.find(
    HandoffMonth,
    { month: { $gte: start, $lte: end }, volume: { $gt: 0 } },
    { fields: ['agreement', 'month'], disableIdentityMap: true, connectionType: readConnectionType(ctx.em) },
  );
  const ids = [...new Set(months.map((m) => m.agreement.id))];
  const agreements = ids.length ? await ctx.em.find(Agreement, { id: { $in: ids } }, { orderBy: { key: 'asc' }, connectionType: readConnectionType(ctx.em) }) : [];
  // Breadth-first from `from`: the first path found to `to` is a shortest one.
  const via = new Map<string, Agreement>();
  const seen = new Set([from]);
  for (let layer = [from]; layer.length && !seen.has(to);) {
    const next: string[] = [];
    for (const dept of layer) {
      for (const a of agreements.filter((x) => x.provider?.id === dept)) {
        const customer = a.customer?.id;
        if (!customer || seen.has(customer)) continue;
        seen.add(customer);
        via.set(customer, a);
        next.push(customer);
      }
    }
    layer = next;
  }
  if (from === to || !via.has(to)) return { stages: [], endToEndConversion: null, bottleneck: null };
  const path: Agreement[] = [];
  for (let dept = to; dept !== from;) {
    const a = via.get(dept) as Agreement;
    path.unshift(a);
    dept = a.provider?.id as string;
  }

  const events = await ctx.em.find(
    HandoffEvent,
    { agreement: { $in: path.map((a) => a.id) }, month: { $gte: start, $lte: end } },
    { fields: ['agreement', 'stage', 'acceptedAt', 'rejectedAt', 'convertedAt', 'responseHours', 'qualityScore'], disableIdentityMap: true, connectionType: readConnectionType(ctx.em) },
  );
  const scored = await scoreMonths(ctx, await measuredMonths(ctx, path, windowMonths(start, end)), ctx.request.now);
  const stages = path.map((agreement, position) => {
    const own = events.filter((e) => e.agreement.id === agreement.id);
    const stats = handoffStats(
      own.map((e) => ({ accepted: !!e.acceptedAt, rejected: !!e.rejectedAt, converted: !!e.convertedAt, responseHours: e.responseHours ?? null, qualityScore: e.qualityScore ?? null })),
    );
    const rates = handoffRates(stats);
    const mine = scored.filter((s) => s.agreement.id === agreement.id);
    const handoffResults = mine.flatMap((s) => s.objectives.filter((o) => o.metric.code.startsWith('HANDOFF_')).map((o) => o.result));
    return {
      position,
      agreement,
      stages: [...new Set(own.map((e) => e.stage))].sort(),
      stats,
      acceptanceRate: rates.acceptance,
      conversionRate: rates.conversion,
      score: scoreOf(handoffResults),
      scored: mine,
    };
  });
  const endToEndConversion = chainConversion(stages.map((s) => s.conversionRate));
  const ranked = stages.filter((s) => s.score !== null).sort((a, b) => (a.score as number) - (b.score as number) || a.position - b.position);
  const byConversion = stages.filter((s) => s.conversionRate !== null).sort((a, b) => (a.conversionRate as number) - (b.conversionRate as number) || a.position - b.position);
  return { stages, endToEndConversion, bottleneck: ranked[0] ?? byConversion[0] ?? null };
}
