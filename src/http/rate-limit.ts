import type http from 'node:http';
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { type IRateLimiterOptions, RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateBudget } from '../common/context';
import { sqlOf } from '../common/sql';
import { hashToken } from '../modules/auth/tokens';
import { sendError } from './respond';

/** The table of the shared buckets on PostgreSQL (migration `rate_limit`; the schema diff skips it). */
export const RATE_LIMIT_TABLE = 'rate_limit';

/** The window of every bucket, in seconds. */
const WINDOW_S = 60;

/** The key of a client address in both buckets. */
function addressKey(req: http.IncomingMessage): string {
  return `addr:${req.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * The in-process stand-in for the shared store while the store fails (rate-limiter-flexible's
 * "insurance limiter"): each instance then limits on its own, at the same number per minute, and
 * says so in the log at most once a minute.
 */
class InsuranceLimiter extends RateLimiterMemory {
  private lastWarned = 0;

  constructor(
    options: IRateLimiterOptions,
    private readonly logger: Logger,
    private readonly bucket: string,
  ) {
    super(options);
  }

  private warn(): void {
    const now = Date.now();
    if (now - this.lastWarned < WINDOW_S * 1000) return;
    this.lastWarned = now;
    this.logger.warn({ bucket: this.bucket }, 'rate limit: the shared store in PostgreSQL failed; limiting in this process until it answers again');
  }

  override consume(key: string | number, points?: number, options?: { [key: string]: unknown }): Promise<RateLimiterRes> {
    this.warn();
    return super.consume(key, points, options);
  }

  override get(key: string | number, options?: { [key: string]: unknown }): Promise<RateLimiterRes | null> {
    this.warn();
    return super.get(key, options);
  }
}

type Limiter = RateLimiterMemory | RateLimiterPostgres;

/** What {@link RateLimits.charge} made of a request. */
export type Charge =
  /** Over a limit: answered 429 with Retry-After and the RateLimit fields. */
  | { refused: true }
  /** Charged: the budget left, also sent as the RateLimit fields; null while limits are off. */
  | { refused: false; budget: RateBudget | null };

/**
 * The request budget: `perMinute` requests per token (per client address without one), and as many
 * failed authentications per client address. Without the second bucket a fresh random token per
 * request would get a fresh budget each time (and a token lookup each time). `perMinute` 0 turns
 * both off.
 *
 * Where the buckets live: in this process (`memory`, the only store on SQLite), or in PostgreSQL's
 * `rate_limit` table (`database`, the default there), shared by every instance on the database: a
 * read of the address's failures and one `INSERT … ON CONFLICT … RETURNING` per charge, over the
 * ORM's connection pool. When that store
 * fails, each instance limits in memory meanwhile (the insurance limiter), and a bucket found
 * exhausted is refused from memory until its window ends, without asking the store again.
 * docs/decisions.md, "Issue 18: shared rate limits".
 */
export class RateLimits {
  private readonly requests: Limiter | null;
  private readonly failures: Limiter | null;
  /** Addresses whose failed-authentication bucket was found exhausted, until when (epoch ms). */
  private readonly blockedAddresses = new Map<string, number>();

  constructor(
    private readonly perMinute: number,
    store: { kind: 'memory' } | { kind: 'database'; orm: MikroORM; logger: Logger } = { kind: 'memory' },
  ) {
    const make = (bucket: string): Limiter => {
      const options = { points: perMinute, duration: WINDOW_S };
      if (store.kind === 'memory') return new RateLimiterMemory(options);
      return new RateLimiterPostgres({
        ...options,
        keyPrefix: bucket,
        storeClient: sqlOf(store.orm.em).knex,
        storeType: 'knex',
        tableName: RATE_LIMIT_TABLE,
        // Created by our migration, not by the library at start.
        tableCreated: true,
        // A bucket seen exhausted is refused from memory until its window ends (no round trip).
        inMemoryBlockOnConsumed: perMinute,
        insuranceLimiter: new InsuranceLimiter(options, store.logger, bucket),
      });
    };
    this.requests = perMinute > 0 ? make('req') : null;
    this.failures = perMinute > 0 ? make('fail') : null;
  }

  /** Stops the store's clean-up timer (every 5 minutes, rows an hour past their window); the rows stay the database's. */
  close(): void {
    for (const limiter of [this.requests, this.failures]) {
      const timer = (limiter as unknown as { _clearExpiredTimeoutId?: NodeJS.Timeout } | null)?._clearExpiredTimeoutId;
      if (timer) clearTimeout(timer);
    }
  }

  /**
   * Charges the request to its bucket and sets the RateLimit fields (`RateLimit-Limit`,
   * `RateLimit-Remaining`, `RateLimit-Reset` in seconds), or, over a limit, answers 429 with those
   * and `Retry-After`. Called before the body is read or the token looked up, so a flood costs
   * neither parsing nor a token lookup. `bearerHash`: the token's hash when the caller has it already.
   */
  async charge(req: http.IncomingMessage, res: http.ServerResponse, bearer: string | null | undefined, bearerHash?: string): Promise<Charge> {
    if (!this.requests || !this.failures) return { refused: false, budget: null };
    const address = addressKey(req);
    const refuse = (msBeforeNext: number, why: string): Charge => {
      const retry = Math.max(1, Math.ceil(msBeforeNext / 1000));
      this.setFields(res, 0, retry);
      res.setHeader('retry-after', String(retry));
      sendError(res, 429, 'RATE_LIMITED', `${why}; retry in ${retry} s`);
      return { refused: true };
    };
    const failuresRefusal = `Too many failed authentications from this address (${this.perMinute} a minute)`;
    const blockedUntil = this.blockedAddresses.get(address);
    if (blockedUntil !== undefined) {
      if (blockedUntil > Date.now()) return refuse(blockedUntil - Date.now(), failuresRefusal);
      this.blockedAddresses.delete(address);
    }
    const failed = await this.failures.get(address);
    if (failed && failed.consumedPoints >= this.perMinute) {
      // Kept small: past ends go whenever the list grows long (an address that never came back).
      if (this.blockedAddresses.size >= 1000) for (const [a, until] of this.blockedAddresses) if (until <= Date.now()) this.blockedAddresses.delete(a);
      this.blockedAddresses.set(address, Date.now() + failed.msBeforeNext);
      return refuse(failed.msBeforeNext, failuresRefusal);
    }
    let charged: RateLimiterRes;
    try {
      charged = await this.requests.consume(bearer ? `token:${bearerHash ?? hashToken(bearer)}` : address);
    } catch (rejection) {
      // Only a refusal is expected here: a failing store is answered by its insurance limiter.
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return refuse(rejection.msBeforeNext, `Rate limit of ${this.perMinute} requests a minute exceeded`);
    }
    const resetS = Math.max(1, Math.ceil(charged.msBeforeNext / 1000));
    this.setFields(res, charged.remainingPoints, resetS);
    return { refused: false, budget: { limit: this.perMinute, remaining: charged.remainingPoints, resetAt: new Date(Date.now() + charged.msBeforeNext) } };
  }

  /** {@link charge} for routes that need only to know whether it answered 429 (CSV exports, /metrics). */
  async refuse(req: http.IncomingMessage, res: http.ServerResponse, bearer: string | null | undefined): Promise<boolean> {
    return (await this.charge(req, res, bearer)).refused;
  }

  /** Charges a failed authentication (an answered 401) to the client's address; called when a response is out. */
  answered(req: http.IncomingMessage, status: number): void {
    if (status === 401) this.failed(req);
  }

  /**
   * Charges a failed authentication answered otherwise: an export link whose signature does not
   * match (403). Its bucket is keyed by the token id the link names, unverified, so without this a
   * fresh token id per forged link would get a fresh budget each time.
   */
  failed(req: http.IncomingMessage): void {
    if (this.failures) this.failures.consume(addressKey(req)).catch(() => undefined);
  }

  private setFields(res: http.ServerResponse, remaining: number, resetS: number): void {
    res.setHeader('ratelimit-limit', String(this.perMinute));
    res.setHeader('ratelimit-remaining', String(remaining));
    res.setHeader('ratelimit-reset', String(resetS));
  }
}
