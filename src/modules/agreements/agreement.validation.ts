/** Checking an agreement's input before anything is written: parties, terms and objectives. */
import type { EntityManager } from '@mikro-orm/core';
import { IANAZone } from 'luxon';
import { compareMonths } from '../../common/month';
import { UserError, UserErrorCode, UserErrorsException } from '../../common/user-error';
import { Metric, MetricDirection } from '../catalog/metric.entity';
import { type BusinessCalendar, type EscalationPolicy } from './agreement.entity';
import type { CreateAgreementInput, ObjectiveInput, TermsInput } from './agreement.inputs';

/** Defaults of terms the creator leaves out (see docs/decisions.md). */
export const TERM_DEFAULTS = {
  complianceTarget: 0.9,
  monthlyCharge: 0,
  creditCapPercent: 0,
  reportDueWorkingDays: 5,
  acceptanceWorkingDays: 5,
  reviewCadenceMonths: 12,
  escalationPolicy: {
    CRITICAL: { responseHours: 1, resolutionHours: 8 },
    HIGH: { responseHours: 4, resolutionHours: 24 },
    MEDIUM: { responseHours: 8, resolutionHours: 40 },
    LOW: { responseHours: 16, resolutionHours: 80 },
  } satisfies EscalationPolicy,
  calendar: { timeZone: 'UTC', workingDays: [1, 2, 3, 4, 5], dayStart: '09:00', dayEnd: '17:00', holidays: [] } satisfies BusinessCalendar,
};

// ------------------------------------------------------------------ queries

export function partiesOf(input: CreateAgreementInput): Array<[keyof CreateAgreementInput, string | null | undefined]> {
  return [
    ['providerId', input.providerId],
    ['customerId', input.customerId],
    ['serviceId', input.serviceId],
    ['parentId', input.parentId],
  ];
}

/** Validates terms beyond single fields: months in order, a real time zone, a working day. */
export function termProblems(terms: TermsInput, prefix = 'terms'): UserError[] {
  const out: UserError[] = [];
  if (terms.effectiveTo && compareMonths(terms.effectiveTo, terms.effectiveFrom) < 0) {
    out.push(new UserError(`${prefix}.effectiveTo`, UserErrorCode.INVALID, `effectiveTo: expected ${terms.effectiveFrom} or later, received ${terms.effectiveTo}`));
  }
  const cal = terms.calendar;
  if (cal) {
    if (!IANAZone.isValidZone(cal.timeZone))
      out.push(new UserError(`${prefix}.calendar.timeZone`, UserErrorCode.INVALID, `timeZone: expected an IANA time zone such as Europe/Berlin, received ${JSON.stringify(cal.timeZone)}`));
    if (!cal.workingDays.length || new Set(cal.workingDays).size !== cal.workingDays.length) {
      out.push(new UserError(`${prefix}.calendar.workingDays`, UserErrorCode.INVALID, 'workingDays: expected at least one weekday, each once'));
    }
    if (cal.dayStart >= cal.dayEnd) out.push(new UserError(`${prefix}.calendar.dayEnd`, UserErrorCode.INVALID, `dayEnd: expected after dayStart (${cal.dayStart}), received ${cal.dayEnd}`));
    cal.holidays.forEach((h, i) => {
      if (Number.isNaN(Date.parse(`${h}T00:00:00Z`))) out.push(new UserError(`${prefix}.calendar.holidays[${i}]`, UserErrorCode.INVALID, `holidays: ${h} is not a date`));
    });
  }
  const policy = terms.escalationPolicy;
  if (policy) {
    for (const sev of ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const) {
      if (policy[sev].resolutionHours < policy[sev].responseHours) {
        out.push(
          new UserError(
            `${prefix}.escalationPolicy.${sev}.resolutionHours`,
            UserErrorCode.INVALID,
            `resolutionHours: expected at least the response time (${policy[sev].responseHours}), received ${policy[sev].resolutionHours}`,
          ),
        );
      }
    }
  }
  if (terms.nextReviewDate && Number.isNaN(Date.parse(`${terms.nextReviewDate}T00:00:00Z`))) {
    out.push(new UserError(`${prefix}.nextReviewDate`, UserErrorCode.INVALID, `nextReviewDate: ${terms.nextReviewDate} is not a date`));
  }
  return out;
}

/**
 * Loads and checks the objectives of a version: metrics exist and are live, each metric once,
 * targets and warnings within the metric's bounds, the warning on the safe side of the target.
 */
export async function checkObjectives(em: EntityManager, objectives: ObjectiveInput[]): Promise<Metric[]> {
  const ids = [...new Set(objectives.map((o) => o.metricId))];
  const metrics = new Map((await em.find(Metric, { id: { $in: ids } })).map((m) => [m.id, m]));
  const errors: UserError[] = [];
  const seen = new Set<string>();
  objectives.forEach((o, i) => {
    const at = `objectives[${i}]`;
    const metric = metrics.get(o.metricId);
    if (!metric) return errors.push(new UserError(`${at}.metricId`, UserErrorCode.NOT_FOUND, `no metric has id ${o.metricId}`));
    if (metric.archivedAt) errors.push(new UserError(`${at}.metricId`, UserErrorCode.ARCHIVED, `metric ${metric.code} is archived`));
    if (seen.has(metric.id)) errors.push(new UserError(`${at}.metricId`, UserErrorCode.INVALID, `metric ${metric.code} appears twice; one objective per metric`));
    seen.add(metric.id);
    const bounds = (field: 'target' | 'warning', v: number) => {
      if ((metric.minValue != null && v < metric.minValue) || (metric.maxValue != null && v > metric.maxValue)) {
        errors.push(new UserError(`${at}.${field}`, UserErrorCode.INVALID, `${field}: expected a value of ${metric.code} from ${metric.minValue ?? '−∞'} to ${metric.maxValue ?? '∞'}, received ${v}`));
      }
      if (metric.integerOnly && !Number.isInteger(v)) errors.push(new UserError(`${at}.${field}`, UserErrorCode.INVALID, `${field}: ${metric.code} takes whole numbers, received ${v}`));
    };
    bounds('target', o.target);
    if (o.warning != null) {
      bounds('warning', o.warning);
      const higher = metric.direction === MetricDirection.HIGHER_IS_BETTER;
      if (higher ? o.warning < o.target : o.warning > o.target) {
        errors.push(
          new UserError(
            `${at}.warning`,
            UserErrorCode.INVALID,
            `warning: ${metric.code} is ${metric.direction}, so the warning must be ${higher ? 'at or above' : 'at or below'} the target ${o.target}; received ${o.warning}`,
          ),
        );
      }
    }
  });
  if (errors.length) throw new UserErrorsException(errors);
  return objectives.map((o) => metrics.get(o.metricId) as Metric);
}
