import { type EntityManager, type FilterQuery, ref } from '@mikro-orm/core';
import { codeOrNameContains, normalizeCode } from '../../common/codes';
import { NotFoundError } from '../../common/errors';
import { isUUID } from 'class-validator';
import { LOCKS, serialize } from '../../common/locks';
import { paginate, type Page } from '../../common/connection';
import { archiveRecord, assertCodeFree, findByIdOrCode, idOfRef, loadForUpdate, loadForWrite } from '../../common/lookup';
import { runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserError, UserErrorCode, UserErrorsException, userError } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import type { Context } from '../../common/context';
// A type only: the catalog sits above departments, so its entity is named, not imported.
import type { Service } from '../catalog/service.entity';
import { Department } from './department.entity';
import type { ArchiveInput } from '../../common/inputs';
import type { CreateDepartmentInput, DepartmentFilter, UpdateDepartmentInput } from './department.inputs';

/** Deepest department tree we accept; also bounds the cycle check's walk. */
export const MAX_DEPARTMENT_DEPTH = 32;

/** One department by id or by code (exactly one of them); NOT_FOUND when there is none. */
export function findDepartment(ctx: Context, id?: string | null, code?: string | null): Promise<Department> {
  return findByIdOrCode(ctx.em, Department, 'Department', (k) => ctx.loaders.departmentById.load(k), id, code);
}

/**
 * A department named by one argument that takes its id or its code (`MKT`), as the queries of
 * issue 16 do; NOT_FOUND naming the argument when there is none.
 */
export async function departmentByRef(ctx: Context, argument: string, ref: string): Promise<Department> {
  const byId = isUUID(ref);
  const found = byId ? await ctx.loaders.departmentById.load(ref.toLowerCase()) : await ctx.em.findOne(Department, { code: normalizeCode(ref) });
  if (!found) throw new NotFoundError('Department', `${byId ? 'id' : 'code'} ${ref} (${argument})`);
  return found;
}

/** Whether a department is a party (provider or customer) of an agreement. */
export const isPartyOf = (departmentId: string, a: { provider?: { id: string } | null; customer?: { id: string } | null }): boolean =>
  a.provider?.id === departmentId || a.customer?.id === departmentId;

/** The departments connection, ordered by code. */
export async function listDepartments(ctx: Context, filter: DepartmentFilter | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<Department>> {
  const where: FilterQuery<Department>[] = [];
  if (!filter?.includeArchived) where.push({ archivedAt: null });
  const parent = await idOfRef(ctx.em, Department, 'Department', 'filter.parentId', filter?.parentId);
  if (parent) where.push({ parent });
  if (filter?.rootsOnly) where.push({ parent: null });
  if (filter?.search) where.push(codeOrNameContains(filter.search) as FilterQuery<Department>);
  return paginate(
    ctx.em,
    Department,
    { $and: where },
    [
      ['code', 'asc'],
      ['id', 'asc'],
    ],
    page,
  );
}

/** Creates a department (idempotent by key). */
export function createDepartment(ctx: Context, input: CreateDepartmentInput): Promise<MutationResult<Department>> {
  return runCreate(
    ctx,
    'createDepartment',
    input,
    Department,
    async (em) => {
      const code = normalizeCode(input.code);
      await assertCodeFree(em, Department, 'Department', code, null);
      // FOR SHARE: the parent cannot be archived under us before we commit.
      const parent = input.parentId ? await loadForWrite(em, Department, 'Department', input.parentId, 'parentId', { lock: 'share' }) : null;
      const dept = em.create(Department, { code, name: input.name.trim(), parent });
      await em.flush();
      return dept;
    },
    { uniqueField: 'code' },
  );
}

/** Updates code, name or parent, refusing stale versions and parent cycles. */
export async function updateDepartment(ctx: Context, input: UpdateDepartmentInput): Promise<MutationResult<Department>> {
  return runMutation(
    ctx,
    async (em) => {
      await assertValidInput(input);
      const dept = await loadForUpdate(em, Department, 'Department', input);
      if (input.name !== undefined && input.name !== null) dept.name = input.name.trim();
      if (input.parentId !== undefined) {
        if (input.parentId === null) dept.parent = null;
        else {
          // Parent changes are serialised: two concurrent moves (X under Y, Y under X) would each
          // pass the cycle check on the other's old chain.
          await serialize(em, LOCKS.departmentTree);
          const parent = await loadForWrite(em, Department, 'Department', input.parentId, 'parentId', { lock: 'share' });
          await assertNoCycle(em, dept, parent);
          dept.parent = ref(parent);
        }
      }
      await em.flush();
      return dept;
    },
    { uniqueField: 'code' },
  );
}

/**
 * Archives a department. Refused (IN_USE) while it still has live child departments or live
 * services: archiving the parent would orphan them in every roll-up.
 */
export async function archiveDepartment(ctx: Context, input: ArchiveInput): Promise<MutationResult<Department>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    return archiveRecord(em, Department, 'Department', input, async (dept) => {
      const [children, services] = await Promise.all([em.count(Department, { parent: dept.id, archivedAt: null }), em.count<Service>('Service', { provider: dept.id, archivedAt: null })]);
      return children || services ? `department ${dept.code} still has ${children} live child department(s) and ${services} live service(s); archive those first` : null;
    });
  });
}

/** Walks up from the new parent; meeting `dept` means the change would close a loop. */
async function assertNoCycle(em: EntityManager, dept: Department, newParent: Department): Promise<void> {
  const chain: string[] = [dept.code];
  let current: Department | null = newParent;
  for (let depth = 0; current; depth++) {
    chain.push(current.code);
    if (current.id === dept.id) {
      throw new UserErrorsException([new UserError('parentId', UserErrorCode.CYCLE, `making ${newParent.code} the parent of ${dept.code} would create a cycle: ${chain.join(' → ')}`)]);
    }
    if (depth >= MAX_DEPARTMENT_DEPTH) {
      userError('parentId', UserErrorCode.INVALID, `department trees may be at most ${MAX_DEPARTMENT_DEPTH} levels deep`);
    }
    const parentId: string | null = current.parent ? current.parent.id : null;
    current = parentId ? await em.findOne(Department, parentId) : null;
  }
}
