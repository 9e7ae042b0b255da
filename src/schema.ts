import fs from 'node:fs';
import path from 'node:path';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { projectRoot } from './common/paths';
import { DateTimeScalar, MonthScalar } from './common/scalars';
import { AgreementResolver, AgreementVersionResolver, AmendmentResolver, DepartmentAgreementsResolver, ObjectiveResolver } from './modules/agreements/agreement.resolver';
import { AuditResolver } from './modules/audit/audit.resolver';
import { DepartmentHeadResolver, UserResolver } from './modules/auth/auth.resolver';
import { RateLimitResolver } from './modules/auth/rate-limit.resolver';
import { authChecker } from './common/authorization';
import { DepartmentServicesResolver, MetricResolver, ServiceResolver } from './modules/catalog/catalog.resolver';
import { DepartmentResolver } from './modules/departments/department.resolver';
import { AgreementHandoffsResolver, HandoffResolver } from './modules/handoffs/handoff.resolver';
import { MeasurementResolver } from './modules/measurements/measurement.resolver';
import { ChainStageResolver, HandoffChainResolver } from './modules/scorecards/handoff-chain.resolver';
import { EscalationResolver } from './modules/escalations/escalation.resolver';
import { AgreementLifecycleResolver, LifecycleRequestResolver } from './modules/agreements/lifecycle.resolver';
import { AgreementOpenSloResolver, FACT_RESOLVERS } from './modules/exports/exports.resolver';
import { FrictionSummaryResolver } from './modules/reports/friction.resolver';
import { ExportLinkResolver } from './modules/exports/export-link.resolver';
import { AgreementScorecardResolver, DepartmentScorecardResolver, ObjectiveScoreResolver, ScorecardQueryResolver } from './modules/scorecards/scorecard.resolver';
import { CreditEntryResolver, MonthReopeningResolver } from './modules/ledger/ledger.resolver';
import { ExclusionResolver } from './modules/exclusions/exclusion.resolver';
import { LiveResolver } from './modules/live/live.resolver';
import { NodeResolver } from './modules/nodes/node.resolver';
import { AmendmentWhatIfResolver, WhatIfResolver } from './modules/ledger/what-if.resolver';
import { WebhookResolver } from './modules/webhooks/webhook.resolver';
import { ActionItemResolver, InboxResolver, UserEmailPreferencesResolver } from './modules/notifications/notification.resolver';
import { AgreementReportsResolver, ReportResolver, ReportRevisionResolver, ReportValueResolver, SubmitReportPayloadResolver } from './modules/reports/report.resolver';

/** Every resolver class of the API. */
export const resolvers = [
  DepartmentResolver,
  DepartmentServicesResolver,
  ServiceResolver,
  MetricResolver,
  UserResolver,
  DepartmentHeadResolver,
  RateLimitResolver,
  AuditResolver,
  AgreementResolver,
  AgreementVersionResolver,
  ObjectiveResolver,
  DepartmentAgreementsResolver,
  AmendmentResolver,
  ReportResolver,
  ReportRevisionResolver,
  ReportValueResolver,
  SubmitReportPayloadResolver,
  ExclusionResolver,
  AgreementReportsResolver,
  AgreementScorecardResolver,
  ObjectiveScoreResolver,
  DepartmentScorecardResolver,
  ScorecardQueryResolver,
  HandoffResolver,
  MeasurementResolver,
  AgreementHandoffsResolver,
  HandoffChainResolver,
  ChainStageResolver,
  EscalationResolver,
  AgreementLifecycleResolver,
  LifecycleRequestResolver,
  FrictionSummaryResolver,
  ...FACT_RESOLVERS,
  ExportLinkResolver,
  AgreementOpenSloResolver,
  CreditEntryResolver,
  MonthReopeningResolver,
  LiveResolver,
  WebhookResolver,
  InboxResolver,
  ActionItemResolver,
  UserEmailPreferencesResolver,
  NodeResolver,
  WhatIfResolver,
  AmendmentWhatIfResolver,
] as const;

let cached: GraphQLSchema | undefined;

/**
 * The executable schema, built from the resolver classes once per process (type-graphql keeps
 * its metadata globally, so building twice gains nothing).
 */
export function buildApiSchema(): GraphQLSchema {
  if (cached) return cached;
  const built = buildSchemaSync({
    resolvers: [...resolvers],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    // Validation is done in services so failures become payload `userErrors` (DESIGN §7).
    validate: false,
    emitSchemaFile: false,
    authChecker,
    authMode: 'error',
    // type-graphql insists on a PubSub once there is a subscription, but ours bring their own
    // `subscribe` (the instance's live feed, src/modules/live): no topics, so none is ever used.
    pubSub: {
      publish: () => {
        throw new Error('No PubSub: subscriptions are fed by the live feed');
      },
      subscribe: () => {
        throw new Error('No PubSub: subscriptions are fed by the live feed');
      },
    },
  });
  // `Month` is part of the API contract (reports, scores and versions take months): the one
  // MonthScalar instance is put in explicitly, in place of any copy type-graphql made.
  const config = built.toConfig();
  cached = new GraphQLSchema({ ...config, types: [...config.types.filter((t) => t.name !== 'Month'), MonthScalar] });
  return cached;
}

/** The SDL checked in as `schema.graphql`: sorted, so diffs show real changes only. */
export function printApiSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildApiSchema()))}\n`;
}

/** Where the checked-in SDL lives. */
export function schemaFilePath(): string {
  return path.join(projectRoot(), 'schema.graphql');
}

/** Writes `schema.graphql`; returns whether it changed. */
export function writeSchemaFile(): boolean {
  const next = printApiSchema();
  const file = schemaFilePath();
  const prev = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (prev !== next) fs.writeFileSync(file, next);
  return prev !== next;
}
