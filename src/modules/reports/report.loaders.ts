import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/core';
import { byIdLoader, groupLoader } from '../../common/loaders';
import { Exclusion, Report, ReportRevision, ReportValue } from './report.entity';

/** Per-request loaders of the reports module. */
export function createReportLoaders(em: EntityManager) {
  return {
    reportById: byIdLoader(em, Report),
    /** An agreement's reports, by month. */
    reportsByAgreement: groupLoader(em, Report, 'agreement', { month: 'asc' }),
    /** The report of an agreement-month, keyed `agreementId|month`: one query for a whole list. */
    reportByAgreementMonth: new DataLoader<string, Report | null>(async (keys) => {
      const pairs = keys.map((k) => k.split('|'));
      const rows = await em.find(Report, { agreement: { $in: [...new Set(pairs.map((p) => p[0]))] }, month: { $in: [...new Set(pairs.map((p) => p[1]))] } });
      const byKey = new Map(rows.map((r) => [`${r.agreement.id}|${r.month}`, r]));
      return keys.map((k) => byKey.get(k) ?? null);
    }),
    /** A report's revisions, oldest first. */
    revisionsByReport: groupLoader(em, ReportRevision, 'report', { number: 'asc' }),
    /** A revision's values, in the order submitted. */
    valuesByRevision: groupLoader(em, ReportValue, 'revision', { position: 'asc' }),
    /** An agreement's exclusions, by month. */
    exclusionsByAgreement: groupLoader(em, Exclusion, 'agreement', { month: 'asc', createdAt: 'asc' }),
  };
}
