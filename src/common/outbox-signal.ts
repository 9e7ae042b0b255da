/**
 * Waking the outbox's consumers of an app instance (the live feed, the webhook worker) when events
 * are committed, instead of at their next poll (issue 15, "Speed"; docs/events.md, "How it is fed").
 *
 * - On this instance: {@link emitEvents} marks its transaction ({@link noteOutboxWrite}); when that
 *   transaction commits (MikroORM's `afterTransactionCommit`, for the outermost transaction only),
 *   the signal fires. A transaction that rolls back fires nothing, and nothing is read before the
 *   commit, so a consumer never reads early and misses what it woke for.
 * - On PostgreSQL, for every instance: a statement-level trigger on `domain_event` notifies the
 *   channel `domain_event` at commit (migration `domain_event_notify`); the signal LISTENs on a
 *   connection of its own and fires on each notification, so events written through another
 *   instance wake this one's consumers too. While that connection is up it also carries this
 *   instance's own commits, and the local path stays quiet (one wake per commit, not two).
 *
 * A wake only asks a consumer to read: each coalesces wakes that come while it reads, and still
 * polls as a safety net (a lost connection, an event held back behind an older transaction).
 */
import type { EntityManager, EventSubscriber, MikroORM, TransactionEventArgs } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { loggableError } from './logging';
import { sqlOf } from './sql';

/** The PostgreSQL channel the trigger notifies. */
export const OUTBOX_CHANNEL = 'domain_event';
/** After a lost LISTEN connection, how long before trying again (consumers poll meanwhile). */
const RELISTEN_MS = 2000;

/** A pg client as knex hands it out raw: the part the signal uses. */
interface ListenConnection {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: () => void): void;
  on(event: 'error' | 'end', listener: (e?: Error) => void): void;
  removeAllListeners(): void;
}

interface RawConnectionClient {
  acquireRawConnection(): Promise<ListenConnection>;
  destroyRawConnection(connection: ListenConnection): Promise<void>;
}

/** A knex transaction as MikroORM hands it out: a nested one (a savepoint) knows its parent. */
interface KnexTransaction {
  parentTransaction?: KnexTransaction;
}

/** The outermost transactions that wrote events and have yet to commit. */
const written = new WeakSet<object>();

/** The signal of each open database, keyed by the ORM's configuration object (shared by every fork). */
const signals = new WeakMap<object, OutboxSignal>();

/**
 * Called by `emitEvents` after it wrote events through `em`: the instance's consumers are woken
 * when the outermost transaction commits, or at once when `em` is not in a transaction (the
 * insert committed by itself).
 */
export function noteOutboxWrite(em: EntityManager): void {
  let trx = em.getTransactionContext<KnexTransaction>();
  if (!trx) {
    signals.get(em.config)?.committed();
    return;
  }
  while (trx.parentTransaction) trx = trx.parentTransaction;
  written.add(trx);
}

/** The wake-up of one app instance's outbox consumers (see the file's comment). */
export class OutboxSignal {
  private readonly listeners = new Set<() => void>();
  private listener: ListenConnection | null = null;
  private relisten: NodeJS.Timeout | null = null;
  private started = false;
  private stopped = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
  ) {
    signals.set(orm.em.config, this);
    const subscriber: EventSubscriber = {
      afterTransactionCommit: (args: TransactionEventArgs) => {
        if (args.transaction && written.delete(args.transaction as object)) this.committed();
      },
    };
    orm.em.getEventManager().registerSubscriber(subscriber);
  }

  /** Calls `wake` on every commit of events (until the returned function is called). */
  onCommit(wake: () => void): () => void {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  }

  /** Starts listening for other instances' commits (PostgreSQL). */
  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    if (sqlOf(this.orm.em).pg) await this.listen();
  }

  /** Stops listening; local commits wake nobody any more. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.listeners.clear();
    if (this.relisten) clearTimeout(this.relisten);
    this.relisten = null;
    const listener = this.listener;
    this.listener = null;
    if (listener)
      await this.rawClient()
        .destroyRawConnection(listener)
        .catch(() => undefined);
  }

  /** A commit of events on this instance: heard through LISTEN when it is up, else told here. */
  committed(): void {
    if (!this.listener) this.fire();
  }

  private fire(): void {
    if (this.stopped) return;
    for (const wake of this.listeners) wake();
  }

  private rawClient(): RawConnectionClient {
    return (sqlOf(this.orm.em).knex as unknown as { client: RawConnectionClient }).client;
  }

  /** LISTENs on a connection of its own (outside the pool); on loss, consumers poll and it tries again. */
  private async listen(): Promise<void> {
    try {
      const connection = await this.rawClient().acquireRawConnection();
      if (this.stopped) {
        await this.rawClient().destroyRawConnection(connection);
        return;
      }
      const lost = (e?: Error) => {
        if (this.listener !== connection) return;
        this.listener = null;
        connection.removeAllListeners();
        void this.rawClient()
          .destroyRawConnection(connection)
          .catch(() => undefined);
        if (this.stopped) return;
        this.logger.warn({ err: e ? loggableError(e) : undefined }, 'outbox signal: LISTEN connection lost; consumers poll until it is back');
        this.scheduleRelisten();
      };
      connection.on('notification', () => this.fire());
      connection.on('error', lost);
      connection.on('end', lost);
      await connection.query(`listen "${OUTBOX_CHANNEL}"`);
      this.listener = connection;
      // Events committed before LISTEN took effect were not notified.
      this.fire();
    } catch (e) {
      this.logger.warn({ err: loggableError(e) }, 'outbox signal: LISTEN failed; consumers poll until it succeeds');
      this.scheduleRelisten();
    }
  }

  private scheduleRelisten(): void {
    if (this.stopped || this.relisten) return;
    this.relisten = setTimeout(() => {
      this.relisten = null;
      void this.listen();
    }, RELISTEN_MS);
    this.relisten.unref();
  }
}
