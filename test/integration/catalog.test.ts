import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArchiveMetricDocument,
  ArchiveServiceDocument,
  CreateDepartmentDocument,
  CreateMetricDocument,
  CreateServiceDocument,
  DepartmentDocument,
  MetricDocument,
  MetricsDocument,
  ServiceDocument,
  ServicesDocument,
  UpdateMetricDocument,
  UpdateServiceDocument,
} from '../generated/graphql';
import { engines, post, startServer, type TestServer } from '../support/server';

describe.each(engines())('service and metric catalogs on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('serves the seeded demo catalogs', async () => {
    const it = await s.data(DepartmentDocument, { code: 'IT' });
    expect(it.department.services.map((x) => x.code)).toEqual(['CRM', 'IT-HELPDESK', 'MARTECH']);
    const crm = await s.data(ServiceDocument, { code: 'crm' });
    expect(crm.service).toMatchObject({ code: 'CRM', name: 'CRM platform', provider: { code: 'IT' }, archivedAt: null });
    const availability = await s.data(MetricDocument, { code: 'SYSTEM_AVAILABILITY' });
    expect(availability.metric).toMatchObject({ unit: 'PERCENT', direction: 'HIGHER_IS_BETTER', source: 'AUTOMATED', minValue: 0, maxValue: 100, integerOnly: false });
    const automated = await s.data(MetricsDocument, { first: 100, filter: { source: 'AUTOMATED' } });
    expect(automated.metrics.totalCount).toBe(12); // FRICTION_REPORT_DELIVERED and SYSTEM_AVAILABILITY are automated since issue 16
    expect(automated.metrics.edges.every((e) => e.node.source === 'AUTOMATED')).toBe(true);
    const lowerHours = await s.data(MetricsDocument, { filter: { direction: 'LOWER_IS_BETTER', unit: 'HOURS' } });
    expect(lowerHours.metrics.edges.map((e) => e.node.code)).toEqual([
      'ESCALATION_MTTR',
      'ESCALATION_RESPONSE_P90',
      'HANDOFF_RESPONSE_MEDIAN',
      'HANDOFF_RESPONSE_P90',
      'MTTR',
      'TICKET_FIRST_RESPONSE',
    ]);
  });

  it('creates, updates and archives a service, with every refusal as a user error', async () => {
    const fin = await s.data(DepartmentDocument, { code: 'FIN' });
    const created = await s.data(CreateServiceDocument, { input: { code: 'payroll', name: ' Payroll ', description: 'Monthly pay runs', providerId: fin.department.id } });
    expect(created.createService.userErrors).toEqual([]);
    const svc = created.createService.service!;
    expect(svc).toMatchObject({ code: 'PAYROLL', name: 'Payroll', description: 'Monthly pay runs', version: 1, provider: { code: 'FIN' } });

    const taken = await s.data(CreateServiceDocument, { input: { code: 'CRM', name: 'x', providerId: fin.department.id } });
    expect(taken.createService.userErrors).toEqual([{ field: 'code', code: 'TAKEN', message: 'service code CRM is already taken' }]);
    const missing = '00000000-0000-4000-8000-000000000001';
    const noProvider = await s.data(CreateServiceDocument, { input: { code: 'NEW-SVC', name: 'x', providerId: missing } });
    expect(noProvider.createService.userErrors).toEqual([{ field: 'providerId', code: 'NOT_FOUND', message: `no department has id ${missing}` }]);
    const invalid = await s.data(CreateServiceDocument, { input: { code: '-', name: '', providerId: 'x', description: 'd'.repeat(5001) } });
    expect(invalid.createService.userErrors.map((e) => e.field).sort()).toEqual(['code', 'description', 'name', 'providerId']);

    const updated = await s.data(UpdateServiceDocument, { input: { id: svc.id, expectedVersion: 1, name: 'Payroll and expenses', code: 'PAY' } });
    expect(updated.updateService.service).toMatchObject({ code: 'PAY', name: 'Payroll and expenses', version: 2 });
    const stale = await s.data(UpdateServiceDocument, { input: { id: svc.id, expectedVersion: 1, name: 'x' } });
    expect(stale.updateService.userErrors[0]).toMatchObject({ field: 'expectedVersion', code: 'CONFLICT' });
    const badUpdate = await s.data(UpdateServiceDocument, { input: { id: svc.id, expectedVersion: 0, code: '' } });
    expect(badUpdate.updateService.userErrors.map((e) => e.field).sort()).toEqual(['code', 'expectedVersion']);

    const archived = await s.data(ArchiveServiceDocument, { input: { id: svc.id, expectedVersion: 2 } });
    expect(archived.archiveService.service?.archivedAt).toEqual(expect.any(String));
    const list = await s.data(ServicesDocument, { filter: { providerId: fin.department.id } });
    expect(list.services.edges.map((e) => e.node.code)).toEqual(['DEAL-DESK']);
    const withArchived = await s.data(ServicesDocument, { filter: { providerId: fin.department.id, includeArchived: true } });
    expect(withArchived.services.edges.map((e) => e.node.code)).toEqual(['DEAL-DESK', 'PAY']);
    const afterArchive = await s.data(UpdateServiceDocument, { input: { id: svc.id, expectedVersion: 3, name: 'x' } });
    expect(afterArchive.updateService.userErrors[0]).toMatchObject({ field: 'id', code: 'ARCHIVED' });
  });

  it('refuses a service for an archived provider', async () => {
    const d = await s.data(CreateDepartmentDocument, { input: { code: 'GONE', name: 'Gone' } });
    const id = d.createDepartment.department!.id;
    const { ArchiveDepartmentDocument } = await import('../generated/graphql');
    await s.data(ArchiveDepartmentDocument, { input: { id, expectedVersion: 1 } });
    const r = await s.data(CreateServiceDocument, { input: { code: 'GONE-SVC', name: 'x', providerId: id } });
    expect(r.createService.userErrors).toEqual([{ field: 'providerId', code: 'ARCHIVED', message: 'department GONE is archived' }]);
  });

  it('creates metrics with bounds defaulted from the unit, and refuses inverted or non-finite bounds', async () => {
    const count = await s.data(CreateMetricDocument, {
      input: { code: 'tickets_closed', name: 'Tickets closed', unit: 'COUNT', direction: 'HIGHER_IS_BETTER', source: 'MANUAL' },
    });
    expect(count.createMetric.metric).toMatchObject({ code: 'TICKETS_CLOSED', minValue: 0, maxValue: null, integerOnly: true, description: '' });
    const score = await s.data(CreateMetricDocument, {
      input: { code: 'NPS', name: 'Net promoter score', unit: 'SCORE', direction: 'HIGHER_IS_BETTER', source: 'MANUAL', minValue: -100, maxValue: 100 },
    });
    expect(score.createMetric.metric).toMatchObject({ minValue: -100, maxValue: 100, integerOnly: false });
    const inverted = await s.data(CreateMetricDocument, {
      input: { code: 'BAD_BOUNDS', name: 'x', unit: 'HOURS', direction: 'LOWER_IS_BETTER', source: 'MANUAL', minValue: 10, maxValue: 1 },
    });
    expect(inverted.createMetric.userErrors).toEqual([{ field: 'maxValue', code: 'INVALID', message: 'maxValue: expected at least minValue (10), received 1' }]);
    const taken = await s.data(CreateMetricDocument, { input: { code: 'MTTR', name: 'x', unit: 'HOURS', direction: 'LOWER_IS_BETTER', source: 'MANUAL' } });
    expect(taken.createMetric.userErrors).toEqual([{ field: 'code', code: 'TAKEN', message: 'metric code MTTR is already taken' }]);
    const invalid = await s.data(CreateMetricDocument, { input: { code: 'x', name: '', unit: 'HOURS', direction: 'LOWER_IS_BETTER', source: 'MANUAL', description: 'd'.repeat(5001) } });
    expect(invalid.createMetric.userErrors.map((e) => e.field).sort()).toEqual(['code', 'description', 'name']);
    const badEnum = await s.request(CreateMetricDocument, { input: { code: 'ENUMS', name: 'x', unit: 'FURLONGS' as never, direction: 'LOWER_IS_BETTER', source: 'MANUAL' } });
    expect(badEnum.status).toBe(400);
    expect(badEnum.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(badEnum.errors?.[0].message).toContain('input.unit');
  });

  it('updates bounds (null clears one), keeps unit, direction and source fixed, and archives', async () => {
    const created = await s.data(CreateMetricDocument, {
      input: { code: 'WAIT_MINUTES', name: 'Wait', unit: 'MINUTES', direction: 'LOWER_IS_BETTER', source: 'AUTOMATED', feed: 'EXTERNAL', aggregation: 'MEAN', idempotencyKey: 'm-1' },
    });
    const m = created.createMetric.metric!;
    const replay = await s.data(CreateMetricDocument, {
      input: { code: 'WAIT_MINUTES', name: 'Wait', unit: 'MINUTES', direction: 'LOWER_IS_BETTER', source: 'AUTOMATED', feed: 'EXTERNAL', aggregation: 'MEAN', idempotencyKey: 'm-1' },
    });
    expect(replay.createMetric.metric?.id).toBe(m.id);
    const u = await s.data(UpdateMetricDocument, { input: { id: m.id, expectedVersion: 1, maxValue: 600, name: 'Waiting time', description: 'Queue wait' } });
    expect(u.updateMetric.metric).toMatchObject({ name: 'Waiting time', description: 'Queue wait', minValue: 0, maxValue: 600, version: 2, unit: 'MINUTES' });
    const cleared = await s.data(UpdateMetricDocument, { input: { id: m.id, expectedVersion: 2, minValue: null } });
    expect(cleared.updateMetric.metric).toMatchObject({ minValue: null, maxValue: 600 });
    const inverted = await s.data(UpdateMetricDocument, { input: { id: m.id, expectedVersion: 3, minValue: 700 } });
    expect(inverted.updateMetric.userErrors[0]).toMatchObject({ field: 'maxValue', code: 'INVALID' });
    const unchanged = await s.data(MetricDocument, { id: m.id });
    expect(unchanged.metric).toMatchObject({ minValue: null, version: 3 });
    const archived = await s.data(ArchiveMetricDocument, { input: { id: m.id, expectedVersion: 3 } });
    expect(archived.archiveMetric.metric?.archivedAt).toEqual(expect.any(String));
    const hidden = await s.data(MetricsDocument, { filter: { search: 'wait' } });
    expect(hidden.metrics.totalCount).toBe(0);
    const shown = await s.data(MetricsDocument, { filter: { search: 'wait', includeArchived: true } });
    expect(shown.metrics.totalCount).toBe(1);
  });

  it('never writes a refused change, even when a later mutation of the same request flushes', async () => {
    const m = (await s.data(MetricDocument, { code: 'MTTR' })).metric;
    const n = (await s.data(MetricDocument, { code: 'TICKET_FIRST_RESPONSE' })).metric;
    const query = `mutation {
      a: updateMetric(input: { id: "${m.id}", expectedVersion: ${m.version}, description: "first" }) { metric { version } userErrors { code } }
      b: updateMetric(input: { id: "${m.id}", expectedVersion: ${m.version + 1}, name: "HACKED", minValue: 1000, maxValue: 1 }) { metric { version } userErrors { code } }
      c: updateMetric(input: { id: "${n.id}", expectedVersion: ${n.version}, description: "third" }) { metric { version } userErrors { code } }
    }`;
    const r = await post(`${s.url}/graphql`, JSON.stringify({ query }), { authorization: `Bearer ${s.adminToken}` });
    const body = JSON.parse(r.text);
    expect(body.data.b.userErrors).toEqual([{ code: 'INVALID' }]);
    expect(body.data.c.userErrors).toEqual([]);
    const after = (await s.data(MetricDocument, { id: m.id })).metric;
    expect(after).toMatchObject({ name: m.name, minValue: m.minValue, description: 'first', version: m.version + 1 });
  });

  it('throws NOT_FOUND for unknown services and metrics', async () => {
    const svc = await s.request(ServiceDocument, { code: 'NOPE' });
    expect(svc.errors?.[0]).toMatchObject({ message: 'Service code NOPE was not found', extensions: { code: 'NOT_FOUND' } });
    const metric = await s.request(MetricDocument, { id: '00000000-0000-4000-8000-000000000002' });
    expect(metric.errors?.[0]).toMatchObject({ message: 'Metric id 00000000-0000-4000-8000-000000000002 was not found', extensions: { code: 'NOT_FOUND' } });
  });

  it('pages services in code order', async () => {
    const first = await s.data(ServicesDocument, { first: 3 });
    const second = await s.data(ServicesDocument, { first: 3, after: first.services.pageInfo.endCursor });
    const codes = [...first.services.edges, ...second.services.edges].map((e) => e.node.code);
    expect(codes).toEqual([...codes].sort());
    expect(new Set(codes).size).toBe(6);
    expect(first.services.pageInfo.hasNextPage).toBe(true);
  });
});
