/**
 * One agreement's months: rules 1 to 8 applied together to an agreement-month, and to a window of
 * agreement-months (pooled score and compliance, trend, rolling error budget).
 */
import { addMonths, compareMonths, monthProblem } from '../common/month';
import { agreementMonthStatus, compliance, errorBudget, rollUp, score, serviceCredit } from './aggregate';
import { assertBetween, assertDate, clean, describe, orderIndependentSum } from './numeric';
import { evaluateObjectiveMonth } from './objective';
import { trend } from './series';
import type { AgreementMonthInput, AgreementMonthResult, AgreementWindowResult, ErrorBudgetAt, ObjectiveMonthResult } from './types';

/** The error budget is rolling over this many months, ending at (and including) the month. */
export const ERROR_BUDGET_MONTHS = 12;

function prefixed<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RangeError) throw new RangeError(`${prefix}${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Scores one month of one measured agreement at instant `now`: each objective by rules 1–2 (results
 * in input order), the month's score (rule 3), compliance (rule 4), status (rule 5, null with no
 * objectives) and service credit (rule 7). The caller passes the objectives and terms of the version
 * in force in that month, with `excused` set from approved exclusions. Throws a `RangeError` whose
 * message starts with the month and the objective's position when an input is invalid.
 */
export function scoreAgreementMonth(m: AgreementMonthInput, now: Date): AgreementMonthResult {
  const problem = monthProblem(m.month);
  if (problem) throw new RangeError(`month: ${problem}`);
  assertDate('now', now);
  return prefixed(`${m.month}: `, () => {
    assertBetween('complianceTarget', m.complianceTarget, 0, 1);
    if (!Array.isArray(m.objectives)) throw new RangeError(`objectives: expected an array, received ${describe(m.objectives)}`);
    const objectives: ObjectiveMonthResult[] = m.objectives.map((o, i) => prefixed(`objectives[${i}].`, () => evaluateObjectiveMonth(o, now)));
    const statuses = objectives.map((o) => o.status);
    return {
      month: m.month,
      objectives,
      score: score(objectives),
      status: agreementMonthStatus(statuses),
      compliance: compliance(statuses),
      credit: serviceCredit(objectives, m.creditCapPercent, m.monthlyCharge),
    };
  });
}

/**
 * Scores a window of months of one agreement at instant `now` (months in any order, each at most
 * once, gaps allowed). Returns the per-month results sorted by month; the window's score and
 * compliance pooled over all its objective-months (rule 9, never an average of the month scores);
 * the trend of the month scores (rule 8); the total credit amount; and the error budget (rule 6) at
 * the window's last month p: over the given months from p − 11 to p, with the compliance target in
 * force in p. The budget sees only the months passed in: for a true rolling 12-month budget the
 * caller must include the 11 months before p even when the window it displays is shorter. Null
 * budget for an empty window.
 */
export function scoreAgreementWindow(months: AgreementMonthInput[], now: Date): AgreementWindowResult {
  const seen = new Set<string>();
  for (const [i, m] of months.entries()) {
    const problem = monthProblem(m.month);
    if (problem) throw new RangeError(`months[${i}].month: ${problem}`);
    if (seen.has(m.month)) throw new RangeError(`months[${i}].month: expected each month at most once, received ${describe(m.month)} twice`);
    seen.add(m.month);
  }
  const inputs = [...months].sort((a, b) => compareMonths(a.month, b.month));
  const results = inputs.map((m) => scoreAgreementMonth(m, now));
  const pooled = rollUp(results);

  let budget: ErrorBudgetAt | null = null;
  if (inputs.length > 0) {
    const last = inputs[inputs.length - 1];
    const from = addMonths(last.month, -(ERROR_BUDGET_MONTHS - 1));
    const c = rollUp(results.filter((r) => compareMonths(r.month, from) >= 0)).compliance;
    budget = {
      month: last.month,
      from,
      complianceTarget: last.complianceTarget,
      evaluated: c.evaluated,
      breaches: c.breaches,
      ...errorBudget(last.complianceTarget, c),
    };
  }

  return {
    months: results,
    score: pooled.score,
    compliance: pooled.compliance,
    trend: trend(results.map((r) => ({ month: r.month, score: r.score }))),
    errorBudget: budget,
    creditAmount: clean(orderIndependentSum(results.map((r) => r.credit.amount))),
  };
}
