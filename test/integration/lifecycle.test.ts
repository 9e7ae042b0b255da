/**
 * Issue 16, "Conduct": a party's head can no longer suspend or terminate alone. It asks, with a
 * reason; the other party's head (or an admin) approves or rejects; the requester withdraws. An
 * admin acts at once. A termination names the first month out of scope, never a past one, and
 * the months before it keep scoring. Everything is in the audit log and the events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActionItemsDocument,
  AgreementLifecycleDocument,
  AgreementsDocument,
  AgreementScorecardDocument,
  ApproveLifecycleRequestDocument,
  AuditLogDocument,
  CreateAgreementDocument,
  CreateDepartmentDocument,
  DepartmentDocument,
  MetricDocument,
  RejectLifecycleRequestDocument,
  RequestResumptionDocument,
  RequestSuspensionDocument,
  RequestTerminationDocument,
  WithdrawLifecycleRequestDocument,
} from '../generated/graphql';
import { DomainEvent } from '../../src/common/events';
import { activateAgreement } from '../support/agreements';
import { invalidEvents } from '../support/event-schemas';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

describe.each(engines())('suspension and termination by request (%s)', (engine) => {
  let s: TestServer;
  let provider: Client;
  let customer: Client;
  let charter: string;
  let leads: string;
  const dept: Record<string, string> = {};
  let n = 0;

  /**
   * A fresh ACTIVE CUSTOMER agreement LP → a fresh customer department from January 2026, with one
   * objective (one live agreement per pair); `customer` becomes that department's head.
   */
  const fresh = async (): Promise<{ id: string; key: string }> => {
    const code = `LC${++n}`;
    const created = await s.data(CreateDepartmentDocument, { input: { code, name: code } });
    expect(created.createDepartment.userErrors).toEqual([]);
    const key = `LP-${code}`;
    const id = await activateAgreement(s, {
      key,
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: dept.LP,
      customerId: created.createDepartment.department!.id,
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [{ metricId: leads, target: 400 }],
    });
    customer = s.as(await s.tokenFor(Role.HEAD, code));
    return { id, key };
  };
  const state = async (key: string, at = '2026-03-10T12:00:00Z') => (await s.at(at).data(AgreementLifecycleDocument, { key })).agreement;
  const measured = async (key: string, month: string) => (await s.data(AgreementScorecardDocument, { key, month })).agreement.scorecard.measured;
  const eventsOf = async (agreementId: string) =>
    (await s.app.orm.em.fork().find(DomainEvent, { agreementId, type: { $like: 'agreement.%' } }, { orderBy: { seq: 'asc' } })).map((e) => ({
      type: e.type,
      payload: e.payload,
      occurredAt: e.occurredAt,
      seq: e.seq,
    }));

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    expect((await s.data(CreateDepartmentDocument, { input: { code: 'LP', name: 'LP' } })).createDepartment.userErrors).toEqual([]);
    dept.LP = (await s.data(DepartmentDocument, { code: 'LP' })).department.id;
    leads = (await s.data(MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    charter = await activateAgreement(s, { key: 'LP-CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    provider = s.as(await s.tokenFor(Role.HEAD, 'LP'));
  });
  afterAll(async () => {
    await s?.close();
  });

  it("makes a provider's solo suspension a request: still ACTIVE and scored until the customer approves; a rejection leaves it ACTIVE", async () => {
    const a = await fresh();
    const lock = (await state(a.key)).lockVersion;
    const ask = (at: string, reason: string) => provider.at(at).data(RequestSuspensionDocument, { input: { id: a.id, expectedVersion: lock, reason } });

    // A reason is required, and bounded.
    expect((await ask('2026-03-02T09:00:00Z', '   ')).suspendAgreement.userErrors).toEqual([{ field: 'reason', code: 'REQUIRED', message: 'reason: say why the agreement is to be suspended' }]);
    expect((await ask('2026-03-02T09:00:00Z', 'x'.repeat(2001))).suspendAgreement.userErrors).toEqual([{ field: 'reason', code: 'INVALID', message: 'reason: expected at most 2000 characters' }]);

    const asked = (await ask('2026-03-02T09:00:00Z', 'CRM migration')).suspendAgreement;
    expect(asked.userErrors).toEqual([]);
    expect(asked.agreement).toMatchObject({ status: 'ACTIVE', lockVersion: lock });
    const first = asked.agreement!.pendingLifecycleRequest!;
    expect(first).toMatchObject({
      kind: 'SUSPEND',
      status: 'PENDING',
      reason: 'CRM migration',
      effectiveMonth: null,
      requestedBy: 'PROVIDER',
      requestedAt: '2026-03-02T09:00:00.000Z',
      decidedAt: null,
    });
    // Still ACTIVE: April (which a suspension from March would cover whole) is still scored.
    expect(await measured(a.key, '2026-04')).toBe(true);
    // Asking again for the same thing is a retry: the same request, no second event.
    expect((await ask('2026-03-02T09:05:00Z', 'CRM migration')).suspendAgreement.agreement!.pendingLifecycleRequest!.id).toBe(first.id);
    // One pending request per agreement.
    const other = await customer.at('2026-03-02T10:00:00Z').data(RequestTerminationDocument, { input: { id: a.id, expectedVersion: lock, reason: 'x', effectiveMonth: '2026-05' } });
    expect(other.terminateAgreement.userErrors).toEqual([
      { field: 'id', code: 'ILLEGAL_TRANSITION', message: `agreement ${a.key} already has a pending SUSPEND request by the PROVIDER side; it must be decided or withdrawn first` },
    ]);
    // The requester cannot approve its own request.
    const own = await provider.at('2026-03-02T10:00:00Z').request(ApproveLifecycleRequestDocument, { input: { id: first.id, expectedVersion: first.version } });
    expect(own.errors?.[0]).toMatchObject({ message: 'The PROVIDER side asked for this change; the other party (or an admin) approves it', extensions: { code: 'FORBIDDEN' } });

    // The customer's inbox shows it; the provider's does not.
    const items = async (c: Client) =>
      (await c.at('2026-03-02T11:00:00Z').data(ActionItemsDocument, {})).actionItems.filter((i) => i.kind === 'DECIDE_LIFECYCLE_REQUEST').map((i) => [i.agreementKey, i.title]);
    expect(await items(customer)).toEqual([[a.key, `Approve or reject the provider's request to suspend ${a.key}: CRM migration`]]);
    expect(await items(provider)).toEqual([]);

    // Rejected with a reason: nothing changes.
    const noReason = await customer.at('2026-03-02T12:00:00Z').data(RejectLifecycleRequestDocument, { input: { id: first.id, expectedVersion: first.version } });
    expect(noReason.rejectLifecycleRequest.userErrors).toEqual([{ field: 'reason', code: 'REQUIRED', message: 'reason: say why the request is rejected' }]);
    const rejected = await customer.at('2026-03-02T12:00:00Z').data(RejectLifecycleRequestDocument, { input: { id: first.id, expectedVersion: first.version, reason: 'The CRM works' } });
    expect(rejected.rejectLifecycleRequest.userErrors).toEqual([]);
    expect(rejected.rejectLifecycleRequest.lifecycleRequest).toMatchObject({ status: 'REJECTED', decidedBy: 'CUSTOMER', rejectionReason: 'The CRM works', agreement: { status: 'ACTIVE' } });
    expect(await state(a.key)).toMatchObject({ status: 'ACTIVE', pendingLifecycleRequest: null });
    expect(await measured(a.key, '2026-04')).toBe(true);

    // Asked again, approved by the customer: SUSPENDED from the approval; April is no longer scored, March (partly) still is.
    const again = (await ask('2026-03-03T09:00:00Z', 'CRM migration, second try')).suspendAgreement.agreement!.pendingLifecycleRequest!;
    const approve = () => customer.at('2026-03-03T10:00:00Z').data(ApproveLifecycleRequestDocument, { input: { id: again.id, expectedVersion: again.version } });
    const approved = (await approve()).approveLifecycleRequest;
    expect(approved.userErrors).toEqual([]);
    expect(approved.lifecycleRequest).toMatchObject({ status: 'APPROVED', decidedBy: 'CUSTOMER', decidedAt: '2026-03-03T10:00:00.000Z', agreement: { status: 'SUSPENDED' } });
    // A retry of the approval answers the same, and changes nothing.
    expect((await approve()).approveLifecycleRequest).toMatchObject({ userErrors: [], lifecycleRequest: { id: again.id, status: 'APPROVED' } });
    expect(await measured(a.key, '2026-03')).toBe(true);
    expect(await measured(a.key, '2026-04')).toBe(false);

    // Resuming is asked for too: the customer cannot lift the provider's suspension alone.
    const suspended = await state(a.key);
    const resume = (await customer.at('2026-03-04T09:00:00Z').data(RequestResumptionDocument, { input: { id: a.id, expectedVersion: suspended.lockVersion, reason: 'Need the numbers' } }))
      .resumeAgreement;
    expect(resume.agreement).toMatchObject({ status: 'SUSPENDED', pendingLifecycleRequest: { kind: 'RESUME', requestedBy: 'CUSTOMER' } });
    // Withdrawn by its requester's side; the other side may not.
    const pending = resume.agreement!.pendingLifecycleRequest!;
    const notYours = await provider.at('2026-03-04T10:00:00Z').request(WithdrawLifecycleRequestDocument, { input: { id: pending.id, expectedVersion: pending.version } });
    expect(notYours.errors?.[0]).toMatchObject({ message: 'The CUSTOMER side asked for this change; only it (or an admin) withdraws it', extensions: { code: 'FORBIDDEN' } });
    const withdrawn = await customer.at('2026-03-04T10:00:00Z').data(WithdrawLifecycleRequestDocument, { input: { id: pending.id, expectedVersion: pending.version } });
    expect(withdrawn.withdrawLifecycleRequest.lifecycleRequest).toMatchObject({ status: 'WITHDRAWN', decidedBy: 'CUSTOMER' });
    // A stale decision (the version read before the withdrawal) is refused.
    const stale = await provider.at('2026-03-04T11:00:00Z').data(ApproveLifecycleRequestDocument, { input: { id: pending.id, expectedVersion: pending.version } });
    expect(stale.approveLifecycleRequest.userErrors.map((e) => [e.field, e.code])).toEqual([['expectedVersion', 'CONFLICT']]);

    const history = (await state(a.key)).lifecycleRequests.map((r) => [r.kind, r.status, r.requestedBy, r.decidedBy, r.reason, r.rejectionReason]);
    expect(history).toEqual([
      ['SUSPEND', 'REJECTED', 'PROVIDER', 'CUSTOMER', 'CRM migration', 'The CRM works'],
      ['SUSPEND', 'APPROVED', 'PROVIDER', 'CUSTOMER', 'CRM migration, second try', null],
      ['RESUME', 'WITHDRAWN', 'CUSTOMER', 'CUSTOMER', 'Need the numbers', null],
    ]);

    // Every step an event, each valid against its schema; the ones refused wrote nothing.
    const events = await eventsOf(a.id);
    expect(invalidEvents(events)).toEqual([]);
    expect(events.slice(2).map((e) => [e.type, e.payload])).toEqual([
      ['agreement.suspension_requested', { requestId: first.id, reason: 'CRM migration', requestedBy: 'PROVIDER', status: 'PENDING' }],
      ['agreement.lifecycle_request_rejected', { requestId: first.id, kind: 'SUSPEND', requestedBy: 'PROVIDER', reason: 'The CRM works', statusBefore: 'PENDING', statusAfter: 'REJECTED' }],
      ['agreement.suspension_requested', { requestId: again.id, reason: 'CRM migration, second try', requestedBy: 'PROVIDER', status: 'PENDING' }],
      ['agreement.suspended', { statusBefore: 'ACTIVE', statusAfter: 'SUSPENDED', requestId: again.id, reason: 'CRM migration, second try' }],
      ['agreement.resumption_requested', { requestId: pending.id, reason: 'Need the numbers', requestedBy: 'CUSTOMER', status: 'PENDING' }],
      ['agreement.lifecycle_request_withdrawn', { requestId: pending.id, kind: 'RESUME', requestedBy: 'CUSTOMER', statusBefore: 'PENDING', statusAfter: 'WITHDRAWN' }],
    ]);

    // The audit log holds each request's life: created, then decided.
    const audit = await s.data(AuditLogDocument, { first: 10, filter: { entityType: 'AgreementLifecycleRequest', entityId: again.id } });
    expect(audit.auditLog.edges.map((e) => [e.node.action, e.node.actorRole, (e.node.after as { status?: string }).status ?? null]).sort()).toEqual([
      ['create', 'HEAD', 'PENDING'],
      ['update', 'HEAD', 'APPROVED'],
    ]);
  });

  it('terminates from a month not in the past: months before it keep scoring, and the agreement shows TERMINATED from that month', async () => {
    const a = await fresh();
    const lock = (await state(a.key)).lockVersion;
    const ask = (effectiveMonth: string | undefined) =>
      provider.at('2026-03-10T09:00:00Z').data(RequestTerminationDocument, { input: { id: a.id, expectedVersion: lock, reason: 'Leads now come from the web shop', effectiveMonth } });
    expect((await ask('2026-02')).terminateAgreement.userErrors).toEqual([
      { field: 'effectiveMonth', code: 'INVALID', message: 'effectiveMonth: the first month out of scope must be the current month (2026-03) or later; got 2026-02' },
    ]);
    expect((await ask(undefined)).terminateAgreement.userErrors).toEqual([
      { field: 'effectiveMonth', code: 'REQUIRED', message: 'effectiveMonth: name the first month out of scope (2026-03 or later); months before it keep scoring' },
    ]);
    const asked = (await ask('2026-04')).terminateAgreement;
    expect(asked.userErrors).toEqual([]);
    expect(asked.agreement).toMatchObject({ status: 'ACTIVE', terminatesFrom: null, pendingLifecycleRequest: { kind: 'TERMINATE', effectiveMonth: '2026-04', requestedBy: 'PROVIDER' } });
    const request = asked.agreement!.pendingLifecycleRequest!;
    expect(await measured(a.key, '2026-04')).toBe(true);

    const approved = (await customer.at('2026-03-11T09:00:00Z').data(ApproveLifecycleRequestDocument, { input: { id: request.id, expectedVersion: request.version } })).approveLifecycleRequest;
    expect(approved.userErrors).toEqual([]);
    // Decided, not yet in effect: ACTIVE through March, which keeps scoring; April on is out of scope.
    expect(approved.lifecycleRequest).toMatchObject({ status: 'APPROVED', agreement: { status: 'ACTIVE', terminatesFrom: '2026-04' } });
    expect(await measured(a.key, '2026-03')).toBe(true);
    expect(await measured(a.key, '2026-04')).toBe(false);
    expect(await measured(a.key, '2026-05')).toBe(false);
    // No second termination, nor a suspension, once April has come.
    const decided = await state(a.key);
    const twice = await provider.at('2026-03-12T09:00:00Z').data(RequestTerminationDocument, { input: { id: a.id, expectedVersion: decided.lockVersion, reason: 'x', effectiveMonth: '2026-06' } });
    expect(twice.terminateAgreement.userErrors).toEqual([{ field: 'id', code: 'ILLEGAL_TRANSITION', message: `agreement ${a.key} is already terminated from 2026-04` }]);
    // The status shown turns at the first instant of April, before the scheduler has stored it;
    // so does the measured list.
    expect((await state(a.key, '2026-03-31T23:59:59Z')).status).toBe('ACTIVE');
    expect((await state(a.key, '2026-04-01T00:00:00Z')).status).toBe('TERMINATED');
    const listed = async (clock: string) =>
      (await s.at(clock).data(AgreementsDocument, { first: 100, at: clock.slice(0, 7), filter: { measuredOnly: true } })).agreements.edges.map((e) => e.node.key).filter((k) => k === a.key);
    expect(await listed('2026-03-31T23:59:59Z')).toEqual([a.key]);
    expect(await listed('2026-04-01T00:00:00Z')).toEqual([]);
    const late = await s.at('2026-04-02T09:00:00Z').data(RequestSuspensionDocument, { input: { id: a.id, expectedVersion: decided.lockVersion, reason: 'x' } });
    expect(late.suspendAgreement.userErrors).toEqual([{ field: 'id', code: 'ILLEGAL_TRANSITION', message: `agreement ${a.key} is TERMINATED; it cannot be suspended` }]);
    // The scheduler stores it, once.
    expect((await s.app.scheduler.tick(new Date('2026-04-01T00:05:00Z')))['end-terminations']).toBe(1);
    expect((await s.app.scheduler.tick(new Date('2026-04-01T00:10:00Z')))['end-terminations']).toBe(0);
    expect(await state(a.key, '2026-04-02T00:00:00Z')).toMatchObject({ status: 'TERMINATED', terminatesFrom: '2026-04', pendingLifecycleRequest: null });
    expect(await measured(a.key, '2026-03')).toBe(true);

    const events = await eventsOf(a.id);
    expect(invalidEvents(events)).toEqual([]);
    expect(events.slice(2).map((e) => [e.type, e.payload, e.occurredAt.toISOString()])).toEqual([
      [
        'agreement.termination_requested',
        { requestId: request.id, reason: 'Leads now come from the web shop', requestedBy: 'PROVIDER', status: 'PENDING', effectiveMonth: '2026-04' },
        '2026-03-10T09:00:00.000Z',
      ],
      ['agreement.termination_scheduled', { requestId: request.id, reason: 'Leads now come from the web shop', effectiveMonth: '2026-04', status: 'ACTIVE' }, '2026-03-11T09:00:00.000Z'],
      [
        'agreement.terminated',
        { statusBefore: 'ACTIVE', statusAfter: 'TERMINATED', effectiveMonth: '2026-04', requestId: request.id, reason: 'Leads now come from the web shop' },
        '2026-04-01T00:05:00.000Z',
      ],
    ]);
  });

  it('takes no new agreement under one whose termination is decided: it could not end with a live agreement under it', async () => {
    const top = await activateAgreement(s, { key: 'LP-CHARTER-2', tier: 'CORPORATE', title: 'Second charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    const lock = (await state('LP-CHARTER-2')).lockVersion;
    const scheduled = await s.at('2026-03-05T10:00:00Z').data(RequestTerminationDocument, { input: { id: top, expectedVersion: lock, reason: 'Reorganised', effectiveMonth: '2026-05' } });
    expect(scheduled.terminateAgreement).toMatchObject({ userErrors: [], agreement: { status: 'ACTIVE', terminatesFrom: '2026-05' } });
    const code = `LC${++n}`;
    const dep = await s.data(CreateDepartmentDocument, { input: { code, name: code } });
    const child = await s.at('2026-03-06T10:00:00Z').data(CreateAgreementDocument, {
      input: {
        key: `LP-${code}`,
        tier: 'CUSTOMER',
        title: 'Leads',
        providerId: dept.LP,
        customerId: dep.createDepartment.department!.id,
        parentId: top,
        terms: { effectiveFrom: '2026-04' },
        objectives: [{ metricId: leads, target: 400 }],
      },
    });
    expect(child.createAgreement).toEqual({
      agreement: null,
      userErrors: [{ field: 'parentId', code: 'ARCHIVED', message: 'agreement LP-CHARTER-2 is terminated from 2026-05' }],
    });
  });

  it('lets an admin suspend and terminate at once, with a reason, recorded as an approved change', async () => {
    const a = await fresh();
    const lock = (await state(a.key)).lockVersion;
    // A pending request of the provider's is overtaken by the admin's own suspension.
    const asked = (await provider.at('2026-03-05T09:00:00Z').data(RequestSuspensionDocument, { input: { id: a.id, expectedVersion: lock, reason: 'Office move' } })).suspendAgreement.agreement!;
    const suspended = await s.at('2026-03-05T10:00:00Z').data(RequestSuspensionDocument, { input: { id: a.id, expectedVersion: lock, reason: 'Audit finding' } });
    expect(suspended.suspendAgreement).toMatchObject({ userErrors: [], agreement: { status: 'SUSPENDED', pendingLifecycleRequest: null } });
    const terminated = await s
      .at('2026-03-06T10:00:00Z')
      .data(RequestTerminationDocument, { input: { id: a.id, expectedVersion: suspended.suspendAgreement.agreement!.lockVersion, reason: 'Department merged', effectiveMonth: '2026-03' } });
    expect(terminated.terminateAgreement).toMatchObject({ userErrors: [], agreement: { status: 'TERMINATED', terminatesFrom: '2026-03' } });
    // From the current month: March itself is out of scope; February is not.
    expect(await measured(a.key, '2026-02')).toBe(true);
    expect(await measured(a.key, '2026-03')).toBe(false);
    expect((await state(a.key)).lifecycleRequests.map((r) => [r.kind, r.status, r.requestedBy, r.decidedBy, r.reason, r.effectiveMonth])).toEqual([
      ['SUSPEND', 'WITHDRAWN', 'PROVIDER', 'ADMIN', 'Office move', null],
      ['SUSPEND', 'APPROVED', 'ADMIN', 'ADMIN', 'Audit finding', null],
      ['TERMINATE', 'APPROVED', 'ADMIN', 'ADMIN', 'Department merged', '2026-03'],
    ]);
    expect(asked.pendingLifecycleRequest!.kind).toBe('SUSPEND');
    const events = await eventsOf(a.id);
    expect(invalidEvents(events)).toEqual([]);
    expect(events.slice(2).map((e) => e.type)).toEqual(['agreement.suspension_requested', 'agreement.suspended', 'agreement.terminated']);
    expect(events.at(-1)!.payload).toMatchObject({ statusBefore: 'SUSPENDED', statusAfter: 'TERMINATED', effectiveMonth: '2026-03', reason: 'Department merged' });
  });
});
