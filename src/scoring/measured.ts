/**
 * DESIGN §3 and §5 as pure rules over plain data: which terms are in force in a month, whether an
 * agreement was ACTIVE in it, and whether it was *measured* in it (a CUSTOMER or SERVICE
 * agreement, ACTIVE that month, with no agreement under it ACTIVE that month). Scorecards,
 * overdue reports and report submissions all ask these questions; this is the one copy.
 */
import { addMonths, compareMonths, monthOf, type Month } from '../common/month';

/** What the rules read of a version of the terms. */
export interface VersionFacts {
  number: number;
  /** The first month the version governs (amendments take effect from it). */
  effectiveMonth: Month;
  /** The agreement's first and last month under this version. */
  effectiveFrom: Month;
  effectiveTo?: Month | null;
}

/** What the rules read of an agreement. */
export interface AgreementFacts {
  tier: string;
  activatedAt?: Date | null;
  terminatedAt?: Date | null;
  /**
   * An approved termination's first month out of scope (issue 16); when set it decides alone,
   * `terminatedAt` (the instant it was stored) no longer does. Absent on terminations from before.
   */
  terminatesFrom?: Month | null;
  /** Suspensions as ISO instants; `to` null while suspended. */
  suspensions: ReadonlyArray<{ from: string; to: string | null }>;
}

/** The version in force in `month`: the highest-numbered one whose effective month is not after it. */
export function versionAt<V extends VersionFacts>(versions: readonly V[], month: Month): V | null {
  let best: V | null = null;
  for (const v of versions) if (compareMonths(v.effectiveMonth, month) <= 0 && (!best || v.number > best.number)) best = v;
  return best;
}

/**
 * Whether an agreement was ACTIVE in `month`: activated, within the first and last month of the
 * version in force, before the first month of its termination (`terminatesFrom`; for older
 * terminations, not after the month it was terminated in), and not suspended for the whole
 * month (a suspension covers a month when it began by its first instant and had not ended by the
 * first instant of the next, in UTC as suspensions are recorded).
 */
export function activeInMonth(agreement: AgreementFacts, versions: readonly VersionFacts[], month: Month): boolean {
  if (!agreement.activatedAt) return false;
  const version = versionAt(versions, month);
  if (!version || compareMonths(month, version.effectiveFrom) < 0) return false;
  if (version.effectiveTo && compareMonths(month, version.effectiveTo) > 0) return false;
  if (agreement.terminatesFrom) {
    if (compareMonths(month, agreement.terminatesFrom) >= 0) return false;
  } else if (agreement.terminatedAt && compareMonths(month, monthOf(agreement.terminatedAt)) > 0) return false;
  const start = Date.parse(`${month}-01T00:00:00Z`);
  const end = Date.parse(`${addMonths(month, 1)}-01T00:00:00Z`);
  return !agreement.suspensions.some((s) => Date.parse(s.from) <= start && (s.to === null || Date.parse(s.to) >= end));
}

/**
 * Whether an agreement was measured in `month` (DESIGN §3): CUSTOMER or SERVICE, ACTIVE in the
 * month, and none of `children` ACTIVE in it (a container's results are its descendants').
 */
export function measuredInMonth(
  agreement: AgreementFacts,
  versions: readonly VersionFacts[],
  children: ReadonlyArray<{ agreement: AgreementFacts; versions: readonly VersionFacts[] }>,
  month: Month,
): boolean {
  if (agreement.tier !== 'CUSTOMER' && agreement.tier !== 'SERVICE') return false;
  if (!activeInMonth(agreement, versions, month)) return false;
  return !children.some((c) => activeInMonth(c.agreement, c.versions, month));
}
