import { groupBy } from '../src/common/collections';
import type { EntityManager } from '@mikro-orm/core';
import { addMonths, monthOf, monthRange } from '../src/common/month';
import { addWorkingHours } from '../src/common/working-time';
import { Agreement, AgreementVersion } from '../src/modules/agreements/agreement.entity';
import { versionAt } from '../src/modules/agreements/agreement.rules';
import { Role } from '../src/common/role';
import { Escalation, EscalationStatus } from '../src/modules/escalations/escalation.entity';
import { clockFor, hoursOn } from '../src/modules/escalations/escalation.service';
import { HandoffEvent } from '../src/modules/handoffs/handoff.entity';
import type { HandoffEventInput } from '../src/modules/handoffs/handoff.inputs';
import { ingestHandoffEvents, MAX_EVENTS } from '../src/modules/handoffs/handoff.service';
import { Severity } from '../src/common/severity';
import { random } from './random';

const HOUR = 3_600_000;
const SEED = { role: Role.ADMIN, departmentIds: [], userId: 'seed' };

/** A small deterministic generator, so every seeding gives the same demo. */
/**
 * Twelve months of demo handoffs along Marketing → Sales → Customer Service, through the same
 * ingest as the API: about 450 qualified leads a month from Marketing (response within a working
 * day mostly, about three in four accepted, a third of those converted), and the customers Sales
 * won handed to Customer Service (nearly all onboarded). March-like dips make some months miss.
 * Then escalations: a few a month against the IT, Finance and Sales agreements, answered and
 * resolved on their clocks, some late. Idempotent: skipped once demo events exist.
 */
export async function seedDemoHandoffs(em: EntityManager, now = new Date()): Promise<void> {
  const agreements = new Map((await em.find(Agreement, { key: { $in: ['MKT-SALES', 'SALES-CS', 'IT-SALES-CRM', 'IT-MKT', 'FIN-SALES'] } })).map((a) => [a.key, a]));
  const leads = agreements.get('MKT-SALES');
  const onboarding = agreements.get('SALES-CS');
  if (!leads || !onboarding || (await em.count(HandoffEvent, { source: 'demo-crm' }))) return;
  const versions = groupBy(await em.find(AgreementVersion, { agreement: { $in: [...agreements.values()].map((a) => a.id) } }), (v) => v.agreement.id);
  const months = monthRange(addMonths(monthOf(now), -12), addMonths(monthOf(now), -1));
  const events: HandoffEventInput[] = [];
  for (const [index, month] of months.entries()) {
    const next = random(`handoffs|${month}`);
    const calendar = (versionAt(versions.get(leads.id) ?? [], month) as AgreementVersion).calendar;
    // Month 4 is a weak month for Marketing (fewer leads, slower answers, more rejections).
    const weak = index === 4;
    // About a fifth of the leads are rejected, so 540–600 handed over qualify about 430–480 (the
    // commitment counts qualified leads); the weak month hands over fewer and has more rejected.
    const count = weak ? 470 : 540 + Math.floor(next() * 60);
    let won = 0;
    for (let i = 0; i < count; i++) {
      const day = 1 + Math.floor(next() * 27);
      const handedOffAt = new Date(`${month}-${String(day).padStart(2, '0')}T${String(8 + Math.floor(next() * 9)).padStart(2, '0')}:${String(Math.floor(next() * 60)).padStart(2, '0')}:00Z`);
      const responded = next() < 0.97;
      const respondedAt = responded ? addWorkingHours(calendar, handedOffAt, (weak ? 4 : 0.5) + next() * next() * 14) : null;
      const decided = respondedAt && next() < 0.95;
      const accepted = decided && next() < (weak ? 0.62 : 0.78);
      const converted = accepted && next() < 0.35;
      const decidedAt = respondedAt ? new Date(respondedAt.getTime() + HOUR) : null;
      events.push({
        externalId: `lead-${month}-${i}`,
        agreementId: leads.id,
        stage: 'lead',
        handedOffAt,
        respondedAt,
        acceptedAt: accepted ? decidedAt : null,
        rejectedAt: decided && !accepted ? decidedAt : null,
        rejectionReason: decided && !accepted ? (next() < 0.5 ? 'Not in our territory' : 'Budget not confirmed') : null,
        convertedAt: converted && decidedAt ? new Date(decidedAt.getTime() + (5 + next() * 10) * 24 * HOUR) : null,
        qualityScore: respondedAt ? Math.round(45 + next() * 50) : null,
      });
      if (converted) won++;
    }
    // The customers Sales won are handed to Customer Service.
    const customers = Math.max(20, Math.round(won * 0.9));
    for (let i = 0; i < customers; i++) {
      const handedOffAt = new Date(`${month}-${String(2 + Math.floor(next() * 26)).padStart(2, '0')}T10:00:00Z`);
      const respondedAt = addWorkingHours(calendar, handedOffAt, 1 + next() * 10);
      events.push({
        externalId: `customer-${month}-${i}`,
        agreementId: onboarding.id,
        stage: 'customer',
        handedOffAt,
        respondedAt,
        acceptedAt: respondedAt,
        convertedAt: next() < 0.93 ? new Date(respondedAt.getTime() + 7 * 24 * HOUR) : null,
        qualityScore: Math.round(70 + next() * 30),
      });
    }
  }
  // Times after `now` (late in the last month) are not reported yet.
  const past = events
    .map((e) => ({
      ...e,
      ...Object.fromEntries((['respondedAt', 'acceptedAt', 'rejectedAt', 'convertedAt'] as const).map((f) => [f, e[f] && (e[f] as Date).getTime() <= now.getTime() ? e[f] : null])),
    }))
    .map((e) => (e.rejectedAt ? e : { ...e, rejectionReason: null }))
    .filter((e) => e.handedOffAt.getTime() <= now.getTime());
  for (let i = 0; i < past.length; i += MAX_EVENTS) {
    await em.transactional((tem) => ingestHandoffEvents(tem, { source: 'demo-crm', events: past.slice(i, i + MAX_EVENTS) }, { principal: SEED, now }), { clear: true });
  }
  await seedEscalations(em, [...agreements.values()], versions, months, now);
}

const TITLES: Record<string, string[]> = {
  'IT-SALES-CRM': ['CRM slow at quarter end', 'Opportunity export fails', 'Login loop after password reset'],
  'IT-MKT': ['Marketing automation sync stopped', 'Web analytics tag missing'],
  'FIN-SALES': ['Commission statement wrong for two reps', 'Discount approval stuck'],
  'SALES-CS': ['Contract terms missing at handover'],
  'MKT-SALES': ['Leads without phone numbers', 'Duplicate leads from the webinar'],
};

async function seedEscalations(em: EntityManager, agreements: Agreement[], versions: Map<string, AgreementVersion[]>, months: string[], now: Date): Promise<void> {
  if (await em.count(Escalation, { openedByUserId: 'seed' })) return;
  const severities = [Severity.LOW, Severity.MEDIUM, Severity.MEDIUM, Severity.HIGH, Severity.HIGH, Severity.CRITICAL];
  for (const month of months) {
    const next = random(`escalations|${month}`);
    for (const agreement of agreements) {
      const titles = TITLES[agreement.key] ?? [];
      const count = Math.floor(next() * 2.2);
      for (let i = 0; i < count && titles.length; i++) {
        const version = versionAt(versions.get(agreement.id) ?? [], month) as AgreementVersion;
        const severity = severities[Math.floor(next() * severities.length)];
        const policy = version.escalationPolicy[severity];
        const openedAt = new Date(`${month}-${String(1 + Math.floor(next() * 27)).padStart(2, '0')}T${String(9 + Math.floor(next() * 8)).padStart(2, '0')}:15:00Z`);
        // Most answered within the target, about one in six late.
        const clock = clockFor(severity, version.calendar);
        const acknowledgedAt = addWorkingHours(clock, openedAt, policy.responseHours * (next() < 0.83 ? 0.2 + next() * 0.7 : 1.2 + next()));
        const resolvedAt = new Date(Math.max(addWorkingHours(clock, openedAt, policy.resolutionHours * (0.3 + next() * 0.8)).getTime(), acknowledgedAt.getTime() + HOUR));
        const resolved = resolvedAt.getTime() <= now.getTime();
        const acknowledged = acknowledgedAt.getTime() <= now.getTime();
        em.create(Escalation, {
          agreement,
          severity,
          title: titles[Math.floor(next() * titles.length)],
          description: 'Raised by the demo seeder.',
          status: resolved ? EscalationStatus.RESOLVED : acknowledged ? EscalationStatus.ACKNOWLEDGED : EscalationStatus.OPEN,
          month,
          openedAt,
          acknowledgedAt: acknowledged ? acknowledgedAt : null,
          resolvedAt: resolved ? resolvedAt : null,
          resolution: resolved ? 'Fixed and confirmed with the customer department.' : null,
          responseTargetHours: policy.responseHours,
          resolutionTargetHours: policy.resolutionHours,
          responseHours: acknowledged ? hoursOn(severity, version.calendar, openedAt, acknowledgedAt) : null,
          resolutionHours: resolved ? hoursOn(severity, version.calendar, openedAt, resolvedAt) : null,
          openedByUserId: 'seed',
        });
      }
    }
  }
  await em.flush();
}
