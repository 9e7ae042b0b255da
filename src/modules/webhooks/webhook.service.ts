/**
 * Webhook subscriptions (DESIGN §10, docs/webhooks.md): who may manage them (`webhook:manage`:
 * heads for their department, admins any), their validation, their secrets (shown once), and
 * their delivery log. Sending is the worker's (webhook.delivery.ts, src/jobs/webhook-worker.ts).
 */
import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { isUUID } from 'class-validator';
import { principalOf } from '../../common/authorization';
import { normalizeCode } from '../../common/codes';
import { paginate, type Page } from '../../common/connection';
import type { Context } from '../../common/context';
import { ForbiddenError } from '../../common/errors';
import { EVENT_TYPES } from '../../common/events';
import { rowLock } from '../../common/locks';
import { assertVersion, runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { consumeOutbox, outboxEnd } from '../../common/outbox';
import { assertMay, may } from '../../common/policy';
import { Role } from '../../common/role';
import { sqlOf } from '../../common/sql';
import { UserError, UserErrorCode, UserErrorsException, userError } from '../../common/user-error';
import { validateInput } from '../../common/validation';
import { Department } from '../departments/department.entity';
import { addressProblem, urlProblem } from './webhook.address';
import { cancelPending } from './webhook.delivery';
import { WebhookDelivery, WebhookDeliveryStatus, WebhookStatus, WebhookSubscription } from './webhook.entity';
import { WEBHOOK_CONSUMER } from './webhook.fanout';
import type { CreateWebhookSubscriptionInput, DisableWebhookSubscriptionInput, RedeliverWebhookInput, WebhookDeliveryArgs, WebhookSubscriptionVersionInput } from './webhook.inputs';
import { webhookSettings } from './webhook.settings';
import { newSecret } from './webhook.signing';

/** How long the secret before a rotation keeps signing beside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** A subscription with the secret it was just given: what the creating and rotating mutations return. */
export interface WithSecret {
  subscription: WebhookSubscription;
  secret: string;
}

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

/** The department with this id or code, if any. */
function findDepartment(em: EntityManager, ref: string): Promise<Department | null> {
  const trimmed = ref.trim();
  return isUUID(trimmed) ? em.findOne(Department, { id: trimmed.toLowerCase() }) : em.findOne(Department, { code: normalizeCode(trimmed) });
}

/** The department named by an id or a code, or a NOT_FOUND user error on `department`. */
async function departmentNamed(em: EntityManager, ref: string): Promise<Department> {
  const found = await findDepartment(em, ref);
  if (!found) userError('department', UserErrorCode.NOT_FOUND, `no department has id or code ${JSON.stringify(ref)}`);
  if (found.archivedAt) userError('department', UserErrorCode.ARCHIVED, `department ${found.code} is archived`);
  return found;
}

/** The department, if the principal may manage its webhooks; else a FORBIDDEN user error on `department`. */
async function manageableDepartment(ctx: Context, em: EntityManager, ref: string): Promise<Department> {
  const department = await departmentNamed(em, ref);
  const actor = principalOf(ctx);
  if (!may(actor, 'webhook:manage', { departmentId: department.id })) {
    userError('department', UserErrorCode.FORBIDDEN, `A ${actor.role} principal may not manage the webhooks of ${department.code}: only admins and its heads do`);
  }
  return department;
}

/**
 * Everything about the input that needs no network, each problem on its field: the input's
 * shape, every event type known, the URL well formed and https (or allowed http).
 */
async function inputProblems(em: EntityManager, input: CreateWebhookSubscriptionInput): Promise<{ errors: UserError[]; url: URL | null }> {
  const errors = await validateInput(input);
  const types = Array.isArray(input.eventTypes) ? input.eventTypes : [];
  types.forEach((type, i) => {
    if (!KNOWN_TYPES.has(type)) errors.push(new UserError(`eventTypes[${i}]`, UserErrorCode.INVALID, `unknown event type ${JSON.stringify(type)}; expected one of ${EVENT_TYPES.join(', ')}`));
  });
  let url: URL | null = null;
  if (typeof input.url === 'string') {
    const parsed = urlProblem(input.url.trim(), webhookSettings(em).allowHttp);
    if ('problem' in parsed) errors.push(new UserError('url', UserErrorCode.INVALID, parsed.problem));
    else url = parsed.url;
  }
  return { errors, url };
}

/**
 * Creates a subscription: checks, cheapest first and all before anything is written, the input
 * (event types, URL), the department and the principal's right to manage its webhooks, then the
 * URL's addresses (DNS) unless private ones are allowed; the network is asked outside the
 * transaction. It hears the events committed after it (its outbox position). The secret is
 * returned here only (and to a replay of the same idempotency key, since a lost answer would
 * otherwise lose it).
 */
export async function createSubscription(ctx: Context, input: CreateWebhookSubscriptionInput, now = ctx.request.now): Promise<MutationResult<WithSecret>> {
  const settings = webhookSettings(ctx.em);
  try {
    const { errors, url } = await inputProblems(ctx.em, input);
    if (errors.length) throw new UserErrorsException(errors);
    await manageableDepartment(ctx, ctx.em, input.department);
    if (!settings.allowPrivate && url) {
      const problem = await addressProblem(url);
      if (problem) userError('url', UserErrorCode.INVALID, problem);
    }
  } catch (e) {
    if (e instanceof UserErrorsException) return { result: null, userErrors: e.errors };
    throw e;
  }
  const r = await runCreate(ctx, 'createWebhookSubscription', input, WebhookSubscription, async (em) => {
    const department = await manageableDepartment(ctx, em, input.department);
    // The fan-out's cursor exists from now on (a first use starts at the outbox's end), so the
    // events after this subscription's position are fanned out, not skipped by a later first use.
    await consumeOutbox(em, WEBHOOK_CONSUMER, 0, now, async () => undefined);
    const sub = em.create(WebhookSubscription, {
      department,
      url: input.url.trim(),
      eventTypes: [...new Set(input.eventTypes)],
      description: input.description?.trim() || null,
      secret: newSecret(),
      ...(await startingPoint(em)),
      createdByUserId: principalOf(ctx).userId,
    });
    await em.flush();
    return sub;
  });
  return r.result ? { result: { subscription: r.result, secret: r.result.secret }, userErrors: [] } : { result: null, userErrors: r.userErrors };
}

/** Where a subscription starts hearing: the outbox's end now, and on PostgreSQL the snapshot that says what had committed. */
async function startingPoint(em: EntityManager): Promise<Pick<WebhookSubscription, 'outboxTx' | 'outboxSeq' | 'outboxSnapshot'>> {
  const position = await outboxEnd(em);
  const sql = sqlOf(em);
  const snapshot = sql.pg ? (await sql.rows<{ s: string }>('select txid_current_snapshot()::text as "s"'))[0].s : null;
  return { outboxTx: position.tx, outboxSeq: position.seq, outboxSnapshot: snapshot };
}

/** Loads a subscription for a change: NOT_FOUND on `id`, FORBIDDEN unless the principal manages its department, then the version. */
async function subscriptionForUpdate(ctx: Context, em: EntityManager, input: WebhookSubscriptionVersionInput): Promise<WebhookSubscription> {
  const lockMode = rowLock(em, 'update');
  const sub = await em.findOne(WebhookSubscription, { id: input.id.toLowerCase() }, lockMode ? { lockMode, refresh: true } : {});
  if (!sub) userError('id', UserErrorCode.NOT_FOUND, `no webhook subscription has id ${input.id}`);
  assertMay(ctx, 'webhook:manage', { departmentId: sub.department.id }, (p) => `A ${p.role} principal may not manage this webhook subscription: only admins and the heads of its department do`);
  assertVersion(sub, input.expectedVersion);
  return sub;
}

/** A new secret; the one before keeps signing beside it for {@link ROTATION_OVERLAP_MS}. */
export async function rotateSecret(ctx: Context, input: WebhookSubscriptionVersionInput, now = ctx.request.now): Promise<MutationResult<WithSecret>> {
  return runMutation(ctx, async (em) => {
    await assertInput(input);
    const sub = await subscriptionForUpdate(ctx, em, input);
    sub.previousSecret = sub.secret;
    sub.previousSecretExpiresAt = new Date(now.getTime() + ROTATION_OVERLAP_MS);
    sub.secret = newSecret();
    await em.flush();
    return { subscription: sub, secret: sub.secret };
  });
}

async function assertInput(input: object): Promise<void> {
  const errors = await validateInput(input);
  if (errors.length) throw new UserErrorsException(errors);
}

/** ENABLED → DISABLED by a person: it hears nothing more, its pending deliveries are cancelled. */
export function disableSubscription(ctx: Context, input: DisableWebhookSubscriptionInput, now = ctx.request.now): Promise<MutationResult<WebhookSubscription>> {
  return runMutation(ctx, async (em) => {
    await assertInput(input);
    const sub = await subscriptionForUpdate(ctx, em, input);
    if (sub.status === WebhookStatus.DISABLED) userError('id', UserErrorCode.ILLEGAL_TRANSITION, 'the webhook subscription is already disabled');
    const reason = input.reason?.trim() || `Disabled by ${principalOf(ctx).role} ${principalOf(ctx).userId}`;
    sub.status = WebhookStatus.DISABLED;
    sub.disabledAt = now;
    sub.disabledReason = reason;
    await em.flush();
    await cancelPending(em, sub.id, reason, now);
    return sub;
  });
}

/**
 * DISABLED → ENABLED: it hears the events committed from now on (what happened while it was
 * disabled is not sent; its cancelled deliveries may be redelivered one by one).
 */
export function enableSubscription(ctx: Context, input: WebhookSubscriptionVersionInput): Promise<MutationResult<WebhookSubscription>> {
  return runMutation(ctx, async (em) => {
    await assertInput(input);
    const sub = await subscriptionForUpdate(ctx, em, input);
    if (sub.status === WebhookStatus.ENABLED) userError('id', UserErrorCode.ILLEGAL_TRANSITION, 'the webhook subscription is already enabled');
    sub.status = WebhookStatus.ENABLED;
    sub.disabledAt = null;
    sub.disabledReason = null;
    Object.assign(sub, await startingPoint(em));
    await em.flush();
    return sub;
  });
}

/** Deletes a subscription and its delivery log; returns its id. */
export function deleteSubscription(ctx: Context, input: WebhookSubscriptionVersionInput): Promise<MutationResult<string>> {
  return runMutation(ctx, async (em) => {
    await assertInput(input);
    const sub = await subscriptionForUpdate(ctx, em, input);
    const id = sub.id;
    await sqlOf(em).run('delete from "webhook_delivery" where "subscription_id" = ?', [id]);
    em.remove(sub);
    await em.flush();
    return id;
  });
}

/**
 * A new attempt of a finished delivery (DELIVERED, FAILED or CANCELLED): the same message and
 * `webhook-id`, sent at the worker's next tick with a fresh retry cycle. Its subscription must be
 * enabled; a PENDING delivery is refused (it is already on its way).
 */
export function redeliver(ctx: Context, input: RedeliverWebhookInput, now = ctx.request.now): Promise<MutationResult<WebhookDelivery>> {
  return runMutation(ctx, async (em) => {
    await assertInput(input);
    const lockMode = rowLock(em, 'update');
    const delivery = await em.findOne(WebhookDelivery, { id: input.deliveryId.toLowerCase() }, lockMode ? { lockMode, refresh: true } : {});
    if (!delivery) userError('deliveryId', UserErrorCode.NOT_FOUND, `no webhook delivery has id ${input.deliveryId}`);
    const sub = await em.findOneOrFail(WebhookSubscription, delivery.subscription.id);
    assertMay(ctx, 'webhook:manage', { departmentId: sub.department.id }, (p) => `A ${p.role} principal may not redeliver this webhook: only admins and the heads of its department do`);
    if (sub.status !== WebhookStatus.ENABLED) userError('deliveryId', UserErrorCode.ILLEGAL_TRANSITION, 'its webhook subscription is disabled; enable it first');
    if (delivery.status === WebhookDeliveryStatus.PENDING)
      userError('deliveryId', UserErrorCode.ILLEGAL_TRANSITION, `the delivery is already pending (next attempt at ${delivery.nextAttemptAt?.toISOString()})`);
    delivery.status = WebhookDeliveryStatus.PENDING;
    delivery.cycleStart = delivery.attempts;
    delivery.nextAttemptAt = now;
    delivery.leaseUntil = null;
    delivery.updatedAt = now;
    await em.flush();
    return delivery;
  });
}

/** The subscriptions the principal manages: a head its departments', an admin all; optionally one department's (id or code). */
export async function listSubscriptions(ctx: Context, department?: string | null): Promise<WebhookSubscription[]> {
  const actor = principalOf(ctx);
  const where: FilterQuery<WebhookSubscription>[] = [];
  if (department) {
    const d = await findDepartment(ctx.em, department);
    if (!d) return [];
    if (!may(actor, 'webhook:manage', { departmentId: d.id })) throw new ForbiddenError(`A ${actor.role} principal may not read the webhooks of ${d.code}: only admins and its heads do`);
    where.push({ department: d.id });
  } else if (actor.role !== Role.ADMIN) {
    where.push({ department: { $in: [...actor.departmentIds] } });
  }
  return ctx.em.find(WebhookSubscription, { $and: where }, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

/** A subscription's delivery log, newest event first. */
export function listDeliveries(ctx: Context, sub: WebhookSubscription, args: WebhookDeliveryArgs): Promise<Page<WebhookDelivery>> {
  const where: FilterQuery<WebhookDelivery> = args.status ? { subscription: sub.id, status: args.status } : { subscription: sub.id };
  return paginate(
    ctx.em,
    WebhookDelivery,
    where,
    [
      ['eventSeq', 'desc'],
      ['id', 'asc'],
    ],
    args,
  );
}
