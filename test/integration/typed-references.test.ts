/**
 * Issue 16, "an API people can type": where a head would need a UUID, the key or code is taken
 * too. A report is submitted for `KP-KC` with its value named by metric code; the handoff chain
 * is asked for by department codes. Bad references are user errors naming the field.
 *
 * KP-KC (fresh departments KP → KC), from January 2026, one MANUAL objective HANDOVER_DAYS ≤ 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateDepartmentDocument, DepartmentDocument, HandoffChainDocument, MetricDocument, ReportableObjectivesDocument, SubmitReportDocument } from '../generated/graphql';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

describe.each(engines())('keys and codes where ids were needed (%s)', (engine) => {
  let s: TestServer;
  let provider: Client;
  let objectiveId: string;

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    const ids: Record<string, string> = {};
    for (const code of ['KP', 'KC']) expect((await s.data(CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    for (const code of ['KP', 'KC']) ids[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const charter = await activateAgreement(s, { key: 'KPC-CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    const handover = (await s.data(MetricDocument, { code: 'HANDOVER_DAYS' })).metric.id;
    await activateAgreement(s, {
      key: 'KP-KC',
      tier: 'CUSTOMER',
      title: 'Handover',
      providerId: ids.KP,
      customerId: ids.KC,
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [{ metricId: handover, target: 2 }],
    });
    objectiveId = (await s.data(ReportableObjectivesDocument, { key: 'KP-KC', at: '2026-02' })).agreement.effectiveObjectives[0].id;
    provider = s.as(await s.tokenFor(Role.HEAD, 'KP'));
  });
  afterAll(async () => {
    await s?.close();
  });

  const submit = (agreementId: string, values: Array<{ objectiveId?: string; metric?: string; value: number }>, key: string) =>
    provider.at('2026-03-02T09:00:00Z').data(SubmitReportDocument, { input: { agreementId, month: '2026-02', narrative: 'February', values, idempotencyKey: key } });

  it('refuses an unknown key, an unknown metric, and a value naming its objective twice over, each on its field', async () => {
    expect((await submit('NO-SUCH-KEY', [{ metric: 'HANDOVER_DAYS', value: 1.4 }], 'k-1')).submitReport.userErrors).toEqual([
      { field: 'agreementId', code: 'NOT_FOUND', message: 'no agreement has key NO-SUCH-KEY' },
    ]);
    expect((await submit('KP-KC', [{ metric: 'QUALIFIED_LEADS', value: 3 }], 'k-2')).submitReport.userErrors).toEqual([
      {
        field: 'values[0].metric',
        code: 'NOT_FOUND',
        message: 'metric QUALIFIED_LEADS has no objective in force for KP-KC in 2026-02 (version 1); read effectiveObjectives(at: "2026-02")',
      },
    ]);
    expect((await submit('KP-KC', [{ objectiveId, metric: 'HANDOVER_DAYS', value: 1.4 }, { value: 2 }], 'k-3')).submitReport.userErrors).toEqual([
      { field: 'values[0]', code: 'INVALID', message: 'values[0]: expected exactly one of objectiveId or metric (a metric code)' },
      { field: 'values[1]', code: 'INVALID', message: 'values[1]: expected exactly one of objectiveId or metric (a metric code)' },
    ]);
  });

  it('takes a report for an agreement key with its value by metric code', async () => {
    const r = await submit('kp-kc', [{ metric: 'handover_days', value: 1.4 }], 'k-4');
    expect(r.submitReport.userErrors).toEqual([]);
    expect(r.submitReport.revision).toMatchObject({ number: 1, values: [{ value: 1.4, objective: { id: objectiveId }, metric: { code: 'HANDOVER_DAYS' } }] });
  });

  it('takes a value’s objective by its key, the same in every version, and names a key it does not know', async () => {
    const march = (values: Array<{ objectiveId?: string; metric?: string; value: number }>, key: string) =>
      provider.at('2026-04-02T09:00:00Z').data(SubmitReportDocument, { input: { agreementId: 'KP-KC', month: '2026-03', narrative: 'March', values, idempotencyKey: key } });
    expect((await march([{ objectiveId: 'KP-KC/MTTR', value: 1 }], 'k-5')).submitReport.userErrors).toEqual([
      {
        field: 'values[0].objectiveId',
        code: 'NOT_FOUND',
        message: 'objective KP-KC/MTTR is not in force for KP-KC in 2026-03 (version 1); read effectiveObjectives(at: "2026-03")',
      },
    ]);
    const r = await march([{ objectiveId: ' kp-kc/handover_days ', value: 1.6 }], 'k-6');
    expect(r.submitReport.userErrors).toEqual([]);
    expect(r.submitReport.revision).toMatchObject({ number: 1, values: [{ value: 1.6, objective: { id: objectiveId }, metric: { code: 'HANDOVER_DAYS' } }] });
  });

  it('finds the handoff chain by department codes, and says which code it does not know', async () => {
    const chain = await s.data(HandoffChainDocument, { from: 'kp', to: 'KC', start: '2026-02' });
    expect(chain.handoffChain).toMatchObject({ start: '2026-02', stages: [] });
    const unknown = await s.request(HandoffChainDocument, { from: 'KP', to: 'NOPE', start: '2026-02' });
    expect(unknown.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['NOT_FOUND', expect.stringContaining('code NOPE (to)')]]);
  });
});
