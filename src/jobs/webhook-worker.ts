/**
 * The webhook worker (docs/webhooks.md): every `WEBHOOK_POLL_MS`, fans the outbox's new events out
 * to delivery rows, then sends the due deliveries. Never in a request's way: one tick at a time,
 * bounded batches, the network awaited outside any transaction, at most {@link CONCURRENCY}
 * requests in flight. Safe with several instances: the fan-out's cursor row and the deliveries'
 * `for update skip locked` claims (with a lease) keep them apart on PostgreSQL.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { setActor } from '../common/actor';
import { loggableError } from '../common/logging';
import { claimDue, type ClaimedDelivery, leaseMs, prepareAttempt, recordOutcome, releaseClaim, sendAttempt } from '../modules/webhooks/webhook.delivery';
import { fanOut } from '../modules/webhooks/webhook.fanout';
import type { WebhookSettings } from '../modules/webhooks/webhook.settings';

/** Events one fan-out transaction reads; a tick runs up to {@link FAN_OUT_ROUNDS} of them. */
const FAN_OUT_BATCH = 500;
const FAN_OUT_ROUNDS = 20;
/** Deliveries one tick claims, and how many of them are in flight at once. */
const CLAIM_BATCH = 50;
const CONCURRENCY = 8;

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
  private running: Promise<WebhookTickResult> | null = null;
  /** Aborts the attempts in flight when the app stops; their claims are given back. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    private readonly settings: WebhookSettings & { pollMs: number },
  ) {}

  /** Ticks every `pollMs` (nothing when it is 0); a slow tick is not doubled. */
  start(): void {
    if (this.settings.pollMs <= 0 || this.timer) return;
    const run = () => {
      if (this.running) return;
      this.tick().catch((e) => this.logger.error({ err: loggableError(e) }, 'webhook tick failed'));
    };
    this.timer = setInterval(run, this.settings.pollMs);
    this.timer.unref();
    run();
  }

  /**
   * Fans out the new events and sends what is due at `now` (the server's clock by default; tests
   * pass theirs). `now` decides what is due, retry times and which secrets sign; the
   * `webhook-timestamp` header is the wall clock of the attempt, for the receiver's replay check.
   */
  tick(now: Date = new Date()): Promise<WebhookTickResult> {
    const next = (this.running ?? Promise.resolve(null)).catch(() => null).then(() => this.runTick(now));
    this.running = next;
    void next
      .finally(() => {
        if (this.running === next) this.running = null;
      })
      .catch(() => undefined);
    return next;
  }

  /** Stops the timer, aborts attempts in flight (giving their claims back) and waits for the tick. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping.abort();
    await this.running?.catch(() => undefined);
  }

  private async runTick(now: Date): Promise<WebhookTickResult> {
    const result: WebhookTickResult = { events: 0, created: 0, attempted: 0, delivered: 0, failed: 0 };
    if (this.stopping.signal.aborted) return result;
    for (let round = 0; round < FAN_OUT_ROUNDS; round++) {
      const r = await this.orm.em.fork().transactional(async (em) => {
        setActor(em, { userId: null, role: 'SYSTEM', requestId: 'webhooks:fan-out' });
        return fanOut(em, now, FAN_OUT_BATCH);
      });
      result.events += r.events;
      result.created += r.deliveries;
      if (r.events < FAN_OUT_BATCH) break;
    }
    const claimed = await this.orm.em.fork().transactional((em) => claimDue(em, now, CLAIM_BATCH, leaseMs(this.settings.timeoutMs)));
    const queue = [...claimed];
    const workers = Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) await this.attempt(c, now, result);
    });
    await Promise.all(workers);
    if (result.created || result.attempted) this.logger.info({ ...result }, 'webhook tick');
    return result;
  }

  private async attempt(claimed: ClaimedDelivery, now: Date, result: WebhookTickResult): Promise<void> {
    try {
      if (this.stopping.signal.aborted) {
        await releaseClaim(this.orm.em.fork(), claimed);
        return;
      }
      const prepared = await prepareAttempt(this.orm.em.fork(), claimed, now, new Date());
      if (!prepared) return;
      let outcome;
      try {
        outcome = await sendAttempt(prepared, { ...this.settings, signal: this.stopping.signal });
      } catch (e) {
        if (!this.stopping.signal.aborted) throw e;
        await releaseClaim(this.orm.em.fork(), claimed);
        return;
      }
      await this.orm.em.fork().transactional((em) => recordOutcome(em, claimed, outcome, now));
      result.attempted++;
      if (outcome.kind === 'delivered') result.delivered++;
      else result.failed++;
    } catch (e) {
      // The claim expires with its lease and the delivery is tried again.
      this.logger.error({ err: loggableError(e), deliveryId: claimed.id }, 'webhook attempt failed to run');
    }
  }
}
