/**
 * Issue 16, "an API people can type": `interface Node` and `node(id:)` / `nodes(ids:)` for Relay
 * clients. On the seeded demo (plus a webhook subscription, a delivery, a reopening, a lifecycle
 * request and batches of measurements and escalations, which the demo has none of), every Node type is found by its id; unknown ids are null; a principal reads
 * through `node` exactly what the type's own query lets it read; a batch costs one statement for
 * the types and one per type found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ManyNodeBatchesDocument, MeIdDocument, NodeAgreementDocument, NodeByIdDocument, NodesByIdsDocument, TwoNodesDocument, UserByIdDocument, WebhooksOfDocument } from '../generated/graphql';
import { sqlOf } from '../../src/common/sql';
import { NODE_TYPENAMES, TABLE_KINDS } from '../../src/modules/nodes/node.service';
import { Department } from '../../src/modules/departments/department.entity';
import { Agreement } from '../../src/modules/agreements/agreement.entity';
import { WebhookDelivery, WebhookSubscription } from '../../src/modules/webhooks/webhook.entity';
import { MonthReopening } from '../../src/modules/ledger/ledger.entity';
import { AgreementLifecycleRequest, LifecycleRequestKind } from '../../src/modules/agreements/lifecycle.entity';
import { EscalationBatch } from '../../src/modules/escalations/escalation.entity';
import { MeasurementBatch } from '../../src/modules/measurements/measurement.entity';
import { engines, Role, startServer, type Client, type TestServer } from '../support/server';
import { GraphQLInterfaceType } from 'graphql';
import { buildApiSchema } from '../../src/schema';

describe('the Node interface', () => {
  it('is implemented by exactly the types node(id:) finds', () => {
    const schema = buildApiSchema();
    const node = schema.getType('Node') as GraphQLInterfaceType;
    expect(
      schema
        .getPossibleTypes(node)
        .map((t) => t.name)
        .sort(),
    ).toEqual([...NODE_TYPENAMES].sort());
  });
});

describe.each(engines())('node(id:) (%s)', (engine) => {
  let s: TestServer;
  /** One id of each Node type, by type name. */
  const ids = new Map<string, string>();
  let itHead: Client;
  let itHeadId: string;

  beforeAll(async () => {
    s = await startServer(engine, { seed: 'all' });
    const em = s.app.orm.em.fork();
    const fin = await em.findOneOrFail(Department, { code: 'FIN' });
    const sql = sqlOf(em);
    const [event] = await sql.rows<{ id: string; seq: number }>('select "id", "seq" from "domain_event" order by "seq" limit 1');
    // What the demo has none of: a webhook subscription of FIN with one delivery, a reopening.
    const sub = em.create(WebhookSubscription, { department: fin, url: 'https://hooks.example/fin', eventTypes: ['report.disputed'], secret: 'whsec_x', outboxSeq: 0 });
    em.create(WebhookDelivery, { subscription: sub, eventId: event.id, eventSeq: Number(event.seq), eventType: 'report.disputed' });
    const agreement = await em.findOneOrFail(Agreement, { key: 'IT-SALES' });
    em.create(MonthReopening, { agreement, month: '2020-01', reason: 'test', requestedBySide: 'PROVIDER', requestedByUserId: randomUUID() } as never);
    em.create(AgreementLifecycleRequest, { agreement, kind: LifecycleRequestKind.SUSPEND, reason: 'test', requestedBy: 'PROVIDER', requestedAt: new Date() } as never);
    em.create(MeasurementBatch, { source: 'monitoring', received: 1, created: 1, updated: 0, recordedByUserId: randomUUID() });
    em.create(EscalationBatch, { source: 'tickets', received: 1, created: 1, updated: 0, recordedByUserId: randomUUID() });
    await em.flush();
    const tables = Object.fromEntries(TABLE_KINDS.map((k) => [k.typename, em.getMetadata().get(k.entity as never).tableName]));
    tables.InboxItem = 'domain_event';
    itHead = s.as(await s.tokenFor(Role.HEAD, 'IT'));
    itHeadId = (await itHead.data(MeIdDocument, {})).me.id;
    for (const typename of NODE_TYPENAMES) {
      // Any row of the type: the first by id.
      const [row] = await sql.rows<{ id: string }>(`select "id" from "${tables[typename]}" order by "id" limit 1`);
      if (row) ids.set(typename, String(row.id));
    }
  });
  afterAll(async () => {
    await s?.close();
  });

  it('finds an object of every Node type by its id, alone and in a batch', async () => {
    expect([...ids.keys()].sort()).toEqual([...NODE_TYPENAMES].sort());
    expect(NODE_TYPENAMES.length).toBe(26);
    for (const [typename, id] of ids) {
      expect((await s.data(NodeByIdDocument, { id })).node, typename).toEqual({ __typename: typename, id });
    }
    const all = [...ids];
    expect((await s.data(NodesByIdsDocument, { ids: all.map(([, id]) => id) })).nodes).toEqual(all.map(([typename, id]) => ({ __typename: typename, id })));
  });

  it('reads a node’s own fields through inline fragments', async () => {
    const agreement = await s.app.orm.em.fork().findOneOrFail(Agreement, { key: 'IT-SALES' });
    expect((await s.data(NodeAgreementDocument, { id: agreement.id })).node).toEqual({ id: agreement.id, key: 'IT-SALES', provider: { code: 'IT' } });
  });

  it('answers null for an unknown id or one that is not a UUID; upper-case ids are found', async () => {
    expect((await s.data(NodeByIdDocument, { id: randomUUID() })).node).toBeNull();
    expect((await s.data(NodeByIdDocument, { id: 'IT-SALES' })).node).toBeNull();
    const id = ids.get('Agreement') as string;
    expect((await s.data(NodeByIdDocument, { id: id.toUpperCase() })).node).toEqual({ __typename: 'Agreement', id });
    expect((await s.data(NodesByIdsDocument, { ids: [randomUUID(), id, 'nope'] })).nodes).toEqual([null, { __typename: 'Agreement', id }, null]);
  });

  it('costs one statement for the types of a batch and one per type found, aliases batched together', async () => {
    const base = await s.countStatements(() => s.data(NodeByIdDocument, { id: randomUUID() }));
    const all = [...ids.values()];
    // Every type but the inbox's one SELECT of its own; the delivery's subscription comes joined.
    expect(await s.countStatements(() => s.data(NodesByIdsDocument, { ids: all }))).toBe(base + NODE_TYPENAMES.length);
    const two = await s.countStatements(() => s.data(TwoNodesDocument, { a: ids.get('Agreement') as string, b: ids.get('Metric') as string }));
    expect(two).toBe(base + 2);
  });

  it('answers 2,500 ids in one request (25 aliased nodes of 100): the batch is read in slices, not in one statement past the engine’s parameter limit', async () => {
    const known = ids.get('Agreement') as string;
    const vars = Object.fromEntries(Array.from({ length: 25 }, (_, k) => [`i${k}`, Array.from({ length: 100 }, (_, j) => (k === 24 && j === 99 ? known : randomUUID()))]));
    const r = await s.request(ManyNodeBatchesDocument, vars as never);
    expect(r.errors).toBeUndefined();
    const answered = Object.values(r.data ?? {}) as Array<Array<{ id: string } | null>>;
    expect(answered.map((list) => list.length)).toEqual(Array.from({ length: 25 }, () => 100));
    expect(answered.flat().filter((n) => n !== null)).toEqual([{ id: known }]);
  });

  it('lets a principal read through node() exactly what the type’s own query lets it read', async () => {
    const codes = (r: { errors?: Array<{ extensions?: { code?: string } }> }) => r.errors?.map((e) => e.extensions?.code);
    // Another user: user(id:) is for admins, and so is node(id:) of a user; one's own, as `me`.
    const other = ids.get('User') === itHeadId ? undefined : (ids.get('User') as string);
    const otherUser = other ?? (await s.data(MeIdDocument, {})).me.id;
    expect(codes(await itHead.request(UserByIdDocument, { id: otherUser }))).toEqual(['FORBIDDEN']);
    const viaNode = await itHead.request(NodeByIdDocument, { id: otherUser });
    expect([codes(viaNode), viaNode.data?.node ?? null]).toEqual([['FORBIDDEN'], null]);
    expect((await itHead.data(NodeByIdDocument, { id: itHeadId })).node).toEqual({ __typename: 'User', id: itHeadId });
    // Tokens and the audit log: admins only.
    for (const t of ['ApiToken', 'AuditEntry']) expect(codes(await itHead.request(NodeByIdDocument, { id: ids.get(t) as string })), t).toEqual(['FORBIDDEN']);
    // FIN's webhooks: not for IT's head, by the list or by node; FIN's head reads both.
    expect(codes(await itHead.request(WebhooksOfDocument, { department: 'FIN' }))).toEqual(['FORBIDDEN']);
    for (const t of ['WebhookSubscription', 'WebhookDelivery']) expect(codes(await itHead.request(NodeByIdDocument, { id: ids.get(t) as string })), t).toEqual(['FORBIDDEN']);
    const finHead = s.as(await s.tokenFor(Role.HEAD, 'FIN'));
    expect((await finHead.data(WebhooksOfDocument, { department: 'FIN' })).webhookSubscriptions).toEqual([{ id: ids.get('WebhookSubscription') }]);
    expect((await finHead.data(NodeByIdDocument, { id: ids.get('WebhookDelivery') as string })).node).toEqual({ __typename: 'WebhookDelivery', id: ids.get('WebhookDelivery') });
    // What every principal reads, a head reads by node too.
    for (const t of ['Agreement', 'Objective', 'Report', 'Escalation', 'CreditEntry', 'Metric']) {
      expect((await itHead.data(NodeByIdDocument, { id: ids.get(t) as string })).node, t).toEqual({ __typename: t, id: ids.get(t) });
    }
    // In a batch, the refused one is null with its error at its index; the others come back.
    const batch = await itHead.request(NodesByIdsDocument, { ids: [ids.get('Agreement') as string, ids.get('ApiToken') as string] });
    expect(batch.data?.nodes).toEqual([{ __typename: 'Agreement', id: ids.get('Agreement') }, null]);
    expect(batch.errors?.map((e) => [e.extensions?.code, e.path])).toEqual([['FORBIDDEN', ['nodes', 1]]]);
  });
});
