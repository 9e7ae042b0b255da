/**
 * Issue 15 point 2: the inbox (the events a principal may read, newest first, with read markers)
 * and actionItems (what awaits it now), over HTTP on both engines.
 *
 * Departments NP (provider) and NC (customer) share the agreement NPC from January 2026 (one
 * MANUAL objective QUALIFIED_LEADS ≥ 400); NX and NY share NXY; NCH is a CORPORATE charter. On
 * 3 March NP submits February (300), NC disputes it on 4 March; NP asks to excuse February,
 * NC opens an escalation, and an admin drafts NPD (NP → NC) that nobody has approved yet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActionItemsDocument,
  CreateAgreementDocument,
  CreateDepartmentDocument,
  DepartmentDocument,
  DisputeReportDocument,
  InboxDocument,
  InboxUnreadDocument,
  MarkAllInboxReadDocument,
  MarkInboxReadDocument,
  MetricDocument,
  MyEmailPreferencesDocument,
  OpenEscalationDocument,
  ReportableObjectivesDocument,
  RequestExclusionDocument,
  SetEmailPreferencesDocument,
  SubmitReportDocument,
} from '../generated/graphql';
import { DomainEvent } from '../../src/common/events';
import { mayReadEvent, type Actor } from '../../src/common/policy';
import { sqlOf } from '../../src/common/sql';
import { visibleEventsWhere } from '../../src/modules/notifications/inbox.service';
import { activateAgreement } from '../support/agreements';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';

describe.each(engines())('the inbox and action items (%s)', (engine) => {
  let s: TestServer;
  let provider: Client;
  let customer: Client;
  let analyst: Client;
  let integration: Client;
  let otherHead: Client;
  const ids: Record<string, string> = {};
  let reportId: string;
  let revisionId: string;
  let exclusionId: string;
  let escalation: { id: string; responseDueAt: string };
  const AT = '2026-03-05T12:00:00Z';

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    for (const code of ['NP', 'NC', 'NX', 'NY']) expect((await s.data(CreateDepartmentDocument, { input: { code, name: code } })).createDepartment.userErrors).toEqual([]);
    for (const code of ['NP', 'NC', 'NX', 'NY']) ids[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const leads = (await s.data(MetricDocument, { code: 'QUALIFIED_LEADS' })).metric.id;
    ids.charter = await activateAgreement(s, { key: 'NCH', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    ids.NPC = await activateAgreement(s, {
      key: 'NPC',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: ids.NP,
      customerId: ids.NC,
      parentId: ids.charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [{ metricId: leads, target: 400, creditPercent: 5 }],
    });
    ids.NXY = await activateAgreement(s, {
      key: 'NXY',
      tier: 'CUSTOMER',
      title: 'Other',
      providerId: ids.NX,
      customerId: ids.NY,
      parentId: ids.charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [{ metricId: leads, target: 400 }],
    });
    provider = s.as(await s.tokenFor(Role.HEAD, 'NP'));
    customer = s.as(await s.tokenFor(Role.HEAD, 'NC'));
    otherHead = s.as(await s.tokenFor(Role.HEAD, 'NX'));
    analyst = s.as(await s.tokenFor(Role.ANALYST));
    integration = s.as(await s.tokenFor(Role.INTEGRATION, 'NP'));
    const objective = (await s.data(ReportableObjectivesDocument, { key: 'NPC', at: '2026-02' })).agreement.effectiveObjectives[0].id;
    const submitted = await provider
      .at('2026-03-03T09:00:00Z')
      .data(SubmitReportDocument, { input: { agreementId: ids.NPC, month: '2026-02', narrative: 'February', values: [{ objectiveId: objective, value: 300 }] } });
    expect(submitted.submitReport.userErrors).toEqual([]);
    reportId = submitted.submitReport.report!.id;
    revisionId = submitted.submitReport.revision!.id;
    const disputed = await customer.at('2026-03-04T09:00:00Z').data(DisputeReportDocument, { input: { reportId, revision: 1, reason: 'Webinar leads are missing' } });
    expect(disputed.disputeReport.userErrors).toEqual([]);
    const excl = await provider
      .at('2026-03-04T10:00:00Z')
      .data(RequestExclusionDocument, { input: { agreementId: ids.NPC, month: '2026-02', objectiveId: objective, reasonCode: 'CUSTOMER_DEPENDENCY', explanation: 'The campaign paused' } });
    expect(excl.requestExclusion.userErrors).toEqual([]);
    exclusionId = excl.requestExclusion.exclusion!.id;
    const opened = await customer
      .at('2026-03-04T11:00:00Z')
      .data(OpenEscalationDocument, { input: { agreementId: ids.NPC, severity: 'HIGH', title: 'Leads stopped', description: 'No leads since Monday' } });
    expect(opened.openEscalation.userErrors).toEqual([]);
    escalation = opened.openEscalation.escalation as { id: string; responseDueAt: string };
    const draft = await s.at('2026-03-04T12:00:00Z').data(CreateAgreementDocument, {
      input: {
        key: 'NPD',
        tier: 'CUSTOMER',
        title: 'Draft',
        providerId: ids.NP,
        customerId: ids.NC,
        parentId: ids.charter,
        terms: { effectiveFrom: '2026-04' },
        objectives: [{ metricId: leads, target: 500 }],
      },
    });
    expect(draft.createAgreement.userErrors).toEqual([]);
    ids.NPD = draft.createAgreement.agreement!.id;
  });
  afterAll(async () => {
    await s?.close();
  });

  const inbox = (c: Client, vars: Parameters<Client['data']>[1] = {}) => c.at(AT).data(InboxDocument, vars as never);
  const unread = async (c: Client) => (await c.at(AT).data(InboxUnreadDocument, {})).inbox.unreadCount;

  it('lists the events of the departments a head acts for and CORPORATE ones, newest first, with a summary and the actor', async () => {
    const page = (await inbox(provider, { first: 50 })).inbox;
    expect(page.edges.map((e) => [e.node.type, e.node.agreementKey, e.node.agreement?.key ?? null, e.node.read])).toEqual([
      ['agreement.awaiting_approval', 'NPD', 'NPD', false],
      ['escalation.opened', 'NPC', 'NPC', false],
      ['exclusion.requested', 'NPC', 'NPC', false],
      ['report.disputed', 'NPC', 'NPC', false],
      ['objective.breached', 'NPC', 'NPC', false],
      ['report.submitted', 'NPC', 'NPC', false],
      ['agreement.activated', 'NPC', 'NPC', false],
      ['agreement.awaiting_approval', 'NPC', 'NPC', false],
      ['agreement.activated', 'NCH', 'NCH', false],
      ['agreement.awaiting_approval', 'NCH', 'NCH', false],
    ]);
    expect(page.totalCount).toBe(10);
    expect(page.unreadCount).toBe(10);
    const disputed = page.edges[3].node;
    expect(disputed.summary).toBe('NPC: the February 2026 report was disputed: Webinar leads are missing');
    expect(disputed.actor).toEqual({ name: 'HEAD 3' });
    expect(disputed.occurredAt).toBe('2026-03-04T09:00:00.000Z');
    expect(disputed.payload).toEqual({ reportId, month: '2026-02', revision: 1, statusBefore: 'SUBMITTED', statusAfter: 'DISPUTED', reason: 'Webinar leads are missing' });
    expect(page.edges[1].node.summary).toBe('NPC: a HIGH escalation was opened: Leads stopped');
    // The ledger's news of the submission (300 against 400), written in its transaction.
    expect(page.edges[4].node.summary).toBe('NPC: QUALIFIED_LEADS is breached in February 2026 (300 against 400)');
    expect(page.edges[8].node.actor).toEqual({ name: 'ADMIN 1' });
    // The other pair's head sees its own agreement and the charter, not NPC.
    expect((await inbox(otherHead, { first: 50 })).inbox.edges.map((e) => e.node.agreementKey)).toEqual(['NXY', 'NXY', 'NCH', 'NCH']);
  });

  it('pages with a cursor and filters by type; an unknown type is refused naming filter.types', async () => {
    const first = (await inbox(provider, { first: 4 })).inbox;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await inbox(provider, { first: 4, after: first.pageInfo.endCursor })).inbox;
    const third = (await inbox(provider, { first: 4, after: second.pageInfo.endCursor })).inbox;
    expect([...first.edges, ...second.edges, ...third.edges].map((e) => e.node.id)).toEqual((await inbox(provider, { first: 50 })).inbox.edges.map((e) => e.node.id));
    expect(third.pageInfo.hasNextPage).toBe(false);
    const typed = (await inbox(provider, { filter: { types: ['report.disputed', 'report.submitted'] } })).inbox;
    expect(typed.edges.map((e) => e.node.type)).toEqual(['report.disputed', 'report.submitted']);
    expect([typed.totalCount, typed.unreadCount]).toEqual([2, 2]);
    const bad = await provider.request(InboxDocument, { filter: { types: ['report.disputed', 'report.exploded'] } });
    expect(bad.data).toBeNull();
    expect(bad.errors?.map((e) => [e.extensions?.code, e.extensions?.field, e.message])).toEqual([
      ['BAD_USER_INPUT', 'filter.types', 'filter.types: expected event types such as report.disputed (docs/events.md), received unknown "report.exploded"'],
    ]);
  });

  it('agrees with mayReadEvent: the SQL visibility of every kind of principal is the policy’s', async () => {
    const em = s.app.orm.em.fork();
    const all = await em.find(DomainEvent, {}, { orderBy: { seq: 'asc' } });
    expect(all.length).toBe(12);
    const actors: Actor[] = [
      { role: Role.ADMIN, departmentIds: [] },
      { role: Role.ANALYST, departmentIds: [] },
      { role: Role.HEAD, departmentIds: [ids.NP] },
      { role: Role.HEAD, departmentIds: [ids.NC] },
      { role: Role.HEAD, departmentIds: [ids.NX] },
      { role: Role.HEAD, departmentIds: [ids.NP, ids.NY] },
      { role: Role.HEAD, departmentIds: [] },
      { role: Role.INTEGRATION, departmentIds: [ids.NY] },
    ];
    const sql = sqlOf(em);
    for (const actor of actors) {
      const where = visibleEventsWhere(actor);
      const rows = await sql.rows<{ id: string }>(`select e."id" from "domain_event" e where ${where.sql} order by e."seq"`, where.params);
      const expected = all.filter((e) => mayReadEvent(actor, { providerId: e.providerDepartmentId ?? null, customerId: e.customerDepartmentId ?? null })).map((e) => e.id);
      expect({ actor, ids: rows.map((r) => r.id) }).toEqual({ actor, ids: expected });
    }
    // And over HTTP: the analyst and the admin see all 12, the NP integration principal the head's 10.
    expect((await inbox(analyst, { first: 50 })).inbox.totalCount).toBe(12);
    expect((await inbox(s, { first: 50 })).inbox.totalCount).toBe(12);
    expect((await inbox(integration, { first: 50 })).inbox.totalCount).toBe(10);
  });

  it('costs the same statements whatever the page size', async () => {
    const small = await s.countStatements(() => inbox(provider, { first: 2 }));
    const large = await s.countStatements(() => inbox(provider, { first: 10 }));
    // The token, the page, the two totals, the agreements (one batch) and the actors (one batch).
    expect([small, large]).toEqual([6, 6]);
  });

  it('keeps read markers per user: individual (all or none, idempotent) and up to an item', async () => {
    const items = (await inbox(provider, { first: 50 })).inbox.edges.map((e) => e.node);
    const hidden = (await inbox(otherHead, { first: 1 })).inbox.edges[0].node.id;
    const refused = (await provider.data(MarkInboxReadDocument, { ids: [items[3].id, hidden, 'nope'] })).markInboxRead;
    expect(refused).toEqual({ unreadCount: null, userErrors: [{ field: 'ids[2]', code: 'INVALID', message: 'ids[2]: expected an inbox item id (a UUID), received "nope"' }] });
    const missing = (await provider.data(MarkInboxReadDocument, { ids: [items[3].id, hidden] })).markInboxRead;
    expect(missing).toEqual({ unreadCount: null, userErrors: [{ field: 'ids[1]', code: 'NOT_FOUND', message: `ids[1]: no inbox item ${hidden} for this principal` }] });
    expect(await unread(provider)).toBe(10);
    expect((await provider.data(MarkInboxReadDocument, { ids: [items[3].id] })).markInboxRead).toEqual({ unreadCount: 9, userErrors: [] });
    expect((await provider.data(MarkInboxReadDocument, { ids: [items[3].id, items[3].id] })).markInboxRead).toEqual({ unreadCount: 9, userErrors: [] });
    // The customer's markers are its own.
    expect(await unread(customer)).toBe(10);
    const unreadOnly = (await inbox(provider, { first: 50, filter: { unread: true } })).inbox;
    expect(unreadOnly.edges.map((e) => e.node.id)).toEqual(items.filter((_, i) => i !== 3).map((i) => i.id));
    expect([unreadOnly.totalCount, unreadOnly.unreadCount]).toEqual([9, 9]);
    expect((await inbox(provider, { first: 50 })).inbox.edges.map((e) => e.node.read)).toEqual([false, false, false, true, false, false, false, false, false, false]);
    // Up to the NPC activation: it and everything older is read; the newer ones stay unread.
    expect((await provider.data(MarkAllInboxReadDocument, { upTo: items[6].id })).markAllInboxRead).toEqual({ unreadCount: 5, userErrors: [] });
    expect((await inbox(provider, { first: 50 })).inbox.edges.map((e) => e.node.read)).toEqual([false, false, false, true, false, false, true, true, true, true]);
    // Never backwards.
    expect((await provider.data(MarkAllInboxReadDocument, { upTo: items[9].id })).markAllInboxRead).toEqual({ unreadCount: 5, userErrors: [] });
    expect((await provider.data(MarkAllInboxReadDocument, { upTo: hidden })).markAllInboxRead.userErrors.map((e) => [e.field, e.code])).toEqual([['upTo', 'NOT_FOUND']]);
    expect((await provider.data(MarkAllInboxReadDocument, {})).markAllInboxRead).toEqual({ unreadCount: 0, userErrors: [] });
    expect((await provider.data(MarkAllInboxReadDocument, {})).markAllInboxRead).toEqual({ unreadCount: 0, userErrors: [] });
    expect(await unread(customer)).toBe(10);
  });

  it('lists exactly what awaits a provider head, a customer head, an admin, and nothing for an analyst', async () => {
    const items = async (c: Client, at = AT) => (await c.at(at).data(ActionItemsDocument, {})).actionItems.map((i) => ({ ...i, agreement: i.agreement.key }));
    // January was never submitted: due on its 5th working day after the month (the default terms).
    expect(await items(provider)).toEqual([
      { kind: 'APPROVE_AGREEMENT', agreementKey: 'NPD', agreement: 'NPD', month: null, deadline: null, overdue: false, referenceId: ids.NPD, title: 'Approve the draft agreement NPD "Draft"' },
      {
        kind: 'SUBMIT_REPORT',
        agreementKey: 'NPC',
        agreement: 'NPC',
        month: '2026-01',
        deadline: '2026-02-07T00:00:00.000Z',
        overdue: true,
        referenceId: ids.NPC,
        title: 'Submit the January 2026 report of NPC (due 2026-02-06, overdue)',
      },
      {
        kind: 'CORRECT_REPORT',
        agreementKey: 'NPC',
        agreement: 'NPC',
        month: '2026-02',
        deadline: null,
        overdue: false,
        referenceId: revisionId,
        title: 'Correct the disputed February 2026 report of NPC: Webinar leads are missing',
      },
      {
        kind: 'ANSWER_ESCALATION',
        agreementKey: 'NPC',
        agreement: 'NPC',
        month: '2026-03',
        deadline: escalation.responseDueAt,
        overdue: true,
        referenceId: escalation.id,
        title: 'Answer the HIGH escalation on NPC: Leads stopped',
      },
    ]);
    expect(await items(customer)).toEqual([
      { kind: 'APPROVE_AGREEMENT', agreementKey: 'NPD', agreement: 'NPD', month: null, deadline: null, overdue: false, referenceId: ids.NPD, title: 'Approve the draft agreement NPD "Draft"' },
      {
        kind: 'DECIDE_EXCLUSION',
        agreementKey: 'NPC',
        agreement: 'NPC',
        month: '2026-02',
        deadline: null,
        overdue: false,
        referenceId: exclusionId,
        title: 'Approve or reject the exclusion requested for February 2026 of NPC',
      },
    ]);
    expect(await items(s)).toEqual([
      {
        kind: 'SETTLE_DISPUTE',
        agreementKey: 'NPC',
        agreement: 'NPC',
        month: '2026-02',
        deadline: null,
        overdue: false,
        referenceId: revisionId,
        title: 'Settle the dispute of the February 2026 report of NPC: Webinar leads are missing',
      },
    ]);
    expect(await analyst.at(AT).data(ActionItemsDocument, {})).toEqual({ actionItems: [] });
    // Before the escalation's response deadline it is not overdue; the statements do not grow with the items.
    expect((await items(provider, '2026-03-04T11:30:00Z')).find((i) => i.kind === 'ANSWER_ESCALATION')?.overdue).toBe(false);
    // The token; the agreements; versions, children, reports, exclusions, amendments, reopenings,
    // escalations and lifecycle requests (issue 16); the pending revisions; the agreements of the
    // items (one batch): 12, for 4 items or 2.
    const counts = [await s.countStatements(() => provider.at(AT).data(ActionItemsDocument, {})), await s.countStatements(() => customer.at(AT).data(ActionItemsDocument, {}))];
    expect(counts).toEqual([12, 12]);
    // An analyst, whom the policy lets do nothing, costs the token only.
    expect(await s.countStatements(() => analyst.at(AT).data(ActionItemsDocument, {}))).toBe(1);
  });

  it('sets e-mail preferences: a user its own, an admin anyone’s, nobody else another’s', async () => {
    expect((await provider.data(MyEmailPreferencesDocument, {})).me.emailPreferences).toEqual({ actions: true, dailyDigest: true });
    expect((await provider.data(SetEmailPreferencesDocument, { input: { dailyDigest: false } })).setEmailPreferences).toEqual({
      emailPreferences: { actions: true, dailyDigest: false },
      userErrors: [],
    });
    const me = (await provider.data(MyEmailPreferencesDocument, {})).me;
    expect(me.emailPreferences).toEqual({ actions: true, dailyDigest: false });
    const forbidden = await customer.request(SetEmailPreferencesDocument, { input: { userId: me.id, actions: false } });
    expect(forbidden.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect((await s.data(SetEmailPreferencesDocument, { input: { userId: me.id, actions: false } })).setEmailPreferences).toEqual({
      emailPreferences: { actions: false, dailyDigest: false },
      userErrors: [],
    });
    expect(
      (await s.data(SetEmailPreferencesDocument, { input: { userId: '00000000-0000-4000-8000-000000000000', actions: false } })).setEmailPreferences.userErrors.map((e) => [e.field, e.code]),
    ).toEqual([['userId', 'NOT_FOUND']]);
  });
});
