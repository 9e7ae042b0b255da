/**
 * The live feed (issue 15, point 5): one tail of the outbox per app instance, not per subscriber.
 * It reads committed events with `readOutbox` from the outbox's end at start, and hands each to
 * the subscriptions that match it and whose principal may read it (`mayReadEvent`).
 *
 * Waking: the instance's {@link OutboxSignal} wakes it when events are committed (on this instance
 * at its commit; on PostgreSQL through LISTEN for every instance's commits); it also reads every
 * `pollMs` as a safety net (a lost connection, an event held back behind an older running
 * transaction). Every instance tails the shared table, so a subscriber on any instance hears of
 * events committed through any other.
 *
 * A slow subscriber never holds up the others or the tail: each subscription has a bounded queue,
 * and one that overflows is ended and its connection closed (`onOverflow`, 4413 on graphql-ws).
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { loggableError } from '../../common/logging';
import type { OutboxSignal } from '../../common/outbox-signal';
import { type OutboxEvent, type OutboxPosition, outboxEnd, positionOf, readOutbox } from '../../common/outbox';
import { type Actor, mayReadEvent } from '../../common/policy';
import { sqlOf } from '../../common/sql';

/**
 * Events read per statement; the tail yields to I/O between batches. On SQLite a read is
 * synchronous: 500 events (and their payloads parsed) keep requests waiting a few milliseconds.
 */
const BATCH = 500;

/** What a subscription asks for: null means every type / every readable department. */
export interface LiveFilter {
  types: ReadonlySet<string> | null;
  /** An event matches when its provider or its customer is one of these. */
  departments: ReadonlySet<string> | null;
}

export interface LiveFeedOptions {
  pollMs: number;
  queueLimit: number;
  /** Milliseconds of a turn of the event loop that subscription streams may use together before they yield to I/O (`LIVE_SLICE_MS`). */
  sliceMs: number;
}

/**
 * Where a new subscriber begins: the position the tail must read from (at the latest), and which
 * events are new to it. `outboxEnd` alone would not do on PostgreSQL: that position lies before
 * every transaction still running, so events committed by newer transactions before the subscriber
 * arrived lie after it too. The snapshot says exactly which transactions had committed: an event
 * is new iff its transaction was not visible then (at or past the snapshot's xmax, or in its list
 * of running ones).
 */
export interface Since {
  position: OutboxPosition;
  isNew(event: Pick<OutboxEvent, 'tx' | 'seq'>): boolean;
}

/** The {@link Since} of a subscriber arriving now. */
export async function sinceNow(em: EntityManager): Promise<Since> {
  const sql = sqlOf(em);
  const end = await outboxEnd(em);
  if (!sql.pg) return { position: end, isNew: (e) => e.seq > end.seq };
  // Taken after outboxEnd: every transaction its snapshot shows as committed is then also one
  // whose events lie after `end` or were visible to it.
  const [row] = await sql.rows<{ snapshot: string }>('select txid_current_snapshot()::text as "snapshot"');
  const [, xmax, xip] = row.snapshot.split(':');
  const running = new Set(xip ? xip.split(',') : []);
  const horizon = BigInt(xmax);
  return { position: end, isNew: (e) => BigInt(e.tx) >= horizon || running.has(e.tx) };
}

/** Whether position `a` is after `b` in (tx, seq) order. */
function isAfter(a: OutboxPosition, b: OutboxPosition): boolean {
  const ta = BigInt(a.tx);
  const tb = BigInt(b.tx);
  return ta > tb || (ta === tb && a.seq > b.seq);
}

/** One subscriber's stream: a bounded queue drained by the GraphQL layer's `for await`. */
class LiveSubscription implements AsyncIterableIterator<OutboxEvent> {
  /**
   * The events queued: `queue[head]` onwards. Taken by moving `head`, not by `shift()`, which
   * copies the rest of a long array each time (in a burst of 10,000 events, a tenth of the feed's
   * CPU); the array is emptied when drained, and its taken slots dropped now and then.
   */
  private queue: Array<OutboxEvent | undefined> = [];
  private head = 0;
  private waiting: ((r: IteratorResult<OutboxEvent>) => void) | null = null;
  private done = false;

  constructor(
    private readonly feed: LiveFeed,
    readonly actor: Actor,
    readonly filter: LiveFilter,
    /** Which events were committed before the subscription began. */
    readonly since: Since,
    private readonly limit: number,
    private readonly onOverflow: (waiting: number) => void,
  ) {}

  /** Whether this subscription receives `event`: new to it, of its filter, and readable by its principal. */
  accepts(event: OutboxEvent): boolean {
    if (!this.since.isNew(event)) return false;
    if (this.filter.types && !this.filter.types.has(event.type)) return false;
    const parties = { providerId: event.providerDepartmentId, customerId: event.customerDepartmentId };
    if (
      this.filter.departments &&
      !(parties.providerId !== null && this.filter.departments.has(parties.providerId)) &&
      !(parties.customerId !== null && this.filter.departments.has(parties.customerId))
    ) {
      return false;
    }
    return mayReadEvent(this.actor, parties);
  }

  /** Events queued and not yet taken by the GraphQL layer. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Queues an event, or ends the subscription when its queue is full. Never waits. */
  push(event: OutboxEvent): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: event, done: false });
      return;
    }
    if (this.queued >= this.limit) {
      const waiting = this.queued;
      this.end();
      this.onOverflow(waiting);
      return;
    }
    this.queue.push(event);
  }

  /** Ends the stream: what is queued is dropped, a pending `next` resolves done. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.queue = [];
    this.head = 0;
    this.feed.remove(this);
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.({ value: undefined, done: true });
  }

  async next(): Promise<IteratorResult<OutboxEvent>> {
    // Sending an event (executing the selection, serializing, writing) costs tens of microseconds;
    // a burst of thousands to many subscribers would hold the event loop for seconds. Streams share
    // a budget per turn of the loop (see `breathe`), so requests are served between slices.
    await this.feed.breathe();
    const value = this.take();
    if (value) return { value, done: false };
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** The oldest queued event, if any. */
  private take(): OutboxEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const value = this.queue[this.head];
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && 2 * this.head >= this.queue.length) {
      // A subscriber that never quite catches up: drop the taken slots now and then (amortized O(1)).
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return value;
  }

  return(): Promise<IteratorResult<OutboxEvent>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<OutboxEvent> {
    return this;
  }
}

/** The one outbox tail of an app instance and its subscriptions (see the file's comment). */
export class LiveFeed {
  private readonly subscriptions = new Set<LiveSubscription>();
  private position: OutboxPosition | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopWaking: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Events handed to subscriptions so far (for tests and the bench). */
  delivered = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    private readonly options: LiveFeedOptions,
    private readonly signal: OutboxSignal,
  ) {}

  private turnStarted = 0;
  private nextTurn: Promise<void> | null = null;

  /**
   * Resolves at once while the streams' shared budget for this turn of the event loop lasts, else
   * at the next turn (after I/O: requests waiting are served first). One budget for every stream,
   * not one each: ten subscribers get a slice of a turn together, not ten slices.
   */
  breathe(): Promise<void> | void {
    if (this.nextTurn) return this.nextTurn;
    const now = performance.now();
    if (!this.turnStarted) this.turnStarted = now;
    if (now - this.turnStarted < this.options.sliceMs) return;
    this.nextTurn = yieldToIo().then(() => {
      this.nextTurn = null;
      this.turnStarted = performance.now();
    });
    return this.nextTurn;
  }

  /** Events read but not yet sent, over every subscription: while there are, live updates are being sent. */
  get backlog(): number {
    let n = 0;
    for (const s of this.subscriptions) n += s.queued;
    return n;
  }

  /** How many subscriptions are open. */
  get size(): number {
    return this.subscriptions.size;
  }

  /** Starts the tail at the outbox's end: woken by the signal, and the poll. */
  async start(): Promise<void> {
    if (this.position || this.stopped) return;
    this.position = await outboxEnd(this.orm.em.fork());
    this.stopWaking = this.signal.onCommit(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.timer.unref();
  }

  /** Stops the tail and ends every subscription (their sockets are the edge's to close). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopWaking?.();
    await this.running;
    for (const s of [...this.subscriptions]) s.end();
  }

  /**
   * A new subscription for `actor`: it hears of events committed from now on (none before), of
   * `filter`, that `actor` may read. `onOverflow` is called once if it falls `queueLimit` behind.
   */
  async subscribe(actor: Actor, filter: LiveFilter, onOverflow: (waiting: number) => void): Promise<AsyncIterableIterator<OutboxEvent>> {
    const since = await sinceNow(this.orm.em.fork());
    const subscription = new LiveSubscription(this, { role: actor.role, departmentIds: [...actor.departmentIds] }, filter, since, this.options.queueLimit, onOverflow);
    if (this.stopped) {
      subscription.end();
      return subscription;
    }
    // An idle feed reads nothing; its first subscriber moves it to where that subscriber begins.
    if (!this.subscriptions.size) this.advance(since.position);
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** @internal A subscription that ended leaves the fan-out. */
  remove(subscription: LiveSubscription): void {
    this.subscriptions.delete(subscription);
  }

  /** Moves the tail's position forward to `to` (never back: a read that began earlier may end later). */
  private advance(to: OutboxPosition): void {
    if (!this.position || isAfter(to, this.position)) this.position = to;
  }

  /**
   * Reads the outbox now (or again as soon as the running read ends). Without subscribers it reads
   * nothing: an idle instance sends no SQL.
   */
  wake(): void {
    if (this.stopped || !this.position || !this.subscriptions.size) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Reads until the outbox is exhausted, handing each batch out; a failure waits for the next wake. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        const events = await readOutbox(this.orm.em.fork(), this.position as OutboxPosition, BATCH);
        if (!events.length || this.stopped) return;
        this.advance(positionOf(events[events.length - 1]));
        this.fanOut(events);
        if (events.length < BATCH) return;
        // A burst: let requests in between batches.
        await yieldToIo();
      }
    } catch (e) {
      if (!this.stopped) this.logger.error({ err: loggableError(e) }, 'live feed: reading the outbox failed; retrying at the next wake');
    }
  }

  private fanOut(events: OutboxEvent[]): void {
    if (!this.subscriptions.size) return;
    for (const event of events) {
      for (const s of this.subscriptions) {
        if (s.accepts(event)) {
          s.push(event);
          this.delivered++;
        }
      }
    }
  }
}
