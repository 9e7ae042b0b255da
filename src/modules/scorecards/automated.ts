import type { Month } from '../../common/month';
import type { Context } from '../../context';

/** One agreement-month whose automated values are asked for. */
export interface AgreementMonthKey {
  agreementId: string;
  month: Month;
}

/**
 * Computes one AUTOMATED metric for many agreement-months at once (batched through the request's
 * loaders): a map from `agreementId|month` to the value; a missing entry means no data.
 */
export type AutomatedSource = (ctx: Pick<Context, 'loaders'>, items: AgreementMonthKey[], window: { from: Month; to: Month }) => Promise<Map<string, number>>;

/**
 * The AUTOMATED metrics the system measures, by metric code. A catalog metric marked AUTOMATED
 * whose code is not here has no source, so its objectives are NO_DATA once due (see
 * docs/decisions.md).
 */
export const AUTOMATED_SOURCES: Record<string, AutomatedSource> = {
  /** Working days after the due date that the month's report was first submitted (0: on time). */
  REPORT_DAYS_LATE: async (ctx, items, { from, to }) => {
    const ids = [...new Set(items.map((i) => i.agreementId))];
    const lists = await ctx.loaders.reportsInWindow.loadMany(ids.map((id) => `${id}|${from}|${to}`));
    const out = new Map<string, number>();
    lists.forEach((reports, i) => {
      if (reports instanceof Error) throw reports;
      for (const r of reports) if (r.lateByWorkingDays != null) out.set(`${ids[i]}|${r.month}`, r.lateByWorkingDays);
    });
    return out;
  },
};

/** Registers the sources of another module (handoffs, escalations) at start-up. */
export function registerAutomatedSources(sources: Record<string, AutomatedSource>): void {
  Object.assign(AUTOMATED_SOURCES, sources);
}
