import type { EntityManager } from '@mikro-orm/core';
import { createAgreementLoaders } from '../modules/agreements/agreement.loaders';
import { createAuthLoaders } from '../modules/auth/auth.loaders';
import { createCatalogLoaders } from '../modules/catalog/catalog.loaders';
import { createDepartmentLoaders } from '../modules/departments/department.loaders';
import { createReportLoaders } from '../modules/reports/report.loaders';
import { createScorecardLoaders } from '../modules/scorecards/scorecard.loaders';
import { createLedgerLoaders } from '../modules/ledger/ledger.rows';

/**
 * Every per-request DataLoader, keyed by name. Created once per request in `createContext`, so a
 * cached row never outlives the request that read it.
 */
export function createLoaders(em: EntityManager) {
  return {
    ...createDepartmentLoaders(em),
    ...createCatalogLoaders(em),
    ...createAuthLoaders(em),
    ...createAgreementLoaders(em),
    ...createReportLoaders(em),
    ...createScorecardLoaders(em),
    ...createLedgerLoaders(em),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
