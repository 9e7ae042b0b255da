import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/common/config';

describe('config', () => {
  it('has working defaults: SQLite under ./data, port 4000', () => {
    const c = loadConfig({}, '/srv/app');
    expect(c.database).toEqual({
      engine: 'sqlite',
      url: '/srv/app/data/tiered-sla.sqlite',
      sqlitePath: '/srv/app/data/tiered-sla.sqlite',
      seedDemoWhenEmpty: true,
      sqliteSynchronous: 'NORMAL',
      allowAsyncCommit: false,
      readUrls: [],
      readYourWritesMs: 10000,
    });
    expect(c.http.port).toBe(4000);
    expect(c.http.host).toBe('127.0.0.1');
    expect(c.http.bodyLimitBytes).toBe(4194304);
    expect(c.http.corsOrigins).toEqual([]);
    expect(c.log.level).toBe('info');
    expect(c.nodeEnv).toBe('development');
  });

  it('selects PostgreSQL from a postgres:// URL and never seeds it', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://app@db:5432/sla', PORT: '8080', CORS_ORIGINS: 'https://dash.example.com, https://bi.example.com' });
    expect(c.database).toMatchObject({ engine: 'postgresql', url: 'postgres://app@db:5432/sla', seedDemoWhenEmpty: false, allowAsyncCommit: false });
    expect(c.http.port).toBe(8080);
    expect(c.http.corsOrigins).toEqual(['https://dash.example.com', 'https://bi.example.com']);
  });

  it('selects the durability settings, naming each bad one', () => {
    expect(loadConfig({ SQLITE_SYNCHRONOUS: 'FULL' }).database.sqliteSynchronous).toBe('FULL');
    expect(loadConfig({ SQLITE_SYNCHRONOUS: 'NORMAL' }).database.sqliteSynchronous).toBe('NORMAL');
    expect(loadConfig({ POSTGRES_ALLOW_ASYNC_COMMIT: 'true' }).database.allowAsyncCommit).toBe(true);
    try {
      loadConfig({ SQLITE_SYNCHRONOUS: 'full', POSTGRES_ALLOW_ASYNC_COMMIT: 'yes' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems.sort()).toEqual(['POSTGRES_ALLOW_ASYNC_COMMIT: expected true or false, received "yes"', 'SQLITE_SYNCHRONOUS: expected NORMAL or FULL, received "full"']);
    }
  });

  it('turns e-mail on with SMTP_URL only, and names every bad mail variable', () => {
    expect(loadConfig({}).mail).toBeNull();
    expect(loadConfig({ MAIL_FROM: 'x@example.com' }).mail).toBeNull();
    expect(loadConfig({ SMTP_URL: 'smtp://127.0.0.1:2525', DASHBOARD_URL: 'https://sla.example.com/' }).mail).toEqual({
      smtpUrl: 'smtp://127.0.0.1:2525',
      from: 'tiered-sla <tiered-sla@localhost>',
      dashboardUrl: 'https://sla.example.com',
    });
    try {
      loadConfig({ SMTP_URL: 'mail.example.com:25', MAIL_FROM: 'nobody', DASHBOARD_URL: 'sla.example.com' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems.sort()).toEqual([
        'DASHBOARD_URL: expected an http(s) URL such as https://sla.example.com, received "sla.example.com"',
        'MAIL_FROM: expected an address such as sla@example.com or "SLA desk <sla@example.com>", received "nobody"',
        'SMTP_URL: expected smtp://host:port or smtps://user:password@host:port, received "mail.example.com:25"',
      ]);
    }
  });

  it('keeps the test clock off unless asked, and never allows it in production', () => {
    expect(loadConfig({}).clockOverride).toBe(false);
    expect(loadConfig({ CLOCK_OVERRIDE: 'true', NODE_ENV: 'test' }).clockOverride).toBe(true);
    expect(() => loadConfig({ CLOCK_OVERRIDE: 'true', NODE_ENV: 'production' })).toThrow(
      'CLOCK_OVERRIDE: expected false when NODE_ENV is production (a client must not choose the time), received "true"',
    );
  });

  it('runs the scheduler on the server’s clock unless SCHEDULER_CLOCK names an instant, which needs the test clock', () => {
    expect(loadConfig({}).schedulerClock).toBeNull();
    expect(loadConfig({ CLOCK_OVERRIDE: 'true', SCHEDULER_CLOCK: '2026-03-04T11:00:00+01:00' }).schedulerClock).toEqual(new Date('2026-03-04T10:00:00Z'));
    expect(() => loadConfig({ SCHEDULER_CLOCK: '2026-03-04T10:00:00Z' })).toThrow(
      'SCHEDULER_CLOCK: expected to be unset unless CLOCK_OVERRIDE is true (the test clock), received "2026-03-04T10:00:00Z"',
    );
    for (const bad of ['2026-03-04', 'tomorrow', '1999-12-31T23:59:59Z']) {
      expect(() => loadConfig({ CLOCK_OVERRIDE: 'true', SCHEDULER_CLOCK: bad })).toThrow(
        `SCHEDULER_CLOCK: expected an ISO 8601 instant from 2000 to before 2100, such as 2026-03-04T10:00:00Z, received ${JSON.stringify(bad)}`,
      );
    }
  });

  it('signs export links with EXPORT_LINK_SECRET when set (32+ characters), else with a key of the database; links point at DASHBOARD_URL', () => {
    expect(loadConfig({}).exportLinks).toEqual({ secret: null, baseUrl: 'http://localhost:4000' });
    expect(loadConfig({ NODE_ENV: 'production' }).exportLinks.secret).toBeNull();
    expect(loadConfig({ EXPORT_LINK_SECRET: 'x'.repeat(32), DASHBOARD_URL: 'https://sla.example.com/' }).exportLinks).toEqual({ secret: 'x'.repeat(32), baseUrl: 'https://sla.example.com' });
    expect(() => loadConfig({ EXPORT_LINK_SECRET: 'short' })).toThrow('EXPORT_LINK_SECRET: expected at least 32 characters (e.g. `openssl rand -base64 32`), received 5 characters');
  });

  it('offers the demo sign-in on the embedded demo only, the IDE outside production only, unless told (issue 17)', () => {
    expect(loadConfig({}).dashboard).toEqual({ demoSignIn: true, graphqlIde: true });
    expect(loadConfig({ DATABASE_URL: 'postgres://app@db:5432/sla' }).dashboard).toEqual({ demoSignIn: false, graphqlIde: true });
    expect(loadConfig({ NODE_ENV: 'production' }).dashboard).toEqual({ demoSignIn: false, graphqlIde: false });
    expect(loadConfig({ NODE_ENV: 'production', GRAPHQL_IDE: 'true' }).dashboard).toEqual({ demoSignIn: false, graphqlIde: true });
    expect(loadConfig({ DASHBOARD_DEMO_SIGN_IN: 'false', GRAPHQL_IDE: 'false' }).dashboard).toEqual({ demoSignIn: false, graphqlIde: false });
    expect(() => loadConfig({ DASHBOARD_DEMO_SIGN_IN: 'true', NODE_ENV: 'production' })).toThrow(
      'DASHBOARD_DEMO_SIGN_IN: expected false when NODE_ENV is production (the demo sign-in hands out tokens), received "true"',
    );
    expect(() => loadConfig({ GRAPHQL_IDE: 'yes' })).toThrow('GRAPHQL_IDE: expected true or false, received "yes"');
  });

  it("lets the heap grow 50 % past its live size between full collections unless HEAP_GROWING_PERCENT says otherwise (0: V8's own)", () => {
    expect(loadConfig({}).memory).toEqual({ heapGrowingPercent: 50 });
    expect(loadConfig({ HEAP_GROWING_PERCENT: '0' }).memory).toEqual({ heapGrowingPercent: 0 });
    expect(loadConfig({ HEAP_GROWING_PERCENT: '150' }).memory).toEqual({ heapGrowingPercent: 150 });
    for (const bad of ['-1', '301', '12.5', 'lots']) {
      expect(() => loadConfig({ HEAP_GROWING_PERCENT: bad })).toThrow(`HEAP_GROWING_PERCENT: expected a whole number of percent from 0 to 300, received "${bad}"`);
    }
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', LOG_LEVEL: '' }).http.port).toBe(4000);
  });

  it('resolves relative SQLite paths against the working directory', () => {
    expect(loadConfig({ DATABASE_URL: 'file:db/x.sqlite' }, '/srv').database.sqlitePath).toBe(path.resolve('/srv/db/x.sqlite'));
  });

  it('lists every bad variable at once, one line each, naming it, what was expected and what was received', () => {
    try {
      loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x', NODE_ENV: 'staging', CORS_ORIGINS: 'dash', BODY_LIMIT_BYTES: '12' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems.sort()).toEqual([
        'BODY_LIMIT_BYTES: expected a whole number of bytes from 1024 to 104857600, received "12"',
        'CORS_ORIGINS: expected *, or a comma-separated list of origins such as https://dash.example.com, received "dash"',
        'DATABASE_URL: expected sqlite:<path>, file:<path> or postgres://user@host:port/database, received "mysql://x"',
        'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, received "loud"',
        'NODE_ENV: expected one of development, test, production, received "staging"',
        'PORT: expected an integer from 0 to 65535, received "abc"',
      ]);
    }
  });

  it('takes read replicas on PostgreSQL only, each a postgres:// URL naming a database, never echoing one (issue 18)', () => {
    const pg = { DATABASE_URL: 'postgres://app@db:5432/sla' };
    expect(loadConfig({ ...pg, DATABASE_READ_URLS: 'postgres://app@r1:5432/sla, postgresql://app:secret@r2/sla', READ_YOUR_WRITES_SECONDS: '3' }).database).toMatchObject({
      readUrls: ['postgres://app@r1:5432/sla', 'postgresql://app:secret@r2/sla'],
      readYourWritesMs: 3000,
    });
    expect(() => loadConfig({ DATABASE_READ_URLS: 'postgres://app@r1:5432/sla' })).toThrow(
      'DATABASE_READ_URLS: expected no value when DATABASE_URL is SQLite (read replicas need PostgreSQL), received a list',
    );
    try {
      loadConfig({ ...pg, DATABASE_READ_URLS: 'postgres://app@r1:5432/sla,mysql://app:secret@r2/sla,postgres://app:secret@r3' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'DATABASE_READ_URLS: expected comma-separated URLs such as postgres://user@replica-host:5432/database, received an invalid URL at position 2 of 3',
        'DATABASE_READ_URLS: expected comma-separated URLs such as postgres://user@replica-host:5432/database, received an invalid URL at position 3 of 3',
      ]);
      expect((e as Error).message).not.toContain('secret');
    }
    expect(() => loadConfig({ ...pg, READ_YOUR_WRITES_SECONDS: '-1' })).toThrow('READ_YOUR_WRITES_SECONDS: expected a whole number of seconds from 0 to 3600, received "-1"');
  });

  it('lets live updates take 4 ms of a turn of the event loop unless LIVE_SLICE_MS says otherwise (1 to 100)', () => {
    expect(loadConfig({}).live.sliceMs).toBe(4);
    expect(loadConfig({ LIVE_SLICE_MS: '6' }).live.sliceMs).toBe(6);
    expect(() => loadConfig({ LIVE_SLICE_MS: '0' })).toThrow('LIVE_SLICE_MS: expected a whole number of milliseconds from 1 to 100, received "0"');
  });

  it.each([['70000'], ['-1'], ['4.5']])('refuses PORT=%s', (port) => {
    expect(() => loadConfig({ PORT: port })).toThrow(`PORT: expected an integer from 0 to 65535, received "${port}"`);
  });
});
