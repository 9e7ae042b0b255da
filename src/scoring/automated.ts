/**
 * DESIGN §6 as pure rules: the AUTOMATED metrics of an agreement-month from its handoff events and
 * its escalations. The ORM side gathers the rows; the clocks (working hours, deadlines) are passed
 * in, so nothing here reads a calendar or the time.
 */
import { clean } from './numeric';
import { percentile, percentileAt } from './series';

const round9 = (x: number) => Math.round(x * 1e9) / 1e9;

/** What one agreement-month's handoff events give. */
export interface HandoffStats {
  volume: number;
  accepted: number;
  rejected: number;
  converted: number;
  responded: number;
  responseMedianHours: number | null;
  responseP90Hours: number | null;
  meanQuality: number | null;
}

/** The two response-time percentiles of {@link HandoffStats}: the median and the 90th. */
export const RESPONSE_MEDIAN = 0.5;
export const RESPONSE_P90 = 0.9;

/**
 * The handoff statistics of a set of events: volume, decisions, conversions, median and 90th
 * percentile of the working hours to a first response (responded events only, linear
 * interpolation as {@link percentile}), and the mean quality score (scored events only).
 */
export function handoffStats(events: Array<{ accepted: boolean; rejected: boolean; converted: boolean; responseHours: number | null; qualityScore: number | null }>): HandoffStats {
  const hours = events
    .map((e) => e.responseHours)
    .filter((h): h is number => h !== null)
    .sort((a, b) => a - b);
  const quality = events.map((e) => e.qualityScore).filter((q): q is number => q !== null);
  return handoffStatsOf({
    volume: events.length,
    accepted: events.filter((e) => e.accepted).length,
    rejected: events.filter((e) => e.rejected).length,
    converted: events.filter((e) => e.converted).length,
    responded: hours.length,
    responseHoursAt: (rank) => hours[rank],
    qualitySum: quality.reduce((a, b) => a + b, 0),
    scored: quality.length,
  });
}

/**
 * What {@link handoffStats} needs of a set of events, as a database can add it up: the counts,
 * the quality scores' sum, and the response hours by rank (ascending, from 0), of which only the
 * two on either side of each percentile's rank (see {@link percentileAt}) are asked for.
 */
export interface HandoffTally {
  volume: number;
  accepted: number;
  rejected: number;
  converted: number;
  responded: number;
  responseHoursAt: (rank: number) => number;
  qualitySum: number;
  scored: number;
}

/** {@link handoffStats} from a tally of the events. */
export function handoffStatsOf(t: HandoffTally): HandoffStats {
  return {
    volume: t.volume,
    accepted: t.accepted,
    rejected: t.rejected,
    converted: t.converted,
    responded: t.responded,
    responseMedianHours: t.responded ? round9(percentileAt(t.responded, RESPONSE_MEDIAN, t.responseHoursAt)) : null,
    responseP90Hours: t.responded ? round9(percentileAt(t.responded, RESPONSE_P90, t.responseHoursAt)) : null,
    meanQuality: t.scored ? round9(t.qualitySum / t.scored) : null,
  };
}

/**
 * The qualified handoffs: every item the customer has not rejected (accepted or not yet decided).
 * A volume commitment ("≥ 400 qualified leads") counts these, so a provider cannot meet it by
 * handing over work the customer turns down (issue 16, DESIGN §6).
 */
export const qualifiedOf = (s: Pick<HandoffStats, 'volume' | 'rejected'>): number => s.volume - s.rejected;

/** The rates of handoff statistics, as fractions in [0, 1] (DESIGN §7); null without a denominator. */
export interface HandoffRates {
  /** accepted / (accepted + rejected): undecided items are not counted. */
  acceptance: number | null;
  /** converted / volume (everything handed over). */
  conversion: number | null;
}

/**
 * The acceptance and conversion rates of handoff statistics as fractions in [0, 1], rounded to
 * nine decimals ({@link clean}), the API's convention for rates (DESIGN §7: rates are fractions
 * everywhere, scores 0–100). The metric values of {@link handoffMetricValues} are the same ratios
 * in their metrics' unit (PERCENT, 0–100).
 */
export function handoffRates(s: Pick<HandoffStats, 'volume' | 'accepted' | 'rejected' | 'converted'>): HandoffRates {
  const decided = s.accepted + s.rejected;
  return { acceptance: decided ? clean(s.accepted / decided) : null, conversion: s.volume ? clean(s.converted / s.volume) : null };
}

/**
 * The end-to-end conversion of a chain: the product of its stages' conversion fractions, a fraction
 * in [0, 1] rounded to nine decimals; null when a stage has no conversion rate (or there is no
 * stage).
 */
export function chainConversion(conversions: ReadonlyArray<number | null>): number | null {
  if (!conversions.length || conversions.some((r) => r === null)) return null;
  return clean((conversions as number[]).reduce((p, r) => p * r, 1));
}

/**
 * The automated metric values of handoff statistics (percent metrics in 0–100): volume is the
 * qualified count ({@link qualifiedOf}); acceptance is accepted / (accepted + rejected), undecided
 * items not counted; conversion is converted / volume (everything handed over).
 */
export function handoffMetricValues(s: HandoffStats): Record<string, number | null> {
  const decided = s.accepted + s.rejected;
  const pct = (n: number, d: number) => (d ? Math.round((100 * n * 1e9) / d) / 1e9 : null);
  return {
    HANDOFF_VOLUME: qualifiedOf(s),
    HANDOFF_ACCEPTANCE_RATE: pct(s.accepted, decided),
    HANDOFF_RESPONSE_MEDIAN: s.responseMedianHours,
    HANDOFF_RESPONSE_P90: s.responseP90Hours,
    HANDOFF_CONVERSION_RATE: pct(s.converted, s.volume),
    HANDOFF_QUALITY: s.meanQuality,
  };
}

/** What the escalation rule reads of an escalation. */
export interface EscalationMetricFacts {
  responseTargetHours: number;
  responseHours: number | null | undefined;
  resolutionHours: number | null | undefined;
}

/**
 * The escalation metrics of one agreement-month at `now` (DESIGN §5): the share answered within
 * the response target (one still unanswered after its response deadline, `deadlineOf`, counts as
 * missed; one unanswered but not yet due is not counted), the 90th percentile of response hours,
 * and the mean time to resolve (resolved ones).
 */
export function escalationMetricValues<E extends EscalationMetricFacts>(list: E[], deadlineOf: (e: E) => Date, now: Date): Record<string, number | null> {
  let onTime = 0;
  let counted = 0;
  for (const e of list) {
    if (e.responseHours != null) {
      counted++;
      if (e.responseHours <= e.responseTargetHours) onTime++;
    } else if (deadlineOf(e).getTime() < now.getTime()) {
      counted++;
    }
  }
  const responses = list
    .map((e) => e.responseHours)
    .filter((h): h is number => h != null)
    .sort((a, b) => a - b);
  const resolutions = list.map((e) => e.resolutionHours).filter((h): h is number => h != null);
  return {
    ESCALATION_RESPONSE_ON_TIME: counted ? round9((100 * onTime) / counted) : null,
    ESCALATION_RESPONSE_P90: responses.length ? round9(percentile(responses, 0.9)) : null,
    ESCALATION_MTTR: resolutions.length ? round9(resolutions.reduce((a, b) => a + b, 0) / resolutions.length) : null,
  };
}

/** What the friction-report rule reads of one report revision. */
export interface FrictionRevisionFacts {
  submittedAt: Date;
  /** How many friction items the revision carries. */
  items: number;
}

/**
 * FRICTION_REPORT_DELIVERED of one agreement-month measured at `at` (issue 16, docs/decisions.md
 * "Friction reports"): 1 once a revision carrying at least one friction item was submitted by the
 * due instant (and by `at`); otherwise 0 once the due instant has passed (just after it, as a
 * MANUAL objective turns from PENDING to NO_DATA), and no value until then (the report may still come). A later revision never takes a delivery back: the report was
 * delivered on time whatever a correction says afterwards.
 */
export function frictionReportDelivered(revisions: FrictionRevisionFacts[], dueAt: Date, at: Date): number | null {
  const by = Math.min(dueAt.getTime(), at.getTime());
  if (revisions.some((r) => r.items > 0 && r.submittedAt.getTime() <= by)) return 1;
  return at.getTime() > dueAt.getTime() ? 0 : null;
}
