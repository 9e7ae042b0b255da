import type { EntityManager } from '@mikro-orm/core';
import { addMonths, monthOf, monthRange } from '../src/common/month';
import { Role } from '../src/common/role';
import { monthEndsAt } from '../src/common/working-time';
import { Agreement, AgreementVersion } from '../src/modules/agreements/agreement.entity';
import { activeInMonth, versionAt } from '../src/modules/agreements/agreement.rules';
import { Measurement } from '../src/modules/measurements/measurement.entity';
import type { MeasurementInput } from '../src/modules/measurements/measurement.inputs';
import { ingestMeasurements } from '../src/modules/measurements/measurement.service';

const SEED = { role: Role.ADMIN, departmentIds: [], userId: 'seed' };
const MINUTE = 60_000;

/**
 * Minutes the CRM was down in each of the twelve demo months (index 0 = the first): short
 * incidents most months (99.96–99.99 % over a 30-day month), a longer one in month 4 (99.92 %)
 * and the upgrade window in month 8 (99.7 %, excused by the approved exclusion).
 */
const DOWN_MINUTES = [9, 13, 6, 17, 35, 11, 8, 15, 130, 12, 7, 10];

/**
 * The CRM's availability as its monitoring reports it (issue 16): through the same ingest as the
 * API, each month of IT → Sales (CRM) as up (100) and down (0) intervals, so SYSTEM_AVAILABILITY is
 * the time-weighted share up, not a number the IT head types. The current month is measured up to
 * `now`. Idempotent: skipped once demo measurements exist.
 */
export async function seedDemoMeasurements(em: EntityManager, now = new Date()): Promise<void> {
  const crm = await em.findOne(Agreement, { key: 'IT-SALES-CRM' });
  if (!crm || (await em.count(Measurement, { source: 'demo-monitoring' }))) return;
  const versions = await em.find(AgreementVersion, { agreement: crm.id });
  const months = monthRange(addMonths(monthOf(now), -12), monthOf(now));
  const measurements: MeasurementInput[] = [];
  for (const [index, month] of months.entries()) {
    const version = versionAt(versions, month);
    if (!version || !activeInMonth(crm, versions, month)) continue;
    const from = monthEndsAt(version.calendar, addMonths(month, -1));
    const to = new Date(Math.min(monthEndsAt(version.calendar, month).getTime(), now.getTime()));
    // The incident starts on the 10th at 03:00 UTC (the current month: only if that has passed).
    const downFrom = new Date(`${month}-10T03:00:00Z`);
    const downTo = new Date(downFrom.getTime() + (DOWN_MINUTES[index] ?? 0) * MINUTE);
    const push = (id: string, a: Date, b: Date, value: number) => {
      if (b.getTime() > a.getTime()) measurements.push({ externalId: `crm-${month}-${id}`, metric: 'SYSTEM_AVAILABILITY', agreement: crm.key, interval: { from: a, to: b }, value });
    };
    if (downTo.getTime() <= to.getTime()) {
      push('up-1', from, downFrom, 100);
      push('down', downFrom, downTo, 0);
      push('up-2', downTo, to, 100);
    } else {
      push('up-1', from, to, 100);
    }
  }
  if (!measurements.length) return;
  await em.transactional((tem) => ingestMeasurements(tem, { source: 'demo-monitoring', measurements }, { principal: SEED, now }), { clear: true });
}
