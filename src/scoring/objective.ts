/**
 * Rules 1 and 2 of DESIGN.md §4: the status and the attainment of one objective in one month.
 */
import { assertDate, assertFinite, describe } from './numeric';
import { DIRECTIONS, OBJECTIVE_STATUSES, type Direction, type ObjectiveMonthInput, type ObjectiveMonthResult, type ObjectiveStatus, type ObjectiveTerms } from './types';

/**
 * Rule 1's validation of a warning threshold: why `warning` cannot go with `target` for a metric of
 * `direction`, or null when it can (a null warning always can). HIGHER_IS_BETTER needs
 * warning ≥ target (the warning fires before the breach, on the way down); LOWER_IS_BETTER needs
 * warning ≤ target. A warning equal to the target is allowed and simply never produces AT_RISK. The
 * message follows the project's "field: expected …, received …" style so the GraphQL layer can
 * return it as a user error on `warning`.
 */
export function warningProblem(direction: Direction, target: number, warning: number | null): string | null {
  if (warning === null) return null;
  if (typeof warning !== 'number' || !Number.isFinite(warning)) return `warning: expected a finite number or null, received ${describe(warning)}`;
  if (direction === 'HIGHER_IS_BETTER' && warning < target) {
    return `warning: expected a number at or above the target ${target} (HIGHER_IS_BETTER warns before the value drops below the target), received ${warning}`;
  }
  if (direction === 'LOWER_IS_BETTER' && warning > target) {
    return `warning: expected a number at or below the target ${target} (LOWER_IS_BETTER warns before the value rises above the target), received ${warning}`;
  }
  return null;
}

/**
 * Why a set of objective terms cannot be scored, or null when it can: a known direction, a finite
 * target, a warning that passes {@link warningProblem}, a weight above 0 and a credit percent from
 * 0 to 100 (the same bounds the agreement inputs enforce). The message names the field first.
 */
export function termsProblem(terms: ObjectiveTerms): string | null {
  if (!DIRECTIONS.includes(terms.direction)) return `direction: expected ${DIRECTIONS.join(' or ')}, received ${describe(terms.direction)}`;
  if (typeof terms.target !== 'number' || !Number.isFinite(terms.target)) return `target: expected a finite number, received ${describe(terms.target)}`;
  const w = warningProblem(terms.direction, terms.target, terms.warning);
  if (w) return w;
  if (typeof terms.weight !== 'number' || !Number.isFinite(terms.weight) || terms.weight <= 0) return `weight: expected a number above 0, received ${describe(terms.weight)}`;
  if (typeof terms.creditPercent !== 'number' || !Number.isFinite(terms.creditPercent) || terms.creditPercent < 0 || terms.creditPercent > 100) {
    return `creditPercent: expected a number from 0 to 100, received ${describe(terms.creditPercent)}`;
  }
  return null;
}

/** What {@link objectiveStatus} reads, checked; throws a `RangeError` naming the field. */
function assertStatusInput(o: ObjectiveMonthInput, now: Date): void {
  if (!DIRECTIONS.includes(o.direction)) throw new RangeError(`direction: expected ${DIRECTIONS.join(' or ')}, received ${describe(o.direction)}`);
  assertFinite('target', o.target);
  const w = warningProblem(o.direction, o.target, o.warning);
  if (w) throw new RangeError(w);
  if (o.value !== null) assertFinite('value', o.value);
  if (typeof o.excused !== 'boolean') throw new RangeError(`excused: expected a boolean, received ${describe(o.excused)}`);
  assertDate('dueAt', o.dueAt);
  assertDate('monthEndsAt', o.monthEndsAt);
  assertDate('now', now);
}

/**
 * Rules 0 and 1: the status of one objective-month at instant `now`. Before the month has ended
 * (`now` < `monthEndsAt`), PENDING whatever is known of it: nothing unfinished or future is scored,
 * breached or credited, AUTOMATED objectives included (rule 0). Then EXCUSED first, whatever the value
 * (an approved exclusion covers the month). Without a value: PENDING while `now` ≤ `dueAt` (the
 * report is due *at* `dueAt`, so at that very instant it is still not late) and NO_DATA once `now`
 * is after it. With a value (even one submitted before the due date), HIGHER_IS_BETTER is BREACHED
 * when value < target, else AT_RISK when a warning is set and value < warning, else MET;
 * LOWER_IS_BETTER mirrors it with >. Boundaries are inclusive: a value equal to the target (or to
 * the warning) is not a breach (nor a warning). Throws a `RangeError` on invalid input.
 */
export function objectiveStatus(o: ObjectiveMonthInput, now: Date): ObjectiveStatus {
  assertStatusInput(o, now);
  if (now.getTime() < o.monthEndsAt.getTime()) return 'PENDING';
  if (o.excused) return 'EXCUSED';
  if (o.value === null) return now.getTime() <= o.dueAt.getTime() ? 'PENDING' : 'NO_DATA';
  const v = o.value;
  if (o.direction === 'HIGHER_IS_BETTER') {
    if (v < o.target) return 'BREACHED';
    if (o.warning !== null && v < o.warning) return 'AT_RISK';
    return 'MET';
  }
  if (v > o.target) return 'BREACHED';
  if (o.warning !== null && v > o.warning) return 'AT_RISK';
  return 'MET';
}

/**
 * Rule 2: the attainment in [0, 1] of an objective-month, or null when it is not scored. The status
 * decides whether it is scored: EXCUSED and PENDING → null, NO_DATA → 0; MET, AT_RISK and BREACHED
 * need the value. HIGHER_IS_BETTER: 1 when value ≥ target, else max(0, value / target) for a
 * positive target and 0 for a target ≤ 0. LOWER_IS_BETTER: 1 when value ≤ target, else
 * target / value for a positive target and 0 for a target ≤ 0 (the rule says "t = 0 → 0"; a negative
 * target is treated the same, since target / value would leave [0, 1] or divide by zero).
 * Throws a `RangeError` when a value status comes without a finite value.
 */
export function attainment(direction: Direction, target: number, value: number | null, status: ObjectiveStatus): number | null {
  if (!OBJECTIVE_STATUSES.includes(status)) throw new RangeError(`status: expected one of ${OBJECTIVE_STATUSES.join(', ')}, received ${describe(status)}`);
  if (status === 'EXCUSED' || status === 'PENDING') return null;
  if (status === 'NO_DATA') return 0;
  if (!DIRECTIONS.includes(direction)) throw new RangeError(`direction: expected ${DIRECTIONS.join(' or ')}, received ${describe(direction)}`);
  assertFinite('target', target);
  if (value === null) throw new RangeError(`value: expected a finite number for status ${status}, received null`);
  assertFinite('value', value);
  if (direction === 'HIGHER_IS_BETTER') {
    if (value >= target) return 1;
    return target > 0 ? Math.max(0, value / target) : 0;
  }
  if (value <= target) return 1;
  return target > 0 ? target / value : 0;
}

/**
 * Rules 1 and 2 together for one objective-month: validates the whole input (see
 * {@link termsProblem}; a `RangeError` names the offending field), then returns the status, the
 * attainment, and the weight and credit percent the aggregate rules need. The result is plain data
 * that can be pooled with results of other months and agreements.
 */
export function evaluateObjectiveMonth(o: ObjectiveMonthInput, now: Date): ObjectiveMonthResult {
  const problem = termsProblem(o);
  if (problem) throw new RangeError(problem);
  const status = objectiveStatus(o, now);
  return { status, attainment: attainment(o.direction, o.target, o.value, status), weight: o.weight, creditPercent: o.creditPercent };
}
