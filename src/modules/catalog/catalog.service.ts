import type { EntityManager, FilterQuery } from '@mikro-orm/core';
import { assertMay } from '../../common/policy';
import { codeOrNameContains, normalizeCode } from '../../common/codes';
import { paginate, type Page } from '../../common/connection';
import { archiveRecord, assertCodeFree, findByIdOrCode, idOfRef, loadForUpdate, loadForWrite } from '../../common/lookup';
import { runCreate, runMutation, type MutationResult } from '../../common/mutation';
import { UserError, UserErrorCode, UserErrorsException } from '../../common/user-error';
import { assertValidInput } from '../../common/validation';
import type { Context } from '../../common/context';
import { Department } from '../departments/department.entity';
import type { CreateMetricInput, CreateServiceInput, MetricFilter, ServiceFilter, UpdateMetricInput, UpdateServiceInput } from './catalog.inputs';
import { type MeasurementAggregation, Metric, MetricFeed, MetricSource, UNIT_DEFAULTS } from './metric.entity';
import { Service } from './service.entity';

type PageRequest = { first?: number | null; after?: string | null };

// ---------------------------------------------------------------- services

/** Admins manage every service; a HEAD only those its own department provides. */
async function assertManagesService(ctx: Context, em: EntityManager, service: Service, what: string): Promise<void> {
  assertManagesCatalogOf(ctx, await em.findOneOrFail(Department, service.provider.id), what);
}

/** Refuses (FORBIDDEN) a principal that may not manage `provider`'s service catalog. */
function assertManagesCatalogOf(ctx: Context, provider: Department, what: string): void {
  assertMay(ctx, 'service:manage', { departmentId: provider.id }, (p) => `A ${p.role} principal may not ${what} for department ${provider.code}: it acts only for its own department`);
}

/** One service by id or code. */
export function findService(ctx: Context, id?: string | null, code?: string | null): Promise<Service> {
  return findByIdOrCode(ctx.em, Service, 'Service', (k) => ctx.loaders.serviceById.load(k), id, code);
}

/** The services connection, ordered by code. */
export async function listServices(ctx: Context, filter: ServiceFilter | undefined, page: PageRequest): Promise<Page<Service>> {
  const where: FilterQuery<Service>[] = [];
  if (!filter?.includeArchived) where.push({ archivedAt: null });
  const provider = await idOfRef(ctx.em, Department, 'Department', 'filter.providerId', filter?.providerId);
  if (provider) where.push({ provider });
  if (filter?.search) where.push(codeOrNameContains(filter.search) as FilterQuery<Service>);
  return paginate(
    ctx.em,
    Service,
    { $and: where },
    [
      ['code', 'asc'],
      ['id', 'asc'],
    ],
    page,
  );
}

/** Adds a service to a live department's catalog (idempotent by key). */
export function createService(ctx: Context, input: CreateServiceInput): Promise<MutationResult<Service>> {
  return runCreate(
    ctx,
    'createService',
    input,
    Service,
    async (em) => {
      // FOR SHARE: the provider cannot be archived under us before we commit.
      const provider = await loadForWrite(em, Department, 'Department', input.providerId, 'providerId', { lock: 'share' });
      assertManagesCatalogOf(ctx, provider, 'add services');
      const code = normalizeCode(input.code);
      await assertCodeFree(em, Service, 'Service', code, null);
      const service = em.create(Service, { code, name: input.name.trim(), description: input.description?.trim() ?? '', provider });
      await em.flush();
      return service;
    },
    { uniqueField: 'code' },
  );
}

/** Changes a service's code, name or description. */
export function updateService(ctx: Context, input: UpdateServiceInput): Promise<MutationResult<Service>> {
  return runMutation(
    ctx,
    async (em) => {
      await assertValidInput(input);
      const service = await loadForUpdate(em, Service, 'Service', input, (svc) => assertManagesService(ctx, em, svc, 'change services'));
      if (input.name != null) service.name = input.name.trim();
      if (input.description != null) service.description = input.description.trim();
      await em.flush();
      return service;
    },
    { uniqueField: 'code' },
  );
}

/** Archives a service. */
export function archiveService(ctx: Context, input: { id: string; expectedVersion: number }): Promise<MutationResult<Service>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    return archiveRecord(em, Service, 'Service', input, undefined, (svc) => assertManagesService(ctx, em, svc, 'archive services'));
  });
}

// ---------------------------------------------------------------- metrics

/** One metric by id or code. */
export function findMetric(ctx: Context, id?: string | null, code?: string | null): Promise<Metric> {
  return findByIdOrCode(ctx.em, Metric, 'Metric', (k) => ctx.loaders.metricById.load(k), id, code);
}

/** The metrics connection, ordered by code. */
export function listMetrics(ctx: Context, filter: MetricFilter | undefined, page: PageRequest): Promise<Page<Metric>> {
  const where: FilterQuery<Metric>[] = [];
  if (!filter?.includeArchived) where.push({ archivedAt: null });
  if (filter?.direction) where.push({ direction: filter.direction });
  if (filter?.source) where.push({ source: filter.source });
  if (filter?.feed) where.push({ feed: filter.feed });
  if (filter?.unit) where.push({ unit: filter.unit });
  if (filter?.search) where.push(codeOrNameContains(filter.search) as FilterQuery<Metric>);
  return paginate(
    ctx.em,
    Metric,
    { $and: where },
    [
      ['code', 'asc'],
      ['id', 'asc'],
    ],
    page,
  );
}

/** Bounds must be ordered: min ≤ max. */
function assertBounds(min: number | null | undefined, max: number | null | undefined): void {
  if (min != null && max != null && min > max) {
    throw new UserErrorsException([new UserError('maxValue', UserErrorCode.INVALID, `maxValue: expected at least minValue (${min}), received ${max}`)]);
  }
}

/**
 * What a metric's source asks of its feed (issue 16): an AUTOMATED metric names where its values
 * come from, and an EXTERNAL one how its measurements combine; a MANUAL metric has neither. Without
 * this, an AUTOMATED metric nothing computes was accepted and its objectives waited forever.
 */
export function feedProblems(source: MetricSource, feed: MetricFeed | null | undefined, aggregation: MeasurementAggregation | null | undefined): UserError[] {
  const problems: UserError[] = [];
  if (source === MetricSource.AUTOMATED && !feed) {
    problems.push(
      new UserError(
        'feed',
        UserErrorCode.REQUIRED,
        `feed: an AUTOMATED metric names where its values come from: a built-in feed (${Object.values(MetricFeed)
          .filter((f) => f !== MetricFeed.EXTERNAL)
          .join(', ')}) or EXTERNAL (recordMeasurements)`,
      ),
    );
  }
  if (source === MetricSource.MANUAL && feed) problems.push(new UserError('feed', UserErrorCode.INVALID, `feed: a MANUAL metric is reported by its provider's head and has no feed, received ${feed}`));
  if (feed === MetricFeed.EXTERNAL && !aggregation)
    problems.push(new UserError('aggregation', UserErrorCode.REQUIRED, 'aggregation: an EXTERNAL metric says how its measurements give a month’s value (MEAN, SUM, LAST or TIME_WEIGHTED)'));
  if (aggregation && feed !== MetricFeed.EXTERNAL)
    problems.push(new UserError('aggregation', UserErrorCode.INVALID, `aggregation: only an EXTERNAL metric aggregates measurements, this one's feed is ${feed ?? 'none'}`));
  return problems;
}

/** Adds a metric to the catalog; bounds and integerOnly default from the unit. */
export function createMetric(ctx: Context, input: CreateMetricInput): Promise<MutationResult<Metric>> {
  return runCreate(
    ctx,
    'createMetric',
    input,
    Metric,
    async (em) => {
      const code = normalizeCode(input.code);
      await assertCodeFree(em, Metric, 'Metric', code, null);
      const defaults = UNIT_DEFAULTS[input.unit];
      const minValue = input.minValue !== undefined ? input.minValue : defaults.min;
      const maxValue = input.maxValue !== undefined ? input.maxValue : defaults.max;
      assertBounds(minValue, maxValue);
      const metric = em.create(Metric, {
        code,
        name: input.name.trim(),
        unit: input.unit,
        direction: input.direction,
        source: input.source,
        feed: input.feed ?? null,
        aggregation: input.aggregation ?? null,
        description: input.description?.trim() ?? '',
        minValue,
        maxValue,
        integerOnly: input.integerOnly ?? defaults.integer,
        collectsFrictionItems: input.collectsFrictionItems ?? false,
      });
      await em.flush();
      return metric;
    },
    {
      uniqueField: 'code',
      // Before anything is read or written, so the refusal is the same however the call would have gone on.
      guard: () => {
        const problems = feedProblems(input.source, input.feed, input.aggregation);
        if (problems.length) throw new UserErrorsException(problems);
      },
    },
  );
}

/**
 * Changes a metric's code, name, description or bounds. Unit, direction and source are fixed:
 * they change the meaning of every objective on the metric, so a new metric is the honest change.
 * So are a feed and an aggregation once set; an AUTOMATED metric created before feeds existed
 * without one is given its feed here, and any other change to it is refused until it has one.
 */
export function updateMetric(ctx: Context, input: UpdateMetricInput): Promise<MutationResult<Metric>> {
  return runMutation(
    ctx,
    async (em) => {
      await assertValidInput(input);
      const metric = await loadForUpdate(em, Metric, 'Metric', input);
      if (input.name != null) metric.name = input.name.trim();
      if (input.description != null) metric.description = input.description.trim();
      if (input.minValue !== undefined) metric.minValue = input.minValue;
      if (input.maxValue !== undefined) metric.maxValue = input.maxValue;
      if (input.integerOnly != null) metric.integerOnly = input.integerOnly;
      if (input.collectsFrictionItems != null) metric.collectsFrictionItems = input.collectsFrictionItems;
      const fixed: UserError[] = [];
      if (input.feed && metric.feed && input.feed !== metric.feed)
        fixed.push(new UserError('feed', UserErrorCode.INVALID, `feed: fixed once set (${metric.feed}); create a new metric for another feed`));
      if (input.aggregation && metric.aggregation && input.aggregation !== metric.aggregation)
        fixed.push(new UserError('aggregation', UserErrorCode.INVALID, `aggregation: fixed once set (${metric.aggregation}); create a new metric for another aggregation`));
      if (fixed.length) throw new UserErrorsException(fixed);
      if (input.feed !== undefined) metric.feed = input.feed ?? metric.feed ?? null;
      if (input.aggregation !== undefined) metric.aggregation = input.aggregation ?? metric.aggregation ?? null;
      // Clearing the feed of an AUTOMATED metric is the same refusal as creating one without.
      const problems = input.feed === null ? feedProblems(metric.source, null, null) : feedProblems(metric.source, metric.feed, metric.aggregation);
      if (problems.length) throw new UserErrorsException(problems);
      assertBounds(metric.minValue, metric.maxValue);
      await em.flush();
      return metric;
    },
    { uniqueField: 'code' },
  );
}

/** Archives a metric. */
export function archiveMetric(ctx: Context, input: { id: string; expectedVersion: number }): Promise<MutationResult<Metric>> {
  return runMutation(ctx, async (em) => {
    await assertValidInput(input);
    return archiveRecord(em, Metric, 'Metric', input);
  });
}
