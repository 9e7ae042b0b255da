/**
 * The main thread's budget for background work (src/common/background-budget.ts): units run in
 * slices of about `sliceMs`; between slices the work yields a turn of the event loop, and while
 * requests are being served it rests long enough to take at most `share` of the time. It never
 * stops the work: every unit runs, however busy the server.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { BackgroundBudget, RECENT_REQUEST_MS } from '../../src/common/background-budget';

/** Keeps the thread busy for `ms` (a unit of background work). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Runs `units` units of `ms` each through `budget`, one after another as the worker does. */
async function work(budget: BackgroundBudget, units: number, ms: number): Promise<void> {
  for (let i = 0; i < units; i++) await budget.run(async () => busy(ms));
}

describe('BackgroundBudget', () => {
  it('refuses a share outside (0, 1] and a slice that is not positive', () => {
    expect(() => new BackgroundBudget(0)).toThrow('share: expected a number above 0 and at most 1, received 0');
    expect(() => new BackgroundBudget(1.5)).toThrow('share: expected a number above 0 and at most 1, received 1.5');
    expect(() => new BackgroundBudget(0.5, 0)).toThrow('sliceMs: expected a positive number, received 0');
  });

  it('while no request is served, yields one turn of the event loop per slice and never rests', async () => {
    const budget = new BackgroundBudget(0.25, 2);
    // A callback that keeps queueing itself for the next turn: it runs between slices.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await work(budget, 40, 0.5);
    ticking = false;
    expect(budget.stats.units).toBe(40);
    expect(budget.stats.rests).toBe(0);
    expect(budget.stats.restMs).toBe(0);
    // 40 units of 0.5 ms in slices of 2 ms: about 10 slices (more on a busy machine, where a unit
    // may take longer), each ending with a turn.
    const { slices, chargedMs, maxUnitMs } = budget.stats;
    expect(slices).toBeGreaterThanOrEqual(Math.floor(chargedMs / (budget.sliceMs + maxUnitMs)));
    expect(slices).toBeGreaterThanOrEqual(6);
    expect(slices).toBeLessThanOrEqual(40);
    expect(turns).toBeGreaterThanOrEqual(slices);
  });

  it('while a request is open, rests after each slice for (1 − share)/share of it, and still runs every unit', async () => {
    const budget = new BackgroundBudget(0.25, 2);
    budget.requestStarted(); // never ended: the server is busy for the whole test
    const started = performance.now();
    await work(budget, 20, 1);
    const elapsed = performance.now() - started;
    const { units, chargedMs, slices, rests, restMs, maxUnitMs } = budget.stats;
    expect(units).toBe(20);
    expect(rests).toBe(slices);
    expect(rests).toBeGreaterThanOrEqual(5);
    // Every slice but the last (still open) asked for 3× its time; the rests are timers, so the
    // work took at least their sum.
    expect(restMs).toBeLessThanOrEqual(3 * chargedMs + 1e-6);
    expect(restMs).toBeGreaterThanOrEqual(3 * (chargedMs - budget.sliceMs - maxUnitMs));
    expect(elapsed).toBeGreaterThanOrEqual(restMs);
  });

  it('counts a request as served until it ends, and for a moment after it began', async () => {
    const budget = new BackgroundBudget(0.5);
    expect(budget.contended).toBe(false);
    budget.requestStarted();
    expect(budget.contended).toBe(true);
    budget.requestEnded();
    expect(budget.contended).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, RECENT_REQUEST_MS + 20));
    expect(budget.contended).toBe(false);
    // An extra end (a connection closed twice) never makes the count negative.
    budget.requestEnded();
    budget.requestStarted();
    budget.requestEnded();
    await new Promise((resolve) => setTimeout(resolve, RECENT_REQUEST_MS + 20));
    expect(budget.contended).toBe(false);
  });

  it('charges a started unit its synchronous part, not the promise it returns, and runs units one at a time', async () => {
    const budget = new BackgroundBudget(1);
    const order: string[] = [];
    const slow = new Promise<void>((resolve) => setTimeout(resolve, 50));
    const [a, b] = await Promise.all([
      budget.start(() => {
        order.push('a');
        busy(1);
        return slow;
      }),
      budget.start(() => {
        order.push('b');
        return 'b';
      }),
    ]);
    expect(order).toEqual(['a', 'b']);
    expect(b.value).toBe('b');
    expect(budget.stats.units).toBe(2);
    expect(budget.stats.chargedMs).toBeLessThan(40);
    await a.value;
  });

  it('goes on after a unit that throws', async () => {
    const budget = new BackgroundBudget(1);
    await expect(budget.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(budget.run(() => Promise.resolve(7))).resolves.toBe(7);
    expect(budget.stats.units).toBe(2);
  });
});
