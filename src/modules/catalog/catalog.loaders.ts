import type { EntityManager } from '@mikro-orm/core';
import { byIdLoader, groupLoader } from '../../common/loaders';
import { Metric } from './metric.entity';
import { Service } from './service.entity';

/** Per-request loaders of the catalog module. */
export function createCatalogLoaders(em: EntityManager) {
  return {
    serviceById: byIdLoader(em, Service),
    /** Services a department provides, archived included (resolvers filter), by code. */
    servicesByProvider: groupLoader(em, Service, 'provider', { code: 'asc' }),
    metricById: byIdLoader(em, Metric),
  };
}
