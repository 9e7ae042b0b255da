import type { Migration } from '@mikro-orm/migrations';
import { compareMonths } from '../../common/month';
import { acceptanceDue, type BusinessCalendar } from '../../common/working-time';

/**
 * Fills `report_revision.acceptance_due_at` for revisions submitted before it existed: the end of
 * the 5th working day (the default window, which every existing version now has) after the
 * submission, on the calendar of the version in force in the report's month. Computed here, not
 * in SQL, because working days and holidays live in `working-time.ts` only. `q` quotes identifiers
 * for the engine.
 */
export async function backfillAcceptanceDue(migration: Migration, q: (name: string) => string): Promise<void> {
  const revisions = (await migration.execute(
    `select rr.${q('id')} as id, rr.${q('submitted_at')} as submitted_at, r.${q('month')} as month, r.${q('agreement_id')} as agreement_id from ${q('report_revision')} rr join ${q('report')} r on r.${q('id')} = rr.${q('report_id')}`,
  )) as Array<{ id: string; submitted_at: string | number | Date; month: string; agreement_id: string }>;
  if (!revisions.length) return;
  const versions = (await migration.execute(`select ${q('agreement_id')} as agreement_id, ${q('number')} as number, ${q('effective_month')} as effective_month, ${q('calendar')} as calendar from ${q('agreement_version')}`)) as Array<{
    agreement_id: string;
    number: number;
    effective_month: string;
    calendar: string | BusinessCalendar;
  }>;
  const byAgreement = new Map<string, typeof versions>();
  for (const v of versions) byAgreement.set(v.agreement_id, [...(byAgreement.get(v.agreement_id) ?? []), v]);
  for (const r of revisions) {
    // The version in force in the month: the highest-numbered one that began by then.
    const inForce = (byAgreement.get(r.agreement_id) ?? []).filter((v) => compareMonths(v.effective_month, r.month) <= 0).sort((a, b) => b.number - a.number)[0] ?? byAgreement.get(r.agreement_id)?.[0];
    if (!inForce) continue;
    const calendar = typeof inForce.calendar === 'string' ? (JSON.parse(inForce.calendar) as BusinessCalendar) : inForce.calendar;
    const submittedAt = new Date(typeof r.submitted_at === 'string' && /^\d+$/.test(r.submitted_at) ? Number(r.submitted_at) : r.submitted_at);
    migration.addSql(migration.getKnex()('report_revision').update({ acceptance_due_at: acceptanceDue(calendar, submittedAt, 5) }).where({ id: r.id }));
  }
}
