/**
 * The scoring module: the pure rules of DESIGN.md §4 (see docs/scoring.md). Plain data in, plain
 * data out; "now" is always an argument. It imports nothing but its own files and
 * `../common/month`, which test/unit/scoring-purity.test.ts enforces.
 */
export * from './types';
export { warningProblem, termsProblem, objectiveStatus, attainment, evaluateObjectiveMonth } from './objective';
export { score, compliance, agreementMonthStatus, errorBudget, serviceCredit, rollUp } from './aggregate';
export { trend, percentile, baselineSuggestion, TREND_THRESHOLD, BASELINE_WINDOW, BASELINE_MIN_VALUES } from './series';
export { scoreAgreementMonth, scoreAgreementWindow, ERROR_BUDGET_MONTHS } from './agreement';
export { versionAt, activeInMonth, measuredInMonth, type AgreementFacts, type VersionFacts } from './measured';
export { clean } from './numeric';
export * from './ledger';
export * from './automated';
export * from './measurements';
