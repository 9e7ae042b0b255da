import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveDepartmentDocument, AuditLogDocument, CreateApiTokenDocument, CreateDepartmentDocument, MeDocument, UpdateDepartmentDocument } from '../generated/graphql';
import { engines, Role, startServer, type TestServer } from '../support/server';

describe.each(engines())('audit log on %s', (engine) => {
  let s: TestServer;
  let adminId: string;
  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    adminId = (await s.data(MeDocument, {})).me.id;
  });
  afterAll(async () => {
    await s?.close();
  });

  it('records every change of state with who, when, what, before and after, newest first', async () => {
    const started = new Date(Date.now() - 1000).toISOString();
    const created = await s.request(CreateDepartmentDocument, { input: { code: 'AUD', name: 'Audited' } }, { 'x-request-id': 'audit-create' });
    const d = created.data!.createDepartment.department!;
    await s.data(UpdateDepartmentDocument, { input: { id: d.id, expectedVersion: 1, name: 'Audited twice' } });
    await s.data(ArchiveDepartmentDocument, { input: { id: d.id, expectedVersion: 2 } });

    const log = await s.data(AuditLogDocument, { filter: { entityType: 'Department', entityId: d.id, from: started } });
    const entries = log.auditLog.edges.map((e) => e.node);
    expect(entries.map((e) => e.action)).toEqual(['archive', 'update', 'create']);
    for (const e of entries) expect(e).toMatchObject({ actorUserId: adminId, actorRole: 'ADMIN', entityType: 'Department', entityId: d.id });
    const [archive, update, create] = entries;
    expect(create.requestId).toBe('audit-create');
    expect(create.before).toBeNull();
    expect(create.after).toMatchObject({ code: 'AUD', name: 'Audited' });
    const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(update.before).toEqual({ name: 'Audited', updatedAt: iso });
    expect(update.after).toEqual({ name: 'Audited twice', updatedAt: iso });
    expect(create.after?.createdAt).toEqual(iso);
    expect(archive.before).toMatchObject({ archivedAt: null });
    expect(archive.after?.archivedAt).toBeTruthy();
    expect(new Date(archive.at).getTime()).toBeGreaterThanOrEqual(new Date(create.at).getTime());
  });

  it('writes nothing for a refused mutation', async () => {
    const before = (await s.data(AuditLogDocument, { first: 0 })).auditLog.totalCount;
    const r = await s.data(CreateDepartmentDocument, { input: { code: 'MKT', name: 'taken' } });
    expect(r.createDepartment.userErrors[0].code).toBe('TAKEN');
    expect((await s.data(AuditLogDocument, { first: 0 })).auditLog.totalCount).toBe(before);
  });

  it('never copies a token secret or its hash', async () => {
    const created = await s.data(CreateApiTokenDocument, { input: { userId: adminId, name: 'audited' } });
    const log = await s.data(AuditLogDocument, { filter: { entityType: 'ApiToken', entityId: created.createApiToken.token!.id } });
    const entry = log.auditLog.edges[0].node;
    expect(entry.action).toBe('create');
    expect(entry.after).toMatchObject({ name: 'audited', prefix: created.createApiToken.secret!.slice(0, 11) });
    expect(JSON.stringify(entry)).not.toMatch(/secretHash|[0-9a-f]{64}/);
    expect(JSON.stringify(entry)).not.toContain(created.createApiToken.secret!.slice(11));
  });

  it('is append-only in the database itself', async () => {
    const conn = s.app.orm.em.getConnection();
    await expect(conn.execute("update audit_entry set action = 'tampered'")).rejects.toThrow(/append-only/);
    await expect(conn.execute('delete from audit_entry')).rejects.toThrow(/append-only/);
  });

  it('records seeding as the system (no actor), and is for admins only', async () => {
    const seeded = await s.data(AuditLogDocument, { first: 1, filter: { entityType: 'Metric' } });
    expect(seeded.auditLog.edges[0].node.actorUserId).toBeNull();
    const analyst = s.as(await s.tokenFor(Role.ANALYST));
    const r = await analyst.request(AuditLogDocument, { first: 1 });
    expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('pages newest first without repeats', async () => {
    const first = await s.data(AuditLogDocument, { first: 5 });
    const second = await s.data(AuditLogDocument, { first: 5, after: first.auditLog.pageInfo.endCursor });
    const ids = [...first.auditLog.edges, ...second.auditLog.edges].map((e) => e.node.id);
    expect(new Set(ids).size).toBe(10);
    const times = [...first.auditLog.edges, ...second.auditLog.edges].map((e) => new Date(e.node.at).getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });
});
