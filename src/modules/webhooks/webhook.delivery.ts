/**
 * Sending deliveries (docs/webhooks.md): claim the due ones with a lease, POST each signed, record
 * the outcome. Every step's state is in `webhook_delivery`, so a restart continues where the last
 * process stopped; a claim by an instance that died expires with its lease. The network is never
 * awaited inside a transaction: claim (one transaction), send, record (another).
 */
import http from 'node:http';
import https from 'node:https';
import type { EntityManager } from '@mikro-orm/core';
import { readEventsById } from '../../common/outbox';
import { asDate, sqlOf } from '../../common/sql';
import { addressProblem, PRIVATE_ADDRESS, publicOnlyLookup, urlProblem } from './webhook.address';
import { WebhookDeliveryStatus, WebhookStatus } from './webhook.entity';
import { envelopeOf, signatureHeader } from './webhook.signing';

/**
 * Waits after each failed attempt of a cycle: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h,
 * 20 h (71 h 35 min 5 s, about three days, over 10 attempts), each stretched by up to 10 % of
 * jitter so endpoints that failed together are not retried together. After the last, FAILED.
 */
export const RETRY_DELAYS_MS: readonly number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 72_000_000];

/** The share of a delay added at random, at most. */
export const RETRY_JITTER = 0.1;

/**
 * How long a claim lasts: longer than its batch may take (`rounds` attempts one after another,
 * each up to the timeout), so only a dead instance's claim expires, never one still queued behind
 * slow attempts of a live one.
 */
export function leaseMs(timeoutMs: number, rounds = 1): number {
  return rounds * timeoutMs + 60_000;
}

/** A claimed delivery and what its attempt needs. */
export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  attempts: number;
  cycleStart: number;
  leaseUntil: Date;
}

/**
 * Claims at most `limit` due deliveries of enabled subscriptions until `now + lease`: on
 * PostgreSQL `for update skip locked`, so instances claim disjoint sets; SQLite has one writer.
 */
export async function claimDue(em: EntityManager, now: Date, limit: number, lease: number): Promise<ClaimedDelivery[]> {
  const sql = sqlOf(em);
  const rows = await sql.rows<{ id: string; subscription_id: string; event_id: string; attempts: number | string; cycle_start: number | string }>(
    `select d."id", d."subscription_id", d."event_id", d."attempts", d."cycle_start" from "webhook_delivery" d join "webhook_subscription" s on s."id" = d."subscription_id" ` +
      `where d."status" = ? and d."next_attempt_at" <= ? and (d."lease_until" is null or d."lease_until" <= ?) and s."status" = ? ` +
      `order by d."next_attempt_at", d."event_seq" limit ?${sql.pg ? ' for update of d skip locked' : ''}`,
    [WebhookDeliveryStatus.PENDING, sql.date(now), sql.date(now), WebhookStatus.ENABLED, limit],
  );
  if (!rows.length) return [];
  const leaseUntil = new Date(now.getTime() + lease);
  await sql.run(`update "webhook_delivery" set "lease_until" = ? where "id" in (${rows.map(() => '?').join(', ')})`, [sql.date(leaseUntil), ...rows.map((r) => r.id)]);
  return rows.map((r) => ({ id: r.id, subscriptionId: r.subscription_id, eventId: r.event_id, attempts: Number(r.attempts), cycleStart: Number(r.cycle_start), leaseUntil }));
}

/** What every attempt of a delivery sends: where, the body, and the secrets that sign it now. */
export interface PreparedAttempt {
  url: string;
  eventId: string;
  body: string;
  secrets: string[];
}

/**
 * The messages of claimed deliveries, by delivery id (two statements for the batch), signed with
 * the current secret and, until it expires at `now`, the one before the last rotation. A delivery
 * whose subscription or event is gone is left out.
 */
export async function prepareAttempts(em: EntityManager, claimed: readonly ClaimedDelivery[], now: Date): Promise<Map<string, PreparedAttempt>> {
  const sql = sqlOf(em);
  const prepared = new Map<string, PreparedAttempt>();
  if (!claimed.length) return prepared;
  const subIds = [...new Set(claimed.map((c) => c.subscriptionId))];
  const subs = await sql.rows<{ id: string; url: string; secret: string; previous_secret: string | null; previous_secret_expires_at: unknown }>(
    `select "id", "url", "secret", "previous_secret", "previous_secret_expires_at" from "webhook_subscription" where "id" in (${subIds.map(() => '?').join(', ')})`,
    subIds,
  );
  const subById = new Map(subs.map((s) => [s.id, s]));
  // Plain rows, not entities: a burst prepares thousands, and only the envelope is needed.
  const events = await readEventsById(em, [...new Set(claimed.map((c) => c.eventId))]);
  const bodyById = new Map(events.map((event) => [event.id, envelopeOf(event)]));
  for (const c of claimed) {
    const sub = subById.get(c.subscriptionId);
    const body = bodyById.get(c.eventId);
    if (!sub || body === undefined) continue;
    prepared.set(c.id, attemptOf({ url: sub.url, secret: sub.secret, previousSecret: sub.previous_secret, previousSecretExpiresAt: sub.previous_secret_expires_at }, c.eventId, body, now));
  }
  return prepared;
}

/** An attempt of an event's delivery to a subscription: signed with its secret and, until it expires at `now`, the one before the last rotation. */
export function attemptOf(sub: { url: string; secret: string; previousSecret?: string | null; previousSecretExpiresAt?: unknown }, eventId: string, body: string, now: Date): PreparedAttempt {
  const secrets = [sub.secret];
  if (sub.previousSecret && sub.previousSecretExpiresAt != null && asDate(sub.previousSecretExpiresAt) > now) secrets.push(sub.previousSecret);
  return { url: sub.url, eventId, body, secrets };
}

/** The headers of an attempt sent at `sentAt` (the wall clock: `webhook-timestamp` is for the receiver's replay window). */
export function attemptHeaders(attempt: PreparedAttempt, sentAt: Date): Record<string, string> {
  const timestamp = Math.floor(sentAt.getTime() / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'tiered-sla-webhooks/1',
    'webhook-id': attempt.eventId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(attempt.secrets, attempt.eventId, timestamp, attempt.body),
  };
}

/** How an attempt ended. */
export type AttemptOutcome = { kind: 'delivered'; code: number } | { kind: 'gone'; code: 410 } | { kind: 'failed'; code: number | null; error: string };

/** Response bodies up to this size (by their `content-length`) are read and dropped, so the connection is kept for the next attempt; others close it. */
const REUSABLE_BODY_BYTES = 64 * 1024;

/** A refused or failed POST: `code` is Node's error code (ECONNREFUSED…), when there is one. */
class PostError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly reusedSocket: boolean,
  ) {
    super(message);
  }
}

/**
 * One POST with node:http(s) on the default keep-alive agents: resolves with the status and
 * `location` once the answer's headers arrive. The body is never awaited: a small one (by its
 * `content-length`) is drained in the background so the connection serves the next attempt, any
 * other is cut off with its connection. `fetch` did the same work with a web stream, two abort
 * signals and a DOMException per attempt: in a burst of thousands, most of the worker's CPU.
 */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; allowPrivate: boolean; signal?: AbortSignal },
): Promise<{ status: number; location: string | undefined }> {
  const { timeoutMs, signal } = options;
  return new Promise((resolve, reject) => {
    // Stopped while this attempt waited for its turn (the worker's budget): never sent.
    if (signal?.aborted) return reject(new PostError('aborted', 'ABORT_ERR', false));
    const payload = Buffer.from(body);
    // Unless private addresses are allowed, a new connection goes only to an address its own
    // lookup checked (publicOnlyLookup: no DNS-rebinding window between check and connect).
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(payload.length) },
      ...(options.allowPrivate ? {} : { lookup: publicOnlyLookup }),
    });
    let settled = false;
    const settle = (e: PostError | null, value?: { status: number; location: string | undefined }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else resolve(value!);
    };
    const onAbort = () => {
      settle(new PostError('aborted', 'ABORT_ERR', false));
      req.destroy();
    };
    const timer = setTimeout(() => {
      settle(new PostError(`no answer within ${timeoutMs} ms`, 'TIMEOUT', false));
      req.destroy();
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('response', (res) => {
      res.on('error', () => undefined); // a body cut off or reset after the status: the outcome is settled
      const length = Number(res.headers['content-length']);
      if (Number.isInteger(length) && length <= REUSABLE_BODY_BYTES) res.resume();
      else res.destroy();
      settle(null, { status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on('error', (e: NodeJS.ErrnoException) => settle(new PostError(e.message, e.code, req.reusedSocket)));
    req.end(payload);
  });
}

/**
 * Runs the start of a send (signing, the request, its write) when background work may run (a
 * BackgroundBudget's `start`): the answer is awaited outside it.
 */
export type Gate = <T>(unit: () => T) => Promise<{ value: T }>;

/**
 * POSTs an attempt (its start through `gate`, when given): 2xx delivered, 410 gone, anything else (another status, a redirect — never
 * followed —, a timeout, a refused address, a network error) failed. The address is checked again
 * first unless private ones are allowed (a name may now resolve to a private address). A kept-alive
 * connection the endpoint closed meanwhile (a reset before any answer) is tried once on a new one.
 */
export async function sendAttempt(attempt: PreparedAttempt, options: { timeoutMs: number; allowHttp: boolean; allowPrivate: boolean; signal?: AbortSignal; gate?: Gate }): Promise<AttemptOutcome> {
  const parsed = urlProblem(attempt.url, options.allowHttp);
  if ('problem' in parsed) return { kind: 'failed', code: null, error: `refused: ${parsed.problem}` };
  if (!options.allowPrivate) {
    const problem = await addressProblem(parsed.url);
    if (problem) return { kind: 'failed', code: null, error: `refused: ${problem}` };
  }
  for (let retried = false; ; retried = true) {
    try {
      const send = () => post(parsed.url, attemptHeaders(attempt, new Date()), attempt.body, options);
      const res = await (options.gate ? (await options.gate(send)).value : send());
      if (res.status >= 200 && res.status < 300) return { kind: 'delivered', code: res.status };
      if (res.status === 410) return { kind: 'gone', code: 410 };
      const redirect = res.status >= 300 && res.status < 400 ? ` (redirect to ${res.location ?? 'nowhere'} not followed)` : '';
      return { kind: 'failed', code: res.status, error: `HTTP ${res.status}${redirect}` };
    } catch (e) {
      if (options.signal?.aborted) throw e;
      const failure = e as PostError;
      if (failure.code === 'TIMEOUT') return { kind: 'failed', code: null, error: failure.message };
      if (failure.code === PRIVATE_ADDRESS) return { kind: 'failed', code: null, error: `refused: ${failure.message}` };
      if (failure.reusedSocket && failure.code === 'ECONNRESET' && !retried) continue;
      return { kind: 'failed', code: null, error: `request failed: ${failure.code ?? failure.message}` };
    }
  }
}

/** When a failed attempt is tried again: null when the cycle's attempts are spent. */
export function nextAttemptAfter(failedAttemptsInCycle: number, now: Date, random: () => number = Math.random): Date | null {
  const delay = RETRY_DELAYS_MS[failedAttemptsInCycle - 1];
  if (delay === undefined) return null;
  return new Date(now.getTime() + Math.round(delay * (1 + RETRY_JITTER * random())));
}

/**
 * Records an attempt's outcome, if the claim is still ours (same lease, still PENDING): a 410
 * also disables the subscription (reason stored) and cancels its other pending deliveries.
 */
export async function recordOutcome(em: EntityManager, claimed: ClaimedDelivery, outcome: AttemptOutcome, now: Date): Promise<void> {
  const sql = sqlOf(em);
  const attempts = claimed.attempts + 1;
  const mine = `where "id" = ? and "lease_until" = ? and "status" = ?`;
  const claim = [claimed.id, sql.date(claimed.leaseUntil), WebhookDeliveryStatus.PENDING];
  const common = `"attempts" = ?, "last_attempt_at" = ?, "updated_at" = ?, "lease_until" = null, "last_response_code" = ?`;
  if (outcome.kind === 'delivered') return recordOutcomes(em, [{ claimed, outcome }], now);
  if (outcome.kind === 'gone') {
    const reason = `The endpoint answered 410 Gone at ${now.toISOString()}`;
    await sql.run(`update "webhook_delivery" set ${common}, "status" = ?, "next_attempt_at" = null, "last_error" = ? ${mine}`, [
      attempts,
      sql.date(now),
      sql.date(now),
      410,
      WebhookDeliveryStatus.FAILED,
      '410 Gone: the subscription was disabled',
      ...claim,
    ]);
    await disableSubscription(em, claimed.subscriptionId, reason, now);
    return;
  }
  const next = nextAttemptAfter(attempts - claimed.cycleStart, now);
  await sql.run(`update "webhook_delivery" set ${common}, "status" = ?, "next_attempt_at" = ?, "last_error" = ? ${mine}`, [
    attempts,
    sql.date(now),
    sql.date(now),
    outcome.code,
    next ? WebhookDeliveryStatus.PENDING : WebhookDeliveryStatus.FAILED,
    next ? sql.date(next) : null,
    (next ? outcome.error : `${outcome.error}; gave up after ${attempts - claimed.cycleStart} attempts`).slice(0, 500),
    ...claim,
  ]);
}

/**
 * Records the outcomes of a batch (see {@link recordOutcome}) in a few statements: deliveries that
 * arrived are one update per (attempt number, status code, lease), which in a burst is one per
 * batch, instead of one each; failures (each with its own jittered retry time) and 410s (last,
 * so the deliveries they cancel never include one just delivered) one by one.
 */
export async function recordOutcomes(em: EntityManager, outcomes: ReadonlyArray<{ claimed: ClaimedDelivery; outcome: AttemptOutcome }>, now: Date): Promise<void> {
  const sql = sqlOf(em);
  const delivered = new Map<string, { attempts: number; code: number; leaseUntil: Date; ids: string[] }>();
  for (const { claimed, outcome } of outcomes) {
    if (outcome.kind !== 'delivered') continue;
    const key = `${claimed.attempts}|${outcome.code}|${claimed.leaseUntil.getTime()}`;
    const group = delivered.get(key);
    if (group) group.ids.push(claimed.id);
    else delivered.set(key, { attempts: claimed.attempts + 1, code: outcome.code, leaseUntil: claimed.leaseUntil, ids: [claimed.id] });
  }
  for (const group of delivered.values()) {
    for (let i = 0; i < group.ids.length; i += 500) {
      const ids = group.ids.slice(i, i + 500);
      await sql.run(
        `update "webhook_delivery" set "attempts" = ?, "last_attempt_at" = ?, "updated_at" = ?, "lease_until" = null, "last_response_code" = ?, "status" = ?, "delivered_at" = ?, "next_attempt_at" = null, "last_error" = null ` +
          `where "id" in (${ids.map(() => '?').join(', ')}) and "lease_until" = ? and "status" = ?`,
        [group.attempts, sql.date(now), sql.date(now), group.code, WebhookDeliveryStatus.DELIVERED, sql.date(now), ...ids, sql.date(group.leaseUntil), WebhookDeliveryStatus.PENDING],
      );
    }
  }
  for (const kind of ['failed', 'gone'] as const) {
    for (const o of outcomes) if (o.outcome.kind === kind) await recordOutcome(em, o.claimed, o.outcome, now);
  }
}

/** Gives a claim back untouched (the process is stopping mid-attempt): the next tick tries it again. */
export async function releaseClaim(em: EntityManager, claimed: ClaimedDelivery): Promise<void> {
  const sql = sqlOf(em);
  await sql.run(`update "webhook_delivery" set "lease_until" = null where "id" = ? and "lease_until" = ?`, [claimed.id, sql.date(claimed.leaseUntil)]);
}

/**
 * DISABLED with a reason (a person, or a 410), its version bumped (an optimistic writer holding
 * the old one gets CONFLICT), and its pending deliveries CANCELLED: nothing more is sent.
 */
export async function disableSubscription(em: EntityManager, subscriptionId: string, reason: string, now: Date): Promise<void> {
  const sql = sqlOf(em);
  await sql.run(`update "webhook_subscription" set "status" = ?, "disabled_at" = ?, "disabled_reason" = ?, "version" = "version" + 1, "updated_at" = ? where "id" = ? and "status" = ?`, [
    WebhookStatus.DISABLED,
    sql.date(now),
    reason.slice(0, 500),
    sql.date(now),
    subscriptionId,
    WebhookStatus.ENABLED,
  ]);
  await cancelPending(em, subscriptionId, reason, now);
}

/** The subscription's PENDING deliveries CANCELLED, saying why (it was disabled). */
export async function cancelPending(em: EntityManager, subscriptionId: string, reason: string, now: Date): Promise<void> {
  const sql = sqlOf(em);
  await sql.run(`update "webhook_delivery" set "status" = ?, "next_attempt_at" = null, "lease_until" = null, "last_error" = ?, "updated_at" = ? where "subscription_id" = ? and "status" = ?`, [
    WebhookDeliveryStatus.CANCELLED,
    `cancelled: ${reason}`.slice(0, 500),
    sql.date(now),
    subscriptionId,
    WebhookDeliveryStatus.PENDING,
  ]);
}
