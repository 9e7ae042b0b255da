/**
 * Ticks one at a time, for the scheduler and the webhook worker: a tick asked for while one runs
 * starts when it ends, each with its own instant, and a failed tick does not stop the next.
 */
export class TickChain<T> {
  private last: Promise<T> | null = null;

  /** Whether a tick is running or waiting (the timer does not add one then). */
  get busy(): boolean {
    return this.last !== null;
  }

  /** Runs `run` after the ticks asked for before; resolves to its result. */
  next(run: () => Promise<T>): Promise<T> {
    const next = (this.last ?? Promise.resolve()).catch(() => undefined).then(run);
    this.last = next;
    void next
      .finally(() => {
        if (this.last === next) this.last = null;
      })
      .catch(() => undefined);
    return next;
  }

  /** Waits for the ticks asked for so far, whatever their outcome. */
  async settled(): Promise<void> {
    await this.last?.catch(() => undefined);
  }
}
