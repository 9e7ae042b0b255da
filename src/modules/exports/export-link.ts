/**
 * Signed export links (issue 16): a CSV URL an analyst can paste into a spreadsheet tool, which
 * sends no header. The link carries its filter, an expiry, the id of the token it was made with
 * and an HMAC-SHA256 signature over all of them; the CSV route checks the signature (timing-safe),
 * the expiry, and that the token still stands (revoking the token revokes its links).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Context } from '../../common/context';
import { textProblem } from '../../common/bounds';
import { BadUserInputError, UnauthenticatedError } from '../../common/errors';
import { windowMonths } from '../../common/month-window';
import { sqlOf } from '../../common/sql';
import { UserError, UserErrorCode } from '../../common/user-error';
import { ExportLinkSecret } from './export-link.entity';
import { FACT_TABLES, factTableOf } from './fact-tables';
import type { FactFilter } from './facts.service';

/** Longest life of a link, in seconds: a link is a bearer credential in a URL, so it is short-lived. */
export const MAX_LINK_TTL_SECONDS = 3600;
export const DEFAULT_LINK_TTL_SECONDS = 900;

/** What the composition provides (src/server.ts): the configured secret, if any, and the public base URL. */
export interface ExportLinkSettings {
  /** `EXPORT_LINK_SECRET`; null: a key generated once per database. */
  secret: string | null;
  /** Where links point: the server's public base URL, without a trailing slash. */
  baseUrl: string;
}

const settingsByOrm = new WeakMap<object, ExportLinkSettings>();
const keyByOrm = new WeakMap<object, Promise<Buffer>>();

/** Called by the composition once the ORM is open (as the webhook settings are: no global). */
export function provideExportLinkSettings(em: EntityManager, settings: ExportLinkSettings): void {
  settingsByOrm.set(em.config, settings);
}

export function exportLinkSettings(em: EntityManager): ExportLinkSettings {
  return settingsByOrm.get(em.config) ?? { secret: null, baseUrl: 'http://localhost:4000' };
}

/**
 * The signing key: the configured secret, or the database's own (created by the first instance to
 * need it; a concurrent creator's insert is ignored and both read the one stored). Read once per ORM.
 */
function signingKey(em: EntityManager): Promise<Buffer> {
  const configured = exportLinkSettings(em).secret;
  if (configured) return Promise.resolve(Buffer.from(configured, 'utf8'));
  let key = keyByOrm.get(em.config);
  if (!key) {
    key = (async () => {
      const fork = em.fork();
      const sql = sqlOf(fork);
      await sql.run('insert into export_link_secret (id, secret, created_at) values (1, ?, ?) on conflict (id) do nothing', [randomBytes(32).toString('base64url'), sql.date(new Date())]);
      const row = await fork.findOneOrFail(ExportLinkSecret, 1, { disableIdentityMap: true });
      return Buffer.from(row.secret, 'utf8');
    })();
    // A failed read is not cached: the next link tries again.
    key.catch(() => keyByOrm.delete(em.config));
    keyByOrm.set(em.config, key);
  }
  return key;
}

/** The signed parts of a link. */
export interface LinkClaims {
  file: string;
  filter: FactFilter;
  tokenId: string;
  /** Unix seconds. */
  expires: number;
}

/** The text signed: every claim, normalised as the CSV route reads it back from the query string. */
function canonical(c: LinkClaims): string {
  const f = c.filter;
  const code = (v: string | null | undefined) => (v ? v.trim().toUpperCase() : '');
  return ['tiered-sla export link v1', c.tokenId, c.file, f.from, f.to, f.tier ?? '', code(f.provider), code(f.customer), f.updatedSince ? f.updatedSince.toISOString() : '', String(c.expires)].join(
    '\n',
  );
}

async function signatureOf(em: EntityManager, c: LinkClaims): Promise<Buffer> {
  return createHmac('sha256', await signingKey(em))
    .update(canonical(c))
    .digest();
}

/** The path and query of a signed link to `/export/<file>.csv`. */
export async function signedPath(em: EntityManager, c: LinkClaims): Promise<string> {
  const q = new URLSearchParams({ from: c.filter.from, to: c.filter.to });
  if (c.filter.tier) q.set('tier', c.filter.tier);
  if (c.filter.provider) q.set('provider', c.filter.provider);
  if (c.filter.customer) q.set('customer', c.filter.customer);
  if (c.filter.updatedSince) q.set('updatedSince', c.filter.updatedSince.toISOString());
  q.set('expires', String(c.expires));
  q.set('token', c.tokenId);
  q.set('sig', (await signatureOf(em, c)).toString('base64url'));
  return `/export/${c.file}.csv?${q.toString()}`;
}

/** Whether a request carries a signed link rather than (or besides) a header. */
export function isLinkRequest(params: URLSearchParams): boolean {
  return params.has('sig') || params.has('token') || params.has('expires');
}

/** Why a link is refused: `unauthenticated` (401: malformed, expired) or `forbidden` (403: the signature does not match). */
export type LinkProblem = { status: 401 | 403; message: string };

/**
 * Checks a link's signature (timing-safe) and expiry at `now`; returns its token id, or the
 * problem. The filter is the one the route parsed from the same query string.
 */
export async function verifyLink(em: EntityManager, file: string, filter: FactFilter, params: URLSearchParams, now: Date): Promise<{ tokenId: string } | LinkProblem> {
  const expiresText = params.get('expires') ?? '';
  const tokenId = params.get('token') ?? '';
  const sigText = params.get('sig') ?? '';
  if (!/^\d{1,12}$/.test(expiresText) || !/^[0-9a-f-]{36}$/i.test(tokenId) || !/^[A-Za-z0-9_-]{43}$/.test(sigText)) {
    return { status: 401, message: 'Malformed export link: expected expires (Unix seconds), token (a token id) and sig (its signature); create one with createExportLink' };
  }
  const expires = Number(expiresText);
  const expected = await signatureOf(em, { file, filter, tokenId, expires });
  // Compared as text, not as decoded bytes: the last of 43 base64url characters carries two unused
  // bits, so decoding would accept four spellings of one signature (an altered link that still works).
  const given = Buffer.from(sigText, 'ascii');
  const wanted = Buffer.from(expected.toString('base64url'), 'ascii');
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    return { status: 403, message: 'The export link’s signature does not match its parameters: it was altered or not made by this server; create a new one with createExportLink' };
  }
  if (expires * 1000 <= now.getTime()) {
    return { status: 401, message: `The export link expired at ${new Date(expires * 1000).toISOString()}; create a new one with createExportLink` };
  }
  return { tokenId };
}

/** What is wrong with a link request, as user errors (all at once, before any signing). */
function linkProblems(input: { entity: string; filter: FactFilter; ttlSeconds?: number | null }): UserError[] {
  const errors: UserError[] = [];
  if (!factTableOf(input.entity))
    errors.push(new UserError('entity', UserErrorCode.INVALID, `expected one of ${FACT_TABLES.map((t) => t.file).join(', ')}, received ${JSON.stringify(input.entity.slice(0, 100))}`));
  const ttl = input.ttlSeconds ?? DEFAULT_LINK_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_LINK_TTL_SECONDS)
    errors.push(new UserError('ttlSeconds', UserErrorCode.INVALID, `expected 1 to ${MAX_LINK_TTL_SECONDS} seconds, received ${ttl}`));
  // The CSV route refuses these (400), so a link with them could never work.
  for (const side of ['provider', 'customer'] as const) {
    const value = input.filter[side];
    if (value == null) continue;
    const problem = textProblem(value) ?? (value.length > 100 ? `expected at most 100 characters, received ${value.length}` : null);
    if (problem) errors.push(new UserError(`filter.${side}`, UserErrorCode.INVALID, `filter.${side}: ${problem}`));
  }
  try {
    // The months are Month scalars already; the window's order and length are checked here.
    windowMonths(input.filter.from, input.filter.to);
  } catch (e) {
    if (!(e instanceof BadUserInputError)) throw e;
    errors.push(new UserError('filter.to', UserErrorCode.INVALID, e.message));
  }
  return errors;
}

/**
 * A signed link to `/export/<entity>.csv` with `filter`, for the calling principal's token, valid
 * `ttlSeconds` from the request's instant. Writes nothing (docs/decisions.md).
 */
export async function createExportLink(
  ctx: Context,
  input: { entity: string; filter: FactFilter; ttlSeconds?: number | null },
): Promise<{ link: { url: string; path: string; expiresAt: Date } | null; userErrors: UserError[] }> {
  if (!ctx.principal) throw new UnauthenticatedError();
  const userErrors = linkProblems(input);
  if (userErrors.length) return { link: null, userErrors };
  const expires = Math.floor(ctx.request.now.getTime() / 1000) + (input.ttlSeconds ?? DEFAULT_LINK_TTL_SECONDS);
  const path = await signedPath(ctx.em, { file: input.entity, filter: input.filter, tokenId: ctx.principal.tokenId, expires });
  return { link: { url: `${exportLinkSettings(ctx.em).baseUrl}${path}`, path, expiresAt: new Date(expires * 1000) }, userErrors: [] };
}
