import type { EntityManager } from '@mikro-orm/core';
import { byIdLoader, groupLoader } from '../../common/loaders';
import { Agreement, AgreementVersion, Amendment, Objective } from './agreement.entity';
import { AgreementLifecycleRequest } from './lifecycle.entity';

/** Per-request loaders of the agreements module. */
export function createAgreementLoaders(em: EntityManager) {
  return {
    agreementById: byIdLoader(em, Agreement),
    /** Direct children of an agreement, by key. */
    agreementChildren: groupLoader(em, Agreement, 'parent', { key: 'asc' }),
    /** Agreements a department provides / receives, by key. */
    agreementsByProvider: groupLoader(em, Agreement, 'provider', { key: 'asc' }),
    agreementsByCustomer: groupLoader(em, Agreement, 'customer', { key: 'asc' }),
    /** An agreement's versions, oldest first. */
    versionsByAgreement: groupLoader(em, AgreementVersion, 'agreement', { number: 'asc' }),
    /** A version's objectives, in the order given. */
    objectivesByVersion: groupLoader(em, Objective, 'agreementVersion', { position: 'asc' }),
    /** An agreement's amendments, oldest first. */
    amendmentsByAgreement: groupLoader(em, Amendment, 'agreement', { createdAt: 'asc', id: 'asc' }),
    /** An agreement's lifecycle requests (issue 16), oldest first. */
    lifecycleRequestsByAgreement: groupLoader(em, AgreementLifecycleRequest, 'agreement', { requestedAt: 'asc', id: 'asc' }),
    versionById: byIdLoader(em, AgreementVersion),
    objectiveById: byIdLoader(em, Objective),
  };
}
