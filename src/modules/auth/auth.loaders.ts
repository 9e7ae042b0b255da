import type { EntityManager } from '@mikro-orm/core';
import DataLoader from 'dataloader';
import { groupLoader } from '../../common/loaders';
import { Role } from '../../common/role';
import { ApiToken } from './api-token.entity';
import { User } from './user.entity';

/** Per-request loaders of the auth module. */
export function createAuthLoaders(em: EntityManager) {
  return {
    /** A user's tokens, newest first. */
    tokensByUser: groupLoader(em, ApiToken, 'user', { createdAt: 'desc' }),
    /** A department's head: its first active HEAD user (by creation), or null. */
    headByDepartment: new DataLoader<string, User | null>(async (ids) => {
      const heads = await em.find(User, { department: { $in: [...ids] }, role: Role.HEAD, deactivatedAt: null }, { orderBy: { createdAt: 'asc', id: 'asc' } });
      const first = new Map<string, User>();
      for (const u of heads) if (u.department && !first.has(u.department.id)) first.set(u.department.id, u);
      return ids.map((id) => first.get(id) ?? null);
    }),
  };
}
