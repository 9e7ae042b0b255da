/**
 * The webhook worker (docs/webhooks.md): every `WEBHOOK_POLL_MS`, fans the outbox's new events out
 * to delivery rows, then sends the due deliveries. Never in a request's way: one tick at a time,
 * bounded batches with a turn of the event loop between them, the network awaited outside any
 * transaction, at most {@link CONCURRENCY} requests in flight. Safe with several instances: the fan-out's cursor row and the deliveries'
 * `for update skip locked` claims (with a lease) keep them apart on PostgreSQL.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { setActor } from '../common/actor';
import { loggableError } from '../common/logging';
import { type AttemptOutcome, claimDue, type ClaimedDelivery, leaseMs, prepareAttempts, recordOutcome, releaseClaim, sendAttempt } from '../modules/webhooks/webhook.delivery';
import { fanOut } from '../modules/webhooks/webhook.fanout';
import { TickChain } from './tick-chain';
import type { WebhookSettings } from '../modules/webhooks/webhook.settings';

/** Events one fan-out transaction reads; a tick runs up to {@link FAN_OUT_ROUNDS} of them. */
const FAN_OUT_BATCH = 500;
const FAN_OUT_ROUNDS = 20;
/** Deliveries one claim takes, how many claims a tick makes at most, and how many attempts are in flight at once. */
const CLAIM_BATCH = 50;
const CLAIM_ROUNDS = 200;
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
  private readonly ticks = new TickChain<WebhookTickResult>();
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
      if (this.ticks.busy) return;
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
    return this.ticks.next(() => this.runTick(now));
  }

  /** Stops the timer, aborts attempts in flight (giving their claims back) and waits for the tick. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping.abort();
    await this.ticks.settled();
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
      await breathe();
    }
    // Batch after batch while full ones come (a burst), up to a bound; the next tick goes on.
    for (let round = 0; round < CLAIM_ROUNDS && !this.stopping.signal.aborted; round++) {
      const claimed = await this.orm.em.fork().transactional((em) => claimDue(em, now, CLAIM_BATCH, leaseMs(this.settings.timeoutMs, Math.ceil(CLAIM_BATCH / CONCURRENCY))));
      if (claimed.length) await this.attemptBatch(claimed, now, result);
      if (claimed.length < CLAIM_BATCH) break;
      await breathe();
    }
    if (result.created || result.attempted) this.logger.info({ ...result }, 'webhook tick');
    return result;
  }

  /**
   * Sends a claimed batch, at most {@link CONCURRENCY} at once, then records the outcomes in one
   * transaction (410s last, so the deliveries they cancel do not include ones just delivered). If
   * the process dies before that, the claims expire and the batch is sent again: at least once,
   * with the same `webhook-id`, as the spec expects receivers to handle.
   */
  private async attemptBatch(claimed: ClaimedDelivery[], now: Date, result: WebhookTickResult): Promise<void> {
    const outcomes: Array<{ claimed: ClaimedDelivery; outcome: AttemptOutcome }> = [];
    const released: ClaimedDelivery[] = [];
    try {
      const prepared = await prepareAttempts(this.orm.em.fork(), claimed, now);
      const queue = claimed.filter((c) => prepared.has(c.id));
      const send = async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          if (this.stopping.signal.aborted) {
            released.push(c);
            continue;
          }
          try {
            outcomes.push({ claimed: c, outcome: await sendAttempt(prepared.get(c.id)!, { ...this.settings, signal: this.stopping.signal }) });
          } catch (e) {
            if (!this.stopping.signal.aborted) throw e;
            released.push(c);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, send));
      outcomes.sort((a, b) => Number(a.outcome.kind === 'gone') - Number(b.outcome.kind === 'gone'));
      await this.orm.em.fork().transactional(async (em) => {
        for (const o of outcomes) await recordOutcome(em, o.claimed, o.outcome, now);
        for (const c of released) await releaseClaim(em, c);
      });
      for (const { outcome } of outcomes) {
        result.attempted++;
        if (outcome.kind === 'delivered') result.delivered++;
        else result.failed++;
      }
    } catch (e) {
      // The claims expire with their lease and the deliveries are tried again.
      this.logger.error({ err: loggableError(e), deliveries: claimed.length }, 'webhook batch failed to run');
    }
  }
}

/** Lets requests waiting on the event loop run between two batches. */
function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
