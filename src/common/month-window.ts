import { BadUserInputError } from './errors';
import { compareMonths, monthRange, type Month } from './month';

/** The longest window of months a read may ask for (scorecards, series, facts, the chain). */
export const MAX_WINDOW_MONTHS = 60;

/** A window's months after checking it: in order and not too long. */
export function windowMonths(from: Month, to: Month): Month[] {
  if (compareMonths(to, from) < 0) throw new BadUserInputError(`to: expected ${from} or later, received ${to}`, 'to');
  const months = monthRange(from, to);
  if (months.length > MAX_WINDOW_MONTHS) throw new BadUserInputError(`to: expected a window of at most ${MAX_WINDOW_MONTHS} months, received ${months.length}`, 'to');
  return months;
}
