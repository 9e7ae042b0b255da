import type { EntityManager } from '@mikro-orm/core';
import { groupLoader } from '../../common/loaders';
import { ApiToken } from './api-token.entity';

/** Per-request loaders of the auth module. */
export function createAuthLoaders(em: EntityManager) {
  return {
    /** A user's tokens, newest first. */
    tokensByUser: groupLoader(em, ApiToken, 'user', { createdAt: 'desc' }),
  };
}
