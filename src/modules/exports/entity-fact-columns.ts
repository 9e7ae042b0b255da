/**
 * The columns of the entity facts (issue 16, "BI for every entity"): report revisions,
 * exclusions, amendments, agreement versions, escalations, credit ledger entries and
 * agreement-month scorecards. Plain data, as fact-columns.ts: each table is the one declaration of
 * its GraphQL object type, its row type and its CSV header (docs/bi.md describes them for a
 * warehouse).
 */
import type { FactColumn, FactColumns, RowOf } from './fact-columns';

/**
 * The agreement a row belongs to, denormalised for BI: its key, tier and the codes of its parties
 * and service (as the measurement facts show them).
 */
export const AGREEMENT_COLUMNS = {
  agreementKey: { type: 'string' },
  tier: { type: 'tier' },
  provider: { type: 'string', nullable: true, description: 'Provider department code.' },
  customer: { type: 'string', nullable: true, description: 'Customer department code.' },
  service: { type: 'string', nullable: true, description: 'Service code (SERVICE agreements).' },
} as const satisfies FactColumns;

/** A row's change instant: what `updatedSince` compares with. */
const UPDATED_AT = { type: 'date', description: 'When a value shown in this row last changed (server clock): the key of incremental pulls.' } as const satisfies FactColumn;

/** A tombstone column, for tables whose rows can disappear. */
const deleted = (what: string): FactColumn => ({
  type: 'boolean',
  description: `A tombstone: ${what}. Only incremental pulls (\`updatedSince\`) return these; delete the row by \`id\`.`,
});

/** One submitted revision of a report, with the report's status. */
export const REPORT_REVISION_FACT_COLUMNS = {
  id: { type: 'id', description: 'The revision’s id: stable, the warehouse key.' },
  reportId: { type: 'id', description: 'The report (agreement-month) the revision belongs to.' },
  month: { type: 'month' },
  ...AGREEMENT_COLUMNS,
  revision: { type: 'int', description: '1 for the first submission, then one more per submission.' },
  latest: { type: 'boolean', description: 'This is the report’s latest revision (the one that counts).' },
  reportStatus: { type: 'string', description: 'The report’s status at the request’s instant (SUBMITTED, ACKNOWLEDGED, DISPUTED), deemed acknowledgement included.' },
  deemedAcknowledged: { type: 'boolean', description: 'The report is ACKNOWLEDGED by the customer’s silence (its latest revision’s acceptance window passed).' },
  lateByWorkingDays: { type: 'int', nullable: true, description: 'Working days after the due date of the report’s first submission (0: on time).' },
  submittedAt: { type: 'date' },
  acceptanceDueAt: { type: 'date', nullable: true },
  acknowledgedAt: { type: 'date', nullable: true },
  disputedAt: { type: 'date', nullable: true },
  disputeReason: { type: 'string', nullable: true },
  ruling: { type: 'string', nullable: true, description: 'An admin’s ruling on a dispute of this revision: UPHELD or REJECTED.' },
  ruledAt: { type: 'date', nullable: true },
  frictionItems: { type: 'int', description: 'Number of friction items the revision carries.' },
  narrative: { type: 'string' },
  updatedAt: UPDATED_AT,
} as const satisfies FactColumns;
export type ReportRevisionFact = RowOf<typeof REPORT_REVISION_FACT_COLUMNS>;

/** One exclusion request (excused breach). */
export const EXCLUSION_FACT_COLUMNS = {
  id: { type: 'id' },
  month: { type: 'month', description: 'The objective-month to excuse.' },
  ...AGREEMENT_COLUMNS,
  metric: { type: 'string', description: 'Metric code of the objective to excuse.' },
  status: { type: 'string', description: 'REQUESTED, APPROVED or REJECTED; only APPROVED excuses.' },
  reasonCode: { type: 'string' },
  statusWhenRequested: { type: 'string', description: 'BREACHED or NO_DATA.' },
  explanation: { type: 'string' },
  evidenceUrl: { type: 'string', nullable: true },
  requestedAt: { type: 'date' },
  decidedAt: { type: 'date', nullable: true },
  decisionNote: { type: 'string', nullable: true },
  updatedAt: UPDATED_AT,
} as const satisfies FactColumns;
export type ExclusionFact = RowOf<typeof EXCLUSION_FACT_COLUMNS>;

/** One amendment (change control), withdrawn ones included. */
export const AMENDMENT_FACT_COLUMNS = {
  id: { type: 'id' },
  month: { type: 'month', description: 'The first month the changed terms govern (effectiveMonth).' },
  ...AGREEMENT_COLUMNS,
  status: { type: 'string', description: 'PROPOSED, APPROVED, REJECTED or WITHDRAWN (a withdrawn amendment stays, as history).' },
  proposedBy: { type: 'string', description: 'PROVIDER, CUSTOMER or ADMIN.' },
  reason: { type: 'string' },
  proposedAt: { type: 'date' },
  providerApprovedAt: { type: 'date', nullable: true },
  customerApprovedAt: { type: 'date', nullable: true },
  decidedAt: { type: 'date', nullable: true },
  rejectionReason: { type: 'string', nullable: true },
  resultingVersion: { type: 'int', nullable: true, description: 'The version number an approved amendment became.' },
  objectivesAdded: { type: 'int' },
  objectivesChanged: { type: 'int' },
  objectivesRemoved: { type: 'int' },
  updatedAt: UPDATED_AT,
} as const satisfies FactColumns;
export type AmendmentFact = RowOf<typeof AMENDMENT_FACT_COLUMNS>;

/** One version of an agreement's terms. */
export const AGREEMENT_VERSION_FACT_COLUMNS = {
  id: { type: 'id' },
  month: { type: 'month', description: 'The first month these terms govern (effectiveMonth).' },
  ...AGREEMENT_COLUMNS,
  number: { type: 'int' },
  effectiveFrom: { type: 'month', description: 'First month of the agreement.' },
  effectiveTo: { type: 'month', nullable: true, description: 'Last month of the agreement; open-ended when null.' },
  complianceTarget: { type: 'float', description: 'A fraction, 0–1.' },
  monthlyCharge: { type: 'float' },
  creditCapPercent: { type: 'float', description: 'Percent of the monthly charge.' },
  reportDueWorkingDays: { type: 'int' },
  acceptanceWorkingDays: { type: 'int' },
  reviewCadenceMonths: { type: 'int' },
  nextReviewDate: { type: 'string', nullable: true, description: '"YYYY-MM-DD".' },
  timeZone: { type: 'string', description: 'The business calendar’s IANA time zone.' },
  createdAt: { type: 'date' },
  updatedAt: UPDATED_AT,
} as const satisfies FactColumns;
export type AgreementVersionFact = RowOf<typeof AGREEMENT_VERSION_FACT_COLUMNS>;

/** One escalation with its clocks. */
export const ESCALATION_FACT_COLUMNS = {
  id: { type: 'id' },
  month: { type: 'month', description: 'The month it counts for (opened, in the agreement’s time zone).' },
  ...AGREEMENT_COLUMNS,
  severity: { type: 'string' },
  status: { type: 'string', description: 'OPEN, ACKNOWLEDGED or RESOLVED.' },
  title: { type: 'string' },
  openedAt: { type: 'date' },
  acknowledgedAt: { type: 'date', nullable: true },
  resolvedAt: { type: 'date', nullable: true },
  responseTargetHours: { type: 'float', description: 'Working hours (CRITICAL: clock hours).' },
  resolutionTargetHours: { type: 'float' },
  responseHours: { type: 'float', nullable: true, description: 'Hours from opening to acknowledgement on the severity’s clock, to 9 decimals.' },
  resolutionHours: { type: 'float', nullable: true, description: 'Hours from opening to resolution on the severity’s clock, to 9 decimals.' },
  responseMet: { type: 'boolean', nullable: true, description: 'null while unanswered.' },
  resolutionMet: { type: 'boolean', nullable: true, description: 'null while unresolved.' },
  updatedAt: UPDATED_AT,
} as const satisfies FactColumns;
export type EscalationFact = RowOf<typeof ESCALATION_FACT_COLUMNS>;

/** One posting of the credit ledger. */
export const CREDIT_FACT_COLUMNS = {
  id: { type: 'id' },
  month: { type: 'month' },
  ...AGREEMENT_COLUMNS,
  kind: { type: 'string', nullable: true, description: 'CLOSE or ADJUSTMENT; null on a tombstone.' },
  percent: { type: 'float', nullable: true, description: 'The month’s credit percent after this entry.' },
  amount: { type: 'float', nullable: true, description: 'The month’s credit amount after this entry (units of the monthly charge).' },
  delta: { type: 'float', nullable: true, description: 'What this entry adds to the month’s earlier postings: sum `delta` for the month’s credit.' },
  objectives: { type: 'string', nullable: true, description: 'Metric codes of the objectives that caused the credit, space-separated.' },
  postedAt: { type: 'date', nullable: true, description: 'When the month closed (or closed again).' },
  reason: { type: 'string', nullable: true, description: 'For an adjustment: the reopening’s reason.' },
  updatedAt: { type: 'date', description: 'When the entry was written, or taken back (a tombstone).' },
  deleted: deleted('the entry was taken back (a write at an instant before the close undid it; the month closes again with a new entry)'),
} as const satisfies FactColumns;
export type CreditFact = RowOf<typeof CREDIT_FACT_COLUMNS>;

/** One agreement-month of the score ledger. */
export const SCORECARD_FACT_COLUMNS = {
  id: { type: 'id', description: '`agreementId:month`: stable, the warehouse key.' },
  month: { type: 'month' },
  ...AGREEMENT_COLUMNS,
  versionNumber: { type: 'int', description: 'The version of the terms in force in the month.' },
  phase: { type: 'string', description: 'RUNNING, ENDED or CLOSED.' },
  status: { type: 'string', nullable: true, description: 'The worst objective status (rule 5).' },
  score: { type: 'float', nullable: true, description: '0–100, to 9 decimals; null when nothing is scored.' },
  evaluated: { type: 'int' },
  met: { type: 'int' },
  breaches: { type: 'int' },
  complianceRate: { type: 'float', nullable: true, description: 'met / evaluated, a fraction to 9 decimals.' },
  creditPercent: { type: 'float' },
  creditAmount: { type: 'float' },
  monthlyCharge: { type: 'float' },
  reportStatus: { type: 'string', nullable: true },
  reportRevision: { type: 'int', nullable: true },
  disputed: { type: 'boolean', description: 'The latest report revision is disputed: results contested, credit provisional.' },
  closedAt: { type: 'date', nullable: true },
  updatedAt: UPDATED_AT,
  deleted: deleted('the agreement-month left the measured set (a suspension, a SERVICE agreement taking over its CUSTOMER parent)'),
} as const satisfies FactColumns;
export type ScorecardFact = RowOf<typeof SCORECARD_FACT_COLUMNS>;
