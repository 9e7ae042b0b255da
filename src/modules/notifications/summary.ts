/**
 * The one-line, human summary of an inbox item or an e-mail subject, from an event's type,
 * agreement key and payload: "LEGAL-PROC: the March 2026 report was disputed: <reason>". Types
 * this file does not know (added later) read as their type name.
 */

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `2026-03` → `March 2026`; anything else as given. */
export function monthName(month: unknown): string {
  if (typeof month !== 'string' || !/^\d{4}-\d{2}$/.test(month)) return String(month ?? '');
  return `${MONTHS[Number(month.slice(5, 7)) - 1]} ${month.slice(0, 4)}`;
}

/** What a summary reads from an event. */
export interface SummarySource {
  type: string;
  agreementKey: string | null;
  payload: Record<string, unknown>;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

/** The sentence after the agreement key, per type. */
function sentence(type: string, p: Record<string, unknown>): string {
  const report = `the ${monthName(p.month)} report`;
  const rev = typeof p.revision === 'number' && p.revision > 1 ? ` (revision ${p.revision})` : '';
  switch (type) {
    case 'report.submitted':
      return p.correction ? `${report} was corrected${rev}: acknowledge or dispute it` : `${report} was submitted: acknowledge or dispute it`;
    case 'report.acknowledged':
      return `${report}${rev} was acknowledged`;
    case 'report.disputed':
      return `${report}${rev} was disputed: ${text(p.reason)}`;
    case 'report.deemed_acknowledged':
      return `${report}${rev} was deemed acknowledged (the acceptance window passed)`;
    case 'report.dispute_settled':
      return `the dispute of ${report} was settled: ${text(p.ruling)}${p.note ? ` (${text(p.note)})` : ''}`;
    case 'report.due_soon':
      return `${report} is due soon${p.dueDate ? ` (${text(p.dueDate)})` : ''}`;
    case 'report.overdue':
      return `${report} is overdue${p.dueDate ? ` (due ${text(p.dueDate)})` : ''}`;
    case 'exclusion.requested':
      return `an exclusion of ${text(p.metricCode)} in ${monthName(p.month)} was requested (${text(p.reasonCode)}): approve or reject it`;
    case 'exclusion.decided':
      return `the exclusion for ${monthName(p.month)} was ${text(p.statusAfter).toLowerCase()}`;
    case 'amendment.proposed':
      return `an amendment from ${monthName(p.effectiveMonth)} was proposed: ${text(p.reason)}`;
    case 'amendment.decided':
      return `the amendment from ${monthName(p.effectiveMonth)} was ${text(p.statusAfter).toLowerCase()}`;
    case 'agreement.awaiting_approval':
      return `the draft "${text(p.title)}" awaits approval`;
    case 'agreement.activated':
      return 'the agreement was activated';
    case 'agreement.suspended':
      return 'the agreement was suspended';
    case 'agreement.resumed':
      return 'the agreement was resumed';
    case 'agreement.terminated':
      return p.effectiveMonth ? `the agreement was terminated from ${monthName(p.effectiveMonth)}` : 'the agreement was terminated';
    case 'agreement.suspension_requested':
      return `the ${text(p.requestedBy).toLowerCase()} asked to suspend the agreement: ${text(p.reason)}`;
    case 'agreement.resumption_requested':
      return `the ${text(p.requestedBy).toLowerCase()} asked to resume the agreement: ${text(p.reason)}`;
    case 'agreement.termination_requested':
      return `the ${text(p.requestedBy).toLowerCase()} asked to terminate the agreement from ${monthName(p.effectiveMonth)}: ${text(p.reason)}`;
    case 'agreement.termination_scheduled':
      return `the agreement will be terminated from ${monthName(p.effectiveMonth)}: ${text(p.reason)}`;
    case 'agreement.lifecycle_request_rejected':
      return `the request to ${text(p.kind).toLowerCase()} the agreement was rejected: ${text(p.reason)}`;
    case 'agreement.lifecycle_request_withdrawn':
      return `the request to ${text(p.kind).toLowerCase()} the agreement was withdrawn`;
    case 'agreement.review_due':
      return `the agreement is due for review${p.reviewDate ? ` (${text(p.reviewDate)})` : ''}`;
    case 'escalation.opened':
      return `a ${text(p.severity)} escalation was opened: ${text(p.title)}`;
    case 'escalation.resolved':
      return `the escalation of ${monthName(p.month)} was resolved`;
    case 'escalation.acknowledged':
      return `the ${text(p.severity)} escalation of ${monthName(p.month)} was acknowledged`;
    case 'escalation.deadline_near':
      return `a ${text(p.severity)} escalation nears its response deadline (${text(p.deadlineAt)})`;
    case 'escalation.deadline_missed':
      return `a ${text(p.severity)} escalation missed its response deadline (${text(p.deadlineAt)})`;
    case 'objective.at_risk':
      return `${text(p.metricCode)} is at risk in ${monthName(p.month)} (${text(p.value)} against ${text(p.target)})`;
    case 'objective.breached':
      return `${text(p.metricCode)} is breached in ${monthName(p.month)} (${text(p.value)} against ${text(p.target)})`;
    case 'objective.recovered':
      return `${text(p.metricCode)} recovered in ${monthName(p.month)}`;
    case 'reopening.rejected':
      return `reopening ${monthName(p.month)} was rejected: ${text(p.note)}`;
    case 'month.closed':
      return `${monthName(p.month)} was closed at ${text(p.percent)} % (credit ${text(p.amount)})`;
    case 'month.reopened':
      return `${monthName(p.month)} was reopened: ${text(p.reason)}`;
    case 'reopening.requested':
      return `reopening ${monthName(p.month)} was requested: ${text(p.reason)}`;
    default:
      return type;
  }
}

/** The summary line of an event. */
export function summaryOf(event: SummarySource): string {
  const line = sentence(event.type, event.payload ?? {});
  return event.agreementKey ? `${event.agreementKey}: ${line}` : line;
}
