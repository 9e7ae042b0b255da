/**
 * What a head reads of an agreement's handoffs month by month (issue 16, "Conduct"): how much was
 * handed over, how much of it qualified (was not rejected, the count a volume commitment keeps),
 * and why the rest was turned down.
 */
import type { EntityManager } from '@mikro-orm/core';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { Month } from '../../common/month';
import { MonthScalar } from '../../common/scalars';
import { sqlOf } from '../../common/sql';
import { qualifiedOf } from '../../scoring/automated';
import { HandoffMonth } from './handoff.entity';

@ObjectType({ description: 'How many rejected handoffs gave one reason.' })
export class ReasonCount {
  @Field()
  reason!: string;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: 'The handoffs of one agreement-month: volume, what qualified, decisions and why items were rejected.' })
export class HandoffMonthView {
  @Field(() => MonthScalar)
  month!: Month;

  @Field(() => Int, { description: 'Every item handed over.' })
  volume!: number;

  @Field(() => Int, { description: 'Items not rejected (accepted or undecided): what a volume commitment (HANDOFF_VOLUME) counts.' })
  qualified!: number;

  @Field(() => Int)
  accepted!: number;

  @Field(() => Int)
  rejected!: number;

  @Field(() => Int)
  converted!: number;

  @Field(() => Float, { nullable: true, description: 'Working hours to a first response: median of the responded items.' })
  responseMedianHours!: number | null;

  @Field(() => [ReasonCount], { description: 'The rejected items by reason, most frequent first.' })
  rejectionReasons!: ReasonCount[];
}

const byCount = (a: ReasonCount, b: ReasonCount) => b.count - a.count || a.reason.localeCompare(b.reason);

/** The rejection reasons of an agreement's handoffs in the months `from`–`to`, by month (one grouped query). */
export async function rejectionReasonsByMonth(em: EntityManager, agreementId: string, from: Month, to: Month): Promise<Map<Month, ReasonCount[]>> {
  const rows = await sqlOf(em).rows<{ month: string; reason: string; n: number | string }>(
    `select "month", "rejection_reason" as "reason", count(*) as "n" from "handoff_event"
     where "agreement_id" = ? and "month" >= ? and "month" <= ? and "rejected_at" is not null and "rejection_reason" is not null
     group by "month", "rejection_reason"`,
    [agreementId, from, to],
  );
  const out = new Map<Month, ReasonCount[]>();
  for (const r of rows) {
    const list = out.get(r.month) ?? [];
    list.push({ reason: r.reason, count: Number(r.n) });
    out.set(r.month, list);
  }
  for (const list of out.values()) list.sort(byCount);
  return out;
}

/** The reasons of a window, summed over its months. */
export function totalReasons(byMonth: Map<Month, ReasonCount[]>): ReasonCount[] {
  const total = new Map<string, number>();
  for (const list of byMonth.values()) for (const r of list) total.set(r.reason, (total.get(r.reason) ?? 0) + r.count);
  return [...total].map(([reason, count]) => ({ reason, count })).sort(byCount);
}

/** The months of an agreement with handoffs in `from`–`to`, oldest first. */
export async function handoffMonths(em: EntityManager, agreementId: string, from: Month, to: Month): Promise<HandoffMonthView[]> {
  const months = await em.find(HandoffMonth, { agreement: agreementId, month: { $gte: from, $lte: to }, volume: { $gt: 0 } }, { orderBy: { month: 'asc' } });
  const reasons = months.length ? await rejectionReasonsByMonth(em, agreementId, from, to) : new Map<Month, ReasonCount[]>();
  return months.map((m) => ({
    month: m.month,
    volume: m.volume,
    qualified: qualifiedOf(m),
    accepted: m.accepted,
    rejected: m.rejected,
    converted: m.converted,
    responseMedianHours: m.responseMedianHours,
    rejectionReasons: reasons.get(m.month) ?? [],
  }));
}
