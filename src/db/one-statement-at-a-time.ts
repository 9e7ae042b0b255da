/**
 * A PostgreSQL connection that is handed its statements one after another: a statement sent while
 * the connection still runs another waits here, first come first served, and reaches pg only when
 * the one before has finished.
 *
 * Why: a write's transaction holds one connection, and its statements come from every layer (the
 * ORM's finds and flushes, the loaders of a request, the ledger sync's scorecard reads, knex
 * builders, raw statements and COPY on the driver's own client). Loaders dispatched in one tick
 * (the agreement tree's `agreement` and `agreement_version` loads of a report submission, the
 * scorecard reads of its ledger sync) handed that connection several statements at once, which
 * pg 8 queues itself (with a deprecation warning once one already waits) and pg 9 is to refuse.
 * pg asks for "an external async flow control mechanism"; this is one, for every statement of
 * every layer at the one place they all pass, so no call site has to remember it. The statements
 * run in the order they were sent, as pg's own queue ran them: results, rows and round trips are
 * the same. Outside a transaction each statement takes a pool connection of its own (nothing
 * waits here), so reads stay parallel over the pool.
 *
 * A statement counts as finished when pg reports it: the callback of a text statement, or a
 * submittable's (a COPY stream's) `handleReadyForQuery` or `handleError`, the calls pg makes on
 * every submittable when it is done with it. A failed statement reports before the server says it
 * is ready again; the next one then waits in pg for that message alone (pg's queue holds one,
 * which is not what it warns of, and the connection's transaction has failed anyway).
 */

type Callback = (err: Error | null, result?: unknown) => void;
interface Submittable {
  submit: (connection: unknown) => void;
  handleReadyForQuery?: (connection: unknown) => void;
  handleError?: (err: Error, connection: unknown) => void;
}
interface PgClient {
  query: (...args: unknown[]) => unknown;
}

const installed = new WeakSet<object>();

/** Makes `client` (a `pg` Client) take its statements one at a time; idempotent. */
export function oneStatementAtATime(client: PgClient): void {
  if (installed.has(client)) return;
  installed.add(client);
  // pg's own `query`, looked up at each call (a test may wrap the prototype's to watch it).
  const send = (args: unknown[]): unknown => (Object.getPrototypeOf(client) as PgClient).query.apply(client, args);
  const waiting: Array<() => void> = [];
  let running = false;
  const enqueue = (run: () => void) => {
    if (running) return void waiting.push(run);
    running = true;
    run();
  };
  // The statement that finished hands the connection to the next one waiting, if any.
  const finished = () => {
    const next = waiting.shift();
    if (next) next();
    else running = false;
  };

  client.query = (...args: unknown[]): unknown => {
    const [config, values, callback] = args;
    if (config !== null && typeof config === 'object' && typeof (config as Submittable).submit === 'function') {
      const submittable = config as Submittable;
      let done = false;
      const once = () => {
        if (done) return;
        done = true;
        finished();
      };
      const ready = submittable.handleReadyForQuery;
      const failed = submittable.handleError;
      submittable.handleReadyForQuery = function (this: Submittable, connection) {
        try {
          ready?.call(this, connection);
        } finally {
          once();
        }
      };
      submittable.handleError = function (this: Submittable, err, connection) {
        try {
          failed?.call(this, err, connection);
        } finally {
          once();
        }
      };
      enqueue(() => void send(args));
      // pg returns the submittable itself.
      return submittable;
    }
    // A text statement: (config[, values][, callback]); without a callback pg answers with a promise.
    const cb = (typeof values === 'function' ? values : callback) as Callback | undefined;
    const params = typeof values === 'function' ? undefined : values;
    const submit = (reply: Callback) =>
      enqueue(() => {
        try {
          send([
            config,
            params,
            (err: Error | null, result?: unknown) => {
              finished();
              reply(err, result);
            },
          ]);
        } catch (e) {
          // pg throws only for a statement it cannot read (no text at all).
          finished();
          reply(e as Error);
        }
      });
    if (cb) {
      submit(cb);
      return undefined;
    }
    return new Promise((resolve, reject) => submit((err, result) => (err ? reject(err) : resolve(result))));
  };
}
