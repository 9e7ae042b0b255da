import type { EntityManager } from '@mikro-orm/core';
import { addMonths, monthOf } from '../src/common/month';
import { Agreement, AgreementStatus, AgreementVersion, Amendment, AmendmentStatus, Inheritance, Objective, Tier } from '../src/modules/agreements/agreement.entity';
import type { TermsInput } from '../src/modules/agreements/agreement.inputs';
import { createObjective, createVersion } from '../src/modules/agreements/agreement.service';
import { TERM_DEFAULTS } from '../src/modules/agreements/agreement.validation';
import { Metric } from '../src/modules/catalog/metric.entity';
import { Service } from '../src/modules/catalog/service.entity';
import { Department } from '../src/modules/departments/department.entity';
import { DEMO_USERS } from './demo-data';

interface DemoObjective {
  metric: string;
  target: number;
  warning?: number;
  weight?: number;
  creditPercent?: number;
  inheritance?: Inheritance;
}

interface DemoAgreement {
  key: string;
  tier: Tier;
  title: string;
  provider?: string;
  customer?: string;
  service?: string;
  parent?: string;
  monthlyCharge?: number;
  creditCapPercent?: number;
  objectives: DemoObjective[];
}

/** The demo agreements of DESIGN §9, parents before children. */
export const DEMO_AGREEMENTS: DemoAgreement[] = [
  {
    key: 'CHARTER',
    tier: Tier.CORPORATE,
    title: 'Corporate service charter',
    objectives: [
      { metric: 'ESCALATION_RESPONSE_P90', target: 8, warning: 6 },
      { metric: 'REPORT_DAYS_LATE', target: 0 },
      { metric: 'SYSTEM_AVAILABILITY', target: 99.5, inheritance: Inheritance.MINIMUM },
    ],
  },
  {
    key: 'MKT-SALES',
    tier: Tier.CUSTOMER,
    title: 'Qualified leads from Marketing to Sales',
    provider: 'MKT',
    customer: 'SALES',
    parent: 'CHARTER',
    monthlyCharge: 40000,
    creditCapPercent: 10,
    objectives: [
      { metric: 'HANDOFF_VOLUME', target: 400, warning: 440, weight: 2, creditPercent: 5 },
      { metric: 'HANDOFF_ACCEPTANCE_RATE', target: 70, warning: 75, weight: 2, creditPercent: 5 },
    ],
  },
  {
    key: 'SALES-CS',
    tier: Tier.CUSTOMER,
    title: 'Customer handover from Sales to Customer Service',
    provider: 'SALES',
    customer: 'CS',
    parent: 'CHARTER',
    monthlyCharge: 15000,
    creditCapPercent: 8,
    objectives: [
      { metric: 'HANDOVER_DAYS', target: 2, warning: 1.5, creditPercent: 4 },
      { metric: 'FRICTION_REPORT_DELIVERED', target: 1, creditPercent: 2 },
    ],
  },
  {
    key: 'IT-SALES',
    tier: Tier.CUSTOMER,
    title: 'IT services for Sales',
    provider: 'IT',
    customer: 'SALES',
    parent: 'CHARTER',
    monthlyCharge: 30000,
    creditCapPercent: 10,
    objectives: [{ metric: 'ESCALATION_RESPONSE_P90', target: 4, warning: 3 }],
  },
  {
    key: 'IT-SALES-CRM',
    tier: Tier.SERVICE,
    title: 'CRM platform for Sales',
    provider: 'IT',
    customer: 'SALES',
    service: 'CRM',
    parent: 'IT-SALES',
    monthlyCharge: 25000,
    creditCapPercent: 15,
    objectives: [
      { metric: 'SYSTEM_AVAILABILITY', target: 99.9, warning: 99.95, weight: 3, creditPercent: 10 },
      { metric: 'MTTR', target: 4, warning: 3, creditPercent: 5 },
    ],
  },
  {
    key: 'IT-MKT',
    tier: Tier.CUSTOMER,
    title: 'IT services for Marketing',
    provider: 'IT',
    customer: 'MKT',
    parent: 'CHARTER',
    monthlyCharge: 10000,
    creditCapPercent: 10,
    objectives: [{ metric: 'TICKET_FIRST_RESPONSE', target: 8, warning: 6, creditPercent: 3 }],
  },
  {
    key: 'FIN-SALES',
    tier: Tier.CUSTOMER,
    title: 'Deal desk and commissions for Sales',
    provider: 'FIN',
    customer: 'SALES',
    parent: 'CHARTER',
    monthlyCharge: 8000,
    creditCapPercent: 5,
    objectives: [{ metric: 'STATEMENT_ACCURACY', target: 98, warning: 99, creditPercent: 5 }],
  },
];

/**
 * Seeds the demo agreements, ACTIVE for the twelve months before `now` and on, with an approved
 * amendment in the middle of that year (Marketing commits to more leads from month 7). Idempotent:
 * agreements are matched by key; existing ones are left alone.
 */
export async function seedDemoAgreements(em: EntityManager, now = new Date()): Promise<void> {
  const start = addMonths(monthOf(now), -12);
  const departments = new Map((await em.find(Department, {})).map((d) => [d.code, d]));
  const services = new Map((await em.find(Service, {})).map((s) => [s.code, s]));
  const metrics = new Map((await em.find(Metric, {})).map((m) => [m.code, m]));
  const agreements = new Map((await em.find(Agreement, {})).map((a) => [a.key, a]));
  const approvedAt = new Date(`${start}-01T09:00:00Z`);
  for (const d of DEMO_AGREEMENTS) {
    if (agreements.has(d.key)) continue;
    const agreement = em.create(Agreement, {
      key: d.key,
      tier: d.tier,
      title: d.title,
      provider: d.provider ? departments.get(d.provider) : null,
      customer: d.customer ? departments.get(d.customer) : null,
      service: d.service ? services.get(d.service) : null,
      parent: d.parent ? agreements.get(d.parent) : null,
      state: AgreementStatus.ACTIVE,
      providerApprovedAt: approvedAt,
      customerApprovedAt: approvedAt,
      activatedAt: approvedAt,
    });
    agreements.set(d.key, agreement);
    const version = addVersion(em, agreement, 1, start, start, d);
    d.objectives.forEach((o, i) => addObjective(em, version, metrics, o, i));
    await em.flush();
    if (d.key === 'MKT-SALES') {
      // Mid-year change control: more leads from month 7 on, approved by Sales.
      const month = addMonths(start, 6);
      const amended = d.objectives.map((o) => (o.metric === 'HANDOFF_VOLUME' ? { ...o, target: 450, warning: 480 } : o));
      const v2 = addVersion(em, agreement, 2, month, start, d);
      amended.forEach((o, i) => addObjective(em, v2, metrics, o, i));
      em.create(Amendment, {
        agreement,
        status: AmendmentStatus.APPROVED,
        effectiveMonth: month,
        reason: 'Sales hired four account executives; Marketing commits to 450 qualified leads a month',
        proposedBy: 'PROVIDER',
        proposedByUserId: 'seed',
        changes: { terms: {}, addObjectives: [], changeObjectives: [{ metricId: (metrics.get('HANDOFF_VOLUME') as Metric).id, target: 450, warning: 480 }], removeObjectives: [] },
        providerApprovedAt: new Date(`${addMonths(start, 5)}-10T10:00:00Z`),
        customerApprovedAt: new Date(`${addMonths(start, 5)}-20T10:00:00Z`),
        decidedAt: new Date(`${addMonths(start, 5)}-20T10:00:00Z`),
        decidedByUserId: 'seed',
        resultingVersion: v2,
      });
      await em.flush();
    }
  }
}

/** A party's contact: the demo head of its department (DEMO_USERS). */
function contactOf(party: 'PROVIDER' | 'CUSTOMER', department: string): { party: 'PROVIDER' | 'CUSTOMER'; name: string; email: string; role: string } {
  const head = DEMO_USERS.find((u) => u.key === `HEAD_${department}`);
  if (!head) throw new Error(`demo: no head of ${department}`);
  return { party, name: head.name, email: head.email, role: party === 'PROVIDER' ? 'service owner' : 'customer contact' };
}

/** Germany's fixed-date public holidays, in the three years from `year` (the demo's calendar). */
function germanHolidays(year: number): string[] {
  return [year, year + 1, year + 2].flatMap((y) => ['01-01', '05-01', '10-03', '12-25', '12-26'].map((d) => `${y}-${d}`));
}

/** The terms of a demo agreement, through the same builder the API uses (defaults included). */
function addVersion(em: EntityManager, agreement: Agreement, number: number, month: string, from: string, d: DemoAgreement): AgreementVersion {
  const terms = {
    effectiveFrom: from,
    monthlyCharge: d.monthlyCharge ?? 0,
    creditCapPercent: d.creditCapPercent ?? 0,
    responsibilities: d.provider
      ? [
          { party: 'PROVIDER' as const, description: `${d.provider} delivers and reports monthly on: ${d.objectives.map((o) => o.metric).join(', ')}` },
          { party: 'CUSTOMER' as const, description: `${d.customer} gives what the provider needs on time and acknowledges each monthly report` },
        ]
      : [],
    // Whom to call (issue 16): each party's head, as the demo's users name them.
    contacts: d.provider ? [contactOf('PROVIDER', d.provider), contactOf('CUSTOMER', d.customer as string)] : [],
    calendar: { ...TERM_DEFAULTS.calendar, timeZone: 'Europe/Berlin', holidays: germanHolidays(Number(from.slice(0, 4))) },
  };
  return createVersion(em, agreement, number, month, terms as TermsInput);
}

function addObjective(em: EntityManager, version: AgreementVersion, metrics: Map<string, Metric>, o: DemoObjective, position: number): Objective {
  const metric = metrics.get(o.metric) as Metric;
  return createObjective(em, version, metric, { metricId: metric.id, target: o.target, warning: o.warning, weight: o.weight, creditPercent: o.creditPercent, inheritance: o.inheritance }, position);
}
