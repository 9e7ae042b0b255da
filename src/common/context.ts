import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { Loaders } from '../db/request-loaders';
import { loadersOver } from './wiring';
import type { ReadSource } from './read-route';
import type { Role } from './role';

/** Who is calling: filled from the bearer token by the authentication plugin. */
export interface Principal {
  userId: string;
  tokenId: string;
  role: Role;
  /** The departments a HEAD or INTEGRATION principal acts for; empty for the others. */
  departmentIds: string[];
  /**
   * The user's row as authentication read it with the token (columns by name, as the driver
   * returned them; frozen): `me` is answered from it without reading the user again. As old as
   * the principal itself (PRINCIPAL_CACHE_SECONDS at most). Absent where no token was read.
   */
  userRow?: UserRow;
}

/** A row of `app_user`, column by column as the database driver returned it. */
export type UserRow = Readonly<Record<string, unknown>>;

/** A caller's request budget after this request was charged (src/http/rate-limit.ts). */
export interface RateBudget {
  /** Requests a minute. */
  limit: number;
  /** Requests left in the current window. */
  remaining: number;
  /** When the window ends and the budget is whole again (by the server's clock, not the test clock). */
  resetAt: Date;
}

/** Per-request facts: the credential as sent, and what the HTTP layer reads back for logs and metrics. */
export interface RequestInfo {
  requestId: string;
  /** The bearer token of the request: undefined when none was sent, null when the header was malformed. */
  bearer: string | null | undefined;
  /** The bearer token's hash (`hashToken`), when the edge computed it once for the rate limiter and authentication both. */
  bearerHash?: string;
  operationName: string | null;
  errorCodes: string[];
  /** The request's "now": one instant for the whole request (or the test clock's, when allowed). */
  now: Date;
  /**
   * When the request arrived by the server's own clock, whatever the test clock says: the instant
   * to compare with the stamps rows are written with (createdAt, updatedAt), such as the snapshot
   * of a BI pull. Scoring and due dates use `now`.
   */
  receivedAt: Date;
  /** The budget this request was charged to; null while rate limits are off (and over WebSocket, which is not charged). */
  rateLimit: RateBudget | null;
  /**
   * Where the request's dashboard and BI reads go (src/common/read-route.ts): the primary until the
   * HTTP layer routes the request, after authentication, with `chooseReadSource`.
   */
  readSource: ReadSource;
  /**
   * The gate's refusal of this request, when the prepared-query path (src/http/prepared-query.ts)
   * gated it and handed it to Apollo to answer: Apollo's gate throws it again rather than check twice.
   */
  gateRefusal?: Error;
  /** Set once the prepared-query path has gated the request and let it through (its principal is set). */
  gated?: boolean;
  /** Set when the HTTP layer has answered TIMEOUT: loops that `breathe` stop at their next turn. */
  abandoned?: boolean;
}

/** What every resolver receives. Born only in {@link createContext}. */
export interface Context {
  /** A fork of the ORM's EntityManager: an identity map private to this request. */
  em: EntityManager;
  loaders: Loaders;
  principal: Principal | null;
  request: RequestInfo;
  /** Whether `em` has been forked yet (reading it forks it): while not, the request holds no entity. */
  readonly forked: boolean;
}

/**
 * The only place request state is created: a fresh EntityManager fork, fresh loaders over it, the
 * request's id and credential. It runs no SQL.
 */
export function createContext(orm: MikroORM, requestId: string, bearer: string | null | undefined = undefined, now: Date = new Date()): Context {
  return new RequestContext({ orm }, { requestId, bearer, operationName: null, errorCodes: [], now, receivedAt: new Date(), rateLimit: null, readSource: 'primary' });
}

/** What a context makes on first use, kept apart so that a copy of the context shares it. */
interface Made {
  orm: MikroORM;
  em?: EntityManager;
  loaders?: Loaders;
}

/**
 * A request's context. The fork and the loaders are made on first use: requests that need
 * neither (`{ __typename }` with a warm token, refusals) skip their cost. They are getters of the
 * prototype over an object of their own, because Apollo copies the context per operation
 * (`Object.assign(Object.create(prototype), context)`): the copy keeps the getters and shares
 * what either makes. A spread (`{ ...ctx }`) would lose them: extend a context with
 * `Object.assign` instead.
 */
class RequestContext implements Context {
  principal: Principal | null = null;

  constructor(
    private readonly made: Made,
    readonly request: RequestInfo,
  ) {}

  get em(): EntityManager {
    return (this.made.em ??= this.made.orm.em.fork());
  }

  get forked(): boolean {
    return this.made.em !== undefined;
  }

  get loaders(): Loaders {
    return (this.made.loaders ??= loadersOver(this.em));
  }

  /** Fresh loaders for what follows (a CSV export between pages, after clearing the identity map); copies share them. */
  set loaders(loaders: Loaders) {
    this.made.loaders = loaders;
  }
}

/** The scope of idempotency keys for a request's principal. */
export function idempotencyScope(ctx: Context): string {
  return ctx.principal?.userId ?? 'anonymous';
}
