/**
 * A share of the main thread for background work (issue 15, "Speed": a burst of events is
 * delivered without blocking request handling; docs/decisions.md, "Issue 15: a CPU share for the
 * webhook worker").
 *
 * Background work (the webhook worker's fan-out, claims, sends and recordings) runs in small
 * units through {@link BackgroundBudget.run}. Units run back to back for at most `sliceMs`; then
 * the work yields: for one turn of the event loop (I/O first, so waiting requests are served) when
 * no request is being served, or, while requests are served, long enough that background units
 * take at most `share` of the wall-clock time: after a slice of d ms, a rest of d·(1 − share)/share
 * ms. A request then never waits behind more than about one slice of background work, and the
 * work never stops: it goes on at its share however busy the server is, and at full speed when no
 * request comes.
 *
 * What is charged is the wall time of each unit's synchronous part and of what it queued for the
 * same turn (`process.nextTick`: a socket write of an HTTP request), or, for a unit whose promise
 * is awaited (a transaction: on SQLite synchronous statements), until that promise settles. The
 * answers of HTTP requests sent by a unit are parsed in later I/O callbacks and are not charged,
 * so the share measured in a CPU profile is somewhat above the configured one.
 */
import { performance } from 'node:perf_hooks';

/** How long after the last request began the server counts as serving requests. */
export const RECENT_REQUEST_MS = 50;

export interface BackgroundBudgetStats {
  /** Units run, and the milliseconds charged for them. */
  units: number;
  chargedMs: number;
  /** The longest single unit, in ms. */
  maxUnitMs: number;
  /** Slices ended (yields), and how many of them rested for the share (requests were being served). */
  slices: number;
  rests: number;
  /** Milliseconds of rest asked for (the sum of the rests' lengths). */
  restMs: number;
}

export class BackgroundBudget {
  private spent = 0;
  private resting: Promise<void> | null = null;
  private last: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private lastRequestAt = -Infinity;
  readonly stats: BackgroundBudgetStats = { units: 0, chargedMs: 0, maxUnitMs: 0, slices: 0, rests: 0, restMs: 0 };

  /**
   * @param share the share of wall-clock time background units may take while requests are
   *   served, above 0 and at most 1 (1: no rest, only a turn of the event loop between slices).
   * @param sliceMs how long units may run back to back before yielding.
   */
  constructor(
    readonly share: number,
    readonly sliceMs = 1,
  ) {
    if (!(share > 0 && share <= 1)) throw new RangeError(`share: expected a number above 0 and at most 1, received ${share}`);
    if (!(sliceMs > 0)) throw new RangeError(`sliceMs: expected a positive number, received ${sliceMs}`);
  }

  /** To call as a request begins (the HTTP edge). */
  requestStarted(): void {
    this.inFlight++;
    this.lastRequestAt = performance.now();
  }

  /** To call once per request when its answer is out or its connection closed. */
  requestEnded(): void {
    if (this.inFlight > 0) this.inFlight--;
  }

  /** Whether requests are being served: one is open, or one began within {@link RECENT_REQUEST_MS}. */
  get contended(): boolean {
    return this.inFlight > 0 || performance.now() - this.lastRequestAt < RECENT_REQUEST_MS;
  }

  /** How long the slice that just ended asks to rest, in ms: 0 when no request is being served. */
  private restAfter(spent: number): number {
    return this.share < 1 && this.contended ? (spent * (1 - this.share)) / this.share : 0;
  }

  /** Resolves when a unit may run: undefined at once while the slice lasts, else a promise of the end of the rest. */
  private turn(): Promise<void> | undefined {
    if (this.resting) return this.resting;
    if (this.spent < this.sliceMs) return undefined;
    const rest = this.restAfter(this.spent);
    this.spent = 0;
    this.stats.slices++;
    if (rest > 0) {
      this.stats.rests++;
      this.stats.restMs += rest;
    }
    // setTimeout's resolution is a millisecond: a rest below that waits one turn, and the next
    // slice's rest makes up for it (a slice is charged in full, whatever the rest).
    this.resting = new Promise<void>((resolve) => (rest >= 1 ? setTimeout(resolve, rest) : setImmediate(resolve))).then(() => {
      this.resting = null;
    });
    return this.resting;
  }

  private charge(ms: number): void {
    this.spent += ms;
    this.stats.units++;
    this.stats.chargedMs += ms;
    if (ms > this.stats.maxUnitMs) this.stats.maxUnitMs = ms;
  }

  /** Units run one at a time, so each is charged its own time only. */
  private exclusive<T>(unit: () => Promise<T>): Promise<T> {
    const result = this.last.then(unit);
    this.last = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async waitTurn(): Promise<void> {
    for (let wait = this.turn(); wait; wait = this.turn()) await wait;
  }

  /** Waits for the budget, runs `unit` and charges it until its promise settles (a transaction). */
  run<T>(unit: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.waitTurn();
      const started = performance.now();
      try {
        return await unit();
      } finally {
        this.charge(performance.now() - started);
      }
    });
  }

  /**
   * Waits for the budget and starts `unit`, charging its synchronous part and what it queued for
   * this turn (`process.nextTick`: a socket write), not what it then awaits (an HTTP request's
   * answer). Resolves to what `unit` returned, unawaited, in a box (a promise is handed back as it is).
   */
  start<T>(unit: () => T): Promise<{ value: T }> {
    return this.exclusive(async () => {
      await this.waitTurn();
      const started = performance.now();
      const value = unit();
      await new Promise<void>((resolve) => process.nextTick(resolve));
      this.charge(performance.now() - started);
      return { value };
    });
  }
}
