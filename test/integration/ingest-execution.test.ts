import { parse, print, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DepartmentDocument,
  HandoffEventsDocument,
  type HandoffEventInput,
  RecordHandoffEventsAliasedDocument,
  RecordHandoffEventsByFragmentDocument,
  RecordHandoffEventsDocument,
} from '../generated/graphql';
import { fastIngestCost } from '../../src/http/ingest-execution';
import { operationCost } from '../../src/http/query-limits';
import { buildApiSchema } from '../../src/schema';
import { activateAgreement } from '../support/agreements';
import { engines, post, Role, startServer, type Client, type TestServer } from '../support/server';

/*
 * recordHandoffEvents answered by src/http/ingest-execution.ts (issue 19, goal 3): the same
 * answers, errors and rows as graphql-js's execution, which a fragment in the document falls back
 * to. Events of March 2026, sent on 1 April (the test clock), to an ACTIVE CUSTOMER agreement of
 * Marketing → Sales.
 */
const SENT_AT = '2026-04-01T00:00:00Z';

describe.each(engines())('recordHandoffEvents through its plan on %s', (engine) => {
  let s: TestServer;
  let crm: Client;
  let crmToken: string;
  let outsider: Client;
  let agreementId: string;

  /** Five events with every kind of field, external ids `<prefix>1` … `<prefix>5`. */
  const events = (prefix: string, quality = 50): HandoffEventInput[] => [
    { externalId: `${prefix}1`, agreementId, stage: 'lead', handedOffAt: '2026-03-02T10:00:00Z', respondedAt: '2026-03-02T12:00:00.000Z', acceptedAt: '2026-03-03T09:00:00Z', qualityScore: quality },
    {
      externalId: `${prefix}2`,
      agreementId,
      stage: ' lead ',
      handedOffAt: '2026-03-06T16:00:00.000Z',
      respondedAt: '2026-03-09T10:00:00Z',
      rejectedAt: '2026-03-09T11:00:00Z',
      rejectionReason: 'duplicate',
    },
    { externalId: `${prefix}3`, agreementId, stage: 'lead', handedOffAt: '2026-03-04T15:00:00Z', acceptedAt: '2026-03-04T16:00:00Z', convertedAt: '2026-03-20T08:00:00Z', qualityScore: null },
    {
      externalId: `${prefix}4`,
      agreementId: agreementId.toUpperCase(),
      stage: 'opportunity',
      handedOffAt: '2026-03-05T09:00:00Z',
      respondedAt: null,
      acceptedAt: null,
      rejectedAt: null,
      rejectionReason: null,
      convertedAt: null,
    },
    { externalId: ` ${prefix}5 `, agreementId, stage: 'lead', handedOffAt: '2026-03-31T23:59:59.999Z', qualityScore: 99.5 },
  ];
  /** The response's text as the client receives it. */
  const text = async (token: string, query: string, variables: Record<string, unknown>) => {
    const r = await post(`${s.url}/graphql`, JSON.stringify({ query, variables }), { authorization: `Bearer ${token}`, 'x-clock-now': SENT_AT });
    return { status: r.status, text: r.text };
  };
  /** The events stored for external ids starting with `prefix`, without what differs between two sends (ids, stamps). */
  const stored = async (prefix: string) =>
    (await s.data(HandoffEventsDocument, { agreementId, first: 200 })).handoffEvents.edges
      .map((e) => e.node)
      .filter((n) => n.externalId.startsWith(prefix))
      .map(({ id: _id, externalId, ...rest }) => ({ ...rest, externalId: externalId.slice(prefix.length) }))
      .sort((a, b) => (a.externalId < b.externalId ? -1 : 1));

  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    crmToken = await s.tokenFor(Role.INTEGRATION, 'MKT');
    crm = s.as(crmToken).at(SENT_AT);
    outsider = s.as(await s.tokenFor(Role.INTEGRATION, 'IT')).at(SENT_AT);
    const dept: Record<string, string> = {};
    for (const code of ['MKT', 'SALES']) dept[code] = (await s.data(DepartmentDocument, { code })).department.id;
    const charter = await activateAgreement(s, { key: 'CHARTER', tier: 'CORPORATE', title: 'Charter', terms: { effectiveFrom: '2026-01' }, objectives: [] });
    agreementId = await activateAgreement(s, {
      key: 'LEADS',
      tier: 'CUSTOMER',
      title: 'Leads',
      providerId: dept.MKT,
      customerId: dept.SALES,
      parentId: charter,
      terms: { effectiveFrom: '2026-01' },
      objectives: [],
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('is taken for plain and aliased selections with valid variables, and left to graphql-js otherwise', () => {
    const schema = buildApiSchema();
    const costOf = (query: string, variables: Record<string, unknown>) => {
      const document = parse(query);
      return fastIngestCost(schema, {
        document,
        operation: document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode,
        request: { variables },
        contextValue: {},
      } as never);
    };
    const input = { source: 'crm', events: events('P') };
    // The usual estimate's (with the variables coerced), the same for any valid input.
    const estimate = (query: string, variables: Record<string, unknown>) => operationCost(schema, parse(query), undefined, variables);
    expect(costOf(print(RecordHandoffEventsDocument), { input })).toBe(38);
    expect(estimate(print(RecordHandoffEventsDocument), { input })).toBe(38);
    expect(estimate(print(RecordHandoffEventsDocument), { input: { source: 'x', events: [] } })).toBe(38);
    expect(costOf(print(RecordHandoffEventsAliasedDocument), { events: input })).toBe(estimate(print(RecordHandoffEventsAliasedDocument), { events: input }));
    // A fragment; another variable; an ID as a number; an instant with an offset; a field the type lacks.
    expect(costOf(print(RecordHandoffEventsByFragmentDocument), { input })).toBeNull();
    expect(costOf(print(RecordHandoffEventsDocument), { input, other: 1 })).toBeNull();
    for (const change of [{ agreementId: 7 }, { handedOffAt: '2026-03-02T11:00:00+01:00' }, { colour: 'red' }]) {
      expect(costOf(print(RecordHandoffEventsDocument), { input: { source: 'crm', events: [{ ...input.events[0], ...change }] } })).toBeNull();
    }
  });

  it('answers as graphql-js does, byte for byte but the batch id, and stores the same events', async () => {
    const planned = await text(crmToken, print(RecordHandoffEventsDocument), { input: { source: 'crm', events: events('A') } });
    const executed = await text(crmToken, print(RecordHandoffEventsByFragmentDocument), { input: { source: 'crm', events: events('B') } });
    expect(planned.status).toBe(200);
    expect(executed.status).toBe(200);
    const id = (t: string) => (JSON.parse(t) as { data: { recordHandoffEvents: { batch: { id: string } } } }).data.recordHandoffEvents.batch.id;
    expect(planned.text.replace(id(planned.text), 'ID')).toBe(executed.text.replace(id(executed.text), 'ID'));
    expect(planned.text).toBe(`{"data":{"recordHandoffEvents":{"batch":{"id":"${id(planned.text)}","source":"crm","received":5,"created":5,"updated":0},"userErrors":[]}}}\n`);
    expect(await stored('A')).toEqual(await stored('B'));
    expect((await stored('A')).map((e) => [e.externalId, e.stage, e.handedOffAt, e.responseHours])).toEqual([
      ['1', 'lead', '2026-03-02T10:00:00.000Z', 2],
      ['2', 'lead', '2026-03-06T16:00:00.000Z', 2],
      ['3', 'lead', '2026-03-04T15:00:00.000Z', null],
      ['4', 'opportunity', '2026-03-05T09:00:00.000Z', null],
      ['5', 'lead', '2026-03-31T23:59:59.999Z', null],
    ]);

    // Re-sent with another quality: updates, both ways, with the same SQL statements.
    const resent = await s.countStatements(async () =>
      expect((await crm.data(RecordHandoffEventsDocument, { input: { source: 'crm', events: events('A', 60) } })).recordHandoffEvents.batch).toMatchObject({ created: 0, updated: 5 }),
    );
    const resentByGraphqlJs = await s.countStatements(async () =>
      expect((await crm.data(RecordHandoffEventsByFragmentDocument, { input: { source: 'crm', events: events('B', 60) } })).recordHandoffEvents.batch).toMatchObject({ created: 0, updated: 5 }),
    );
    expect(resent).toBe(resentByGraphqlJs);
    expect(await stored('A')).toEqual(await stored('B'));
    expect((await stored('A'))[0]).toMatchObject({ qualityScore: 60, version: 2 });

    const aliased = (await crm.data(RecordHandoffEventsAliasedDocument, { events: { source: 'crm', events: events('C') } })).recorded;
    expect(aliased).toEqual({
      __typename: 'RecordHandoffEventsPayload',
      batch: { __typename: 'HandoffBatch', sent: 5, created: 5, updated: 0, version: 1, createdAt: expect.stringMatching(/^2026-\d\d-\d\dT/) },
      problems: [],
    });
  });

  it('gives the same user errors by field and code, and writes nothing', async () => {
    const bad: HandoffEventInput[] = [
      { externalId: 'D1', agreementId, stage: 'lead', handedOffAt: '2026-03-02T10:00:00Z', rejectedAt: '2026-03-02T11:00:00Z' },
      { externalId: 'D2', agreementId, stage: '', handedOffAt: '2026-03-02T10:00:00Z', respondedAt: '2026-03-01T10:00:00Z', qualityScore: 101 },
      { externalId: 'D2', agreementId: '00000000-0000-4000-8000-000000000000', stage: 'lead', handedOffAt: '2026-04-02T10:00:00Z' },
    ];
    const planned = await crm.data(RecordHandoffEventsDocument, { input: { source: 'crm', events: bad } });
    const executed = await crm.data(RecordHandoffEventsByFragmentDocument, { input: { source: 'crm', events: bad } });
    expect(planned.recordHandoffEvents.batch).toBeNull();
    expect(planned.recordHandoffEvents.userErrors).toEqual(executed.recordHandoffEvents.userErrors);
    expect(planned.recordHandoffEvents.userErrors.map((e) => `${e.field} ${e.code}`)).toEqual([
      'events[0].rejectionReason REQUIRED',
      'events[1].stage REQUIRED',
      'events[1].respondedAt INVALID',
      'events[1].qualityScore INVALID',
      'events[2].externalId INVALID',
      'events[2].agreementId NOT_FOUND',
      'events[2].handedOffAt INVALID',
    ]);
    expect(await stored('D')).toEqual([]);
  });

  it('hands an error of the ingest to graphql-js, which reports it as before, without ingesting twice', async () => {
    const input = { source: 'crm', events: events('F') };
    let planned: Awaited<ReturnType<Client['request']>> | undefined;
    let executed: Awaited<ReturnType<Client['request']>> | undefined;
    // Once first, uncounted: the token's first use reads it from the database.
    expect((await outsider.request(RecordHandoffEventsDocument, { input })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const plannedStatements = await s.countStatements(async () => void (planned = await outsider.request(RecordHandoffEventsDocument, { input })));
    const executedStatements = await s.countStatements(async () => void (executed = await outsider.request(RecordHandoffEventsByFragmentDocument, { input })));
    const forbidden = {
      message: expect.stringMatching(/^A INTEGRATION principal may not record handoff events for agreement LEADS \(events\[0\]\)/),
      path: ['recordHandoffEvents'],
      extensions: { code: 'FORBIDDEN' },
    };
    expect(planned?.errors).toEqual([expect.objectContaining(forbidden)]);
    expect(executed?.errors).toEqual([expect.objectContaining(forbidden)]);
    expect(planned?.errors?.[0].message).toBe(executed?.errors?.[0].message);
    expect([planned?.status, planned?.data]).toEqual([200, null]);
    expect(plannedStatements).toBe(executedStatements);
    expect(plannedStatements).toBeGreaterThan(1);
    expect(await stored('F')).toEqual([]);
  });

  it('leaves variables it does not take to graphql-js, which coerces or refuses them as before', async () => {
    // An instant with an offset: graphql-js reads it (10:00 UTC).
    const offset = await crm.data(RecordHandoffEventsDocument, { input: { source: 'crm', events: [{ externalId: 'G1', agreementId, stage: 'lead', handedOffAt: '2026-03-02T11:00:00+01:00' }] } });
    expect(offset.recordHandoffEvents.batch).toMatchObject({ created: 1 });
    expect((await stored('G')).map((e) => e.handedOffAt)).toEqual(['2026-03-02T10:00:00.000Z']);
    // An instant outside 2000–2099: refused by the gate, before any SQL.
    const early = await crm.request(RecordHandoffEventsDocument, { input: { source: 'crm', events: [{ externalId: 'G2', agreementId, stage: 'lead', handedOffAt: '1999-12-31T23:59:59Z' }] } });
    expect([early.status, early.errors?.map((e) => e.extensions?.code)]).toEqual([400, ['BAD_USER_INPUT']]);
    expect(early.errors?.[0].message).toContain('DateTime: expected an instant from 2000-01-01T00:00:00.000Z to before 2100-01-01T00:00:00.000Z, received 1999-12-31T23:59:59.000Z');
    // A field the type lacks.
    const extra = await crm.request(RecordHandoffEventsDocument, {
      input: { source: 'crm', events: [{ externalId: 'G3', agreementId, stage: 'lead', handedOffAt: '2026-03-02T10:00:00Z', colour: 'red' } as HandoffEventInput] },
    });
    expect([extra.status, extra.errors?.map((e) => e.extensions?.code)]).toEqual([400, ['BAD_USER_INPUT']]);
    expect(extra.errors?.[0].message).toContain('Field "colour" is not defined by type "HandoffEventInput"');
    expect((await stored('G')).map((e) => e.externalId)).toEqual(['1']);
  });
});
