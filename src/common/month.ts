/**
 * Calendar months as `"YYYY-MM"` strings. Pure helpers shared by the GraphQL scalar, the services
 * and the scoring module (which must not import GraphQL, so the rules live here, not in the scalar).
 */

/** A month, always in canonical `"YYYY-MM"` form once it has passed {@link parseMonth}. */
export type Month = string;

const MONTH_RE = /^(\d{4})-(\d{2})$/;

/** Why a string is not a month, or null when it is one. */
export function monthProblem(value: unknown): string | null {
  if (typeof value !== 'string') return `expected a month as a "YYYY-MM" string, received ${describe(value)}`;
  const m = MONTH_RE.exec(value);
  if (!m) return `expected a month as "YYYY-MM" (four-digit year, two-digit month), received ${JSON.stringify(value)}`;
  const year = Number(m[1]);
  const month = Number(m[2]);
  if (year < 1) return `expected a year from 0001, received ${JSON.stringify(value)}`;
  if (month < 1 || month > 12) return `expected a month number from 01 to 12, received ${JSON.stringify(value)}`;
  return null;
}

/**
 * The months the API accepts (and the years of the instants it accepts, see `scalars.ts`). Work
 * grows with the months between two instants (overdue reports, reviews, working days), so an
 * argument such as `asOf: "9999-12-31T23:59:59Z"` must be refused before any work starts.
 */
export const FIRST_API_MONTH: Month = '2000-01';
export const LAST_API_MONTH: Month = '2099-12';

/** {@link monthProblem}, plus the range the API accepts ({@link FIRST_API_MONTH} to {@link LAST_API_MONTH}). */
export function apiMonthProblem(value: unknown): string | null {
  const problem = monthProblem(value);
  if (problem) return problem;
  if ((value as string) < FIRST_API_MONTH || (value as string) > LAST_API_MONTH) return `expected a month from ${FIRST_API_MONTH} to ${LAST_API_MONTH}, received ${JSON.stringify(value)}`;
  return null;
}

/** Returns the month unchanged if it is valid; throws a `RangeError` saying why otherwise. */
export function parseMonth(value: unknown): Month {
  const problem = monthProblem(value);
  if (problem) throw new RangeError(problem);
  return value as Month;
}

/** Months since year 0, month 1: a total order that makes arithmetic and ranges trivial. */
export function monthIndex(month: Month): number {
  // Sliced, not split: scoring a year of a big organisation compares months millions of times.
  return Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1;
}

/** The inverse of {@link monthIndex}. */
export function monthFromIndex(index: number): Month {
  const y = Math.floor(index / 12);
  const m = (index % 12) + 1;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;
}

/** `month` moved by `delta` months (negative moves back). */
export function addMonths(month: Month, delta: number): Month {
  return monthFromIndex(monthIndex(month) + delta);
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareMonths(a: Month, b: Month): number {
  return monthIndex(a) - monthIndex(b);
}

/** Every month from `from` to `to`, both included; empty when `to` is before `from`. */
export function monthRange(from: Month, to: Month): Month[] {
  const out: Month[] = [];
  for (let i = monthIndex(from); i <= monthIndex(to); i++) out.push(monthFromIndex(i));
  return out;
}

/** The month (UTC) that contains an instant. */
export function monthOf(date: Date): Month {
  return `${String(date.getUTCFullYear()).padStart(4, '0')}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}
