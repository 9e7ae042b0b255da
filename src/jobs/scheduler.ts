/**
 * The scheduler (DESIGN §8, `src/jobs/`): records time-driven transitions, such as a revision
 * deemed acknowledged when its acceptance window ends, on start and then every
 * `SCHEDULER_INTERVAL_MS`. Reads never wait for it: every rule that depends on time is applied at
 * the request's instant, so a late scheduler changes what is stored, never what is shown.
 *
 * Safe with several instances: each job runs in a transaction that first takes a
 * transaction-scoped advisory lock on PostgreSQL with `pg_try_advisory_xact_lock`; an instance that
 * does not get it skips that job this time, since another instance is running it. SQLite has one
 * process and one writer.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { PostgreSqlPlatform } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { loggableError } from '../common/logging';
import { setActor } from '../common/actor';
import { deemAcknowledgements } from './deem-acknowledgements';
import { fireNotices } from './notices';
import { TickChain } from './tick-chain';
import { advanceLedger } from '../modules/ledger/ledger.service';
import { endDueTerminations } from '../modules/agreements/lifecycle.service';
import { queueActionEmails, queueDigests, sendQueuedEmails } from '../modules/notifications/email.service';

/** One time-driven job: changes what `now` has made due, returns how many rows it changed. */
export interface Job {
  name: string;
  /** Advisory lock id: one instance at a time runs the job. */
  lockId: number;
  run(em: EntityManager, now: Date): Promise<number>;
}

/** The jobs, in the order a tick runs them. */
export const JOBS: readonly Job[] = [
  // Decided terminations whose first month out of scope has come are stored TERMINATED (issue 16).
  { name: 'end-terminations', lockId: 7_404, run: endDueTerminations },
  { name: 'deem-acknowledgements', lockId: 7_401, run: deemAcknowledgements },
  // Months that end, fall due or pass their acceptance window: their ledger rows (and closes).
  { name: 'advance-ledger', lockId: 7_402, run: (em, now) => advanceLedger(em, now) },
  // Reports due soon or overdue, reviews due, escalation deadlines near or missed: each once.
  { name: 'notices', lockId: 7_403, run: fireNotices },
  // E-mail (docs/notifications.md), only when SMTP_URL is set: actions from the outbox, the 08:00
  // digests, then sending what is queued (after the others, so a tick sends what it queued).
  { name: 'email-actions', lockId: 7_501, run: queueActionEmails },
  { name: 'email-digests', lockId: 7_502, run: queueDigests },
  { name: 'email-send', lockId: 7_503, run: sendQueuedEmails },
];

/** What one tick did: rows changed per job, or `skipped` when another instance held the job. */
export type TickResult = Record<string, number | 'skipped'>;

export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private readonly ticks = new TickChain<TickResult>();

  constructor(
    private readonly orm: MikroORM,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly jobs: readonly Job[] = JOBS,
    /** The instant the timer's ticks run at (`SCHEDULER_CLOCK`, tests only); null: the server's clock. */
    private readonly clock: Date | null = null,
  ) {}

  /** Runs a tick now and then every interval (nothing when the interval is 0). */
  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    const run = () => {
      if (this.ticks.busy) return; // a slow tick is not doubled by the timer
      this.tick(this.clock ?? new Date()).catch((e) => this.logger.error({ err: loggableError(e) }, 'scheduler tick failed'));
    };
    this.timer = setInterval(run, this.intervalMs);
    this.timer.unref();
    run();
  }

  /**
   * Runs every job once at `now` (the server's clock by default; tests pass theirs), one
   * transaction per job; a tick asked for while one runs starts when it ends.
   */
  tick(now: Date = new Date()): Promise<TickResult> {
    // One tick at a time, each with its own instant: a second one waits for the first.
    return this.ticks.next(() => this.runJobs(now));
  }

  /** Stops the timer and waits for a running tick. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticks.settled();
  }

  private async runJobs(now: Date): Promise<TickResult> {
    const result: TickResult = {};
    for (const job of this.jobs) {
      result[job.name] = await this.orm.em.fork().transactional(async (em) => {
        if (em.getPlatform() instanceof PostgreSqlPlatform) {
          const [row] = await em.getConnection().execute<Array<{ got: boolean }>>('select pg_try_advisory_xact_lock(?) as got', [job.lockId], 'all', em.getTransactionContext());
          if (!row?.got) return 'skipped' as const;
        }
        setActor(em, { userId: null, role: 'SYSTEM', requestId: `scheduler:${job.name}` });
        return job.run(em, now);
      });
      if (result[job.name] !== 0) this.logger.info({ job: job.name, changed: result[job.name] }, 'scheduled job ran');
    }
    this.logger.debug({ at: now.toISOString(), result }, 'scheduler tick');
    return result;
  }
}
