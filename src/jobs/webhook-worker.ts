/**
 * The webhook worker (docs/webhooks.md): when events commit (the instance's {@link OutboxSignal})
 * and every `WEBHOOK_POLL_MS`, fans the outbox's new events out to delivery rows, then sends the
 * due deliveries. Never in a request's way: one tick at a time, bounded batches, every step (a
 * fan-out or claim transaction, the start of each send, a recording) a unit of the main thread's
 * {@link BackgroundBudget}, which lets the worker take at most `WEBHOOK_CPU_PERCENT` of the time
 * while requests are being served, in slices of about a millisecond; the network awaited outside
 * any transaction, at most {@link CONCURRENCY} requests in flight. Safe with several instances: the fan-out's cursor row and the deliveries'
 * `for update skip locked` claims (with a lease) keep them apart on PostgreSQL.
 */
import type { MikroORM } from '@mikro-orm/core';
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { setActor } from '../common/actor';
import { BackgroundBudget } from '../common/background-budget';
import { loggableError } from '../common/logging';
import type { OutboxSignal } from '../common/outbox-signal';
import { type AttemptOutcome, claimDue, type ClaimedDelivery, leaseMs, prepareAttempts, recordOutcomes, releaseClaim, sendAttempt } from '../modules/webhooks/webhook.delivery';
import { fanOut, type FannedOutDelivery } from '../modules/webhooks/webhook.fanout';
import { TickChain } from './tick-chain';
import type { WebhookSettings } from '../modules/webhooks/webhook.settings';

/**
 * Events one fan-out transaction reads; a tick runs up to {@link FAN_OUT_ROUNDS} of them (counted
 * in events of full batches, so smaller batches make more rounds). Small enough that a
 * transaction's statements (on SQLite, synchronous, holding the one connection) keep requests
 * waiting a few milliseconds, not a hundred; smaller still while requests are being served (see
 * {@link BackgroundBudget}): each transaction is one unit of the budget, run whole.
 */
const FAN_OUT_BATCH = 200;
const FAN_OUT_BATCH_CONTENDED = 10;
const FAN_OUT_ROUNDS = 50;
/**
 * Deliveries one claim takes, how many claims a tick makes at most, and how many attempts are in
 * flight at once. Each claim, like each recording of outcomes, is a statement or two whatever its
 * size (a claim on SQLite reads the due deliveries in order), so claims are large when the server
 * is otherwise idle, and smaller while requests are being served (each claim, preparation and
 * recording is one unit of the budget); the lease of a claim covers its whole batch at this
 * concurrency.
 */
const CLAIM_BATCH = 200;
const CLAIM_BATCH_CONTENDED = 16;
const CLAIM_ROUNDS = 100;
const CONCURRENCY = 16;
/**
 * Live updates go first: while `busy` says they are being sent, a fan-out or claim batch waits, in steps of
 * {@link DEFER_STEP_MS}, at most this long (never for ever: a subscriber that reads slowly keeps a
 * backlog, and webhooks must not stop for it).
 */
const MAX_DEFER_MS = 250;
const DEFER_STEP_MS = 10;
/**
 * The fan-out claims the deliveries it writes and hands them to the senders at once (no claim and
 * preparation of their own), then goes on with the next events while they are sent; it waits
 * while this many deliveries are queued or in flight, so that it stays about a batch ahead.
 */
const SEND_AHEAD = 2 * CLAIM_BATCH;

/** What a tick did. */
export interface WebhookTickResult {
  events: number;
  created: number;
  attempted: number;
  delivered: number;
  failed: number;
}

export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  private stopWaking: (() => void) | null = null;
  /** Events committed while a tick ran: the tick ends after its current batch and another starts at once. */
  private woken = false;
  private readonly ticks = new TickChain<WebhookTickResult>();
  /** Aborts the attempts in flight when the app stops; their claims are given back. */
  private readonly stopping = new AbortController();
  /** The main thread's share for this worker's work (see {@link BackgroundBudget}). */
  readonly budget: BackgroundBudget;
  /** Attempts in flight, at most {@link CONCURRENCY}, the others waiting in line (first come, first sent). */
  private readonly senders = pLimit(CONCURRENCY);

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    private readonly settings: WebhookSettings & { pollMs: number },
    private readonly wiring: {
      /** Wakes the worker when events commit. */
      signal?: OutboxSignal;
      /** Whether more urgent work (live updates) is under way: batches wait a little for it. */
      busy?: () => boolean;
      /** The share of the main thread this worker may take while requests are served; without one, no limit (a turn of the event loop between slices). */
      budget?: BackgroundBudget;
    } = {},
  ) {
    // Each attempt in flight listens for the stop.
    setMaxListeners(2 * CONCURRENCY, this.stopping.signal);
    this.budget = wiring.budget ?? new BackgroundBudget(1);
  }

  /**
   * Ticks every `pollMs` and whenever events commit (nothing when `pollMs` is 0: tests tick
   * themselves); a slow tick is not doubled.
   */
  start(): void {
    if (this.settings.pollMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.run(), this.settings.pollMs);
    this.timer.unref();
    this.stopWaking = this.wiring.signal?.onCommit(() => this.wake()) ?? null;
    this.run();
  }

  /** A tick now, unless one runs; after a wake meanwhile, another as soon as it ends. */
  private run(): void {
    if (this.ticks.busy || !this.timer) return;
    this.woken = false;
    this.tick()
      .catch((e) => this.logger.error({ err: loggableError(e) }, 'webhook tick failed'))
      .finally(() => {
        if (this.woken) this.run();
      });
  }

  /** Events were committed: fan them out now (or right after the running tick). */
  private wake(): void {
    if (this.ticks.busy) this.woken = true;
    else this.run();
  }

  /**
   * Fans out the new events and sends what is due at `now` (the server's clock by default; tests
   * pass theirs). `now` decides what is due, retry times and which secrets sign; the
   * `webhook-timestamp` header is the wall clock of the attempt, for the receiver's replay check.
   */
  tick(now: Date = new Date()): Promise<WebhookTickResult> {
    return this.ticks.next(() => this.runTick(now));
  }

  /** Stops the timer, aborts attempts in flight (giving their claims back) and waits for the tick. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopWaking?.();
    this.stopping.abort();
    await this.ticks.settled();
  }

  private async runTick(now: Date): Promise<WebhookTickResult> {
    const result: WebhookTickResult = { events: 0, created: 0, attempted: 0, delivered: 0, failed: 0 };
    if (this.stopping.signal.aborted) return result;
    const budget = this.budget;
    // Batches being sent (each recorded when its attempts end), and how many deliveries they hold.
    const sending = new Set<Promise<void>>();
    let queued = 0;
    // Leases run from `now`, the tick's start; the tick's later rounds are written after waiting
    // for sends, so each lease also covers the time the tick has taken so far.
    const started = performance.now();
    const elapsed = () => Math.ceil(performance.now() - started);
    try {
      for (let events = 0; events < FAN_OUT_ROUNDS * FAN_OUT_BATCH && !this.stopping.signal.aborted;) {
        await this.deferToBusy();
        while (queued >= SEND_AHEAD) await Promise.race(sending);
        const size = budget.contended ? FAN_OUT_BATCH_CONTENDED : FAN_OUT_BATCH;
        // A delivery waits behind those queued before it, each attempt at most the timeout.
        const lease = (deliveries: number) => elapsed() + leaseMs(this.settings.timeoutMs, Math.ceil((queued + deliveries) / CONCURRENCY));
        const r = await budget.run(() =>
          this.orm.em.fork().transactional(async (em) => {
            setActor(em, { userId: null, role: 'SYSTEM', requestId: 'webhooks:fan-out' });
            return fanOut(em, now, size, { lease });
          }),
        );
        result.events += r.events;
        result.created += r.deliveries;
        events += r.events;
        if (r.claimed.length) {
          const count = r.claimed.length;
          queued += count;
          const batch = this.sendBatch(r.claimed, now, result).finally(() => {
            queued -= count;
            sending.delete(batch);
          });
          sending.add(batch);
        }
        if (r.events < size) break;
      }
    } finally {
      // Also when a fan-out round fails: the batches already handed over are sent and recorded
      // before the tick ends (stop() waits for the tick, and the next tick's leases count on it).
      await Promise.allSettled(sending);
    }
    // Batch after batch while full ones come (a burst), up to a bound; the next tick goes on.
    for (let claims = 0; claims < CLAIM_ROUNDS * CLAIM_BATCH && !this.stopping.signal.aborted;) {
      await this.deferToBusy();
      const size = budget.contended ? CLAIM_BATCH_CONTENDED : CLAIM_BATCH;
      const claimed = await budget.run(() => this.orm.em.fork().transactional((em) => claimDue(em, now, size, elapsed() + leaseMs(this.settings.timeoutMs, Math.ceil(size / CONCURRENCY)))));
      if (claimed.length) await this.attemptBatch(claimed, now, result);
      claims += claimed.length;
      // Newly committed events wait for no more than this batch: the next tick fans them out first.
      if (claimed.length < size || this.woken) break;
    }
    if (result.created || result.attempted) this.logger.info({ ...result }, 'webhook tick');
    return result;
  }

  /** Waits while more urgent work is under way (see {@link MAX_DEFER_MS}), or the worker stops. */
  private async deferToBusy(): Promise<void> {
    const busy = this.wiring.busy;
    if (!busy) return;
    for (let waited = 0; waited < MAX_DEFER_MS && busy() && !this.stopping.signal.aborted; waited += DEFER_STEP_MS) {
      await new Promise((resolve) => setTimeout(resolve, DEFER_STEP_MS));
    }
  }

  /**
   * Sends a claimed batch: prepares its messages (two statements), then as {@link sendBatch}.
   */
  private async attemptBatch(claimed: ClaimedDelivery[], now: Date, result: WebhookTickResult): Promise<void> {
    let prepared;
    try {
      prepared = await this.budget.run(() => prepareAttempts(this.orm.em.fork(), claimed, now));
    } catch (e) {
      // The claims expire with their lease and the deliveries are tried again.
      this.logger.error({ err: loggableError(e), deliveries: claimed.length }, 'webhook batch failed to run');
      return;
    }
    await this.sendBatch(
      claimed.flatMap((c) => (prepared.has(c.id) ? [{ claimed: c, attempt: prepared.get(c.id)! }] : [])),
      now,
      result,
    );
  }

  /**
   * Sends a batch, its attempts in line behind those of earlier batches (at most
   * {@link CONCURRENCY} in flight for the whole worker), then records the outcomes in one
   * transaction (410s last, so the deliveries they cancel do not include ones just delivered). If
   * the process dies before that, the claims expire and the batch is sent again: at least once,
   * with the same `webhook-id`, as the spec expects receivers to handle.
   */
  private async sendBatch(batch: readonly FannedOutDelivery[], now: Date, result: WebhookTickResult): Promise<void> {
    const outcomes: Array<{ claimed: ClaimedDelivery; outcome: AttemptOutcome }> = [];
    const released: ClaimedDelivery[] = [];
    try {
      const budget = this.budget;
      const gate = <T>(unit: () => T) => budget.start(unit);
      // Every attempt ends before the outcomes are recorded, even when one of them throws: the
      // ones that did go out are recorded, the others' claims expire and they are tried again.
      const settled = await Promise.allSettled(
        batch.map(({ claimed, attempt }) =>
          this.senders(async () => {
            if (this.stopping.signal.aborted) return void released.push(claimed);
            try {
              outcomes.push({ claimed, outcome: await sendAttempt(attempt, { ...this.settings, signal: this.stopping.signal, gate }) });
            } catch (e) {
              if (!this.stopping.signal.aborted) throw e;
              released.push(claimed);
            }
          }),
        ),
      );
      await budget.run(() =>
        this.orm.em.fork().transactional(async (em) => {
          await recordOutcomes(em, outcomes, now);
          for (const c of released) await releaseClaim(em, c);
        }),
      );
      for (const { outcome } of outcomes) {
        result.attempted++;
        if (outcome.kind === 'delivered') result.delivered++;
        else result.failed++;
      }
      const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
    } catch (e) {
      // The claims expire with their lease and the deliveries are tried again.
      this.logger.error({ err: loggableError(e), deliveries: batch.length }, 'webhook batch failed to run');
    }
  }
}
