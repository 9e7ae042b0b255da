import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/common/paths';
import { createApp } from '../../src/server';
import { openOrm } from '../../src/db/orm';
import { isEmpty } from '../../seeds/demo.seeder';
import { CreateApiTokenDocument, CreateUserDocument, DepartmentDocument, MeDocument, RevokeApiTokenDocument, UpdateUserDocument, UsersDocument } from '../generated/graphql';
import { engines, freshDatabase, startServer, type TestServer } from '../support/server';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe.each(engines())('users and API tokens on %s', (engine) => {
  let s: TestServer;
  let itId: string;
  beforeAll(async () => {
    s = await startServer(engine, { seed: true });
    itId = (await s.data(DepartmentDocument, { code: 'IT' })).department.id;
  });
  afterAll(async () => {
    await s?.close();
  });

  async function newUser(email: string, role: 'HEAD' | 'ANALYST' = 'ANALYST') {
    const r = await s.data(CreateUserDocument, { input: { name: 'Tess Token', email, role, departmentId: role === 'HEAD' ? itId : null } });
    expect(r.createUser.userErrors).toEqual([]);
    return r.createUser.user!;
  }

  it('shows a new token once, stores only its SHA-256 hash and a short prefix, and it authenticates', async () => {
    const user = await newUser('Tess@Example.com');
    expect(user.email).toBe('tess@example.com');
    const created = await s.data(CreateApiTokenDocument, { input: { userId: user.id, name: 'laptop' } });
    const secret = created.createApiToken.secret!;
    expect(secret).toMatch(/^tsla_[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(created.createApiToken.token?.prefix).toBe(secret.slice(0, 11));

    const me = await s.as(secret).data(MeDocument, {});
    expect(me.me).toMatchObject({ email: 'tess@example.com', role: 'ANALYST' });

    // Nothing in the token table can be turned back into a secret.
    const rows = (await s.app.orm.em.getConnection().execute('select * from api_token')) as Array<Record<string, unknown>>;
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) {
      expect(String(row.secret_hash)).toMatch(/^[0-9a-f]{64}$/);
      expect(String(row.prefix)).toMatch(/^tsla_.{6}$/);
    }
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice(11));
    expect(dump).not.toContain(s.adminToken.slice(11));
    expect(rows.map((r) => r.secret_hash)).toContain(sha256(secret));

    // The listing shows metadata only, with lastUsedAt filled by that use.
    const users = await s.data(UsersDocument, { filter: { role: 'ANALYST' } });
    const listed = users.users.edges.find((e) => e.node.id === user.id)?.node.tokens[0];
    expect(listed).toMatchObject({ name: 'laptop', prefix: secret.slice(0, 11), revokedAt: null });
    expect(listed?.lastUsedAt).toEqual(expect.any(String));
  });

  it('refuses revoked and expired tokens, and tokens of deactivated users, saying which', async () => {
    const user = await newUser('life@example.com');
    const a = (await s.data(CreateApiTokenDocument, { input: { userId: user.id, name: 'a' } })).createApiToken;
    const b = (await s.data(CreateApiTokenDocument, { input: { userId: user.id, name: 'b', expiresAt: new Date(Date.now() + 3_600_000).toISOString() } })).createApiToken;
    expect((await s.as(a.secret!).request(MeDocument, {})).status).toBe(200);

    const revoked = await s.data(RevokeApiTokenDocument, { input: { id: a.token!.id } });
    expect(revoked.revokeApiToken.token?.revokedAt).toEqual(expect.any(String));
    const again = await s.data(RevokeApiTokenDocument, { input: { id: a.token!.id } });
    expect(again.revokeApiToken.token?.revokedAt).toBe(revoked.revokeApiToken.token?.revokedAt);
    const r1 = await s.as(a.secret!).request(MeDocument, {});
    expect(r1.status).toBe(401);
    expect(r1.errors?.[0]).toMatchObject({ message: `The bearer token ${a.secret!.slice(0, 11)}… was revoked`, extensions: { code: 'UNAUTHENTICATED' } });

    // Expiry: move b's expiry into the past, as time would.
    const past = new Date(Date.now() - 1000);
    await s.app.orm.em.fork().nativeUpdate('ApiToken', { id: b.token!.id }, { expiresAt: past });
    const r2 = await s.as(b.secret!).request(MeDocument, {});
    expect(r2.status).toBe(401);
    expect(r2.errors?.[0].message).toBe(`The bearer token ${b.secret!.slice(0, 11)}… expired at ${past.toISOString()}`);

    const c = (await s.data(CreateApiTokenDocument, { input: { userId: user.id, name: 'c' } })).createApiToken;
    const off = await s.data(UpdateUserDocument, { input: { id: user.id, expectedVersion: user.version, active: false } });
    expect(off.updateUser.user?.deactivatedAt).toEqual(expect.any(String));
    const r3 = await s.as(c.secret!).request(MeDocument, {});
    expect(r3.errors?.[0].message).toBe(`The user of bearer token ${c.secret!.slice(0, 11)}… is deactivated`);
    const noToken = await s.data(CreateApiTokenDocument, { input: { userId: user.id, name: 'd' } });
    expect(noToken.createApiToken.userErrors).toEqual([{ field: 'userId', code: 'ARCHIVED', message: 'user life@example.com is deactivated' }]);
    await s.data(UpdateUserDocument, { input: { id: user.id, expectedVersion: user.version + 1, active: true } });
    expect((await s.as(c.secret!).request(MeDocument, {})).status).toBe(200);
  });

  it('validates users: e-mail, role and department rules, uniqueness, versions', async () => {
    const bad = await s.data(CreateUserDocument, { input: { name: '', email: 'not-an-email', role: 'ANALYST' } });
    expect(bad.createUser.userErrors.map((e) => [e.field, e.code]).sort()).toEqual([
      ['email', 'INVALID'],
      ['name', 'REQUIRED'],
    ]);
    const headWithout = await s.data(CreateUserDocument, { input: { name: 'x', email: 'h1@example.com', role: 'HEAD' } });
    expect(headWithout.createUser.userErrors).toEqual([{ field: 'departmentId', code: 'REQUIRED', message: 'departmentId: a HEAD user acts for a department; name it' }]);
    const analystWith = await s.data(CreateUserDocument, { input: { name: 'x', email: 'a1@example.com', role: 'ANALYST', departmentId: itId } });
    expect(analystWith.createUser.userErrors).toEqual([{ field: 'departmentId', code: 'INVALID', message: 'departmentId: a ANALYST user acts for no department; leave it out' }]);
    await newUser('dup@example.com');
    const dup = await s.data(CreateUserDocument, { input: { name: 'x', email: 'DUP@example.com', role: 'ANALYST' } });
    expect(dup.createUser.userErrors).toEqual([{ field: 'email', code: 'TAKEN', message: 'e-mail dup@example.com is already used by another user' }]);

    const head = await newUser('head.it@example.com', 'HEAD');
    expect(head.department?.code).toBe('IT');
    const toAnalyst = await s.data(UpdateUserDocument, { input: { id: head.id, expectedVersion: 1, role: 'ANALYST' } });
    expect(toAnalyst.updateUser.userErrors[0]).toMatchObject({ field: 'departmentId', code: 'INVALID' });
    const ok = await s.data(UpdateUserDocument, { input: { id: head.id, expectedVersion: 1, role: 'ANALYST', departmentId: null } });
    expect(ok.updateUser.user).toMatchObject({ role: 'ANALYST', department: null, version: 2 });
    const stale = await s.data(UpdateUserDocument, { input: { id: head.id, expectedVersion: 1, name: 'z' } });
    expect(stale.updateUser.userErrors[0].code).toBe('CONFLICT');
  });

  it('refuses an expiry in the past, and replays a token creation without showing the secret again', async () => {
    const user = await newUser('replay@example.com');
    const past = await s.data(CreateApiTokenDocument, { input: { userId: user.id, name: 'old', expiresAt: '2020-01-01T00:00:00Z' } });
    expect(past.createApiToken.userErrors).toEqual([{ field: 'expiresAt', code: 'INVALID', message: 'expiresAt: expected a time in the future, received 2020-01-01T00:00:00.000Z' }]);
    const input = { userId: user.id, name: 'ci', idempotencyKey: 'tok-1' };
    const first = await s.data(CreateApiTokenDocument, { input });
    const replay = await s.data(CreateApiTokenDocument, { input });
    expect(first.createApiToken.secret).toMatch(/^tsla_/);
    expect(replay.createApiToken.token?.id).toBe(first.createApiToken.token?.id);
    expect(replay.createApiToken.secret).toBeNull();
  });

  it('does not let an admin deactivate itself', async () => {
    const me = await s.data(MeDocument, {});
    const r = await s.data(UpdateUserDocument, { input: { id: me.me.id, expectedVersion: me.me.version, active: false } });
    expect(r.updateUser.userErrors).toEqual([{ field: 'active', code: 'INVALID', message: 'active: you cannot deactivate yourself' }]);
  });
});

describe('create-admin CLI', () => {
  const root = projectRoot();
  const cli = path.join(root, 'dist', 'src', 'cli', 'create-admin.js');
  beforeAll(() => {
    if (!fs.existsSync(cli)) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  }, 120_000);

  it('creates the first admin and its token on an empty database, once', async () => {
    const { config, drop } = await freshDatabase('sqlite');
    try {
      const env = { PATH: process.env.PATH ?? '', DATABASE_URL: `sqlite:${config.database.sqlitePath}` };
      const out = execFileSync(process.execPath, [cli, '--name', 'Ada Admin', '--email', 'Ada@Example.com'], { env, encoding: 'utf8' });
      const secret = /^(tsla_\S+)$/m.exec(out)?.[1];
      expect(out).toContain('created admin ada@example.com');
      expect(secret).toBeDefined();

      let status = 0;
      let stderr = '';
      // A real installation: npm start would not seed demo principals into it.
      const probe = await openOrm(config, { migrate: false });
      expect(await isEmpty(probe.orm.em.fork())).toBe(false);
      await probe.orm.close(true);
      try {
        execFileSync(process.execPath, [cli, '--name', 'Bob', '--email', 'bob@example.com'], { env, stdio: 'pipe' });
      } catch (e) {
        status = (e as { status: number }).status;
        stderr = String((e as { stderr: Buffer }).stderr);
      }
      expect(status).toBe(1);
      expect(stderr).toContain('the database already has 1 user(s)');

      const app = await createApp(config);
      const url = await app.listen();
      try {
        const r = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
          body: JSON.stringify({ query: '{ me { email role } }' }),
        });
        expect(await r.json()).toEqual({ data: { me: { email: 'ada@example.com', role: 'ADMIN' } } });
      } finally {
        await app.close();
      }
    } finally {
      await drop();
    }
  });

  it('says what is missing', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, [cli], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: 'sqlite::memory:' }, stdio: 'pipe' });
    } catch (e) {
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(stderr.trim().split('\n')).toEqual(["--name: expected the admin's name", '--email: expected an e-mail address']);
  });
});
