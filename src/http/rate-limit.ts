import type http from 'node:http';
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { hashToken } from '../modules/auth/tokens';
import { sendError } from './respond';

/** The key of a client address in both buckets. */
function addressKey(req: http.IncomingMessage): string {
  return `addr:${req.socket.remoteAddress ?? 'unknown'}`;
}

/**
 * The request budget of one process, in memory: `perMinute` requests per token (per client
 * address without one), and as many failed authentications per client address. Without the
 * second bucket a fresh random token per request would get a fresh budget each time (and a token
 * lookup each time). `perMinute` 0 turns both off.
 */
export class RateLimits {
  private readonly requests: RateLimiterMemory | null;
  private readonly failures: RateLimiterMemory | null;

  constructor(private readonly perMinute: number) {
    this.requests = perMinute > 0 ? new RateLimiterMemory({ points: perMinute, duration: 60 }) : null;
    this.failures = perMinute > 0 ? new RateLimiterMemory({ points: perMinute, duration: 60 }) : null;
  }

  /**
   * Answers 429 (with retry-after) and returns true when the request is over a limit; charges it
   * otherwise. Called before the body is read or the token looked up, so a flood costs neither
   * parsing nor SQL.
   */
  async refuse(req: http.IncomingMessage, res: http.ServerResponse, bearer: string | null | undefined): Promise<boolean> {
    if (!this.requests || !this.failures) return false;
    const address = addressKey(req);
    const answer = (msBeforeNext: number, why: string): boolean => {
      const retry = Math.max(1, Math.ceil(msBeforeNext / 1000));
      res.setHeader('retry-after', String(retry));
      sendError(res, 429, 'RATE_LIMITED', `${why}; retry in ${retry} s`);
      return true;
    };
    const failed = await this.failures.get(address);
    if (failed && failed.consumedPoints >= this.perMinute) {
      return answer(failed.msBeforeNext, `Too many failed authentications from this address (${this.perMinute} a minute)`);
    }
    try {
      await this.requests.consume(bearer ? `token:${hashToken(bearer)}` : address);
      return false;
    } catch (rejection) {
      return answer((rejection as RateLimiterRes).msBeforeNext ?? 1000, `Rate limit of ${this.perMinute} requests a minute exceeded`);
    }
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
}
