import type http from 'node:http';

/**
 * Graceful shutdown of the HTTP edge: once `drain` starts, new connections are refused, answers
 * say `connection: close`, keep-alive sockets are closed as soon as they go idle, and what is
 * still connected after the timeout is force-closed. Requests whose work outlives their answer
 * (a timed-out GraphQL request keeps running) are tracked, so `drain` resolves only once they
 * settle and the database can close without work under it.
 */
export class Shutdown {
  private draining = false;
  private readonly executing = new Set<Promise<unknown>>();

  /** Whether `drain` has started: readiness answers 503 and answers close their connection. */
  get started(): boolean {
    return this.draining;
  }

  /** Keeps `work` to be awaited by `drain`, until it settles. */
  track(work: Promise<unknown>): void {
    this.executing.add(work);
    void work.finally(() => this.executing.delete(work)).catch(() => undefined);
  }

  /** To call as a request begins: while draining, its connection will not be kept alive. */
  requestStarted(res: http.ServerResponse): void {
    if (this.draining) res.setHeader('connection', 'close');
  }

  /**
   * To call when an answer is out: while draining, a keep-alive socket that just went idle is
   * closed at once rather than after keepAliveTimeout, so the process exits as soon as the last
   * answer is out.
   */
  responseFinished(server: http.Server): void {
    if (this.draining) setImmediate(() => server.closeIdleConnections());
  }

  /**
   * Stops accepting connections, lets in-flight requests finish (closing idle keep-alive sockets),
   * force-closes what remains after `timeoutMs`, then waits for tracked work to settle.
   */
  async drain(server: http.Server, timeoutMs: number): Promise<void> {
    this.draining = true;
    const closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
    force.unref();
    await closed;
    clearTimeout(force);
    await Promise.allSettled([...this.executing]);
  }
}
