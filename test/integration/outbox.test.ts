/**
 * Reading the outbox in commit order (src/common/outbox.ts, issue 15): a consumer never passes an
 * event whose transaction commits after a later one's, and a durable consumer handles each event
 * once, its position committed with what it wrote.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '@mikro-orm/core';
import { emitEvent } from '../../src/common/events';
import { consumeOutbox, OUTBOX_START, outboxEnd, readOutbox } from '../../src/common/outbox';
import { engines, startServer, type TestServer } from '../support/server';

describe.each(engines())('the outbox in commit order (%s)', (engine) => {
  let s: TestServer;
  const at = new Date('2026-11-20T10:00:00Z');

  const emit = (em: EntityManager, title: string) =>
    emitEvent(em, {
      type: 'escalation.opened',
      occurredAt: at,
      agreement: null,
      payload: { escalationId: '00000000-0000-4000-8000-000000000000', month: '2026-11', severity: 'HIGH', title, status: 'OPEN' },
    });
  const titles = (events: Array<{ payload: Record<string, unknown> }>) => events.map((e) => e.payload.title);
  /** A transaction that emits `title` and stays open until `release`; `emitted` once its event is written. */
  const holdOpen = (title: string) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const emitted = new Promise<void>((resolve) => (written = resolve));
    const done = s.app.orm.em.fork().transactional(async (em) => {
      await emit(em, title);
      written();
      await held;
    });
    return { emitted, release, done };
  };

  beforeAll(async () => {
    s = await startServer(engine, { seed: false });
  });
  afterAll(() => s?.close());

  it('starts a new consumer at the end and gives it what commits later, once', async () => {
    await s.app.orm.em.fork().transactional((em) => emit(em, 'before'));
    const handled: unknown[] = [];
    const consume = () => s.app.orm.em.fork().transactional((em) => consumeOutbox(em, 'test-consumer', 100, at, async (events) => void handled.push(...titles(events))));
    expect(await consume()).toBe(0);
    await s.app.orm.em.fork().transactional((em) => emit(em, 'after-1'));
    await s.app.orm.em.fork().transactional((em) => emit(em, 'after-2'));
    expect(await consume()).toBe(2);
    expect(await consume()).toBe(0);
    expect(handled).toEqual(['after-1', 'after-2']);
  });

  it('does not advance a consumer whose handler failed', async () => {
    await s.app.orm.em.fork().transactional((em) => emit(em, 'fails-once'));
    const failing = s.app.orm.em.fork().transactional((em) =>
      consumeOutbox(em, 'test-consumer', 100, at, async () => {
        throw new Error('receiver down');
      }),
    );
    await expect(failing).rejects.toThrow('receiver down');
    const handled: unknown[] = [];
    await s.app.orm.em.fork().transactional((em) => consumeOutbox(em, 'test-consumer', 100, at, async (events) => void handled.push(...titles(events))));
    expect(handled).toEqual(['fails-once']);
  });

  it('never passes an event whose transaction commits after a later one', async () => {
    const start = await outboxEnd(s.app.orm.em.fork());
    // The slow transaction takes the earlier seq and commits last. SQLite has one writer, so there
    // the second transaction waits for the first and the order is the commit order by construction.
    const slow = holdOpen('slow');
    await slow.emitted;
    if (engine === 'postgresql') {
      await s.app.orm.em.fork().transactional((em) => emit(em, 'fast'));
      // The fast one has committed, but the slow one is still running: nothing may be read yet.
      expect(titles(await readOutbox(s.app.orm.em.fork(), start, 100))).toEqual([]);
      slow.release();
      await slow.done;
      expect(titles(await readOutbox(s.app.orm.em.fork(), start, 100))).toEqual(['slow', 'fast']);
    } else {
      slow.release();
      await slow.done;
      await s.app.orm.em.fork().transactional((em) => emit(em, 'fast'));
      expect(titles(await readOutbox(s.app.orm.em.fork(), start, 100))).toEqual(['slow', 'fast']);
    }
    expect((await readOutbox(s.app.orm.em.fork(), OUTBOX_START, 100, ['escalation.opened'])).length).toBeGreaterThanOrEqual(6);
  });

  // PostgreSQL keeps what pg_stat_activity showed for the rest of the transaction: a second read in
  // the same transaction (a new consumer's first round, a subscription's creation) must not miss a
  // transaction that began after the first.
  it.skipIf(engine === 'sqlite')('sees the transactions begun since an earlier read of the same transaction', async () => {
    await s.app.orm.em.fork().transactional(async (reader) => {
      const start = await outboxEnd(reader);
      const slow = holdOpen('slow-begun-later');
      try {
        await slow.emitted;
        await s.app.orm.em.fork().transactional((em) => emit(em, 'fast-committed-first'));
        expect(titles(await readOutbox(reader, start, 100))).toEqual([]);
      } finally {
        slow.release();
        await slow.done;
      }
      expect(titles(await readOutbox(reader, start, 100))).toEqual(['slow-begun-later', 'fast-committed-first']);
    });
  });

  // The snapshot's xmax is the latest completed id + 1: a transaction still running can hold a
  // larger id (two writers, the later one's id above the earlier one's). Its id must not be taken
  // for one 2^32 older, which put the "end" before the whole outbox.
  it.skipIf(engine === 'sqlite')('puts the end after the committed events while two writers run', async () => {
    await s.app.orm.em.fork().transactional((em) => emit(em, 'committed-before'));
    const writers = [holdOpen('writer-1'), holdOpen('writer-2')];
    let end;
    try {
      await Promise.all(writers.map((w) => w.emitted));
      end = await outboxEnd(s.app.orm.em.fork());
    } finally {
      for (const w of writers) w.release();
      await Promise.all(writers.map((w) => w.done));
    }
    expect(titles(await readOutbox(s.app.orm.em.fork(), end, 100)).sort()).toEqual(['writer-1', 'writer-2']);
  });

  // Another database on the same server (another app, another test) holds a transaction open:
  // only this database's transactions may hold its consumers back.
  it.skipIf(engine === 'sqlite')('is not held back by a transaction in another database of the server', async () => {
    const other = new pg.Client({ connectionString: process.env.TEST_POSTGRES_URL });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select txid_current()');
      const start = await outboxEnd(s.app.orm.em.fork());
      await s.app.orm.em.fork().transactional((em) => emit(em, 'while-another-database-waits'));
      expect(titles(await readOutbox(s.app.orm.em.fork(), start, 100))).toEqual(['while-another-database-waits']);
    } finally {
      await other.query('rollback').catch(() => undefined);
      await other.end();
    }
  });
});
