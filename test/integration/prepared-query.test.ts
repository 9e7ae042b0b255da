/**
 * Issue 19, goal 1: queries Apollo has validated are answered without its request pipeline
 * (src/http/prepared-query.ts). Each operation is sent twice with the same headers: the first
 * answer is Apollo's, the second the prepared path's (or Apollo's again, where the path must leave
 * the request to it), and both are the same bytes with the same status and headers (but the date
 * and the rate limit's count). `me` with a selection of columns only is answered from the
 * principal's row without a managed entity, and must equal the entity's answer.
 */
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MeColumnsDocument,
  MeIdDocument,
  MeWholeDocument,
  ScorecardFactsDocument,
  TypenameOnlyDocument,
  UpdateUserDocument,
  UserByIdDocument,
  UsersDocument,
  WholeUserDocument,
} from '../generated/graphql';
import { engines, Role, startServer, type TestServer } from '../support/server';

/** What is compared of an answer: its status, its headers but those that change per request, and its body. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const PER_REQUEST = new Set(['date', 'ratelimit-remaining', 'ratelimit-reset']);

describe.each(engines())('queries answered without Apollo once it has validated them (%s)', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
  });
  afterAll(async () => {
    await s?.close();
  });

  async function send<R, V>(doc: TypedDocumentNode<R, V>, variables: V | undefined, headers: Record<string, string>): Promise<Answer> {
    const res = await fetch(`${s.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'same-id', ...headers },
      body: JSON.stringify({ query: print(doc), variables }),
    });
    const kept: Record<string, string> = {};
    for (const [k, v] of res.headers) if (!PER_REQUEST.has(k)) kept[k] = v;
    return { status: res.status, headers: kept, body: await res.text() };
  }

  /** Sends `doc` twice; returns both answers and how many of the two the prepared path answered. */
  async function twice<R, V>(doc: TypedDocumentNode<R, V>, variables: V | undefined, headers: Record<string, string>): Promise<{ first: Answer; second: Answer; prepared: number }> {
    const before = s.app.prepared.answeredHere;
    const first = await send(doc, variables, headers);
    const second = await send(doc, variables, headers);
    return { first, second, prepared: s.app.prepared.answeredHere - before };
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('answers me and { __typename } as Apollo does, from the second request on', async () => {
    for (const doc of [MeIdDocument, MeColumnsDocument, MeWholeDocument, TypenameOnlyDocument] as TypedDocumentNode<unknown, unknown>[]) {
      const { first, second, prepared } = await twice(doc, undefined, bearer(s.adminToken));
      expect(first.status).toBe(200);
      expect(second).toEqual(first);
      expect(prepared).toBe(1);
    }
    const { first } = await twice(MeColumnsDocument, undefined, bearer(s.adminToken));
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.headers['x-read-source']).toBe('primary');
    expect(first.headers['x-request-id']).toBe('same-id');
    const me = (JSON.parse(first.body) as { data: { me: Record<string, unknown> } }).data.me;
    expect(Object.keys(me)).toEqual(['__typename', 'id', 'version', 'name', 'email', 'role', 'deactivatedAt', 'createdAt', 'updatedAt']);
    expect(me.__typename).toBe('User');
    expect(me.role).toBe('ADMIN');
    expect(me.deactivatedAt).toBeNull();
  });

  it("answers me's columns from the principal's row the same as from the entity, a HEAD's department through the entity", async () => {
    const head = await s.tokenFor(Role.HEAD, 'MKT');
    const columns = await twice(MeColumnsDocument, undefined, bearer(head));
    expect(columns.second).toEqual(columns.first);
    const whole = await twice(MeWholeDocument, undefined, bearer(head));
    expect(whole.second).toEqual(whole.first);
    const user = (JSON.parse(whole.first.body) as { data: { me: { id: string; version: number; name: string; createdAt: string; department: { code: string } } } }).data.me;
    expect(user.department.code).toBe('MKT');
    const fromColumns = (JSON.parse(columns.first.body) as { data: { me: { id: string; name: string; createdAt: string } } }).data.me;
    expect(fromColumns).toMatchObject({ id: user.id, name: user.name, createdAt: user.createdAt });
    // A change made through this instance shows at once in the columns answered from the row.
    const renamed = await s.data(UpdateUserDocument, { input: { id: user.id, expectedVersion: user.version, name: 'Renamed Head' } });
    expect(renamed.updateUser.userErrors).toEqual([]);
    const after = await twice(MeColumnsDocument, undefined, bearer(head));
    expect(after.second).toEqual(after.first);
    expect((JSON.parse(after.second.body) as { data: { me: { name: string } } }).data.me.name).toBe('Renamed Head');
  });

  it("answers resolvers' errors as Apollo does: NOT_FOUND, FORBIDDEN", async () => {
    const notFound = await twice(WholeUserDocument, { id: '00000000-0000-4000-8000-000000000000' }, bearer(s.adminToken));
    expect(notFound.first.status).toBe(200);
    expect(JSON.parse(notFound.first.body)).toMatchObject({ data: null, errors: [{ path: ['user'], extensions: { code: 'NOT_FOUND' } }] });
    expect(notFound.second).toEqual(notFound.first);
    expect(notFound.prepared).toBe(1);

    const analyst = await s.tokenFor(Role.ANALYST);
    const forbidden = await twice(UsersDocument, { first: 5 }, bearer(analyst));
    expect(JSON.parse(forbidden.first.body)).toMatchObject({ data: null, errors: [{ path: ['users'], extensions: { code: 'FORBIDDEN' } }] });
    expect(forbidden.second).toEqual(forbidden.first);
    expect(forbidden.prepared).toBe(1);
  });

  it("leaves the gate's refusals to Apollo, without a second token lookup", async () => {
    const missing = await twice(MeIdDocument, undefined, {});
    expect(missing.first.status).toBe(401);
    expect(JSON.parse(missing.first.body)).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(missing.second).toEqual(missing.first);
    expect(missing.prepared).toBe(0);
    // A document first sent without a token is kept only once a request of it is let through.
    const id = (JSON.parse((await send(MeIdDocument, undefined, bearer(s.adminToken))).body) as { data: { me: { id: string } } }).data.me.id;
    expect((await twice(UserByIdDocument, { id }, {})).prepared).toBe(0);
    expect((await twice(UserByIdDocument, { id }, {})).prepared).toBe(0);
    const allowed = await twice(UserByIdDocument, { id }, bearer(s.adminToken));
    expect(allowed.prepared).toBe(1);
    expect(JSON.parse(allowed.second.body)).toEqual({ data: { user: { id } } });

    const unknown = bearer('tsla_unknownunknownunknownunknownunknown00');
    await send(MeIdDocument, undefined, unknown);
    let refused: Answer | undefined;
    // One SELECT of the token, as through Apollo alone: the prepared path's refusal is carried to Apollo's gate.
    expect(await s.countStatements(async () => (refused = await send(MeIdDocument, undefined, unknown)))).toBe(1);
    expect(refused?.status).toBe(401);
    expect(JSON.parse(refused?.body ?? '')).toMatchObject({ errors: [{ message: 'The bearer token is not known', extensions: { code: 'UNAUTHENTICATED' } }] });

    const tooCostly = await twice(UsersDocument, { first: 100_000 }, bearer(s.adminToken));
    expect(tooCostly.first.status).toBe(400);
    expect(JSON.parse(tooCostly.first.body)).toMatchObject({ errors: [{ extensions: { code: 'QUERY_TOO_COMPLEX' } }] });
    expect(tooCostly.second).toEqual(tooCostly.first);
    expect(tooCostly.prepared).toBe(0);
  });

  it('keeps the content type Apollo negotiated, and leaves unknown Accept values, fact connections and mutations to Apollo', async () => {
    const spec = await twice(MeIdDocument, undefined, { ...bearer(s.adminToken), accept: 'application/graphql-response+json' });
    expect(spec.first.headers['content-type']).toBe('application/graphql-response+json; charset=utf-8');
    expect(spec.second).toEqual(spec.first);
    expect(spec.prepared).toBe(1);

    const refusedAccept = await twice(MeIdDocument, undefined, { ...bearer(s.adminToken), accept: 'text/html' });
    expect(refusedAccept.first.status).toBe(406);
    expect(refusedAccept.second).toEqual(refusedAccept.first);
    expect(refusedAccept.prepared).toBe(0);

    const facts = await twice(ScorecardFactsDocument, { filter: { from: '2026-01', to: '2026-02' }, first: 5 }, bearer(s.adminToken));
    expect(facts.first.status).toBe(200);
    expect(facts.second.status).toBe(200);
    expect(JSON.parse(facts.second.body)).toMatchObject({ data: { scorecardFacts: { edges: [] } } });
    expect(facts.prepared).toBe(0);

    const before = s.app.prepared.answeredHere;
    for (let i = 0; i < 2; i++) {
      const { me } = await s.data(MeWholeDocument);
      expect((await s.data(UpdateUserDocument, { input: { id: me.id, expectedVersion: me.version, name: `Admin ${i}` } })).updateUser.userErrors).toEqual([]);
    }
    // The two MeWhole queries were the prepared path's (the first of them too: MeWhole was sent before); the mutations Apollo's.
    expect(s.app.prepared.answeredHere - before).toBe(2);
  });
});
