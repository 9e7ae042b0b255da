/* Live updates on the HTTP server's own port: GraphQL subscriptions over WebSocket (the
 * graphql-transport-ws protocol of graphql-ws) at /graphql, fed by the instance's LiveFeed. */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { MikroORM } from '@mikro-orm/core';
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { CloseCode, handleProtocols, makeServer, type Context as WsContext } from 'graphql-ws';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../common/config';
import { createContext, type Principal } from '../common/context';
import { UnauthenticatedError } from '../common/errors';
import { loggableError } from '../common/logging';
import type { LiveFeed } from '../modules/live/live-feed';
import type { Invalidation, PrincipalCache } from '../modules/auth/principal-cache';
import { type LiveContext, SLOW_SUBSCRIBER_CLOSE } from '../modules/live/live.service';
import { formatError } from './apollo';
import { authenticateBearer, requestBearer } from './authenticate';
import { aliasLimitRule, depthLimitRule, inputProblem, operationCost } from './query-limits';
import type { Shutdown } from './shutdown';

/** The path of the GraphQL endpoint, for HTTP and WebSocket alike. */
const PATH = '/graphql';

/** What a connection authenticated as, with which credential, over which socket. */
interface Connection {
  principal: Principal;
  bearer: string;
  socket: WebSocket;
}

/** What each connection's graphql-ws context carries: the socket and its upgrade request. */
interface Extra {
  socket: WebSocket;
  request: http.IncomingMessage;
}

type Ctx = WsContext<Record<string, unknown> | undefined, Extra>;

/** Bytes a connection may leave unsent (its client not reading) before it is closed with 4413. */
export const MAX_UNSENT_BYTES = 16 * 1024 * 1024;
/** Ping interval; a connection that has not answered the previous ping by the next is terminated. */
const KEEPALIVE_MS = 12_000;

/**
 * How often open connections are re-checked without being told (their tokens authenticated again):
 * half the principal cache's time to live, so a revocation made on another instance closes them
 * within about 1.5 times that time; every second when the cache is off.
 */
export function recheckIntervalMs(principalCacheMs: number): number {
  return principalCacheMs > 0 ? Math.max(100, Math.floor(principalCacheMs / 2)) : 1000;
}

/** Whether a re-authentication found the connection's principal changed (role or departments): its subscriptions were authorized for the old one. */
function principalChanged(before: Principal, after: Principal): boolean {
  return before.role !== after.role || before.departmentIds.join() !== after.departmentIds.join();
}

/** WebSocket close reasons are at most 123 bytes. */
function closeReason(message: string): string {
  return Buffer.byteLength(message) <= 123
    ? message
    : `${Buffer.from(message)
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD+$/, '')}…`;
}

/**
 * The bearer token of a connection's `connection_init` payload: `authorization: 'Bearer …'` as the
 * HTTP header would say it, or `token: '…'`. Undefined when neither was sent, null when malformed:
 * the same three cases as the HTTP edge, so `authenticateBearer` answers with the same messages.
 */
export function connectionBearer(params: Record<string, unknown> | undefined): string | null | undefined {
  const authorization = params?.authorization ?? params?.Authorization;
  if (authorization !== undefined) return typeof authorization === 'string' ? requestBearer(authorization) : null;
  const token = params?.token;
  if (token === undefined) return undefined;
  return typeof token === 'string' && token.length ? token : null;
}

/**
 * One execution per event and distinct subscription (its text, operation and variables), shared
 * by every subscriber that sent the same one: the feed hands the same event object to each
 * subscription, and the `events` field is resolved from the event alone (who may see it was
 * decided when the subscription started), so ten dashboards with one query cost one execution,
 * not ten. Keyed by the event object: the results go with the event when it is collected.
 */
const sharedResults = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();

/** The subscription key of each subscription's context (set in onSubscribe). */
const subscriptionKeys = new WeakMap<object, string>();

/**
 * graphql-js's `subscribe`, with the execution of each event shared (above): the source stream from
 * the schema's subscribe function, each event executed once per key. Ending the mapped stream ends
 * the source (the feed's subscription).
 */
async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const it = source[Symbol.asyncIterator]();
  const key = subscriptionKeys.get(args.contextValue as object) ?? randomUUID();
  const resultOf = (event: unknown): ExecutionResult | Promise<ExecutionResult> => {
    if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
    let byKey = sharedResults.get(event);
    if (!byKey) sharedResults.set(event, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = execute({ ...args, rootValue: event })));
    return result;
  };
  const done = { value: undefined, done: true } as const;
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const r = await it.next();
      return r.done ? done : { value: await resultOf(r.value), done: false };
    },
    async return() {
      await it.return?.();
      return done;
    },
    async throw(e: unknown) {
      await it.return?.();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped;
}

/** The edge's handle on live updates: what `close` needs. */
export interface LiveEdge {
  /** Closes every WebSocket (1001), terminating those still open after `timeoutMs`, and stops accepting new ones. */
  close(timeoutMs: number): Promise<void>;
  /** Open WebSocket connections. */
  readonly connections: number;
}

/**
 * Serves graphql-ws on `server`'s upgrade requests to /graphql (other paths are refused with 404,
 * and every upgrade during shutdown with 503). A connection is authenticated by the token in its
 * `connection_init` payload, exactly as an HTTP request by its Authorization header; a missing or
 * refused token closes it with 4401 and the reason. While it is open its token is checked again
 * (see `recheck`): a token revoked, expired or whose user was deactivated or changed closes it
 * with 4403 and the reason, at once when the change was made on this instance. Each subscription document passes the same
 * limits as an HTTP query (tokens, depth, aliases, the values it carries, cost); only `subscription`
 * operations are served here (queries and mutations go over HTTP, with its rate limit, timeouts
 * and clock). Errors are masked as over HTTP.
 */
export function attachLive(deps: {
  server: http.Server;
  schema: GraphQLSchema;
  orm: MikroORM;
  feed: LiveFeed;
  config: Config;
  logger: Logger;
  shutdown: Shutdown;
  principals: PrincipalCache;
}): LiveEdge {
  const { server, schema, orm, feed, config, logger, shutdown, principals } = deps;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.http.bodyLimitBytes });
  const connections = new WeakMap<object, Connection>();
  /** The authenticated connections still open, for the re-checks of their tokens. */
  const open = new Set<Connection>();

  /**
   * Authenticates the tokens of open connections again (those `only` names, or all): a token that
   * no longer stands for a principal (revoked, expired, its user deactivated) closes its
   * connections with 4403 and the reason, as does a principal whose role or departments changed
   * (its subscriptions were authorized for the old ones; a reconnect authorizes them anew). One
   * authentication per distinct token, through the principal cache.
   */
  const recheck = async (only?: Invalidation): Promise<void> => {
    const byBearer = new Map<string, Connection[]>();
    for (const c of open) {
      if (only && ('tokenId' in only ? c.principal.tokenId !== only.tokenId : c.principal.userId !== only.userId)) continue;
      const list = byBearer.get(c.bearer);
      if (list) list.push(c);
      else byBearer.set(c.bearer, [c]);
    }
    for (const [bearer, list] of byBearer) {
      let reason: string | null = null;
      try {
        const now = await authenticateBearer(orm.em.fork(), bearer);
        if (principalChanged(list[0].principal, now)) reason = "The role or department of this connection's user changed; reconnect to subscribe again";
      } catch (e) {
        if (!(e instanceof UnauthenticatedError)) {
          logger.warn({ err: loggableError(e) }, 'could not re-check the token of a WebSocket connection');
          continue;
        }
        reason = e.message;
      }
      if (reason === null) continue;
      for (const c of list) {
        open.delete(c);
        c.socket.close(CloseCode.Forbidden, closeReason(reason));
      }
    }
  };
  // One re-check at a time; what is asked meanwhile runs after it (a revocation is never skipped).
  let rechecking: Promise<void> = Promise.resolve();
  const queueRecheck = (only?: Invalidation): void => {
    if (!open.size) return;
    rechecking = rechecking.then(() => recheck(only)).catch((e: unknown) => logger.error({ err: loggableError(e) }, 'WebSocket token re-check failed'));
  };
  // At once for what this instance revoked, deactivated or changed; on a timer for the others' changes.
  const stopListening = principals.onInvalidate((what) => queueRecheck(what));
  const recheckTimer = setInterval(() => queueRecheck(), recheckIntervalMs(principals.ttlMs));
  recheckTimer.unref();
  const rules = [...specifiedRules, depthLimitRule(config.limits.depth), aliasLimitRule(config.limits.aliases)];

  const refuse = (errors: GraphQLError[]) => errors;

  const graphqlWs = makeServer<Record<string, unknown> | undefined, Extra>({
    schema,
    subscribe: subscribeShared,
    async onConnect(ctx: Ctx) {
      const bearer = connectionBearer(ctx.connectionParams);
      try {
        const principal = await authenticateBearer(orm.em.fork(), bearer);
        const connection: Connection = { principal, bearer: bearer as string, socket: ctx.extra.socket };
        connections.set(ctx, connection);
        open.add(connection);
        ctx.extra.socket.once('close', () => open.delete(connection));
        return true;
      } catch (e) {
        if (!(e instanceof UnauthenticatedError)) throw e;
        ctx.extra.socket.close(CloseCode.Unauthorized, closeReason(e.message));
        return false;
      }
    },
    onSubscribe(ctx: Ctx, _id, payload): ExecutionArgs | readonly GraphQLError[] {
      const connection = connections.get(ctx);
      if (!connection) return refuse([new GraphQLError('Unauthorized', { extensions: { code: 'UNAUTHENTICATED' } })]);
      let document: DocumentNode;
      try {
        document = parse(payload.query, { maxTokens: config.limits.tokens });
      } catch (e) {
        if (!(e instanceof GraphQLError)) throw e;
        return refuse([new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: /more tha[nt] \d+ tokens/.test(e.message) ? 'TOO_MANY_TOKENS' : 'GRAPHQL_PARSE_FAILED' } })]);
      }
      const invalid = validate(schema, document, rules);
      if (invalid.length)
        return refuse(invalid.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: (e.extensions.refusal as string | undefined) ?? 'GRAPHQL_VALIDATION_FAILED' } })));
      const operation = getOperationAST(document, payload.operationName);
      if (!operation) return refuse([new GraphQLError('Unable to identify the operation: name one with operationName', { extensions: { code: 'BAD_USER_INPUT' } })]);
      if (operation.operation !== 'subscription') {
        return refuse([new GraphQLError(`Only subscriptions are served over WebSocket; send this ${operation.operation} over HTTP (POST /graphql)`, { extensions: { code: 'BAD_USER_INPUT' } })]);
      }
      const variables = payload.variables ?? {};
      const problem = inputProblem(document, variables);
      if (problem) return refuse([new GraphQLError(`${problem.field}: ${problem.message}`, { extensions: { code: 'BAD_USER_INPUT', field: problem.field } })]);
      let cost: number;
      try {
        cost = operationCost(schema, document, payload.operationName ?? undefined, variables);
      } catch (e) {
        if (!(e instanceof GraphQLError)) throw e;
        return refuse([new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } })]);
      }
      if (cost > config.limits.cost) return refuse([new GraphQLError(`Query cost ${cost} exceeds the limit of ${config.limits.cost}`, { extensions: { code: 'QUERY_TOO_COMPLEX' } })]);

      const base = createContext(orm, `ws-${randomUUID()}`, connection.bearer);
      base.principal = connection.principal;
      base.request.operationName = operation.name?.value ?? null;
      const socket: WebSocket = ctx.extra.socket;
      // Object.assign, not a spread: the context's fork and loaders are getters of its prototype.
      const contextValue: LiveContext = Object.assign(base, { live: feed, disconnect: (code: number, reason: string) => socket.close(code, closeReason(reason)) });
      subscriptionKeys.set(contextValue, JSON.stringify([payload.query, payload.operationName ?? null, variables]));
      return { schema, document, operationName: payload.operationName, variableValues: variables, contextValue };
    },
    onNext(_ctx, _id, _payload, _args, result) {
      if (!result.errors?.length) return undefined;
      return { ...result, errors: result.errors.map((e) => formatError(e.toJSON())) };
    },
    onError(_ctx, _id, _payload, errors) {
      return errors.map((e) => formatError(e.toJSON()));
    },
  });

  // graphql-ws's own glue for `ws` (graphql-ws/use/ws) awaits each message's write callback before
  // the next: one system call per message and subscriber, which in a burst of thousands holds the
  // event loop for seconds. Here a message is handed to `ws` and the next follows at once (writes
  // made together leave in one writev); a client that does not read shows as unsent bytes, and
  // past MAX_UNSENT_BYTES its connection is closed.
  wss.options.handleProtocols = (protocols) => handleProtocols(protocols) || false;
  // The TCP socket under each WebSocket: corked while a turn of the event loop sends messages, and
  // uncorked after it, so the frames of a burst leave in one write instead of one each.
  const raw = new WeakMap<WebSocket, Duplex>();
  wss.on('connection', (socket, request) => {
    const tcp = raw.get(socket);
    let corked = false;
    socket.once('error', (e) => {
      logger.warn({ err: loggableError(e) }, 'WebSocket error');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    let alive = true;
    socket.on('pong', () => (alive = true));
    const keepalive = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, KEEPALIVE_MS);
    const closed = graphqlWs.opened(
      {
        protocol: socket.protocol,
        send: (data) => {
          if (socket.readyState !== socket.OPEN) return;
          if (tcp && !corked) {
            corked = true;
            tcp.cork();
            setImmediate(() => {
              corked = false;
              tcp.uncork();
            });
          }
          socket.send(data);
          if (socket.bufferedAmount > MAX_UNSENT_BYTES) socket.close(SLOW_SUBSCRIBER_CLOSE, `Subscriber too slow: more than ${MAX_UNSENT_BYTES} bytes unsent; reconnect and catch up`);
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((e: unknown) => {
              logger.error({ err: loggableError(e) }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepalive);
      void closed(code, String(reason));
    });
  });

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const status = shutdown.started ? '503 Service Unavailable' : path !== PATH ? '404 Not Found' : null;
    if (status) {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      raw.set(ws, socket);
      wss.emit('connection', ws, req);
    });
  };
  server.on('upgrade', onUpgrade);
  wss.on('error', (e) => logger.error({ err: loggableError(e) }, 'WebSocket server error'));

  return {
    get connections() {
      return wss.clients.size;
    },
    async close(timeoutMs) {
      server.off('upgrade', onUpgrade);
      clearInterval(recheckTimer);
      stopListening();
      const open = [...wss.clients];
      const closed = Promise.all(open.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise<void>((resolve) => ws.once('close', () => resolve())))));
      for (const ws of open) ws.close(1001, 'Server shutting down');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
