import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApproveAmendmentDocument,
  ProposeAmendmentDocument,
  RejectAmendmentDocument,
  WithdrawAmendmentDocument,
  ApproveAgreementDocument,
  CreateAgreementDocument,
  ResumeAgreementDocument,
  ApproveLifecycleRequestDocument,
  RejectLifecycleRequestDocument,
  WithdrawLifecycleRequestDocument,
  RequestSuspensionDocument,
  SuspendAgreementDocument,
  TerminateAgreementDocument,
  ArchiveDepartmentDocument,
  ArchiveMetricDocument,
  ArchiveServiceDocument,
  CreateApiTokenDocument,
  CreateDepartmentDocument,
  CreateMetricDocument,
  CreateServiceDocument,
  CreateUserDocument,
  DepartmentDocument,
  MetricDocument,
  RevokeApiTokenDocument,
  SaveReportDraftDocument,
  SubmitReportDocument,
  AcknowledgeReportDocument,
  DisputeReportDocument,
  SettleDisputeDocument,
  RequestExclusionDocument,
  ApproveExclusionDocument,
  RejectExclusionDocument,
  UpdateDepartmentDocument,
  UpdateMetricDocument,
  UpdateServiceDocument,
  UpdateUserDocument,
  ReportableObjectivesDocument,
  AgreementKeyDocument,
  RecordHandoffEventsDocument,
  RecordMeasurementsDocument,
  RecordEscalationsDocument,
  OpenEscalationDocument,
  AcknowledgeEscalationDocument,
  ApproveMonthReopeningDocument,
  RejectMonthReopeningDocument,
  RequestMonthReopeningDocument,
  ResolveEscalationDocument,
  CreateWebhookSubscriptionDocument,
  DeleteWebhookSubscriptionDocument,
  DisableWebhookSubscriptionDocument,
  EnableWebhookSubscriptionDocument,
  MarkAllInboxReadDocument,
  MarkInboxReadDocument,
  RedeliverWebhookDocument,
  RotateWebhookSecretDocument,
  SetEmailPreferencesDocument,
  CreateExportLinkDocument,
  WebhookSubscriptionsDocument,
} from '../generated/graphql';
import { buildApiSchema } from '../../src/schema';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

// Who acts. Every mutation targets something of department IT, so "own" is a principal of IT
// and "other" a principal of Marketing.
const PRINCIPALS = ['ADMIN', 'HEAD own', 'HEAD other', 'ANALYST', 'INTEGRATION own', 'INTEGRATION other', 'anonymous'] as const;
type Who = (typeof PRINCIPALS)[number];
type Outcome = 'allowed' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'FORBIDDEN user error';
const Y: Outcome = 'allowed';
const F: Outcome = 'FORBIDDEN';
const U: Outcome = 'UNAUTHENTICATED';
/** Refused as a user error with code FORBIDDEN on the field that names the department (webhook subscriptions, issue 15). */
const R: Outcome = 'FORBIDDEN user error';

/** The matrix, readable: one row per mutation, one column per principal, as listed above. */
const MATRIX: Record<string, [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome]> = {
  //                  ADMIN  HEAD own  HEAD other  ANALYST  INTEG own  INTEG other  anonymous
  createDepartment: [Y, F, F, F, F, F, U],
  updateDepartment: [Y, F, F, F, F, F, U],
  archiveDepartment: [Y, F, F, F, F, F, U],
  createService: [Y, Y, F, F, F, F, U],
  updateService: [Y, Y, F, F, F, F, U],
  archiveService: [Y, Y, F, F, F, F, U],
  createMetric: [Y, F, F, F, F, F, U],
  updateMetric: [Y, F, F, F, F, F, U],
  archiveMetric: [Y, F, F, F, F, F, U],
  createUser: [Y, F, F, F, F, F, U],
  updateUser: [Y, F, F, F, F, F, U],
  createApiToken: [Y, F, F, F, F, F, U],
  revokeApiToken: [Y, F, F, F, F, F, U],
  createAgreement: [Y, Y, F, F, F, F, U],
  approveAgreement: [Y, Y, F, F, F, F, U],
  suspendAgreement: [Y, Y, F, F, F, F, U],
  resumeAgreement: [Y, Y, F, F, F, F, U],
  terminateAgreement: [Y, Y, F, F, F, F, U],
  proposeAmendment: [Y, Y, F, F, F, F, U],
  approveAmendment: [Y, Y, F, F, F, F, U],
  rejectAmendment: [Y, Y, F, F, F, F, U],
  withdrawAmendment: [Y, Y, F, F, F, F, U],
  // Issue 16: a suspension asked for by the customer's head is IT's (or an admin's) to decide; IT's own request, IT's to withdraw.
  approveLifecycleRequest: [Y, Y, F, F, F, F, U],
  rejectLifecycleRequest: [Y, Y, F, F, F, F, U],
  withdrawLifecycleRequest: [Y, Y, F, F, F, F, U],
  // Reports: IT provides (own head submits) or receives (own head decides).
  saveReportDraft: [Y, Y, F, F, F, F, U],
  submitReport: [Y, Y, F, F, F, F, U],
  acknowledgeReport: [Y, Y, F, F, F, F, U],
  disputeReport: [Y, Y, F, F, F, F, U],
  // A dispute is settled by an admin only, never by either party.
  settleDispute: [Y, F, F, F, F, F, U],
  requestExclusion: [Y, Y, F, F, F, F, U],
  approveExclusion: [Y, Y, F, F, F, F, U],
  rejectExclusion: [Y, Y, F, F, F, F, U],
  // Handoffs come from automation; escalations are raised by either party and answered by the provider.
  recordHandoffEvents: [Y, F, F, F, Y, F, U],
  recordMeasurements: [Y, F, F, F, Y, F, U],
  recordEscalations: [Y, F, F, F, Y, F, U],
  openEscalation: [Y, Y, F, F, Y, F, U],
  acknowledgeEscalation: [Y, Y, F, F, Y, F, U],
  resolveEscalation: [Y, Y, F, F, Y, F, U],
  // A closed month reopens on a party head's request approved by the other party's head (or an admin).
  requestMonthReopening: [Y, Y, F, F, F, F, U],
  approveMonthReopening: [Y, Y, F, F, F, F, U],
  rejectMonthReopening: [Y, Y, F, F, F, F, U],
  // Webhooks: a department's heads (or an admin) manage its subscriptions; naming another
  // department on creation is a user error on `department`, nothing stored.
  createWebhookSubscription: [Y, Y, R, F, F, F, U],
  rotateWebhookSecret: [Y, Y, F, F, F, F, U],
  disableWebhookSubscription: [Y, Y, F, F, F, F, U],
  enableWebhookSubscription: [Y, Y, F, F, F, F, U],
  deleteWebhookSubscription: [Y, Y, F, F, F, F, U],
  redeliverWebhook: [Y, Y, F, F, F, F, U],
  // Every principal marks its own inbox read and sets its own e-mail preferences.
  markInboxRead: [Y, Y, Y, Y, Y, Y, U],
  markAllInboxRead: [Y, Y, Y, Y, Y, Y, U],
  setEmailPreferences: [Y, Y, Y, Y, Y, Y, U],
  // Every principal may pull the facts, so every principal may link to a CSV of them (its own token's link).
  createExportLink: [Y, Y, Y, Y, Y, Y, U],
};

type Cell = { doc: TypedDocumentNode<Record<string, { userErrors: unknown[] } | null>, Record<string, unknown>>; variables: Record<string, unknown> };

describe.each(engines())('authorization matrix on %s', (engine) => {
  let s: TestServer;
  const clients = {} as Record<Who, Client>;
  let it_: string;
  let charterId: string;
  let receiver: http.Server;
  let hookUrl: string;
  let n = 0;
  const uniq = () => `${++n}`.padStart(3, '0');

  beforeAll(async () => {
    // Webhook URLs on this machine, answered 200 by `receiver`.
    s = await startServer(engine, { seed: true, env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '0' } });
    receiver = http.createServer((req, res) => req.resume().on('end', () => res.end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    clients.ADMIN = s;
    clients['HEAD own'] = s.as(await s.tokenFor(Role.HEAD, 'IT'));
    clients['HEAD other'] = s.as(await s.tokenFor(Role.HEAD, 'MKT'));
    clients.ANALYST = s.as(await s.tokenFor(Role.ANALYST));
    clients['INTEGRATION own'] = s.as(await s.tokenFor(Role.INTEGRATION, 'IT'));
    clients['INTEGRATION other'] = s.as(await s.tokenFor(Role.INTEGRATION, 'MKT'));
    clients.anonymous = s.as(null);
    it_ = (await s.data(DepartmentDocument, { code: 'IT' })).department.id;
    const corp = await s.data(CreateAgreementDocument, { input: { key: 'M-CORP', tier: 'CORPORATE', title: 'x', terms: { effectiveFrom: '2026-01' }, objectives: [] } });
    const c = corp.createAgreement.agreement!;
    await s.data(ApproveAgreementDocument, { input: { id: c.id, expectedVersion: c.lockVersion } });
    charterId = c.id;
  });

  /**
   * A CUSTOMER agreement IT → a fresh department (one ACTIVE agreement per pair), advanced by the
   * admin; `itReceives` turns the pair round (a fresh department → IT).
   */
  async function agreementOfIt(
    state: 'DRAFT' | 'ACTIVE' | 'SUSPENDED',
    customerCode?: string,
    options: { itReceives?: boolean; objectives?: Array<{ metricId: string; target: number }> } = {},
  ): Promise<{ id: string; lockVersion: number }> {
    const n = uniq();
    const other = (await s.data(CreateDepartmentDocument, { input: { code: customerCode ?? `M-C${n}`, name: 'x' } })).createDepartment.department!.id;
    const [providerId, customerId] = options.itReceives ? [other, it_] : [it_, other];
    const created = await s.data(CreateAgreementDocument, {
      input: { key: `M-A${n}`, tier: 'CUSTOMER', title: 'x', providerId, customerId, parentId: charterId, terms: { effectiveFrom: '2026-01' }, objectives: options.objectives ?? [] },
    });
    let a = created.createAgreement.agreement!;
    if (state === 'DRAFT') return a;
    // Activated in January on the test clock, so February's report was due long ago.
    for (const party of ['PROVIDER', 'CUSTOMER'] as const)
      a = (await s.at('2026-01-05T00:00:00Z').data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, party } })).approveAgreement.agreement!;
    if (state === 'ACTIVE') return a;
    return (await s.data(SuspendAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, reason: 'cell' } })).suspendAgreement.agreement!;
  }
  afterAll(async () => {
    await s?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  /** A webhook subscription of IT, made by the admin. */
  async function webhookOfIt(eventTypes = ['report.disputed']): Promise<{ id: string; expectedVersion: number }> {
    const r = await s.data(CreateWebhookSubscriptionDocument, { input: { department: 'IT', url: hookUrl, eventTypes } });
    expect(r.createWebhookSubscription.userErrors).toEqual([]);
    return { id: r.createWebhookSubscription.subscription!.id, expectedVersion: r.createWebhookSubscription.subscription!.version };
  }

  /** A delivered webhook of IT: a subscription to activations, an IT agreement activated, the worker run. */
  async function deliveredWebhookOfIt(): Promise<{ deliveryId: string }> {
    const sub = await webhookOfIt(['agreement.activated']);
    await agreementOfIt('ACTIVE');
    for (let i = 0; i < 200; i++) {
      await s.app.webhooks.tick();
      const subs = (await s.data(WebhookSubscriptionsDocument, { department: 'IT' })).webhookSubscriptions;
      const delivered = subs.find((x) => x.id === sub.id)?.deliveries.edges.find((e) => e.node.status === 'DELIVERED');
      if (delivered) return { deliveryId: delivered.node.id };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no webhook delivered within 20 s');
  }

  // Each cell gets fresh targets made by the admin, so an allowed cell never depends on another.
  const prepare: Record<keyof typeof MATRIX, () => Promise<Cell>> = {
    createDepartment: async () => ({ doc: CreateDepartmentDocument as never, variables: { input: { code: `M-D${uniq()}`, name: 'x', parentId: it_ } } }),
    updateDepartment: async () => {
      const d = await s.data(CreateDepartmentDocument, { input: { code: `M-D${uniq()}`, name: 'x', parentId: it_ } });
      return { doc: UpdateDepartmentDocument as never, variables: { input: { id: d.createDepartment.department!.id, expectedVersion: 1, name: 'y' } } };
    },
    archiveDepartment: async () => {
      const d = await s.data(CreateDepartmentDocument, { input: { code: `M-D${uniq()}`, name: 'x', parentId: it_ } });
      return { doc: ArchiveDepartmentDocument as never, variables: { input: { id: d.createDepartment.department!.id, expectedVersion: 1 } } };
    },
    createService: async () => ({ doc: CreateServiceDocument as never, variables: { input: { code: `M-S${uniq()}`, name: 'x', providerId: it_ } } }),
    updateService: async () => {
      const r = await s.data(CreateServiceDocument, { input: { code: `M-S${uniq()}`, name: 'x', providerId: it_ } });
      return { doc: UpdateServiceDocument as never, variables: { input: { id: r.createService.service!.id, expectedVersion: 1, name: 'y' } } };
    },
    archiveService: async () => {
      const r = await s.data(CreateServiceDocument, { input: { code: `M-S${uniq()}`, name: 'x', providerId: it_ } });
      return { doc: ArchiveServiceDocument as never, variables: { input: { id: r.createService.service!.id, expectedVersion: 1 } } };
    },
    createMetric: async () => ({
      doc: CreateMetricDocument as never,
      variables: { input: { code: `M_M${uniq()}`, name: 'x', unit: 'COUNT', direction: 'HIGHER_IS_BETTER', source: 'MANUAL' } },
    }),
    updateMetric: async () => {
      const r = await s.data(CreateMetricDocument, { input: { code: `M_M${uniq()}`, name: 'x', unit: 'COUNT', direction: 'HIGHER_IS_BETTER', source: 'MANUAL' } });
      return { doc: UpdateMetricDocument as never, variables: { input: { id: r.createMetric.metric!.id, expectedVersion: 1, name: 'y' } } };
    },
    archiveMetric: async () => {
      const r = await s.data(CreateMetricDocument, { input: { code: `M_M${uniq()}`, name: 'x', unit: 'COUNT', direction: 'HIGHER_IS_BETTER', source: 'MANUAL' } });
      return { doc: ArchiveMetricDocument as never, variables: { input: { id: r.createMetric.metric!.id, expectedVersion: 1 } } };
    },
    createUser: async () => ({ doc: CreateUserDocument as never, variables: { input: { name: 'x', email: `u${uniq()}@it.example`, role: 'HEAD', departmentId: it_ } } }),
    updateUser: async () => {
      const r = await s.data(CreateUserDocument, { input: { name: 'x', email: `u${uniq()}@it.example`, role: 'HEAD', departmentId: it_ } });
      return { doc: UpdateUserDocument as never, variables: { input: { id: r.createUser.user!.id, expectedVersion: 1, name: 'y' } } };
    },
    createApiToken: async () => {
      const r = await s.data(CreateUserDocument, { input: { name: 'x', email: `u${uniq()}@it.example`, role: 'HEAD', departmentId: it_ } });
      return { doc: CreateApiTokenDocument as never, variables: { input: { userId: r.createUser.user!.id, name: 'cell' } } };
    },
    createAgreement: async () => {
      const customer = await s.data(CreateDepartmentDocument, { input: { code: `M-C${uniq()}`, name: 'x' } });
      return {
        doc: CreateAgreementDocument as never,
        variables: {
          input: {
            key: `M-A${uniq()}`,
            tier: 'CUSTOMER',
            title: 'x',
            providerId: it_,
            customerId: customer.createDepartment.department!.id,
            parentId: charterId,
            terms: { effectiveFrom: '2026-01' },
            objectives: [],
          },
        },
      };
    },
    approveAgreement: async () => {
      const a = await agreementOfIt('DRAFT');
      return { doc: ApproveAgreementDocument as never, variables: { input: { id: a.id, expectedVersion: a.lockVersion, party: 'PROVIDER' } } };
    },
    suspendAgreement: async () => {
      const a = await agreementOfIt('ACTIVE');
      // A head's call is a request (issue 16), an admin's takes effect: both allowed.
      return { doc: SuspendAgreementDocument as never, variables: { input: { id: a.id, expectedVersion: a.lockVersion, reason: 'cell' } } };
    },
    resumeAgreement: async () => {
      const a = await agreementOfIt('SUSPENDED');
      return { doc: ResumeAgreementDocument as never, variables: { input: { id: a.id, expectedVersion: a.lockVersion, reason: 'cell' } } };
    },
    terminateAgreement: async () => {
      const a = await agreementOfIt('DRAFT');
      return { doc: TerminateAgreementDocument as never, variables: { input: { id: a.id, expectedVersion: a.lockVersion, reason: 'cell' } } };
    },
    proposeAmendment: async () => {
      const a = await agreementOfIt('ACTIVE');
      return {
        doc: ProposeAmendmentDocument as never,
        variables: { input: { agreementId: a.id, expectedVersion: a.lockVersion, effectiveMonth: '2030-01', reason: 'cell', terms: { monthlyCharge: 1 } } },
      };
    },
    createWebhookSubscription: async () => ({ doc: CreateWebhookSubscriptionDocument as never, variables: { input: { department: 'IT', url: hookUrl, eventTypes: ['report.disputed'] } } }),
    rotateWebhookSecret: async () => ({ doc: RotateWebhookSecretDocument as never, variables: { input: await webhookOfIt() } }),
    disableWebhookSubscription: async () => ({ doc: DisableWebhookSubscriptionDocument as never, variables: { input: await webhookOfIt() } }),
    enableWebhookSubscription: async () => {
      const sub = await webhookOfIt();
      const off = await s.data(DisableWebhookSubscriptionDocument, { input: sub });
      return { doc: EnableWebhookSubscriptionDocument as never, variables: { input: { id: sub.id, expectedVersion: off.disableWebhookSubscription.subscription!.version } } };
    },
    deleteWebhookSubscription: async () => ({ doc: DeleteWebhookSubscriptionDocument as never, variables: { input: await webhookOfIt() } }),
    redeliverWebhook: async () => ({ doc: RedeliverWebhookDocument as never, variables: { input: await deliveredWebhookOfIt() } }),
    markInboxRead: async () => ({ doc: MarkInboxReadDocument as never, variables: { ids: [] } }),
    markAllInboxRead: async () => ({ doc: MarkAllInboxReadDocument as never, variables: {} }),
    setEmailPreferences: async () => ({ doc: SetEmailPreferencesDocument as never, variables: { input: { dailyDigest: false } } }),
    createExportLink: async () => ({ doc: CreateExportLinkDocument as never, variables: { input: { entity: 'exclusions', filter: { from: '2026-01', to: '2026-03' }, ttlSeconds: 60 } } }),
    // Decided by IT's side (or an admin): proposed by the head of the customer department.
    approveAmendment: async () => ({ doc: ApproveAmendmentDocument as never, variables: { input: await amendmentByCustomer() } }),
    rejectAmendment: async () => ({ doc: RejectAmendmentDocument as never, variables: { input: { ...(await amendmentByCustomer()), reason: 'no' } } }),
    approveLifecycleRequest: async () => ({ doc: ApproveLifecycleRequestDocument as never, variables: { input: await suspensionAskedBy('customer') } }),
    rejectLifecycleRequest: async () => ({ doc: RejectLifecycleRequestDocument as never, variables: { input: { ...(await suspensionAskedBy('customer')), reason: 'no' } } }),
    withdrawLifecycleRequest: async () => ({ doc: WithdrawLifecycleRequestDocument as never, variables: { input: await suspensionAskedBy('IT') } }),
    // Withdrawn by its proposer's side (IT's head) or an admin.
    withdrawAmendment: async () => {
      const a = await agreementOfIt('ACTIVE');
      const p = await clients['HEAD own'].data(ProposeAmendmentDocument, {
        input: { agreementId: a.id, expectedVersion: a.lockVersion, effectiveMonth: '2030-01', reason: 'cell', terms: { monthlyCharge: 1 } },
      });
      const m = p.proposeAmendment.amendment!;
      return { doc: WithdrawAmendmentDocument as never, variables: { input: { id: m.id, expectedVersion: m.version } } };
    },
    saveReportDraft: async () => {
      const a = await agreementOfIt('ACTIVE');
      return { doc: SaveReportDraftDocument as never, variables: { input: { agreementId: a.id, month: '2026-02', narrative: 'cell' } } };
    },
    submitReport: async () => {
      const a = await agreementOfIt('ACTIVE');
      return { doc: SubmitReportDocument as never, variables: { input: { agreementId: a.id, month: '2026-02', values: [], narrative: 'cell' } } };
    },
    acknowledgeReport: async () => ({ doc: AcknowledgeReportDocument as never, variables: { input: await reportToIt() } }),
    disputeReport: async () => ({ doc: DisputeReportDocument as never, variables: { input: { ...(await reportToIt()), reason: 'cell' } } }),
    settleDispute: async () => {
      const report = await reportToIt();
      await s.data(DisputeReportDocument, { input: { ...report, reason: 'cell' } });
      return { doc: SettleDisputeDocument as never, variables: { input: { ...report, ruling: 'UPHELD', note: 'cell' } } };
    },
    requestExclusion: async () => ({ doc: RequestExclusionDocument as never, variables: { input: await missingMonth(false) } }),
    approveExclusion: async () => ({ doc: ApproveExclusionDocument as never, variables: { input: await exclusionToIt() } }),
    rejectExclusion: async () => ({ doc: RejectExclusionDocument as never, variables: { input: await exclusionToIt() } }),
    recordHandoffEvents: async () => {
      const a = await agreementOfIt('ACTIVE');
      return {
        doc: RecordHandoffEventsDocument as never,
        variables: { input: { source: 'cell', events: [{ externalId: `E${uniq()}`, agreementId: a.id, stage: 'lead', handedOffAt: '2026-02-10T09:00:00Z' }] } },
      };
    },
    recordMeasurements: async () => {
      const a = await agreementOfIt('ACTIVE');
      return {
        doc: RecordMeasurementsDocument as never,
        variables: { input: { source: 'cell', measurements: [{ externalId: `M${uniq()}`, metric: 'SYSTEM_AVAILABILITY', agreement: a.id, month: '2026-02', value: 99.5 }] } },
      };
    },
    recordEscalations: async () => {
      const a = await agreementOfIt('ACTIVE');
      return {
        doc: RecordEscalationsDocument as never,
        variables: { input: { source: 'cell', escalations: [{ externalId: `T${uniq()}`, agreement: a.id, severity: 'LOW', title: 'cell', openedAt: '2026-02-10T09:00:00Z' }] } },
      };
    },
    openEscalation: async () => {
      const a = await agreementOfIt('ACTIVE');
      return { doc: OpenEscalationDocument as never, variables: { input: { agreementId: a.id, severity: 'LOW', title: 'cell', description: 'cell' } } };
    },
    acknowledgeEscalation: async () => ({ doc: AcknowledgeEscalationDocument as never, variables: { input: await escalationOfIt() } }),
    requestMonthReopening: async () => {
      const m = await closedMonthOfIt();
      return { doc: RequestMonthReopeningDocument as never, variables: { input: { agreementId: m.agreementId, month: m.month, reason: 'cell' } } };
    },
    approveMonthReopening: async () => ({ doc: ApproveMonthReopeningDocument as never, variables: { input: await reopeningByCustomer() } }),
    rejectMonthReopening: async () => ({ doc: RejectMonthReopeningDocument as never, variables: { input: { ...(await reopeningByCustomer()), note: 'cell' } } }),
    resolveEscalation: async () => ({ doc: ResolveEscalationDocument as never, variables: { input: { ...(await escalationOfIt()), resolution: 'cell' } } }),
    revokeApiToken: async () => {
      const u = await s.data(CreateUserDocument, { input: { name: 'x', email: `u${uniq()}@it.example`, role: 'HEAD', departmentId: it_ } });
      const t = await s.data(CreateApiTokenDocument, { input: { userId: u.createUser.user!.id, name: 'cell' } });
      return { doc: RevokeApiTokenDocument as never, variables: { input: { id: t.createApiToken.token!.id } } };
    },
  };

  /** A SUBMITTED report of an agreement IT receives, submitted by the admin for the provider. */
  async function reportToIt(): Promise<{ reportId: string; revision: number }> {
    const a = await agreementOfIt('ACTIVE', undefined, { itReceives: true });
    const r = await s.data(SubmitReportDocument, { input: { agreementId: a.id, month: '2026-02', values: [], narrative: 'cell' } });
    return { reportId: r.submitReport.report!.id, revision: r.submitReport.report!.revisionCount };
  }

  /** An objective-month with no report, long past due (NO_DATA), on a fresh agreement. */
  async function missingMonth(itReceives: boolean): Promise<{ agreementId: string; month: string; objectiveId: string; reasonCode: 'OTHER'; explanation: string }> {
    const metricId = (await s.data(MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    const a = await agreementOfIt('ACTIVE', undefined, { itReceives, objectives: [{ metricId, target: 400 }] });
    const at = await s.data(ReportableObjectivesDocument, { key: (await s.data(AgreementKeyDocument, { id: a.id })).agreement.key, at: '2026-02' });
    return { agreementId: a.id, month: '2026-02', objectiveId: at.agreement.effectiveObjectives[0].id, reasonCode: 'OTHER', explanation: 'cell' };
  }

  async function exclusionToIt(): Promise<{ exclusionId: string; expectedVersion: number; note: string }> {
    const r = await s.data(RequestExclusionDocument, { input: await missingMonth(true) });
    return { exclusionId: r.requestExclusion.exclusion!.id, expectedVersion: r.requestExclusion.exclusion!.version, note: 'cell' };
  }

  /** An OPEN escalation against an agreement IT provides, raised by the admin. */
  async function escalationOfIt(): Promise<{ id: string; expectedVersion: number }> {
    const a = await agreementOfIt('ACTIVE');
    const r = await s.data(OpenEscalationDocument, { input: { agreementId: a.id, severity: 'LOW', title: 'cell', description: 'cell' } });
    return { id: r.openEscalation.escalation!.id, expectedVersion: r.openEscalation.escalation!.version };
  }

  /**
   * A closed month of a fresh IT-provided agreement: February, its report submitted and
   * acknowledged (by the admin).
   */
  async function closedMonthOfIt(): Promise<{ agreementId: string; month: string; code: string }> {
    const code = `M-C${uniq()}`;
    const metricId = (await s.data(MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    const a = await agreementOfIt('ACTIVE', code, { objectives: [{ metricId, target: 400 }] });
    const key = (await s.data(AgreementKeyDocument, { id: a.id })).agreement.key;
    const objectiveId = (await s.data(ReportableObjectivesDocument, { key, at: '2026-02' })).agreement.effectiveObjectives[0].id;
    const r = await s.data(SubmitReportDocument, { input: { agreementId: a.id, month: '2026-02', values: [{ objectiveId, value: 420 }], narrative: 'cell' } });
    const ack = await s.data(AcknowledgeReportDocument, { input: { reportId: r.submitReport.report!.id, revision: 1 } });
    expect(ack.acknowledgeReport.userErrors).toEqual([]);
    return { agreementId: a.id, month: '2026-02', code };
  }

  async function reopeningByCustomer(): Promise<{ id: string; expectedVersion: number }> {
    const m = await closedMonthOfIt();
    const customerHead = s.as(await s.tokenFor(Role.HEAD, m.code));
    const r = await customerHead.data(RequestMonthReopeningDocument, { input: { agreementId: m.agreementId, month: m.month, reason: 'cell' } });
    expect(r.requestMonthReopening.userErrors).toEqual([]);
    return { id: r.requestMonthReopening.reopening!.id, expectedVersion: r.requestMonthReopening.reopening!.version };
  }

  /** A pending suspension of a fresh IT → customer agreement, asked for by the customer's head or IT's. */
  async function suspensionAskedBy(side: 'customer' | 'IT'): Promise<{ id: string; expectedVersion: number }> {
    const code = `M-C${uniq()}`;
    const a = await agreementOfIt('ACTIVE', code);
    const head = side === 'IT' ? clients['HEAD own'] : s.as(await s.tokenFor(Role.HEAD, code));
    const r = await head.data(RequestSuspensionDocument, { input: { id: a.id, expectedVersion: a.lockVersion, reason: 'cell' } });
    expect(r.suspendAgreement.userErrors).toEqual([]);
    const pending = r.suspendAgreement.agreement!.pendingLifecycleRequest!;
    return { id: pending.id, expectedVersion: pending.version };
  }

  async function amendmentByCustomer(): Promise<{ id: string; expectedVersion: number }> {
    const code = `M-C${uniq()}`;
    const a = await agreementOfIt('ACTIVE', code);
    const customerHead = s.as(await s.tokenFor(Role.HEAD, code));
    const p = await customerHead.data(ProposeAmendmentDocument, {
      input: { agreementId: a.id, expectedVersion: a.lockVersion, effectiveMonth: '2030-01', reason: 'cell', terms: { monthlyCharge: 1 } },
    });
    const m = p.proposeAmendment.amendment!;
    return { id: m.id, expectedVersion: m.version };
  }

  const cells = Object.entries(MATRIX).flatMap(([mutation, row]) => row.map((expected, i) => [mutation, PRINCIPALS[i], expected] as const));

  it.each(cells)('%s by %s: %s', async (mutation, who, expected) => {
    const { doc, variables } = await prepare[mutation as keyof typeof MATRIX]();
    const r = await clients[who].request(doc, variables);
    if (expected === 'allowed') {
      expect(r.errors).toBeUndefined();
      expect(r.data?.[mutation]?.userErrors).toEqual([]);
    } else if (expected === 'FORBIDDEN user error') {
      expect(r.errors).toBeUndefined();
      expect((r.data?.[mutation]?.userErrors as Array<{ code: string }>).map((e) => e.code)).toEqual(['FORBIDDEN']);
    } else if (expected === 'FORBIDDEN') {
      expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(r.data?.[mutation] ?? null).toBeNull();
    } else {
      expect(r.status).toBe(401);
      expect(r.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('covers every mutation of the schema', () => {
    const schemaMutations = Object.keys(buildApiSchema().getMutationType()!.getFields()).sort();
    expect(Object.keys(MATRIX).sort()).toEqual(schemaMutations);
  });

  it('lets every principal read the catalogs, and only admins read users', async () => {
    for (const who of PRINCIPALS.filter((p) => p !== 'anonymous')) {
      const r = await clients[who].request(DepartmentDocument, { code: 'IT' });
      expect(r.errors).toBeUndefined();
    }
    const { UsersDocument } = await import('../generated/graphql');
    expect((await clients.ADMIN.request(UsersDocument, { first: 5 })).errors).toBeUndefined();
    for (const who of ['HEAD own', 'ANALYST', 'INTEGRATION own'] as const) {
      expect((await clients[who].request(UsersDocument, { first: 5 })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('names the reason when a HEAD acts for another department', async () => {
    const r = await clients['HEAD other'].request(CreateServiceDocument, { input: { code: 'NOT-MINE', name: 'x', providerId: it_ } });
    expect(r.errors?.[0].message).toBe('A HEAD principal may not add services for department IT: it acts only for its own department');
  });
});
