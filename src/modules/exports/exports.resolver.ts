import { Arg, Authorized, Ctx, Field, type FieldOptions, FieldResolver, Float, ID, InputType, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { PageInfo } from '../../common/connection';
import { BadUserInputError } from '../../common/errors';
import type { Month } from '../../common/month';
import { DateTimeScalar, MonthScalar } from '../../common/scalars';
import type { Context } from '../../common/context';
import { Agreement, type AgreementVersion, Tier } from '../agreements/agreement.entity';
import { versionAt } from '../agreements/agreement.rules';
import { type Metric, MetricDirection, MetricSource, MetricUnit } from '../catalog/metric.entity';
import { ObjectiveStatus } from '../../common/statuses';
import { objectivesAt } from '../reports/report.service';
import type { ColumnValues, FactColumns } from './fact-columns';
import { DEFAULT_FACT_PAGE, type FactTable, MAX_FACT_PAGE } from './fact-table';
import { FACT_TABLES } from './fact-tables';
import { byCodes } from './fact-filter';
import { toOpenSlo, toYaml } from './openslo';
import { loadManyOrThrow } from '../../common/loaders';

type FieldType = Extract<Parameters<typeof Field>[0], (...args: never[]) => unknown>;

/**
 * A column of a fact row: a field that costs nothing in the cost limit, since the row (counted by
 * its connection's `first`) is the work, not its plain values.
 */
function Column(typeOrOptions?: FieldType | FieldOptions, options: FieldOptions = {}): PropertyDecorator {
  return typeof typeOrOptions === 'function' ? Field(typeOrOptions, { ...options, complexity: 0 }) : Field({ ...(typeOrOptions ?? {}), complexity: 0 });
}

@InputType({ description: 'Which facts: a window of months (required), optionally a tier, provider and customer (department codes), and changes after an instant.' })
export class FactFilter {
  @Field(() => MonthScalar)
  from!: Month;

  @Field(() => MonthScalar)
  to!: Month;

  @Field(() => Tier, { nullable: true })
  tier?: Tier | null;

  @Field(() => String, { nullable: true, description: 'The provider department: its code or its id.' })
  provider?: string | null;

  @Field(() => String, { nullable: true, description: 'The customer department: its code or its id.' })
  customer?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only facts changed after this instant: pass the `asOf` of the previous pull.' })
  updatedSince?: Date | null;
}

/** The GraphQL type of each column value type. */
const GRAPHQL_TYPE_OF: Record<keyof ColumnValues, FieldType> = {
  id: () => ID,
  string: () => String,
  month: () => MonthScalar,
  tier: () => Tier,
  unit: () => MetricUnit,
  direction: () => MetricDirection,
  status: () => ObjectiveStatus,
  source: () => MetricSource,
  float: () => Float,
  int: () => Int,
  boolean: () => Boolean,
  date: () => DateTimeScalar,
};

/**
 * Declares the GraphQL fields of `type` from a column table, as the `@Column` decorator would on
 * each property: the table is the one declaration of a fact (fact-columns.ts), so the object type
 * cannot drift from the row type or the CSV.
 */
function columnFields(type: abstract new () => object, table: FactColumns): void {
  for (const [name, column] of Object.entries(table)) {
    const options: FieldOptions = {};
    if (column.nullable) options.nullable = true;
    if (column.description !== undefined) options.description = column.description;
    Column(GRAPHQL_TYPE_OF[column.type], options)(type.prototype as object, name);
  }
}

/** Checks `first` for fact pages. */
export function factPageSize(first?: number | null): number {
  const n = first ?? DEFAULT_FACT_PAGE;
  if (!Number.isInteger(n) || n < 1 || n > MAX_FACT_PAGE) throw new BadUserInputError(`first: expected 1 to ${MAX_FACT_PAGE}, received ${n}`, 'first');
  return n;
}

/** A page as its connection type's value (also what src/http/facts-execution.ts completes). */
export function connectionOf<T>(page: { rows: T[]; hasNextPage: boolean; endCursor: string | null; asOf: Date }) {
  // Every edge carries the page's end cursor: resuming mid-page is not offered (pages are the unit).
  return {
    edges: page.rows.map((node) => ({ cursor: page.endCursor ?? '', node })),
    pageInfo: { hasNextPage: page.hasNextPage, hasPreviousPage: false, startCursor: null, endCursor: page.endCursor },
    asOf: page.asOf,
  };
}

/**
 * The GraphQL side of a fact table (fact-tables.ts): its row type (fields from its columns), edge
 * and connection types named after it, and a resolver with its query. Any authenticated principal
 * may pull facts, as BI tools do with an ANALYST token.
 */
export function factResolver(table: FactTable): abstract new () => object {
  @ObjectType(table.type, { description: table.descriptions.row })
  class Fact {}
  columnFields(Fact, table.columns);

  @ObjectType(`${table.type}Edge`)
  class Edge {
    @Field()
    cursor!: string;

    @Field(() => Fact)
    node!: object;
  }

  @ObjectType(`${table.type}Connection`, { description: table.descriptions.connection })
  class Connection {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => DateTimeScalar, { description: 'The snapshot instant of this pull: use it as `updatedSince` next time.' })
    asOf!: Date;
  }

  @Resolver()
  class FactsResolver {
    @Authorized()
    @Query(() => Connection, { name: table.query, description: table.descriptions.query })
    async facts(
      @Ctx() ctx: Context,
      @Arg('filter', () => FactFilter) filter: FactFilter,
      @Arg('first', () => Int, { nullable: true }) first?: number | null,
      @Arg('after', () => String, { nullable: true }) after?: string | null,
    ): Promise<Connection> {
      return connectionOf(await table.read(ctx, await byCodes(ctx, filter), factPageSize(first), after)) as unknown as Connection;
    }
  }
  return FactsResolver;
}

/** The resolvers of every fact table. */
export const FACT_RESOLVERS = FACT_TABLES.map(factResolver);

@Resolver(() => Agreement)
export class AgreementOpenSloResolver {
  @FieldResolver(() => [GraphQLJSONObject], { description: 'The objectives in force in a month as OpenSLO v1 documents (a Service, then an SLI and an SLO per objective); see docs/openslo.md.' })
  async openSlo(@Root() a: Agreement, @Ctx() ctx: Context, @Arg('at', () => MonthScalar) at: Month): Promise<Array<Record<string, unknown>>> {
    return (await openSloOf(ctx, a, at)) as unknown as Array<Record<string, unknown>>;
  }

  @FieldResolver(() => String, { description: 'The same documents as multi-document YAML.' })
  async openSloYaml(@Root() a: Agreement, @Ctx() ctx: Context, @Arg('at', () => MonthScalar) at: Month): Promise<string> {
    return toYaml(await openSloOf(ctx, a, at));
  }
}

async function openSloOf(ctx: Context, a: Agreement, at: Month) {
  const versions = await ctx.loaders.versionsByAgreement.load(a.id);
  const version = versionAt(versions, at) as AgreementVersion | null;
  if (!version) throw new BadUserInputError(`at: agreement ${a.key} has no terms in ${at}`, 'at');
  const [objectives, provider, customer, service, parent, exclusions] = await Promise.all([
    objectivesAt(ctx, a, at),
    a.provider ? ctx.loaders.departmentById.load(a.provider.id) : null,
    a.customer ? ctx.loaders.departmentById.load(a.customer.id) : null,
    a.service ? ctx.loaders.serviceById.load(a.service.id) : null,
    a.parent ? ctx.loaders.agreementById.load(a.parent.id) : null,
    ctx.loaders.exclusionsByAgreement.load(a.id),
  ]);
  const inherited = await loadManyOrThrow(
    ctx.loaders.agreementById,
    objectives.map((o) => o.inheritedFrom).filter((x): x is string => !!x),
    'Agreement',
  );
  const keyOf = new Map(inherited.map((x) => [x.id, x.key]));
  const metricById = new Map<string, Metric>(objectives.map((o) => [o.metric.id, o.metric]));
  const metrics = await loadManyOrThrow(
    ctx.loaders.metricById,
    exclusions.map((e) => e.metric.id),
    'Metric',
  );
  for (const m of metrics) metricById.set(m.id, m);
  return toOpenSlo({
    key: a.key,
    title: a.title,
    tier: a.tier,
    providerCode: provider?.code ?? null,
    customerCode: customer?.code ?? null,
    serviceCode: service?.code ?? null,
    parentKey: parent?.key ?? null,
    versionNumber: version.number,
    effectiveMonth: version.effectiveMonth,
    complianceTarget: version.complianceTarget,
    monthlyCharge: version.monthlyCharge,
    creditCapPercent: version.creditCapPercent,
    timeZone: version.calendar.timeZone,
    objectives: objectives.map((o) => ({
      objectiveId: o.objective.id,
      metricCode: o.metric.code,
      metricName: o.metric.name,
      unit: o.metric.unit,
      direction: o.metric.direction,
      source: o.metric.source,
      target: o.objective.target,
      warning: o.objective.warning ?? null,
      weight: o.objective.weight,
      creditPercent: o.objective.creditPercent,
      inheritedFromKey: o.inheritedFrom ? (keyOf.get(o.inheritedFrom) ?? null) : null,
      inheritance: o.objective.inheritance,
    })),
    approvedExclusions: exclusions.filter((e) => e.status === 'APPROVED').map((e) => ({ month: e.month, metricCode: metricById.get(e.metric.id)?.code ?? '', reasonCode: e.reasonCode })),
  });
}
