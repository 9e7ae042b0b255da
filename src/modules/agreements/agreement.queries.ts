/** Reading agreements: by id or key, lists with filters, and the inheritance chain of a month. */
import type { FilterQuery } from '@mikro-orm/core';
import { isUUID } from 'class-validator';
import { paginate, type Page } from '../../common/connection';
import { BadUserInputError, NotFoundError } from '../../common/errors';
import { idOfRef } from '../../common/lookup';
import { Department } from '../departments/department.entity';
import { Service } from '../catalog/service.entity';
import { monthOf, type Month } from '../../common/month';
import type { Context } from '../../common/context';
import { Agreement, AgreementStatus, AgreementVersion, Objective, Tier } from './agreement.entity';
import type { AgreementFilter } from './agreement.inputs';
import { type ChainLevel, type ChainObjective } from './inheritance';
import { loadManyOrThrow } from '../../common/loaders';
import { versionAt, displayStatus } from './agreement.rules';

/** One agreement by id or key (exactly one); NOT_FOUND when there is none. */
export async function findAgreement(ctx: Context, id?: string | null, key?: string | null): Promise<Agreement> {
  if ((id ? 1 : 0) + (key ? 1 : 0) !== 1) throw new BadUserInputError('agreement: expected exactly one of id or key');
  const found = id ? (isUUID(id) ? await ctx.loaders.agreementById.load(id) : null) : await ctx.em.findOne(Agreement, { key: (key as string).trim().toUpperCase() });
  if (!found) throw new NotFoundError('Agreement', id ? `id ${id}` : `key ${key}`);
  return found;
}

/** The agreements connection, ordered by key. */
export async function listAgreements(ctx: Context, filter: AgreementFilter | undefined, page: { first?: number | null; after?: string | null }): Promise<Page<Agreement>> {
  const where: FilterQuery<Agreement>[] = [];
  // Each party filter takes an id or a code; `provider` and `customer` are the names the fact
  // filters use, `providerId` and `customerId` the older ones (both kept, both narrow).
  const [providerId, customerId, provider, customer, service] = await Promise.all([
    idOfRef(ctx.em, Department, 'Department', 'filter.providerId', filter?.providerId),
    idOfRef(ctx.em, Department, 'Department', 'filter.customerId', filter?.customerId),
    idOfRef(ctx.em, Department, 'Department', 'filter.provider', filter?.provider),
    idOfRef(ctx.em, Department, 'Department', 'filter.customer', filter?.customer),
    idOfRef(ctx.em, Service, 'Service', 'filter.serviceId', filter?.serviceId),
  ]);
  if (filter?.tier) where.push({ tier: filter.tier });
  if (filter?.status) {
    const stored = [AgreementStatus.DRAFT, AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED, AgreementStatus.TERMINATED] as string[];
    if (!stored.includes(filter.status)) {
      throw new BadUserInputError(
        `filter.status: expected DRAFT, ACTIVE, SUSPENDED or TERMINATED (EXPIRED is derived from effectiveTo: filter ACTIVE and read status), received ${JSON.stringify(filter.status)}`,
        'filter.status',
      );
    }
    where.push({ state: filter.status });
  }
  for (const id of [providerId, provider]) if (id) where.push({ provider: id });
  for (const id of [customerId, customer]) if (id) where.push({ customer: id });
  if (service) where.push({ service });
  if (filter?.measuredOnly) {
    // Measured: ACTIVE CUSTOMER or SERVICE agreements without ACTIVE children (DESIGN §3).
    const parents = await ctx.em.find(Agreement, { state: AgreementStatus.ACTIVE, parent: { $ne: null } }, { fields: ['parent'], disableIdentityMap: true });
    const containers = [...new Set(parents.map((a) => a.parent?.id).filter((x): x is string => !!x))];
    where.push({ state: AgreementStatus.ACTIVE, tier: { $in: [Tier.CUSTOMER, Tier.SERVICE] } });
    // Nor terminated from a month that has come, even before the scheduler stores it (issue 16).
    where.push({ $or: [{ terminatesFrom: null }, { terminatesFrom: { $gt: monthOf(ctx.request.now) } }] });
    // Nor past their last month (shown EXPIRED): only agreements with an ended version can be.
    // Candidates only (a month ahead of UTC, for zones east of it); displayStatus decides in the zone.
    const ended = await ctx.em.find(AgreementVersion, { effectiveTo: { $lt: monthOf(new Date(ctx.request.now.getTime() + 14 * 3_600_000)) } }, { fields: ['agreement'], disableIdentityMap: true });
    const endedIds = [...new Set(ended.map((v) => v.agreement.id))];
    const expired: string[] = [];
    if (endedIds.length) {
      const [rows, versions] = await Promise.all([ctx.em.find(Agreement, { id: { $in: endedIds } }), ctx.em.find(AgreementVersion, { agreement: { $in: endedIds } })]);
      for (const a of rows)
        if (
          displayStatus(
            a,
            versions.filter((v) => v.agreement.id === a.id),
            ctx.request.now,
          ) === AgreementStatus.EXPIRED
        )
          expired.push(a.id);
    }
    const excluded = [...containers, ...expired];
    if (excluded.length) where.push({ id: { $nin: excluded } });
  }
  return paginate(
    ctx.em,
    Agreement,
    { $and: where },
    [
      ['key', 'asc'],
      ['id', 'asc'],
    ],
    page,
  );
}

/** An objective with its metric's direction and code, as the inheritance rules need them. */
export type LoadedObjective = ChainObjective & { objective: Objective };

/**
 * Loads into the loaders, in one batched statement per kind, what {@link chainAt} reads for
 * `agreement` in `month`: its ancestors (one level at a time, as each names its parent), the
 * versions of the whole chain, the objectives of the versions in force and their metrics. A write
 * about one agreement-month then resolves its chain with four statements instead of three per level.
 * Returns the agreement's own versions.
 */
export async function prefetchChain(ctx: Pick<Context, 'loaders'>, agreement: Agreement, month: Month): Promise<AgreementVersion[]> {
  const chain: Agreement[] = [agreement];
  for (let a: Agreement | null = agreement; a?.parent && chain.length < 5;) {
    a = await ctx.loaders.agreementById.load(a.parent.id);
    if (a) chain.push(a);
  }
  const versions = await loadManyOrThrow(
    ctx.loaders.versionsByAgreement,
    chain.map((a) => a.id),
  );
  const inForce = versions.map((vs) => versionAt(vs, month)).filter((v): v is AgreementVersion => !!v);
  const objectives = await loadManyOrThrow(
    ctx.loaders.objectivesByVersion,
    inForce.map((v) => v.id),
  );
  await loadManyOrThrow(ctx.loaders.metricById, [...new Set(objectives.flat().map((o) => o.metric.id))], 'Metric');
  return versions[0];
}

/**
 * The chain from an agreement up to its root, each level with the objectives of its version in
 * force in `month`, through the request's loaders: resolving this for a whole list of
 * agreements costs a fixed number of batched statements per tree level.
 */
export async function chainAt(ctx: Pick<Context, 'loaders'>, agreement: Agreement, month: Month): Promise<ChainLevel<LoadedObjective>[]> {
  const chain: ChainLevel<LoadedObjective>[] = [];
  let current: Agreement | null = agreement;
  for (let depth = 0; current && depth < 5; depth++) {
    const versions = await ctx.loaders.versionsByAgreement.load(current.id);
    const version = versionAt(versions, month);
    // Before its first version an agreement governs nothing, inherited or not.
    if (depth === 0 && !version) return [];
    const objectives = version ? await ctx.loaders.objectivesByVersion.load(version.id) : [];
    const metrics = await loadManyOrThrow(
      ctx.loaders.metricById,
      objectives.map((o) => o.metric.id),
      'Metric',
    );
    chain.push({
      agreementId: current.id,
      agreementKey: current.key,
      objectives: objectives.map((o, i) => {
        const metric = metrics[i];
        return { metricId: metric.id, metricCode: metric.code, direction: metric.direction, target: o.target, inheritance: o.inheritance, objective: o };
      }),
    });
    current = current.parent ? await ctx.loaders.agreementById.load(current.parent.id) : null;
  }
  return chain;
}

// ------------------------------------------------------------------ creation
