import { syncLedger } from '../../src/modules/ledger/ledger.service';
import { type EntityManager, ref } from '@mikro-orm/core';
import { addMonths, monthRange, type Month } from '../../src/common/month';
import { Agreement, AgreementStatus, Tier } from '../../src/modules/agreements/agreement.entity';
import { createObjective, createVersion } from '../../src/modules/agreements/agreement.service';
import { Metric } from '../../src/modules/catalog/metric.entity';
import { Department } from '../../src/modules/departments/department.entity';
import { Exclusion, ExclusionReason, ExclusionStatus, Report, ReportRevision, ReportStatus, ReportValue } from '../../src/modules/reports/report.entity';

/**
 * Writes `count` ACTIVE CUSTOMER agreements straight into the database (fast: no API round trips),
 * each between two new departments under one new CORPORATE charter, with two MANUAL objectives
 * (STATEMENT_ACCURACY and MTTR; SYSTEM_AVAILABILITY is measured by monitoring since issue 16),
 * a submitted report for every month of `months` and an approved exclusion in every third one.
 * For tests that need many agreements, such as the statement-count tests.
 */
export async function generateAgreements(em: EntityManager, prefix: string, count: number, from: Month, to: Month): Promise<void> {
  const metrics = await em.find(Metric, { code: { $in: ['STATEMENT_ACCURACY', 'MTTR', 'REPORT_DAYS_LATE'] } });
  const metric = (code: string) => metrics.find((m) => m.code === code) as Metric;
  const activatedAt = new Date(`${from}-01T00:00:00Z`);
  const charter = em.create(Agreement, { key: `${prefix}-CHARTER`, tier: Tier.CORPORATE, title: 'Generated charter', state: AgreementStatus.ACTIVE, activatedAt });
  const charterVersion = createVersion(em, charter, 1, from, { effectiveFrom: from });
  createObjective(em, charterVersion, metric('REPORT_DAYS_LATE'), { metricId: metric('REPORT_DAYS_LATE').id, target: 0 }, 0);
  for (let i = 0; i < count; i++) {
    const provider = em.create(Department, { code: `${prefix}-P${i}`, name: `Provider ${i}` });
    const customer = em.create(Department, { code: `${prefix}-C${i}`, name: `Customer ${i}` });
    const agreement = em.create(Agreement, { key: `${prefix}-A${i}`, tier: Tier.CUSTOMER, title: `Generated ${i}`, provider, customer, parent: charter, state: AgreementStatus.ACTIVE, activatedAt });
    const version = createVersion(em, agreement, 1, from, { effectiveFrom: from, monthlyCharge: 1000, creditCapPercent: 10 });
    const accuracy = createObjective(em, version, metric('STATEMENT_ACCURACY'), { metricId: metric('STATEMENT_ACCURACY').id, target: 99.5, weight: 2, creditPercent: 5 }, 0);
    const mttr = createObjective(em, version, metric('MTTR'), { metricId: metric('MTTR').id, target: 4, creditPercent: 3 }, 1);
    monthRange(from, to).forEach((month, m) => {
      const submittedAt = new Date(`${addMonths(month, 1)}-03T09:00:00Z`);
      const report = em.create(Report, { agreement, month, status: ReportStatus.SUBMITTED, revisionCount: 1, firstSubmittedAt: submittedAt, lateByWorkingDays: 0 });
      const revision = em.create(ReportRevision, { report, number: 1, narrative: 'generated', submittedAt, submittedByUserId: 'generator' });
      report.latestRevision = ref(revision);
      em.create(ReportValue, { revision, objective: accuracy, metric: metric('STATEMENT_ACCURACY'), position: 0, value: 99 + ((i + m) % 10) / 10 });
      em.create(ReportValue, { revision, objective: mttr, metric: metric('MTTR'), position: 1, value: 2 + ((i * 7 + m) % 5) });
      if (m % 3 === 0) {
        em.create(Exclusion, {
          agreement,
          month,
          objective: mttr,
          metric: metric('MTTR'),
          status: ExclusionStatus.APPROVED,
          reasonCode: ExclusionReason.OTHER,
          explanation: 'generated',
          statusWhenRequested: 'BREACHED',
          requestedByUserId: 'generator',
        });
      }
    });
  }
  await em.flush();
  // Written directly, as a bulk load would: the score ledger learns of them as a write tells it.
  const ids = (await em.find(Agreement, { key: { $like: `${prefix}-A%` } }, { fields: ['id'] })).map((a) => a.id);
  await em.transactional((tem) =>
    syncLedger(
      tem,
      ids.map((agreementId) => ({ agreementId })),
      new Date(),
    ),
  );
}
