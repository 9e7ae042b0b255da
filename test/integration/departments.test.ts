import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArchiveDepartmentDocument,
  CreateDepartmentDocument,
  CreateServiceDocument,
  DepartmentDocument,
  DepartmentsCountDocument,
  DepartmentsDocument,
  DepartmentsNoCountDocument,
  type DepartmentsQuery,
  DepartmentsWithRelationsDocument,
  UpdateDepartmentDocument,
} from '../generated/graphql';
import { engines, startServer, type TestServer } from '../support/server';

describe.each(engines())('departments on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(engine);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function create(code: string, name = code, parentId?: string) {
    const r = await s.data(CreateDepartmentDocument, { input: { code, name, parentId } });
    expect(r.createDepartment.userErrors).toEqual([]);
    return r.createDepartment.department!;
  }

  it('creates a department, normalising its code, and reads it back by id and by code', async () => {
    const root = await create(' ops ', 'Operations');
    expect(root).toMatchObject({ code: 'OPS', name: 'Operations', version: 1, parent: null, archivedAt: null });
    const byId = await s.data(DepartmentDocument, { id: root.id });
    const byCode = await s.data(DepartmentDocument, { code: 'ops' });
    expect(byId.department.id).toBe(root.id);
    expect(byCode.department.id).toBe(root.id);
    const child = await create('OPS-EU', 'Operations Europe', root.id);
    expect(child.parent).toEqual({ id: root.id, code: 'OPS' });
    expect((await s.data(DepartmentDocument, { id: root.id })).department.children).toEqual([{ code: 'OPS-EU' }]);
  });

  it('reports a taken code as TAKEN on `code`, and writes nothing', async () => {
    await create('DUP');
    const before = (await s.data(DepartmentsDocument, { filter: { search: 'DUP' } })).departments.totalCount;
    const r = await s.data(CreateDepartmentDocument, { input: { code: 'dup', name: 'Again' } });
    expect(r.createDepartment.department).toBeNull();
    expect(r.createDepartment.userErrors).toEqual([{ field: 'code', code: 'TAKEN', message: 'department code DUP is already taken' }]);
    expect((await s.data(DepartmentsDocument, { filter: { search: 'DUP' } })).departments.totalCount).toBe(before);
  });

  it('reports an unknown parent as NOT_FOUND on `parentId`', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const r = await s.data(CreateDepartmentDocument, { input: { code: 'ORPHAN', name: 'Orphan', parentId: missing } });
    expect(r.createDepartment.userErrors).toEqual([{ field: 'parentId', code: 'NOT_FOUND', message: `no department has id ${missing}` }]);
  });

  it('validates every input field, naming it', async () => {
    const r = await s.data(CreateDepartmentDocument, { input: { code: '1x', name: '', parentId: 'not-a-uuid', idempotencyKey: '' } });
    expect(r.createDepartment.department).toBeNull();
    expect(r.createDepartment.userErrors.map((e) => [e.field, e.code]).sort()).toEqual([
      ['code', 'INVALID'],
      ['idempotencyKey', 'INVALID'],
      ['name', 'REQUIRED'],
      ['parentId', 'INVALID'],
    ]);
    const byField = Object.fromEntries(r.createDepartment.userErrors.map((e) => [e.field, e.message]));
    expect(byField.code).toBe('code: expected 2 to 40 characters of letters, digits, _ or -, starting with a letter');
    expect(byField.parentId).toBe('parentId: expected a department id (UUID)');

    const u = await s.data(UpdateDepartmentDocument, { input: { id: 'x', expectedVersion: 0, name: 'y'.repeat(201) } });
    expect(u.updateDepartment.userErrors.map((e) => e.field).sort()).toEqual(['expectedVersion', 'id', 'name']);
    const a = await s.data(ArchiveDepartmentDocument, { input: { id: 'x', expectedVersion: 1 } });
    expect(a.archiveDepartment.userErrors).toEqual([{ field: 'id', code: 'INVALID', message: 'id: expected an id (UUID)' }]);
  });

  it('refuses a wrongly typed input with BAD_USER_INPUT before running anything', async () => {
    const r = await s.request(CreateDepartmentDocument, { input: { code: 5 as unknown as string, name: 'x' } });
    expect(r.status).toBe(400);
    expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0].message).toContain('input.code');
  });

  it('updates with the current version, and refuses a stale one as CONFLICT without losing the first update', async () => {
    const d = await create('UPD', 'Before');
    const first = await s.data(UpdateDepartmentDocument, { input: { id: d.id, expectedVersion: 1, name: 'After' } });
    expect(first.updateDepartment.department).toMatchObject({ name: 'After', version: 2 });
    const stale = await s.data(UpdateDepartmentDocument, { input: { id: d.id, expectedVersion: 1, name: 'Lost update' } });
    expect(stale.updateDepartment.department).toBeNull();
    expect(stale.updateDepartment.userErrors).toEqual([{ field: 'expectedVersion', code: 'CONFLICT', message: 'expected version 1, but the record is at version 2; reload it and retry' }]);
    expect((await s.data(DepartmentDocument, { id: d.id })).department).toMatchObject({ name: 'After', version: 2 });
  });

  it('moves a department to a new parent, clears it with null, and refuses a cycle naming the chain', async () => {
    const a = await create('CYC-A');
    const b = await create('CYC-B', 'B', a.id);
    const c = await create('CYC-C', 'C', b.id);
    const loop = await s.data(UpdateDepartmentDocument, { input: { id: a.id, expectedVersion: 1, parentId: c.id } });
    expect(loop.updateDepartment.userErrors).toEqual([{ field: 'parentId', code: 'CYCLE', message: 'making CYC-C the parent of CYC-A would create a cycle: CYC-A → CYC-C → CYC-B → CYC-A' }]);
    const self = await s.data(UpdateDepartmentDocument, { input: { id: a.id, expectedVersion: 1, parentId: a.id } });
    expect(self.updateDepartment.userErrors[0].code).toBe('CYCLE');
    const moved = await s.data(UpdateDepartmentDocument, { input: { id: c.id, expectedVersion: 1, parentId: a.id } });
    expect(moved.updateDepartment.department?.parent?.code).toBe('CYC-A');
    const root = await s.data(UpdateDepartmentDocument, { input: { id: c.id, expectedVersion: 2, parentId: null } });
    expect(root.updateDepartment.department?.parent).toBeNull();
  });

  it('refuses a code change to a taken code', async () => {
    const d = await create('REN-A');
    await create('REN-B');
    const r = await s.data(UpdateDepartmentDocument, { input: { id: d.id, expectedVersion: 1, code: 'ren-b' } });
    expect(r.updateDepartment.userErrors).toEqual([{ field: 'code', code: 'TAKEN', message: 'department code REN-B is already taken' }]);
    const ok = await s.data(UpdateDepartmentDocument, { input: { id: d.id, expectedVersion: 1, code: 'ren-c' } });
    expect(ok.updateDepartment.department?.code).toBe('REN-C');
  });

  it('archives only a department without live children or services, and hides it from lists', async () => {
    const parent = await create('ARC-P');
    const child = await create('ARC-C', 'Child', parent.id);
    const svc = await s.data(CreateServiceDocument, { input: { code: 'ARC-SVC', name: 'Svc', providerId: child.id } });
    expect(svc.createService.userErrors).toEqual([]);
    const refused = await s.data(ArchiveDepartmentDocument, { input: { id: parent.id, expectedVersion: 1 } });
    expect(refused.archiveDepartment.userErrors).toEqual([
      { field: 'id', code: 'IN_USE', message: 'department ARC-P still has 1 live child department(s) and 0 live service(s); archive those first' },
    ]);
    const refusedChild = await s.data(ArchiveDepartmentDocument, { input: { id: child.id, expectedVersion: 1 } });
    expect(refusedChild.archiveDepartment.userErrors[0].code).toBe('IN_USE');
    const stale = await s.data(ArchiveDepartmentDocument, { input: { id: parent.id, expectedVersion: 9 } });
    expect(stale.archiveDepartment.userErrors[0].code).toBe('CONFLICT');

    const leaf = await create('ARC-LEAF', 'Leaf', parent.id);
    const archived = await s.data(ArchiveDepartmentDocument, { input: { id: leaf.id, expectedVersion: 1 } });
    expect(archived.archiveDepartment.department?.archivedAt).toEqual(expect.any(String));
    expect(archived.archiveDepartment.department?.version).toBe(2);
    const again = await s.data(ArchiveDepartmentDocument, { input: { id: leaf.id, expectedVersion: 2 } });
    expect(again.archiveDepartment.userErrors[0].code).toBe('ARCHIVED');
    const update = await s.data(UpdateDepartmentDocument, { input: { id: leaf.id, expectedVersion: 2, name: 'x' } });
    expect(update.updateDepartment.userErrors[0]).toMatchObject({ field: 'id', code: 'ARCHIVED' });
    const underArchived = await s.data(CreateDepartmentDocument, { input: { code: 'ARC-NEW', name: 'x', parentId: leaf.id } });
    expect(underArchived.createDepartment.userErrors).toEqual([{ field: 'parentId', code: 'ARCHIVED', message: 'department ARC-LEAF is archived' }]);

    const live = await s.data(DepartmentsDocument, { filter: { search: 'ARC-' } });
    expect(live.departments.edges.map((e) => e.node.code)).toEqual(['ARC-C', 'ARC-P']);
    const all = await s.data(DepartmentsDocument, { filter: { search: 'arc-', includeArchived: true } });
    expect(all.departments.edges.map((e) => e.node.code)).toEqual(['ARC-C', 'ARC-LEAF', 'ARC-P']);
    const children = await s.data(DepartmentDocument, { id: parent.id });
    expect(children.department.children.map((c) => c.code)).toEqual(['ARC-C', 'ARC-LEAF']);
  });

  it('replays an idempotent create: same key and input give the same department and write nothing; another input is refused', async () => {
    const input = { code: 'IDEM', name: 'Idempotent', idempotencyKey: 'key-1' };
    const first = await s.data(CreateDepartmentDocument, { input });
    const writes = await s.countStatements(async () => {
      const again = await s.data(CreateDepartmentDocument, { input });
      expect(again.createDepartment.department?.id).toBe(first.createDepartment.department?.id);
      expect(again.createDepartment.userErrors).toEqual([]);
    });
    expect(writes).toBe(3); // the token, the key lookup and the load of the first result: no INSERT
    const reused = await s.data(CreateDepartmentDocument, { input: { ...input, name: 'Different' } });
    expect(reused.createDepartment.userErrors).toEqual([
      { field: 'idempotencyKey', code: 'IDEMPOTENCY_KEY_REUSED', message: 'idempotency key "key-1" was already used for createDepartment with a different payload' },
    ]);
    expect((await s.data(DepartmentsDocument, { filter: { search: 'IDEM' } })).departments.totalCount).toBe(1);
  });

  it('gives one department to concurrent replays of one idempotency key', async () => {
    const input = { code: 'RACE', name: 'Race', idempotencyKey: 'race-key' };
    const results = await Promise.all(Array.from({ length: 8 }, () => s.data(CreateDepartmentDocument, { input })));
    const ids = new Set(results.map((r) => r.createDepartment.department?.id));
    expect(results.flatMap((r) => r.createDepartment.userErrors)).toEqual([]);
    expect(ids.size).toBe(1);
  });

  it('throws NOT_FOUND for an unknown id or code, and BAD_USER_INPUT without exactly one of them', async () => {
    const r = await s.request(DepartmentDocument, { code: 'NOPE' });
    expect(r.errors?.[0]).toMatchObject({ message: 'Department code NOPE was not found', extensions: { code: 'NOT_FOUND' } });
    const both = await s.request(DepartmentDocument, { code: 'A', id: '00000000-0000-4000-8000-000000000000' });
    expect(both.errors?.[0]).toMatchObject({ message: 'department: expected exactly one of id or code', extensions: { code: 'BAD_USER_INPUT' } });
    const neither = await s.request(DepartmentDocument, {});
    expect(neither.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('pages with first/after in a stable order, every row exactly once, with totalCount', async () => {
    for (const code of ['PG-E', 'PG-A', 'PG-D', 'PG-B', 'PG-C']) await create(code);
    const seen: string[] = [];
    let after: string | null | undefined = null;
    let pages = 0;
    for (;;) {
      const r: DepartmentsQuery = await s.data(DepartmentsDocument, { first: 2, after, filter: { search: 'PG-' } });
      expect(r.departments.totalCount).toBe(pages === 0 ? 5 : 6);
      expect(r.departments.pageInfo.hasPreviousPage).toBe(false);
      seen.push(...r.departments.edges.map((e) => e.node.code));
      pages++;
      if (!r.departments.pageInfo.hasNextPage) break;
      after = r.departments.pageInfo.endCursor;
      // A row written between pages, before the cursor, must not shift what follows.
      if (pages === 1) await create('PG-0');
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['PG-A', 'PG-B', 'PG-C', 'PG-D', 'PG-E']);
  });

  it('refuses a page size above 500 and a forged cursor with BAD_USER_INPUT', async () => {
    const over = await s.request(DepartmentsDocument, { first: 501 });
    expect(over.errors?.[0]).toMatchObject({ message: 'first: expected an integer from 0 to 500, received 501', extensions: { code: 'BAD_USER_INPUT' } });
    // Far above: refused by the cost limit before execution (see hardening.test.ts).
    const big = await s.request(DepartmentsDocument, { first: 100000 });
    expect(big.status).toBe(400);
    expect(big.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const forged = await s.request(DepartmentsDocument, { first: 1, after: 'garbage' });
    expect(forged.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('filters roots and children', async () => {
    const root = await create('FLT-ROOT');
    await create('FLT-KID', 'Kid', root.id);
    const kids = await s.data(DepartmentsDocument, { filter: { parentId: root.id } });
    expect(kids.departments.edges.map((e) => e.node.code)).toEqual(['FLT-KID']);
    const roots = await s.data(DepartmentsDocument, { filter: { rootsOnly: true, search: 'FLT' } });
    expect(roots.departments.edges.map((e) => e.node.code)).toEqual(['FLT-ROOT']);
  });

  it('refuses names of spaces only as REQUIRED', async () => {
    const r = await s.data(CreateDepartmentDocument, { input: { code: 'BLANK', name: '   ' } });
    expect(r.createDepartment.userErrors).toEqual([{ field: 'name', code: 'REQUIRED', message: 'name: expected some text, not only spaces' }]);
  });

  it('answers malformed ids and forged cursors with NOT_FOUND or BAD_USER_INPUT, never INTERNAL', async () => {
    const byId = await s.request(DepartmentDocument, { id: 'nope' });
    expect(byId.errors?.[0]).toMatchObject({ message: 'Department id nope was not found', extensions: { code: 'NOT_FOUND' } });
    const filter = await s.request(DepartmentsDocument, { filter: { parentId: 'nope' } });
    // A filter takes an id or a code (issue 16): "nope" is looked up as a code.
    expect(filter.errors?.[0]).toMatchObject({ message: 'Department code nope (filter.parentId) was not found', extensions: { code: 'NOT_FOUND' } });
    const operator = Buffer.from(JSON.stringify([{ $ne: 'x' }, 'zzz'])).toString('base64url');
    const badId = Buffer.from(JSON.stringify(['A', 'zzz'])).toString('base64url');
    for (const after of [operator, badId]) {
      const r = await s.request(DepartmentsDocument, { first: 1, after });
      expect(r.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
  });

  it('keeps the tree acyclic and nothing archived in use under concurrent writers', async () => {
    // Pairs of moves X under Y and Y under X at once: at most one of each pair may win.
    for (let i = 0; i < 6; i++) {
      const x = await create(`CX${i}`);
      const y = await create(`CY${i}`);
      const [a, b] = await Promise.all([
        s.data(UpdateDepartmentDocument, { input: { id: x.id, expectedVersion: 1, parentId: y.id } }),
        s.data(UpdateDepartmentDocument, { input: { id: y.id, expectedVersion: 1, parentId: x.id } }),
      ]);
      const won = [a.updateDepartment.department, b.updateDepartment.department].filter(Boolean);
      expect(won).toHaveLength(1);
      expect([...a.updateDepartment.userErrors, ...b.updateDepartment.userErrors].map((e) => e.code)).toEqual(['CYCLE']);
    }
    // Archiving a department while a service is added to it: never both.
    for (let i = 0; i < 6; i++) {
      const d = await create(`CA${i}`);
      const [archived, added] = await Promise.all([
        s.data(ArchiveDepartmentDocument, { input: { id: d.id, expectedVersion: 1 } }),
        s.data(CreateServiceDocument, { input: { code: `CA-SVC${i}`, name: 'x', providerId: d.id } }),
      ]);
      const both = archived.archiveDepartment.department !== null && added.createService.service !== null;
      expect(both).toBe(false);
    }
  });

  it('skips the COUNT statement when totalCount is not selected', async () => {
    const withCount = await s.countStatements(() => s.data(DepartmentsCountDocument, { first: 5 }));
    const without = await s.countStatements(() => s.data(DepartmentsNoCountDocument, { first: 5 }));
    // One statement authenticates the token; then the page, then (only when selected) the count.
    expect(withCount).toBe(3);
    expect(without).toBe(2);
  });
});

describe.each(engines())('department relations are batched on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(engine);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function grow(total: number): Promise<void> {
    // A tree: roots with children, each with one service.
    const existing = (await s.data(DepartmentsDocument, { first: 500 })).departments.totalCount;
    for (let i = existing; i < total; i++) {
      const code = `B${String(i).padStart(4, '0')}`;
      const parentCode = i % 5 === 0 ? null : `B${String(i - (i % 5)).padStart(4, '0')}`;
      const parentId = parentCode ? (await s.data(DepartmentDocument, { code: parentCode })).department.id : undefined;
      const d = await s.data(CreateDepartmentDocument, { input: { code, name: code, parentId } });
      await s.data(CreateServiceDocument, { input: { code: `S${code}`, name: code, providerId: d.createDepartment.department!.id } });
    }
  }

  it('runs the same number of SQL statements for 10 and for 60 departments with parents, children and services', async () => {
    await grow(10);
    const small = await s.countStatements(() => s.data(DepartmentsWithRelationsDocument, { first: 500 }));
    await grow(60);
    const large = await s.countStatements(async () => {
      const r = await s.data(DepartmentsWithRelationsDocument, { first: 500 });
      expect(r.departments.edges).toHaveLength(60);
      expect(r.departments.edges[1].node).toEqual({
        code: 'B0001',
        parent: { code: 'B0000', parent: null },
        children: [],
        services: [{ code: 'SB0001', provider: { code: 'B0001' } }],
      });
    });
    // token + page + parents + grandparents + children + services (+ their providers, cached)
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(6);
  });
});
