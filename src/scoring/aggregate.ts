/**
 * Rules 3 to 7 and 9 of DESIGN.md §4: everything computed over a set of objective-months.
 */
import { assertBetween, assertCount, assertFinite, clean, describe, orderIndependentSum } from './numeric';
import { OBJECTIVE_STATUSES, type Compliance, type ErrorBudget, type ObjectiveMonthResult, type ObjectiveStatus, type ServiceCredit } from './types';

function assertStatus(status: unknown): asserts status is ObjectiveStatus {
  if (!OBJECTIVE_STATUSES.includes(status as ObjectiveStatus)) {
    throw new RangeError(`status: expected one of ${OBJECTIVE_STATUSES.join(', ')}, received ${describe(status)}`);
  }
}

/**
 * Rule 3: the score of any set of objective-months, 100 × Σ(weight × attainment) / Σ(weight) over
 * the scored ones (attainment not null); null when none is scored (or, with weights of 0, when the
 * scored weight is 0). Both sums are taken in ascending order, so the same objective-months give the
 * bit-for-bit same score whatever order they come in, and the result is rounded to 9 decimal places
 * to drop float noise (80.00000000000001 → 80). Throws a `RangeError` on a negative or non-finite
 * weight, or an attainment outside [0, 1].
 */
export function score(items: Iterable<{ weight: number; attainment: number | null }>): number | null {
  const products: number[] = [];
  const weights: number[] = [];
  for (const item of items) {
    if (item.attainment === null) continue;
    assertFinite('weight', item.weight);
    if (item.weight < 0) throw new RangeError(`weight: expected a number from 0, received ${describe(item.weight)}`);
    assertBetween('attainment', item.attainment, 0, 1);
    products.push(item.weight * item.attainment);
    weights.push(item.weight);
  }
  const totalWeight = orderIndependentSum(weights);
  if (weights.length === 0 || totalWeight === 0) return null;
  return Math.min(100, clean((100 * orderIndependentSum(products)) / totalWeight));
}

/**
 * Rule 4: compliance counts of a set of objective-months given by their statuses. `evaluated`
 * counts MET, AT_RISK, BREACHED and NO_DATA; `met` counts MET and AT_RISK; `breaches` counts
 * BREACHED and NO_DATA (so met + breaches = evaluated); PENDING and EXCUSED count nowhere.
 * `rate` = met / evaluated, null when nothing was evaluated. Throws on an unknown status.
 */
export function compliance(statuses: Iterable<ObjectiveStatus>): Compliance {
  let met = 0;
  let breaches = 0;
  for (const s of statuses) {
    assertStatus(s);
    if (s === 'MET' || s === 'AT_RISK') met++;
    else if (s === 'BREACHED' || s === 'NO_DATA') breaches++;
  }
  const evaluated = met + breaches;
  return { evaluated, met, breaches, rate: evaluated === 0 ? null : met / evaluated };
}

/**
 * Rule 5: the status of an agreement-month, the worst of its objectives' statuses in the order
 * BREACHED, NO_DATA, AT_RISK, MET, then PENDING, then EXCUSED. So a real breach outranks a missing
 * report, an objective still PENDING does not hide the MET of the others (PENDING shows only when
 * nothing was evaluated), and EXCUSED shows only when every objective is excused. Null when the
 * month has no objectives at all.
 */
export function agreementMonthStatus(statuses: ObjectiveStatus[]): ObjectiveStatus | null {
  const present = new Set<ObjectiveStatus>();
  for (const s of statuses) {
    assertStatus(s);
    present.add(s);
  }
  return OBJECTIVE_STATUSES.find((s) => present.has(s)) ?? null;
}

/**
 * Rule 6: the error budget of a set (the rolling 12 months ending at a month, for the caller to
 * choose): allowed misses = floor((1 − complianceTarget) × evaluated), remaining = allowed −
 * breaches, which goes negative once the budget is overspent. The product is rounded to 9 decimal
 * places before the floor, so `(1 − 0.9) × 10`, which is 0.9999999999999998 in binary floating
 * point, allows 1 miss as it should. Throws a `RangeError` unless complianceTarget is in [0, 1] and
 * breaches ≤ evaluated are whole numbers.
 */
export function errorBudget(complianceTarget: number, c: { evaluated: number; breaches: number }): ErrorBudget {
  assertBetween('complianceTarget', complianceTarget, 0, 1);
  assertCount('evaluated', c.evaluated);
  assertCount('breaches', c.breaches);
  if (c.breaches > c.evaluated) throw new RangeError(`breaches: expected at most evaluated (${c.evaluated}), received ${c.breaches}`);
  const allowed = Math.floor(clean((1 - complianceTarget) * c.evaluated));
  return { allowed, remaining: allowed - c.breaches };
}

/**
 * Rule 7: the service credit of one agreement-month. uncappedPercent = Σ creditPercent over the
 * objectives BREACHED or NO_DATA (EXCUSED, PENDING, AT_RISK and MET credit nothing); percent =
 * min(uncappedPercent, creditCapPercent); amount = monthlyCharge × percent / 100. All three are
 * rounded to 9 decimal places (0.1 + 0.2 → 0.3). Throws a `RangeError` unless creditCapPercent is
 * from 0 to 100 and monthlyCharge is ≥ 0.
 */
export function serviceCredit(results: ObjectiveMonthResult[], creditCapPercent: number, monthlyCharge: number): ServiceCredit {
  assertBetween('creditCapPercent', creditCapPercent, 0, 100);
  assertFinite('monthlyCharge', monthlyCharge);
  if (monthlyCharge < 0) throw new RangeError(`monthlyCharge: expected a number from 0, received ${describe(monthlyCharge)}`);
  const credited: number[] = [];
  for (const r of results) {
    assertStatus(r.status);
    if (r.status !== 'BREACHED' && r.status !== 'NO_DATA') continue;
    assertBetween('creditPercent', r.creditPercent, 0, 100);
    credited.push(r.creditPercent);
  }
  const uncappedPercent = clean(orderIndependentSum(credited));
  const percent = Math.min(uncappedPercent, creditCapPercent);
  return { percent, amount: clean((monthlyCharge * percent) / 100), uncappedPercent };
}

/**
 * Rule 9: a roll-up (an agreement over a window, a department, a tier, the organisation) pools the
 * objective-months of all the given months and scores them as one set: one {@link score} and one
 * {@link compliance} over every objective-month, never an average of per-month or per-agreement
 * scores. The result does not depend on the order of months or objectives.
 */
export function rollUp(months: Iterable<{ objectives: ObjectiveMonthResult[] }>): { score: number | null; compliance: Compliance } {
  const pooled: ObjectiveMonthResult[] = [];
  for (const m of months) pooled.push(...m.objectives);
  return { score: score(pooled), compliance: compliance(pooled.map((o) => o.status)) };
}
