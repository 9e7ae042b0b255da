/**
 * Issue 19, goal 1, and issue 15's open WebSockets: the principal cache (PRINCIPAL_CACHE_SECONDS,
 * src/modules/auth/principal-cache.ts). A warm token costs no SQL to authenticate, and `me` is
 * answered from the user's row read with the token, the same as a fresh read; a revocation,
 * a deactivation or a role change made through an instance applies to its very next request and
 * closes its open subscriptions (4403); another instance on the same database refuses a revoked
 * token once its cache's time to live has passed, and closes its subscriptions too; a change to the
 * user shows in `me` at once on the instance that made it, and within the time to live on another.
 *
 * The instance under test caches for 300 s, so a request that succeeded where it should have been
 * refused cannot be explained by an entry that happened to go stale.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { print } from 'graphql';
import WebSocket from 'ws';
import {
  CreateApiTokenDocument,
  CreateDepartmentDocument,
  CreateUserDocument,
  LiveEventsDocument,
  MeIdDocument,
  MeWholeDocument,
  RevokeApiTokenDocument,
  TypenameOnlyDocument,
  UpdateUserDocument,
  UsersDocument,
  WholeUserDocument,
} from '../generated/graphql';
import { engines, startServer, type TestServer } from '../support/server';

/** How one subscription ended (null while it is open). */
interface Closing {
  closed: { code: number; reason: string } | null;
}

/** Opens a `LiveEvents` subscription with `token` over a real graphql-ws client. */
function subscribe(url: string, token: string): { client: WsClient; stream: Closing } {
  const client = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
  const stream: Closing = { closed: null };
  client.subscribe(
    { query: print(LiveEventsDocument) },
    {
      next: () => undefined,
      error: (e) => {
        if (e && typeof e === 'object' && 'code' in e) {
          const close = e as unknown as { code: number; reason: unknown };
          stream.closed = { code: Number(close.code), reason: String(close.reason) };
        }
      },
      complete: () => undefined,
    },
  );
  return { client, stream };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(engines())('the principal cache (%s)', (engine) => {
  let s: TestServer;
  const clients: WsClient[] = [];
  let users = 0;

  /** A new ANALYST user (through the API) and a token of it; the token is used once, so the cache holds it. */
  const userWithToken = async (role: 'ANALYST' | 'ADMIN' | 'HEAD' = 'ANALYST', departmentId?: string) => {
    const n = ++users;
    const created = await s.data(CreateUserDocument, { input: { name: `cached ${n}`, email: `cached.${n}@${engine}.example`, role, departmentId } });
    expect(created.createUser.userErrors).toEqual([]);
    const user = created.createUser.user!;
    const token = (await s.data(CreateApiTokenDocument, { input: { userId: user.id, name: 'cached' } })).createApiToken;
    expect((await s.as(token.secret!).request(MeIdDocument, {})).data).toEqual({ me: { id: user.id } });
    return { user, tokenId: token.token!.id, secret: token.secret!, prefix: token.secret!.slice(0, 11) };
  };
  /** Waits until instance `server` holds `n` subscriptions (graphql-ws does not acknowledge a subscribe). */
  const subscribed = (server: TestServer, n: number) => vi.waitFor(() => expect(server.app.live.feed.size).toBe(n), { timeout: 10_000, interval: 10 });

  beforeAll(async () => {
    s = await startServer(engine, { env: { PRINCIPAL_CACHE_SECONDS: '300' } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await s?.close();
  });

  it('authenticates a warm token without SQL: { me { id } } and { __typename } cost none', async () => {
    const { secret } = await userWithToken();
    const client = s.as(secret);
    expect(await s.countStatements(() => client.data(MeIdDocument, {}))).toBe(0);
    expect(await s.countStatements(() => client.data(TypenameOnlyDocument, {}))).toBe(0);
    // Without the cache (a second instance on the same database, PRINCIPAL_CACHE_SECONDS=0), the
    // same requests read the token, with its user's row, each time: one statement, `me` no second.
    const uncached = await startServer(engine, { sameDatabaseAs: s, config: { auth: { principalCacheMs: 0 } } });
    try {
      const other = uncached.as(secret);
      await other.data(MeIdDocument, {});
      expect(await uncached.countStatements(() => other.data(MeIdDocument, {}))).toBe(1);
      expect(await uncached.countStatements(() => other.data(TypenameOnlyDocument, {}))).toBe(1);
    } finally {
      await uncached.close();
    }
  });

  it('answers me from the row read with the token: every field as a fresh read of the user gives it, cached or not', async () => {
    const department = (await s.data(CreateDepartmentDocument, { input: { code: `PC_${engine.toUpperCase()}`, name: 'principal cache' } })).createDepartment.department!;
    const { user, secret } = await userWithToken('HEAD', department.id);
    // A fresh read: the admin's `user(id:)`, a findOne of the ORM.
    const fresh = (await s.data(WholeUserDocument, { id: user.id })).user;
    expect(fresh).toMatchObject({ id: user.id, role: 'HEAD', department: { id: department.id, code: department.code }, deactivatedAt: null });
    expect(await s.countStatements(async () => expect((await s.as(secret).data(MeWholeDocument, {})).me).toEqual(fresh))).toBe(1); // the department's
    const uncached = await startServer(engine, { sameDatabaseAs: s, config: { auth: { principalCacheMs: 0 } } });
    try {
      expect((await uncached.as(secret).data(MeWholeDocument, {})).me).toEqual(fresh);
    } finally {
      await uncached.close();
    }
  });

  it('shows a change to the user made through this instance in me on the very next request, though the cache held the row', async () => {
    const { user, secret } = await userWithToken();
    expect(await s.countStatements(() => s.as(secret).data(MeIdDocument, {}))).toBe(0); // cached
    const renamed = await s.data(UpdateUserDocument, { input: { id: user.id, expectedVersion: user.version, name: 'renamed at once', email: `renamed.${user.email}` } });
    expect(renamed.updateUser.userErrors).toEqual([]);
    const me = (await s.as(secret).data(MeWholeDocument, {})).me;
    expect(me).toEqual((await s.data(WholeUserDocument, { id: user.id })).user);
    expect(me).toMatchObject({ name: 'renamed at once', email: `renamed.${user.email}`, version: user.version + 1 });
  });

  it('checks a token sent with { __typename }: a revoked one is refused, none is still welcome', async () => {
    const { tokenId, secret, prefix } = await userWithToken();
    expect((await s.as(secret).request(TypenameOnlyDocument, {})).data).toEqual({ __typename: 'Query' });
    expect((await s.data(RevokeApiTokenDocument, { input: { id: tokenId } })).revokeApiToken.userErrors).toEqual([]);
    const refused = await s.as(secret).request(TypenameOnlyDocument, {});
    expect([refused.status, refused.errors]).toEqual([401, [expect.objectContaining({ message: `The bearer token ${prefix}… was revoked`, extensions: { code: 'UNAUTHENTICATED' } })]]);
    expect((await s.as(null).request(TypenameOnlyDocument, {})).data).toEqual({ __typename: 'Query' });
  });

  it('refuses a revoked token on the very next request, though the cache held it', async () => {
    const { tokenId, secret, prefix } = await userWithToken();
    expect(await s.countStatements(() => s.as(secret).data(MeIdDocument, {}))).toBe(0); // cached
    expect((await s.data(RevokeApiTokenDocument, { input: { id: tokenId } })).revokeApiToken.userErrors).toEqual([]);
    const r = await s.as(secret).request(MeIdDocument, {});
    expect([r.status, r.data, r.errors]).toEqual([401, null, [expect.objectContaining({ message: `The bearer token ${prefix}… was revoked`, extensions: { code: 'UNAUTHENTICATED' } })]]);
  });

  it('refuses the token of a deactivated user on the very next request, and serves it again once reactivated', async () => {
    const { user, secret, prefix } = await userWithToken();
    expect(await s.countStatements(() => s.as(secret).data(MeIdDocument, {}))).toBe(0); // cached
    const off = await s.data(UpdateUserDocument, { input: { id: user.id, expectedVersion: user.version, active: false } });
    expect(off.updateUser.userErrors).toEqual([]);
    const r = await s.as(secret).request(MeIdDocument, {});
    expect([r.status, r.errors]).toEqual([401, [expect.objectContaining({ message: `The user of bearer token ${prefix}… is deactivated`, extensions: { code: 'UNAUTHENTICATED' } })]]);
    const on = await s.data(UpdateUserDocument, { input: { id: user.id, expectedVersion: user.version + 1, active: true } });
    expect(on.updateUser.userErrors).toEqual([]);
    expect((await s.as(secret).request(MeIdDocument, {})).data).toEqual({ me: { id: user.id } });
  });

  it('applies a role change on the very next request', async () => {
    const { user, secret } = await userWithToken('ANALYST');
    const before = await s.as(secret).request(UsersDocument, { first: 1 });
    expect(before.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const promoted = await s.data(UpdateUserDocument, { input: { id: user.id, expectedVersion: user.version, role: 'ADMIN' } });
    expect(promoted.updateUser.userErrors).toEqual([]);
    const after = await s.as(secret).request(UsersDocument, { first: 1 });
    expect([after.status, after.errors]).toEqual([200, undefined]);
  });

  it('refuses an expired token once its expiry has passed, though the cache held it', async () => {
    const { user } = await userWithToken();
    const expiresAt = new Date(Date.now() + 3000).toISOString();
    const created = (await s.data(CreateApiTokenDocument, { input: { userId: user.id, name: 'short', expiresAt } })).createApiToken;
    const secret = created.secret!;
    expect(await s.countStatements(() => s.as(secret).data(MeIdDocument, {}))).toBe(2); // the token (with its user) read, its lastUsedAt written
    expect(await s.countStatements(() => s.as(secret).data(MeIdDocument, {}))).toBe(0); // cached
    await sleep(Date.parse(expiresAt) - Date.now() + 50);
    const r = await s.as(secret).request(MeIdDocument, {});
    expect([r.status, r.errors]).toEqual([
      401,
      [expect.objectContaining({ message: `The bearer token ${secret.slice(0, 11)}… expired at ${new Date(expiresAt).toISOString()}`, extensions: { code: 'UNAUTHENTICATED' } })],
    ]);
  });

  it('closes an open subscription with 4403 at once when its token is revoked or its user deactivated', async () => {
    const revoked = await userWithToken();
    const deactivated = await userWithToken();
    const kept = await userWithToken();
    const before = s.app.live.feed.size;
    const streams = [revoked, deactivated, kept].map((t) => {
      const { client, stream } = subscribe(s.url, t.secret);
      clients.push(client);
      return stream;
    });
    await subscribed(s, before + 3);
    expect((await s.data(RevokeApiTokenDocument, { input: { id: revoked.tokenId } })).revokeApiToken.userErrors).toEqual([]);
    const off = await s.data(UpdateUserDocument, { input: { id: deactivated.user.id, expectedVersion: deactivated.user.version, active: false } });
    expect(off.updateUser.userErrors).toEqual([]);
    await vi.waitFor(() => expect(streams[0].closed && streams[1].closed).toBeTruthy(), { timeout: 10_000, interval: 10 });
    expect(streams[0].closed).toEqual({ code: 4403, reason: `The bearer token ${revoked.prefix}… was revoked` });
    expect(streams[1].closed).toEqual({ code: 4403, reason: `The user of bearer token ${deactivated.prefix}… is deactivated` });
    // The third token's subscription is untouched.
    await subscribed(s, before + 1);
    expect(streams[2].closed).toBeNull();
  });

  it.runIf(engine === 'postgresql')('a second instance that cached a token refuses it, and closes its subscription, once its time to live has passed', async () => {
    const ttlMs = 1000;
    const b = await startServer(engine, { sameDatabaseAs: s, config: { auth: { principalCacheMs: ttlMs } } });
    try {
      const http = await userWithToken();
      const ws = await userWithToken();
      // B reads and caches both tokens: its second request of one costs no SQL.
      await b.as(http.secret).data(MeIdDocument, {});
      expect(await b.countStatements(() => b.as(http.secret).data(MeIdDocument, {}))).toBe(0);
      const { client, stream } = subscribe(b.url, ws.secret);
      clients.push(client);
      await subscribed(b, 1);

      // Revoked through A: A's cache is told, B's is not.
      for (const t of [http, ws]) expect((await s.data(RevokeApiTokenDocument, { input: { id: t.tokenId } })).revokeApiToken.userErrors).toEqual([]);
      const revokedAt = Date.now();
      await sleep(ttlMs + 50 - (Date.now() - revokedAt));
      const r = await b.as(http.secret).request(MeIdDocument, {});
      expect([r.status, r.errors]).toEqual([401, [expect.objectContaining({ message: `The bearer token ${http.prefix}… was revoked`, extensions: { code: 'UNAUTHENTICATED' } })]]);
      // The subscription on B closes at B's next re-check (every half time to live) after that.
      await vi.waitFor(() => expect(stream.closed).not.toBeNull(), { timeout: 10_000, interval: 20 });
      expect(stream.closed).toEqual({ code: 4403, reason: `The bearer token ${ws.prefix}… was revoked` });
    } finally {
      await b.close();
    }
  });

  it.runIf(engine === 'postgresql')('a second instance that cached a token shows a change to its user in me once its time to live has passed', async () => {
    const ttlMs = 1000;
    const b = await startServer(engine, { sameDatabaseAs: s, config: { auth: { principalCacheMs: ttlMs } } });
    try {
      const { user, secret } = await userWithToken();
      await b.as(secret).data(MeIdDocument, {});
      expect(await b.countStatements(() => b.as(secret).data(MeWholeDocument, {}))).toBe(0); // cached on B
      // Renamed through A: B's row is as old as its cache entry, and goes stale with it.
      const renamed = await s.data(UpdateUserDocument, { input: { id: user.id, expectedVersion: user.version, name: 'renamed elsewhere' } });
      expect(renamed.updateUser.userErrors).toEqual([]);
      const changedAt = Date.now();
      const meantime = (await b.as(secret).data(MeWholeDocument, {})).me;
      if (Date.now() - changedAt < ttlMs) expect(meantime).toMatchObject({ name: user.name, version: user.version });
      await sleep(ttlMs + 50 - (Date.now() - changedAt));
      expect((await b.as(secret).data(MeWholeDocument, {})).me).toEqual((await s.data(WholeUserDocument, { id: user.id })).user);
      expect((await b.as(secret).data(MeWholeDocument, {})).me).toMatchObject({ name: 'renamed elsewhere', version: user.version + 1 });
    } finally {
      await b.close();
    }
  });
});
