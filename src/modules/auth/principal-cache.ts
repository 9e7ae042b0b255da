import type { EntityManager } from '@mikro-orm/core';
import type { Principal } from '../../common/context';

/** What one valid token stands for, as authentication last read it. */
export interface CachedToken {
  principal: Principal;
  /** The token's visible prefix, for the messages that name it. */
  prefix: string;
  /** Epoch milliseconds, or null for a token that does not expire. */
  expiresAt: number | null;
  /** Epoch milliseconds of the last `lastUsedAt` written, or null. */
  lastUsedAt: number | null;
}

interface Entry extends CachedToken {
  /** When the entry stops being trusted (epoch milliseconds, by the server's clock). */
  staleAt: number;
}

/** What an invalidation names: one token, or every token of one user. */
export type Invalidation = { tokenId: string } | { userId: string };

/** Entries kept at most; past this the oldest go first. */
const MAX_ENTRIES = 10_000;

/**
 * The principals of recently used tokens, keyed by the token's hash, each trusted for `ttlMs`
 * (PRINCIPAL_CACHE_SECONDS) after it was read from the database. Only valid tokens are kept:
 * an unknown, revoked or expired token, or one of a deactivated user, is read again each time.
 * A revocation, deactivation or role or department change made through this instance calls
 * {@link invalidate} after its commit, so the next request reads the database; another instance
 * trusts what it read for at most `ttlMs`. A read that began before an invalidation is not
 * stored (a generation number tells), so it cannot put back what the invalidation removed.
 * Listeners (the WebSocket edge) hear of each invalidation and re-check their connections.
 */
export class PrincipalCache {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(what: Invalidation) => void>();
  private gen = 0;

  constructor(readonly ttlMs: number) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  /** The generation now: pass it to {@link set} for what is read after this call. */
  get generation(): number {
    return this.gen;
  }

  /** A token's entry while it is trusted (`now`: the server's clock, epoch milliseconds). */
  get(hash: string, now: number): CachedToken | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.staleAt <= now) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry;
  }

  /**
   * Keeps what was read at generation `generation`, unless an invalidation came since; returns the
   * entry kept (or `token` itself), the object to update (`lastUsedAt`) from then on.
   */
  set(hash: string, token: CachedToken, generation: number, now: number): CachedToken {
    if (!this.enabled || generation !== this.gen) return token;
    this.entries.delete(hash);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    const entry: Entry = { ...token, staleAt: now + this.ttlMs };
    this.entries.set(hash, entry);
    return entry;
  }

  /** Forgets a token (after it expired in use). */
  forget(hash: string): void {
    this.entries.delete(hash);
  }

  /** Forgets a token, or every token of a user, and tells the listeners. */
  invalidate(what: Invalidation): void {
    this.gen++;
    for (const [hash, entry] of this.entries) {
      if ('tokenId' in what ? entry.principal.tokenId === what.tokenId : entry.principal.userId === what.userId) this.entries.delete(hash);
    }
    for (const listener of this.listeners) listener(what);
  }

  /** Calls `listener` after every invalidation; returns the way to stop. */
  onInvalidate(listener: (what: Invalidation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Entries held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * The cache of each open database: services see only a request's EntityManager, whose forks all
 * share the ORM's configuration object, so that object keys them (as webhook.settings.ts does).
 * No global: two apps in one process (the tests) keep their own.
 */
const byOrm = new WeakMap<object, PrincipalCache>();

/** Called by the composition (src/server.ts) once the ORM is open. */
export function providePrincipalCache(em: EntityManager, cache: PrincipalCache): void {
  byOrm.set(em.config, cache);
}

/** The app's principal cache, or null where none was provided (the CLIs): every lookup reads the database. */
export function principalCache(em: EntityManager): PrincipalCache | null {
  return byOrm.get(em.config) ?? null;
}
