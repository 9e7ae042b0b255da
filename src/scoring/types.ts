/**
 * Plain data shapes of the scoring rules (DESIGN.md §4). Nothing here knows about the ORM, GraphQL
 * or the clock: callers build these objects from whatever they loaded and pass "now" explicitly.
 */
import type { Month } from '../common/month';

export type { Month };

/** Which way a metric is good: more is better (leads, availability) or less is better (MTTR). */
export type Direction = 'HIGHER_IS_BETTER' | 'LOWER_IS_BETTER';

/** Every direction, for validation and for generators in tests. */
export const DIRECTIONS: readonly Direction[] = ['HIGHER_IS_BETTER', 'LOWER_IS_BETTER'];

/** The status of one objective in one month (rule 1). */
export type ObjectiveStatus = 'MET' | 'AT_RISK' | 'BREACHED' | 'NO_DATA' | 'PENDING' | 'EXCUSED';

/** Every objective status, worst first (the order {@link agreementMonthStatus} uses). */
export const OBJECTIVE_STATUSES: readonly ObjectiveStatus[] = ['BREACHED', 'NO_DATA', 'AT_RISK', 'MET', 'PENDING', 'EXCUSED'];

/** The terms of one effective objective in force for a month (the version of that month). */
export interface ObjectiveTerms {
  direction: Direction;
  target: number;
  /** Optional early-warning threshold; HIGHER_IS_BETTER needs warning ≥ target, LOWER_IS_BETTER warning ≤ target. */
  warning: number | null;
  /** Relative weight in scores; must be above 0. */
  weight: number;
  /** Percent of the monthly charge credited when the objective is BREACHED or NO_DATA, 0 to 100. */
  creditPercent: number;
}

/** One effective objective in one month, with what was measured or reported. */
export interface ObjectiveMonthInput extends ObjectiveTerms {
  /** The measured or reported value; null when there is none (yet). */
  value: number | null;
  /** True when an approved exclusion covers this objective and month. */
  excused: boolean;
  /** The instant the month's report is due; without a value the month is PENDING up to and including it. */
  dueAt: Date;
  /** The instant the month ends in the agreement's time zone (rule 0): everything is PENDING before it. */
  monthEndsAt: Date;
}

/** The outcome of one objective-month: what every aggregate rule needs, nothing more. */
export interface ObjectiveMonthResult {
  status: ObjectiveStatus;
  /** In [0, 1]; null when not scored (EXCUSED, PENDING). */
  attainment: number | null;
  weight: number;
  creditPercent: number;
}

/** Rule 4: counts over a set of objective-months. `met + breaches === evaluated` always. */
export interface Compliance {
  /** Objective-months with status MET, AT_RISK, BREACHED or NO_DATA. */
  evaluated: number;
  /** MET or AT_RISK. */
  met: number;
  /** BREACHED or NO_DATA. */
  breaches: number;
  /** met / evaluated, or null when nothing was evaluated. */
  rate: number | null;
}

/** Rule 6: the misses a compliance target allows over a set, and what is left of them. */
export interface ErrorBudget {
  allowed: number;
  /** allowed − breaches; negative once the budget is overspent. */
  remaining: number;
}

/** Rule 7: the service credit of one agreement-month. */
export interface ServiceCredit {
  /** Credited percent of the monthly charge, after the cap. */
  percent: number;
  /** monthlyCharge × percent / 100. */
  amount: number;
  /** The sum before the cap (shows how far above the cap a month went). */
  uncappedPercent: number;
}

/** Rule 8: the direction of a least-squares trend. */
export type TrendDirection = 'IMPROVING' | 'STABLE' | 'DECLINING';

/** Rule 8: slope in score points per month and its direction; both null below two scored months. */
export interface Trend {
  slope: number | null;
  direction: TrendDirection | null;
}

/** Rule 10: a suggested target range from recent history. */
export interface BaselineSuggestion {
  median: number;
  p25: number;
  p75: number;
  /** How many values the suggestion is based on (3 to 6). */
  basedOn: number;
}

/** Everything needed to score one month of one measured agreement. */
export interface AgreementMonthInput {
  month: Month;
  /** The effective objectives of the month; results come back in the same order. */
  objectives: ObjectiveMonthInput[];
  /** Share of evaluated objective-months that must be met, 0 to 1 (the version in force that month). */
  complianceTarget: number;
  /** Cap of the monthly service credit, in percent, 0 to 100. */
  creditCapPercent: number;
  /** The agreement's monthly internal charge, ≥ 0. */
  monthlyCharge: number;
}

/** The scored month of one agreement. */
export interface AgreementMonthResult {
  month: Month;
  /** One result per input objective, in input order. */
  objectives: ObjectiveMonthResult[];
  score: number | null;
  /** Null only when the month has no objectives. */
  status: ObjectiveStatus | null;
  compliance: Compliance;
  credit: ServiceCredit;
}

/** The error budget of a window's last month: rolling 12 months ending at it. */
export interface ErrorBudgetAt extends ErrorBudget {
  /** The month the budget is for (the window's last month). */
  month: Month;
  /** First month of the rolling period (month − 11). */
  from: Month;
  /** The compliance target in force in `month`. */
  complianceTarget: number;
  evaluated: number;
  breaches: number;
}

/** A window of months of one agreement, scored month by month and pooled. */
export interface AgreementWindowResult {
  /** Per-month results, sorted by month. */
  months: AgreementMonthResult[];
  /** Pooled over every objective-month of the window (rule 9), never an average of month scores. */
  score: number | null;
  compliance: Compliance;
  trend: Trend;
  /** Null when the window is empty. */
  errorBudget: ErrorBudgetAt | null;
  /** Sum of the months' credit amounts. */
  creditAmount: number;
}
