import { rebuildLedger } from '../src/modules/ledger/ledger.service';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { addMonths, monthOf, monthRange } from '../src/common/month';
import { addWorkingHours, reportDue, workingDaysLate } from '../src/common/working-time';
import { Agreement, AgreementStatus, AgreementVersion, Inheritance, Objective, Tier } from '../src/modules/agreements/agreement.entity';
import { TERM_DEFAULTS } from '../src/modules/agreements/agreement.validation';
import { Role } from '../src/common/role';
import { Metric } from '../src/modules/catalog/metric.entity';
import { Department } from '../src/modules/departments/department.entity';
import type { HandoffEventInput } from '../src/modules/handoffs/handoff.inputs';
import { ingestHandoffEvents, MAX_EVENTS } from '../src/modules/handoffs/handoff.service';
import { Report, ReportRevision, ReportStatus, ReportValue } from '../src/modules/reports/report.entity';
import { seedDemo } from './demo.seeder';
import { random } from './random';
import { searchTextOf } from '../src/common/codes';

/** The size of the generated organisation (`npm run seed:large -- --agreements 500 …`). */
export interface LargeOptions {
  departments: number;
  agreements: number;
  months: number;
  events: number;
  /** Deterministic data for one seed. */
  seed: string;
}

export const LARGE_DEFAULTS: LargeOptions = { departments: 200, agreements: 2000, months: 24, events: 1_000_000, seed: 'large' };

/** Progress: called with a stage name, done and total. */
export type Progress = (stage: string, done: number, total: number) => void;

/** Inserts rows in chunks with MikroORM's native multi-row insert (no unit of work, no audit rows: a data load). */
async function insertChunks<T extends object>(em: EntityManager, entity: new () => T, rows: Array<Partial<T>>, progress?: () => void, chunk = 1000): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) {
    await em.insertMany(entity, rows.slice(i, i + chunk) as never);
    progress?.();
  }
}

const MANUAL = [
  // SYSTEM_AVAILABILITY is measured by monitoring (EXTERNAL) since issue 16; reports carry the others.
  { code: 'HANDOVER_DAYS', target: 2, warning: 1.5, value: (r: () => number) => Number((0.8 + r() * 1.8).toFixed(1)) },
  { code: 'MTTR', target: 4, warning: 3, value: (r: () => number) => Number((1 + r() * 5).toFixed(1)) },
  { code: 'STATEMENT_ACCURACY', target: 98, warning: 99, value: (r: () => number) => Number((96 + r() * 4).toFixed(1)) },
  { code: 'TICKET_FIRST_RESPONSE', target: 8, warning: 6, value: (r: () => number) => Number((2 + r() * 8).toFixed(1)) },
];

/**
 * A big company for benchmarks and BI pulls: `departments` departments, one charter, `agreements`
 * ACTIVE CUSTOMER agreements between random pairs over `months` months ending last month, each with
 * two MANUAL objectives and two handoff objectives (plus the charter's REPORT_DAYS_LATE), a report
 * for every agreement-month (about one in twenty late), and `events` handoff events through the
 * real ingest. Agreements, reports and values are written with native multi-row inserts; handoffs
 * through `ingestHandoffEvents` in batches of 5,000, so their monthly metrics are computed as in
 * production.
 */
export async function seedLarge(em: EntityManager, options: LargeOptions, progress: Progress = () => undefined, now = new Date()): Promise<{ agreementMonths: number; events: number }> {
  const next = random(options.seed);
  await seedDemo(em.fork(), { principals: false, agreements: false });
  const metrics = new Map((await em.find(Metric, {})).map((m) => [m.code, m]));
  const metric = (code: string) => metrics.get(code) as Metric;
  const last = addMonths(monthOf(now), -1);
  const first = addMonths(last, -(options.months - 1));
  const months = monthRange(first, last);
  const activatedAt = new Date(`${first}-01T00:00:00Z`);
  const stamp = new Date(now);

  const departments = Array.from({ length: options.departments }, (_, i) => {
    const row = { id: randomUUID(), code: `L${String(i).padStart(4, '0')}`, name: `Large department ${i}`, version: 1, createdAt: stamp, updatedAt: stamp };
    return { ...row, searchText: searchTextOf(row) };
  });
  await insertChunks(em, Department, departments);
  progress('departments', departments.length, departments.length);

  const calendar = { ...TERM_DEFAULTS.calendar, timeZone: 'Europe/Berlin' };
  const base = { version: 1, createdAt: stamp, updatedAt: stamp };
  const charterId = randomUUID();
  const agreements: Array<Partial<Agreement>> = [
    { id: charterId, key: `L-CHARTER-${options.seed}`.toUpperCase(), tier: Tier.CORPORATE, title: 'Large charter', state: AgreementStatus.ACTIVE, activatedAt, suspensions: [], ...base },
  ];
  const versions: Array<Partial<AgreementVersion>> = [];
  const objectives: Array<Partial<Objective>> = [];
  const versionOf = (agreementId: string, charge: number) => {
    const v = {
      id: randomUUID(),
      agreement: agreementId,
      number: 1,
      effectiveMonth: first,
      effectiveFrom: first,
      effectiveTo: null,
      complianceTarget: 0.9,
      monthlyCharge: charge,
      creditCapPercent: 10,
      reportDueWorkingDays: 5,
      acceptanceWorkingDays: 5,
      reviewCadenceMonths: 12,
      nextReviewDate: null,
      responsibilities: [],
      contacts: [],
      escalationPolicy: TERM_DEFAULTS.escalationPolicy,
      calendar,
      ...base,
    };
    versions.push(v as never);
    return v.id;
  };
  const objective = (versionId: string, code: string, target: number, warning: number | null, position: number, weight = 1, creditPercent = 2) =>
    objectives.push({ id: randomUUID(), agreementVersion: versionId, metric: metric(code).id, position, target, warning, weight, creditPercent, inheritance: Inheritance.APPLIES, ...base } as never);
  objective(versionOf(charterId, 0), 'REPORT_DAYS_LATE', 0, null, 0, 1, 0);

  const pairs = new Set<string>();
  const measured: Array<{ id: string; key: string; objectives: Array<{ id: string; code: string }> }> = [];
  while (measured.length < options.agreements) {
    const p = Math.floor(next() * departments.length);
    const c = Math.floor(next() * departments.length);
    if (p === c || pairs.has(`${p}|${c}`)) continue;
    pairs.add(`${p}|${c}`);
    const id = randomUUID();
    const key = `L-${String(measured.length).padStart(5, '0')}`;
    agreements.push({
      id,
      key,
      tier: Tier.CUSTOMER,
      title: `Large agreement ${measured.length}`,
      provider: departments[p].id,
      customer: departments[c].id,
      parent: charterId,
      state: AgreementStatus.ACTIVE,
      activatedAt,
      suspensions: [],
      ...base,
    } as never);
    const versionId = versionOf(id, 1000 + Math.floor(next() * 20) * 500);
    const two = [MANUAL[measured.length % 4], MANUAL[(measured.length + 1) % 4]];
    const own: Array<{ id: string; code: string }> = [];
    two.forEach((m, i) => {
      objective(versionId, m.code, m.target, m.warning, i, 1 + i, 3);
      own.push({ id: objectives[objectives.length - 1].id as string, code: m.code });
    });
    objective(versionId, 'HANDOFF_VOLUME', 15, 20, 2, 2, 2);
    objective(versionId, 'HANDOFF_ACCEPTANCE_RATE', 60, 70, 3, 1, 2);
    measured.push({ id, key, objectives: own });
  }
  await insertChunks(em, Agreement, agreements as never, () => progress('agreements', 0, 1));
  await insertChunks(em, AgreementVersion, versions as never);
  await insertChunks(em, Objective, objectives as never);
  progress('agreements', measured.length, measured.length);

  // A report for every agreement-month, most on time, about one in twenty late.
  const total = measured.length * months.length;
  let done = 0;
  for (const month of months) {
    const due = reportDue(calendar, month, 5);
    const reports: Array<Partial<Report>> = [];
    const revisions: Array<Partial<ReportRevision>> = [];
    const values: Array<Partial<ReportValue>> = [];
    for (const a of measured) {
      const late = next() < 0.05;
      const submittedAt = late ? addWorkingHours(calendar, due.dueAt, 8 + next() * 24) : new Date(due.dueAt.getTime() - 36 * 3_600_000);
      const reportId = randomUUID();
      const revisionId = randomUUID();
      reports.push({
        id: reportId,
        agreement: a.id,
        month,
        status: ReportStatus.ACKNOWLEDGED,
        revisionCount: 1,
        latestRevision: revisionId,
        firstSubmittedAt: submittedAt,
        lateByWorkingDays: workingDaysLate(calendar, due.dueDate, submittedAt),
        ...base,
      } as never);
      revisions.push({
        id: revisionId,
        report: reportId,
        number: 1,
        narrative: `${month} report`,
        frictionItems: [],
        submittedAt,
        submittedByUserId: 'large',
        acknowledgedAt: submittedAt,
        ...base,
      } as never);
      a.objectives.forEach((o, i) =>
        values.push({
          id: randomUUID(),
          revision: revisionId,
          objective: o.id,
          metric: metric(o.code).id,
          position: i,
          value: (MANUAL.find((m) => m.code === o.code) as (typeof MANUAL)[number]).value(next),
          ...base,
        } as never),
      );
    }
    // Reports first with no latest revision, then revisions, then the link (the two reference each other).
    await insertChunks(em, Report, reports.map((r) => ({ ...r, latestRevision: null })) as never);
    await insertChunks(em, ReportRevision, revisions as never);
    await insertChunks(em, ReportValue, values as never);
    await em
      .getConnection()
      .execute(`update report set latest_revision_id = (select r.id from report_revision r where r.report_id = report.id and r.number = 1) where month = ? and latest_revision_id is null`, [month]);
    done += measured.length;
    progress('reports', done, total);
  }

  // Handoff events, through the real ingest, spread over agreements and months.
  const perAgreementMonth = Math.max(1, Math.floor(options.events / Math.max(1, total)));
  let sent = 0;
  let batch: HandoffEventInput[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const events = batch;
    batch = [];
    await em.transactional((tem) => ingestHandoffEvents(tem, { source: `large-${options.seed}`, events }, { principal: { role: Role.ADMIN, departmentIds: [], userId: 'large' }, now }), {
      clear: true,
    });
    sent += events.length;
    progress('handoff events', sent, Math.min(options.events, perAgreementMonth * total));
  };
  for (const month of months) {
    for (const a of measured) {
      for (let k = 0; k < perAgreementMonth && sent + batch.length < options.events; k++) {
        const handedOffAt = new Date(`${month}-${String(1 + Math.floor(next() * 27)).padStart(2, '0')}T${String(8 + Math.floor(next() * 9)).padStart(2, '0')}:00:00Z`);
        const respondedAt = addWorkingHours(calendar, handedOffAt, 0.5 + next() * 12);
        const accepted = next() < 0.72;
        batch.push({
          externalId: `${a.key}-${month}-${k}`,
          agreementId: a.id,
          stage: 'lead',
          handedOffAt,
          respondedAt,
          acceptedAt: accepted ? respondedAt : null,
          rejectedAt: accepted ? null : respondedAt,
          rejectionReason: accepted ? null : 'Not qualified',
          convertedAt: accepted && next() < 0.3 ? new Date(respondedAt.getTime() + 7 * 86_400_000) : null,
          qualityScore: Math.round(40 + next() * 60),
        });
        if (batch.length === MAX_EVENTS) await flush();
      }
    }
  }
  await flush();
  // Facts written directly: the score ledger is built from them once, as a rebuild would.
  progress('score ledger', 0, total);
  const built = await em.transactional((tem) => rebuildLedger(tem, now), { clear: true });
  progress('score ledger', built.months, total);
  return { agreementMonths: total, events: sent };
}
