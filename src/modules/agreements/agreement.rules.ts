/**
 * The pure rules of agreements over loaded rows: which version governs a month, whether an
 * agreement is live in a month, the status it shows at an instant, its parties as the policy
 * sees them. No queries, no writes.
 */
import { isUUID } from 'class-validator';
import { compareMonths, monthOf, type Month } from '../../common/month';
import { localDateOf, monthEndsAt } from '../../common/working-time';
import { activeInMonth as pureActiveInMonth, versionAt as pureVersionAt } from '../../scoring/measured';
import { type AgreementParties } from '../../common/policy';
import { Agreement, AgreementStatus, AgreementVersion } from './agreement.entity';
import { violationMessage } from './inheritance';
import { type DatedViolation } from './tighten';

/** A violation's message, naming the month when it is not the first month of the change. */
export function datedMessage(v: DatedViolation, fromMonth: Month): string {
  const base = violationMessage(v);
  return v.month === fromMonth ? base : base.replace(/; an objective/, ` from ${v.month}; an objective`);
}

/** The version in force in `month` (the pure rule of `src/scoring/measured.ts`). */
export function versionAt(versions: AgreementVersion[], month: Month): AgreementVersion | null {
  return pureVersionAt(versions, month);
}

/**
 * The status shown: TERMINATED from the first month of a decided termination (`terminatesFrom`,
 * UTC months as scoring counts them) even before the scheduler stores it; EXPIRED once the last
 * month of the version now in force has passed.
 */
export function displayStatus(agreement: Agreement, versions: AgreementVersion[], now: Date): AgreementStatus {
  if (agreement.terminatesFrom && agreement.state !== AgreementStatus.DRAFT && compareMonths(monthOf(now), agreement.terminatesFrom) >= 0) return AgreementStatus.TERMINATED;
  // The month now, and its end, in the agreement's own time zone (as for rule 0), not in UTC.
  const zone = versions[versions.length - 1]?.calendar ?? { timeZone: 'UTC' };
  const current = localDateOf(zone, now).slice(0, 7);
  const latest = versionAt(versions, current) ?? versions[versions.length - 1];
  if (
    (agreement.state === AgreementStatus.ACTIVE || agreement.state === AgreementStatus.SUSPENDED) &&
    latest?.effectiveTo &&
    now.getTime() >= monthEndsAt(latest.calendar, latest.effectiveTo).getTime()
  ) {
    return AgreementStatus.EXPIRED;
  }
  return agreement.state;
}

/**
 * Whether an agreement was ACTIVE in a month (DESIGN §5: only ACTIVE months are scored and
 * reported). It was when it has been activated (activation covers the months of its terms from
 * `effectiveFrom`, so an agreement signed on the 10th governs its whole first month), the month
 * lies within the terms of the version in force, it was not terminated before the month began,
 * and no suspension covered the whole month. Months are UTC calendar months.
 */
export function activeInMonth(agreement: Agreement, versions: AgreementVersion[], month: Month): boolean {
  return pureActiveInMonth(agreement, versions, month);
}

/** An agreement as the authorization policy sees it: its parties' department ids (none for CORPORATE). */
export function agreementParties(agreement: Agreement): AgreementParties {
  return { providerId: agreement.provider?.id ?? null, customerId: agreement.customer?.id ?? null };
}

/**
 * An agreement named by one value that may be its id or its key (issue 16): the filter that finds
 * it, and which of the two it was (for the NOT_FOUND message).
 */
export function agreementRef(ref: string): { by: 'id' | 'key'; where: { id: string } | { key: string } } {
  return isUUID(ref) ? { by: 'id', where: { id: ref.toLowerCase() } } : { by: 'key', where: { key: ref.trim().toUpperCase() } };
}

/**
 * An objective's stable key (issue 16): the key of the agreement that defines it and its metric's
 * code, `MKT-SALES/LEAD_VOLUME`. A version has one objective per metric, so the key names the
 * same commitment in every version, while the objective's id changes with each version.
 */
export function objectiveKey(agreementKey: string, metricCode: string): string {
  return `${agreementKey}/${metricCode}`;
}

/**
 * How an argument that takes an objective names it: its id (a UUID, of one version), its key
 * (`MKT-SALES/LEAD_VOLUME`, stable across versions), or, within one agreement's month, its
 * metric's code alone (`LEAD_VOLUME`). Keys and codes are upper-cased as stored.
 */
export function objectiveRef(ref: string): { id: string } | { agreementKey: string | null; metricCode: string } {
  const trimmed = ref.trim();
  if (isUUID(trimmed)) return { id: trimmed.toLowerCase() };
  const slash = trimmed.lastIndexOf('/');
  return slash < 0
    ? { agreementKey: null, metricCode: trimmed.toUpperCase() }
    : {
        agreementKey: trimmed.slice(0, slash).trim().toUpperCase(),
        metricCode: trimmed
          .slice(slash + 1)
          .trim()
          .toUpperCase(),
      };
}
