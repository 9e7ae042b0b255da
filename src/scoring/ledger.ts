/**
 * The score ledger's rules as pure functions (DESIGN §5 month close, §8 write and read side): what
 * an agreement-month's stored inputs evaluate to at an instant, when it closes, and until when a
 * stored evaluation holds. The ledger keeps each month's *inputs* (terms, values, exclusions, due
 * instants, the latest revision's state) beside its results, so a month can be re-evaluated at any
 * later instant without reading the facts again: that is how a close is settled with the data the
 * month had when its close instant passed, not the data a later write brings.
 */
import { scoreAgreementMonth } from './agreement';
import { addMonths, monthOf } from '../common/month';
import type { AgreementMonthResult, Direction, Month, ObjectiveStatus } from './types';

/** The phase of an agreement-month (rule 0 and §5): running, ended but still open, closed. */
export type MonthPhase = 'RUNNING' | 'ENDED' | 'CLOSED';

/** One objective of a stored agreement-month: its terms and its inputs. */
export interface LedgerObjectiveInput {
  objectiveId: string;
  direction: Direction;
  target: number;
  warning: number | null;
  weight: number;
  creditPercent: number;
  /** The month's value (for AUTOMATED metrics, measured so far while the month runs); null when none. */
  value: number | null;
  excused: boolean;
}

/** What decides whether and when a month closes: the state of its latest report revision. */
export interface LedgerReportState {
  /** As stored: SUBMITTED, ACKNOWLEDGED or DISPUTED (drafts are not reports yet). */
  status: string;
  /** When the latest revision was acknowledged (by the customer, a ruling, or deemed). */
  acknowledgedAt: Date | null;
  /** End of the latest revision's acceptance window, if it has one. */
  acceptanceDueAt: Date | null;
  /** Acknowledged by silence (recorded at the window's end; it took effect just after it). */
  deemed: boolean;
}

/** Everything needed to evaluate an agreement-month at any instant, with no other reads. */
export interface LedgerMonthInput {
  month: Month;
  complianceTarget: number;
  creditCapPercent: number;
  monthlyCharge: number;
  dueAt: Date;
  monthEndsAt: Date;
  /** Whether any objective is MANUAL (a month without one closes at its due instant). */
  hasManual: boolean;
  report: LedgerReportState | null;
  objectives: LedgerObjectiveInput[];
  /**
   * Instants after which an input value changes by time alone (an unanswered escalation passing
   * its response deadline counts as missed): the stored values hold until the first of them.
   */
  valueChanges: Date[];
}

/** Rank of a status, worst first (rule 5's order): what SQL aggregates take the minimum of. */
export const STATUS_RANK: Record<ObjectiveStatus, number> = { BREACHED: 0, NO_DATA: 1, AT_RISK: 2, MET: 3, PENDING: 4, EXCUSED: 5 };

/** Rule 0..7 applied to stored inputs at `at`. */
export function evaluateLedgerMonth(m: LedgerMonthInput, at: Date): AgreementMonthResult {
  return scoreAgreementMonth(
    {
      month: m.month,
      complianceTarget: m.complianceTarget,
      creditCapPercent: m.creditCapPercent,
      monthlyCharge: m.monthlyCharge,
      objectives: m.objectives.map((o) => ({ ...o, dueAt: m.dueAt, monthEndsAt: m.monthEndsAt })),
    },
    at,
  );
}

/** Whether the latest revision is disputed: the month's results stand on contested values. */
export const isDisputedState = (report: LedgerReportState | null): boolean => report?.status === 'DISPUTED';

/**
 * When the month closes (DESIGN §5), from its inputs alone: when the latest revision was
 * acknowledged; the first instant after its acceptance window when it is SUBMITTED (silence is
 * deemed acknowledgement: a verdict at the window's last instant still counts); with no MANUAL
 * objective, the first instant after its due instant. Never before the first instant after the due
 * instant (an early acknowledgement closes the month when it falls due), never while disputed,
 * and not at all for a month with MANUAL
 * objectives and no report (it stays open, NO_DATA, until one is acknowledged). `notBefore` (a
 * reopening) moves the close to that instant at the earliest.
 */
export function closeInstant(m: Pick<LedgerMonthInput, 'dueAt' | 'monthEndsAt' | 'hasManual' | 'report'>, notBefore: Date | null = null): Date | null {
  let at: number | null = null;
  if (!m.hasManual) at = m.dueAt.getTime() + 1;
  else if (m.report?.status === 'ACKNOWLEDGED') at = (m.report.acknowledgedAt ?? m.monthEndsAt).getTime() + (m.report.deemed ? 1 : 0);
  else if (m.report?.status === 'SUBMITTED' && m.report.acceptanceDueAt) at = m.report.acceptanceDueAt.getTime() + 1;
  if (at === null) return null;
  // Never before the report falls due: until then automation may still send the month's data,
  // and an objective without a value is still PENDING, which a close would freeze for good.
  at = Math.max(at, m.monthEndsAt.getTime(), m.dueAt.getTime() + 1, notBefore?.getTime() ?? -Infinity);
  return new Date(at);
}

/**
 * The first instant after `at` at which an evaluation of `m` made at `at` stops holding: the month
 * ends, the report falls due (PENDING becomes NO_DATA just after it), the month closes, or a value
 * changes by time. Null when nothing changes by time alone any more.
 */
export function validUntil(m: LedgerMonthInput, at: Date, notBefore: Date | null = null): Date | null {
  const t = at.getTime();
  const candidates = [m.monthEndsAt.getTime(), m.dueAt.getTime() + 1, ...m.valueChanges.map((d) => d.getTime() + 1)];
  const close = closeInstant(m, notBefore);
  if (close) candidates.push(close.getTime());
  const next = candidates.filter((c) => c > t).reduce((a, b) => Math.min(a, b), Infinity);
  return next === Infinity ? null : new Date(next);
}

/** The phase at `at` of a month that is not closed. */
export const phaseAt = (m: Pick<LedgerMonthInput, 'monthEndsAt'>, at: Date): MonthPhase => (at.getTime() < m.monthEndsAt.getTime() ? 'RUNNING' : 'ENDED');

/** The sums a pooled roll-up needs from one agreement-month (rule 9), kept on its ledger row. */
export interface MonthSums {
  /** Σ weight × attainment over the scored objectives, and Σ weight over them. */
  weighted: number;
  weight: number;
  /** Objectives with an attainment (the score is null without one). */
  scored: number;
  evaluated: number;
  met: number;
  breaches: number;
}

export function sumsOf(result: AgreementMonthResult): MonthSums {
  let weighted = 0;
  let weight = 0;
  let scored = 0;
  for (const o of result.objectives) {
    if (o.attainment === null) continue;
    weighted += o.weight * o.attainment;
    weight += o.weight;
    scored++;
  }
  return { weighted, weight, scored, evaluated: result.compliance.evaluated, met: result.compliance.met, breaches: result.compliance.breaches };
}

/** The last month the ledger keeps for every agreement at `now`: the next one (zones ahead of UTC). */
export const horizonOf = (now: Date): Month => addMonths(monthOf(now), 1);

/** The news in an objective-month's status moving from `before` (null: not stored before) to `after`. */
export type ObjectiveNews = 'AT_RISK' | 'BREACHED' | 'RECOVERED';

/**
 * What people hear when an objective-month's status moves (DESIGN §10, issue 15): it became AT_RISK
 * or BREACHED (from anything else), or it RECOVERED (from AT_RISK or BREACHED to MET or EXCUSED).
 * PENDING, NO_DATA and unchanged statuses say nothing: a running month has no verdict, and a
 * missing report is the report's news (`report.overdue`), not the objective's.
 */
export function objectiveNews(before: ObjectiveStatus | null, after: ObjectiveStatus): ObjectiveNews | null {
  if (before === after) return null;
  if (after === 'BREACHED') return 'BREACHED';
  if (after === 'AT_RISK') return 'AT_RISK';
  if ((after === 'MET' || after === 'EXCUSED') && (before === 'AT_RISK' || before === 'BREACHED')) return 'RECOVERED';
  return null;
}
