import type { Context } from '../../common/context';
import { assertAsOf } from '../../common/bounds';
import { addMonths, compareMonths, monthOf } from '../../common/month';
import { Agreement, AgreementStatus } from './agreement.entity';
import { versionAt } from './agreement.rules';
import { loadManyOrThrow } from '../../common/loaders';

/** A live agreement whose periodic review is due. */
export interface ReviewDueRow {
  agreement: Agreement;
  /** "YYYY-MM-DD". */
  reviewDate: string;
  /** SCHEDULED (the version's nextReviewDate) or CADENCE (reviewCadenceMonths after it began). */
  basis: 'SCHEDULED' | 'CADENCE';
  /** Days since the review date (0 on the day). */
  daysOverdue: number;
}

/**
 * Live agreements whose periodic review is due on or before `asOf` (default: the request's now),
 * oldest first. The review date is the version's `nextReviewDate`, or `reviewCadenceMonths` after
 * the later of the version's first month and the agreement's activation.
 */
export async function reviewsDue(ctx: Context, asOf?: Date | null): Promise<ReviewDueRow[]> {
  const at = asOf ?? ctx.request.now;
  assertAsOf('asOf', at, ctx.request.now);
  return reviewsDueAt(ctx, at);
}

/** The reviews due on or before `at` (the query above, and the scheduler's `agreement.review_due`). */
export async function reviewsDueAt(ctx: Pick<Context, 'em' | 'loaders'>, at: Date): Promise<ReviewDueRow[]> {
  const today = at.toISOString().slice(0, 10);
  const agreements = await ctx.em.find(Agreement, { state: { $in: [AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED] } }, { orderBy: { key: 'asc' } });
  const versions = await loadManyOrThrow(
    ctx.loaders.versionsByAgreement,
    agreements.map((a) => a.id),
  );
  const out: ReviewDueRow[] = [];
  agreements.forEach((agreement, i) => {
    const version = versionAt(versions[i], monthOf(at));
    if (!version) return;
    const began = agreement.activatedAt && compareMonths(monthOf(agreement.activatedAt), version.effectiveMonth) > 0 ? monthOf(agreement.activatedAt) : version.effectiveMonth;
    const reviewDate = version.nextReviewDate ?? `${addMonths(began, version.reviewCadenceMonths)}-01`;
    if (reviewDate > today) return;
    const daysOverdue = Math.floor((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${reviewDate}T00:00:00Z`)) / 86_400_000);
    out.push({ agreement, reviewDate, basis: version.nextReviewDate ? 'SCHEDULED' : 'CADENCE', daysOverdue });
  });
  return out.sort((x, y) => x.reviewDate.localeCompare(y.reviewDate) || x.agreement.key.localeCompare(y.agreement.key));
}
