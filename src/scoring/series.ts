/**
 * Rules 8 and 10 of DESIGN.md §4: the trend of an agreement's monthly scores and the baseline
 * suggested from an objective's history. Both work on month-stamped series.
 */
import { compareMonths, monthIndex, monthProblem, type Month } from '../common/month';
import { assertFinite, clean, describe } from './numeric';
import type { BaselineSuggestion, Trend } from './types';

/** A slope above this (score points per month) is IMPROVING; below its negative, DECLINING. */
export const TREND_THRESHOLD = 0.5;

/** Rule 10 looks at this many most recent values. */
export const BASELINE_WINDOW = 6;

/** Rule 10 needs at least this many values. */
export const BASELINE_MIN_VALUES = 3;

/** Checks the months of a series (valid, no month twice) and returns it sorted by month. */
function sortedByMonth<T extends { month: Month }>(field: string, series: T[]): T[] {
  const seen = new Set<Month>();
  for (const [i, point] of series.entries()) {
    const problem = monthProblem(point.month);
    if (problem) throw new RangeError(`${field}[${i}].month: ${problem}`);
    if (seen.has(point.month)) throw new RangeError(`${field}[${i}].month: expected each month at most once, received ${describe(point.month)} twice`);
    seen.add(point.month);
  }
  return [...series].sort((a, b) => compareMonths(a.month, b.month));
}

/**
 * Rule 8: the least-squares slope of monthly scores, in score points per month, with x = the
 * month's index, so a gap between two months counts as the months it spans. Months whose score is
 * null (nothing scored) are skipped. The slope is rounded to 9 decimal places; it is IMPROVING
 * when above +0.5, DECLINING when below −0.5, STABLE otherwise (exactly ±0.5 is STABLE). With fewer
 * than two scored months there is neither slope nor direction: `{ slope: null, direction: null }`
 * (a single month is not a stable trend; revised rule 8). Input order
 * does not matter; a month given twice throws a `RangeError`.
 */
export function trend(series: Array<{ month: Month; score: number | null }>): Trend {
  const points = sortedByMonth('series', series).filter((p) => p.score !== null);
  for (const p of points) assertFinite(`score of ${p.month}`, p.score);
  if (points.length < 2) return { slope: null, direction: null };
  const origin = monthIndex(points[0].month);
  const xs = points.map((p) => monthIndex(p.month) - origin);
  const ys = points.map((p) => p.score as number);
  const n = points.length;
  const meanX = xs.reduce((s, x) => s + x, 0) / n;
  const meanY = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - meanX) * (ys[i] - meanY);
    sxx += (xs[i] - meanX) ** 2;
  }
  const slope = clean(sxy / sxx);
  return { slope, direction: slope > TREND_THRESHOLD ? 'IMPROVING' : slope < -TREND_THRESHOLD ? 'DECLINING' : 'STABLE' };
}

/**
 * The `p`-th quantile (p from 0 to 1) of values sorted ascending, by linear interpolation between
 * closest ranks: h = (n − 1) × p, result = x[⌊h⌋] + (h − ⌊h⌋) × (x[⌊h⌋ + 1] − x[⌊h⌋]). This is
 * numpy's default (`linear`), Excel's PERCENTILE.INC and Hyndman & Fan type 7; p = 0.5 is the usual
 * median. An interpolated result is rounded to 9 decimal places (kept between the two values it
 * lies between); a rank that falls on a value returns it unchanged. Throws a `RangeError` on an
 * empty list or p outside [0, 1].
 */
export function percentile(sortedValues: ArrayLike<number>, p: number): number {
  return percentileAt(sortedValues.length, p, (rank) => sortedValues[rank]);
}

/**
 * {@link percentile} of `count` values sorted ascending of which only two are at hand: `at(rank)`
 * (from 0) is asked for ⌊h⌋ and, when h falls between two ranks, ⌊h⌋ + 1 (h = (count − 1) × p), so
 * a database can pick those two and send them alone.
 */
export function percentileAt(count: number, p: number, at: (rank: number) => number): number {
  if (count === 0) throw new RangeError('values: expected at least one value, received none');
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`p: expected a number from 0 to 1, received ${describe(p)}`);
  const h = (count - 1) * p;
  const lo = Math.floor(h);
  const frac = h - lo;
  const below = at(lo);
  if (frac === 0) return below;
  const above = at(lo + 1);
  // Clamped so that rounding never takes the result outside the two values it lies between.
  return Math.min(above, Math.max(below, clean(below + frac * (above - below))));
}

/**
 * Rule 10: a baseline for setting a "reasonable and achievable" target from an objective's
 * history of monthly values. Takes the last 6 values by month (the history may come in any order;
 * a month given twice throws a `RangeError`) and returns their median and 25th/75th percentiles
 * ({@link percentile}: linear interpolation, numpy default / PERCENTILE.INC) and how many values
 * were used. Null with fewer than 3 values. Which percentile to propose as the target (p25 or p75)
 * depends on the metric's direction and is left to the caller.
 */
export function baselineSuggestion(history: Array<{ month: Month; value: number }>): BaselineSuggestion | null {
  const sorted = sortedByMonth('history', history);
  for (const h of sorted) assertFinite(`value of ${h.month}`, h.value);
  if (sorted.length < BASELINE_MIN_VALUES) return null;
  const values = sorted
    .slice(-BASELINE_WINDOW)
    .map((h) => h.value)
    .sort((a, b) => a - b);
  return { median: percentile(values, 0.5), p25: percentile(values, 0.25), p75: percentile(values, 0.75), basedOn: values.length };
}
