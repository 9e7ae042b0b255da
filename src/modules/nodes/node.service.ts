/**
 * `node(id:)` and `nodes(ids:)` (issue 16, Relay object identification): which type an id belongs
 * to, the row, and whether the principal may read it by the same rule as the type's own query.
 *
 * Ids are the rows' UUIDs, unique across tables, so an id needs no typename prefix: one statement
 * (`UNION ALL` of `select 'Type', id from table where id in (…)` over every Node table) finds the
 * types of a whole batch of ids, then one statement per type found loads the rows. The batch is a
 * per-request DataLoader, so aliased `node` fields and `nodes(ids:)` cost the same two or three
 * statements.
 */
import DataLoader from 'dataloader';
import { isUUID } from 'class-validator';
import type { EntityManager, EntityName, FilterQuery } from '@mikro-orm/core';
import type { Context, Principal } from '../../common/context';
import { ForbiddenError } from '../../common/errors';
import { may } from '../../common/policy';
import { Role } from '../../common/role';
import { sqlOf } from '../../common/sql';
import { Agreement, AgreementVersion, Amendment, Objective } from '../agreements/agreement.entity';
import { AgreementLifecycleRequest } from '../agreements/lifecycle.entity';
import { AuditEntry } from '../audit/audit.entity';
import { ApiToken } from '../auth/api-token.entity';
import { User } from '../auth/user.entity';
import { Metric } from '../catalog/metric.entity';
import { Service } from '../catalog/service.entity';
import { Department } from '../departments/department.entity';
import { Escalation, EscalationBatch } from '../escalations/escalation.entity';
import { Measurement, MeasurementBatch } from '../measurements/measurement.entity';
import { HandoffBatch, HandoffEvent } from '../handoffs/handoff.entity';
import { CreditEntry, MonthReopening } from '../ledger/ledger.entity';
import { Exclusion, Report, ReportRevision, ReportValue } from '../reports/report.entity';
import { WebhookDelivery, WebhookSubscription } from '../webhooks/webhook.entity';
import { inboxItemsByIds } from '../notifications/inbox.service';

/** Who may read a row of a kind: nothing (readable), or the refusal's message. */
type ReadRule<T> = (principal: Principal, row: T) => string | null;

/** Readable by every authenticated principal, as the type's own query is. */
const EVERYONE: ReadRule<unknown> = () => null;

/** One Node type stored in a table: its GraphQL name, entity, and read rule. */
interface TableKind<T extends object = object> {
  typename: string;
  entity: EntityName<T>;
  /** Relations to load with the rows, for the read rule. */
  populate?: string[];
  read: ReadRule<T>;
}

function kind<T extends object>(typename: string, entity: EntityName<T>, read: ReadRule<T>, populate?: string[]): TableKind {
  return { typename, entity, read, populate } as unknown as TableKind;
}

const adminsOnly =
  (action: 'user:manage' | 'token:manage' | 'audit:read', what: string): ReadRule<unknown> =>
  (p) =>
    may(p, action, null) ? null : `This needs the role ADMIN to read ${what}; the token's user is ${p.role}`;

const webhookRule = (p: Principal, departmentId: string): string | null =>
  may(p, 'webhook:manage', { departmentId }) ? null : `A ${p.role} principal may not read this webhook subscription: only admins and the heads of its department do`;

/** A batch of ingest (handoffs, measurements, escalations), shown only in the payload of the call that made it: admins and the user that sent it. */
const senderOnly =
  (what: string): ReadRule<{ recordedByUserId: string }> =>
  (p, b) =>
    p.role === Role.ADMIN || p.userId === b.recordedByUserId ? null : `A ${p.role} principal may not read this ${what}: only admins and the user that sent it do`;

/**
 * Every Node type kept in a table, with the rule of its own query: catalogs, agreements, reports,
 * escalations, lifecycle requests, handoffs, measurements, credits and reopenings are read by every principal; users by admins
 * (and `me`, one's own); tokens and the audit log by admins; webhook subscriptions and their
 * deliveries by admins and the heads of their department (`webhookSubscriptions`); a batch of
 * handoffs, measurements or escalations (shown only in the payload of the ingest that made it) by
 * admins and the user that sent it.
 */
export const TABLE_KINDS: readonly TableKind[] = [
  kind('Department', Department, EVERYONE),
  kind('Service', Service, EVERYONE),
  kind('Metric', Metric, EVERYONE),
  kind<User>('User', User, (p, u) => (p.userId === u.id ? null : adminsOnly('user:manage', 'other users')(p, u))),
  kind('ApiToken', ApiToken, adminsOnly('token:manage', 'API tokens')),
  kind('AuditEntry', AuditEntry, adminsOnly('audit:read', 'the audit log')),
  kind('Agreement', Agreement, EVERYONE),
  kind('AgreementVersion', AgreementVersion, EVERYONE),
  kind('Objective', Objective, EVERYONE),
  kind('Amendment', Amendment, EVERYONE),
  kind('Report', Report, EVERYONE),
  kind('ReportRevision', ReportRevision, EVERYONE),
  kind('ReportValue', ReportValue, EVERYONE),
  kind('Exclusion', Exclusion, EVERYONE),
  kind('Escalation', Escalation, EVERYONE),
  kind('AgreementLifecycleRequest', AgreementLifecycleRequest, EVERYONE),
  kind('HandoffEvent', HandoffEvent, EVERYONE),
  kind<HandoffBatch>('HandoffBatch', HandoffBatch, senderOnly('handoff batch')),
  kind('Measurement', Measurement, EVERYONE),
  kind<MeasurementBatch>('MeasurementBatch', MeasurementBatch, senderOnly('measurement batch')),
  kind<EscalationBatch>('EscalationBatch', EscalationBatch, senderOnly('escalation batch')),
  kind('CreditEntry', CreditEntry, EVERYONE),
  kind('MonthReopening', MonthReopening, EVERYONE),
  kind<WebhookSubscription>('WebhookSubscription', WebhookSubscription, (p, s) => webhookRule(p, s.department.id)),
  kind<WebhookDelivery>('WebhookDelivery', WebhookDelivery, (p, d) => webhookRule(p, d.subscription.getEntity().department.id), ['subscription']),
];

/** Node types that are views rather than rows: an inbox item is a domain event as its reader sees it. */
export const VIEW_KINDS = ['InboxItem'] as const;

/** Every type that implements `Node` and that `node(id:)` finds (a test compares it with the schema). */
export const NODE_TYPENAMES: readonly string[] = [...TABLE_KINDS.map((k) => k.typename), ...VIEW_KINDS];

/** What an id names: its type and value, or the refusal of the principal's read rule. */
export type NodeHit = { typename: string; value: object; refusal: string | null } | null;

/**
 * The types of `ids` in one statement: a UNION ALL over the Node tables (and the domain events
 * inbox items are made of), ids lower-cased as stored.
 */
async function typesOf(em: EntityManager, ids: string[]): Promise<Map<string, string>> {
  const meta = em.getMetadata();
  const list = ids.map(() => '?').join(', ');
  const parts = TABLE_KINDS.map((k) => ({ typename: k.typename, table: meta.get(k.entity as never).tableName }));
  parts.push({ typename: 'InboxItem', table: 'domain_event' });
  const statement = parts.map((p) => `select '${p.typename}' as "t", "id" from "${p.table}" where "id" in (${list})`).join(' union all ');
  const rows = await sqlOf(em).rows<{ t: string; id: string }>(
    statement,
    parts.flatMap(() => ids),
  );
  return new Map(rows.map((r) => [String(r.id).toLowerCase(), r.t]));
}

/** Loads the nodes of a batch of ids: one statement for their types, one per type found. */
async function loadNodes(ctx: Context, keys: readonly string[]): Promise<NodeHit[]> {
  const ids = [...new Set(keys.filter((k) => isUUID(k)).map((k) => k.toLowerCase()))];
  if (!ids.length) return keys.map(() => null);
  const types = await typesOf(ctx.em, ids);
  const byType = new Map<string, string[]>();
  for (const [id, t] of types) byType.set(t, [...(byType.get(t) ?? []), id]);
  const found = new Map<string, { typename: string; value: object }>();
  await Promise.all(
    [...byType].map(async ([typename, typeIds]) => {
      if (typename === 'InboxItem') {
        // Only the events the principal may read come back: the others stay unknown (null).
        for (const item of await inboxItemsByIds(ctx, typeIds)) found.set(item.id, { typename, value: Object.assign(item, { __typename: 'InboxItem' }) });
        return;
      }
      const k = TABLE_KINDS.find((x) => x.typename === typename) as TableKind;
      const rows = await ctx.em.find(k.entity, { id: { $in: typeIds } } as FilterQuery<object>, k.populate ? { populate: k.populate as never } : {});
      for (const row of rows) found.set((row as { id: string }).id, { typename, value: row });
    }),
  );
  const principal = ctx.principal as Principal;
  return keys.map((key) => {
    const hit = isUUID(key) ? found.get(key.toLowerCase()) : undefined;
    if (!hit) return null;
    const k = TABLE_KINDS.find((x) => x.typename === hit.typename);
    return { ...hit, refusal: k ? k.read(principal, hit.value) : null };
  });
}

/** Most ids one batch reads: its types statement binds each id once per Node table (27 × 100 parameters). */
const MAX_NODE_BATCH = 100;

const loaders = new WeakMap<EntityManager, DataLoader<string, NodeHit>>();

/** The request's node loader (one per request EntityManager), so every `node` field of a query shares one batch. */
function nodeLoader(ctx: Context): DataLoader<string, NodeHit> {
  let loader = loaders.get(ctx.em);
  if (!loader) {
    // Batches of at most MAX_NODE_BATCH ids: the types statement binds every id once per Node
    // table, so aliased `nodes(ids:)` fields (2,500 ids) would pass the engines' parameter limits.
    loader = new DataLoader((keys) => loadNodes(ctx, keys), { maxBatchSize: MAX_NODE_BATCH });
    loaders.set(ctx.em, loader);
  }
  return loader;
}

/** The object with this id, or null when none is known (or the id is not a UUID); FORBIDDEN where the type's own query would refuse it. */
export async function findNode(ctx: Context, id: string): Promise<object | null> {
  const hit = await nodeLoader(ctx).load(id);
  if (!hit) return null;
  if (hit.refusal) throw new ForbiddenError(hit.refusal);
  return hit.value;
}

/** `findNode` for each id, in order: null for an unknown id, an error in the slot of a refused one. */
export async function findNodes(ctx: Context, ids: readonly string[]): Promise<Array<object | null | Error>> {
  const hits = await nodeLoader(ctx).loadMany(ids);
  return hits.map((hit) => {
    if (hit instanceof Error) return hit;
    if (!hit) return null;
    return hit.refusal ? new ForbiddenError(hit.refusal) : hit.value;
  });
}
