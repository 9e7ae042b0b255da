import { setTimeout as sleep } from 'node:timers/promises';
import { TransientConflictError } from './errors';

/**
 * SQLSTATEs of a transaction that lost to concurrent ones and may simply run again (PostgreSQL):
 * 40001 serialization_failure, 40P01 deadlock_detected. MikroORM wraps both as a
 * DeadlockException whose `code` is still the SQLSTATE.
 */
export const TRANSIENT_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);

/**
 * Thrown by a write that found out, part-way, that a concurrent transaction changed what it had
 * read (a check-then-write it cannot complete correctly): the transaction is rolled back and run
 * again, like a serialization failure.
 */
export class RetryableConflict extends Error {
  readonly code = '40001';
  constructor(message: string) {
    super(message);
    this.name = 'RetryableConflict';
  }
}

/** Whether `e` (or an error it wraps) is a deadlock or serialization failure. */
export function isTransientFailure(e: unknown): boolean {
  for (let x = e, depth = 0; x && typeof x === 'object' && depth < 5; depth++) {
    const { code, sqlState } = x as { code?: unknown; sqlState?: unknown };
    if ((typeof code === 'string' && TRANSIENT_SQLSTATES.has(code)) || (typeof sqlState === 'string' && TRANSIENT_SQLSTATES.has(sqlState))) return true;
    x = (x as { cause?: unknown; previous?: unknown }).cause ?? (x as { previous?: unknown }).previous;
  }
  return false;
}

export interface RetryOptions {
  /** Runs in all, the first included (default 5). */
  attempts?: number;
  /** Backoff before retry n is a random delay in [0, min(maxDelayMs, baseDelayMs × 2ⁿ⁻¹)] (full jitter; default 20 ms). */
  baseDelayMs?: number;
  /** Longest backoff (default 400 ms). */
  maxDelayMs?: number;
  /** Told of each failure that will be retried (attempt number from 1). */
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Runs `attempt` (a whole transaction: it must roll back entirely when it throws) and runs it
 * again, after a short jittered backoff, when it fails with a deadlock or serialization failure.
 * After `attempts` such failures it gives up with {@link TransientConflictError}, a public
 * TRANSIENT_CONFLICT (HTTP 503, Retry-After) telling the client to send the request again.
 * Any other error propagates at once.
 */
export async function retryTransient<T>(attempt: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const base = options.baseDelayMs ?? 20;
  const max = options.maxDelayMs ?? 400;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isTransientFailure(e)) throw e;
      if (n >= attempts) throw Object.assign(new TransientConflictError(1), { cause: e });
      options.onRetry?.(e, n);
      await sleep(Math.random() * Math.min(max, base * 2 ** (n - 1)));
    }
  }
}
