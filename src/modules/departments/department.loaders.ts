import type { EntityManager } from '@mikro-orm/core';
import { byIdLoader, groupLoader } from '../../common/loaders';
import { Department } from './department.entity';

/** Per-request loaders of the departments module. */
export function createDepartmentLoaders(em: EntityManager) {
  return {
    departmentById: byIdLoader(em, Department),
    /** Direct children of a department, archived included (resolvers filter), by code. */
    departmentChildren: groupLoader(em, Department, 'parent', { code: 'asc' }),
  };
}
