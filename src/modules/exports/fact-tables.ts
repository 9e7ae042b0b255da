/**
 * Every BI fact table, in one list: the GraphQL connections (exports.resolver.ts), the CSV routes
 * (`/export/<file>.csv`, src/server.ts) and the signed export links are all generated from it. A
 * new table is one definition appended here.
 */
import { HANDOFF_FACT_COLUMNS, MEASUREMENT_FACT_COLUMNS } from './fact-columns';
import { factTable, type FactTable, MAX_FACT_PAGE } from './fact-table';
import { handoffFacts, measurementFacts } from './facts.service';
import { FRICTION_FACT_COLUMNS, frictionFacts } from './friction-facts';
import { AGREEMENT_VERSION_FACTS, AMENDMENT_FACTS, CREDIT_FACTS, ESCALATION_FACTS, EXCLUSION_FACTS, REPORT_REVISION_FACTS, SCORECARD_FACTS } from './entity-facts';

export const MEASUREMENT_FACTS = factTable({
  file: 'measurements',
  query: 'measurementFacts',
  type: 'MeasurementFact',
  descriptions: {
    row: 'One objective-month, flat, for a warehouse.',
    connection: 'A page of measurement facts. No totalCount: counting would score the whole window.',
    query: `Objective-months as flat rows for BI, in a stable order; \`first\` up to ${MAX_FACT_PAGE}. Page with \`after\`; pull increments with \`filter.updatedSince\` (they include tombstones, \`deleted: true\`). Months after the score ledger’s horizon (next month) are not facts yet.`,
  },
  columns: MEASUREMENT_FACT_COLUMNS,
  read: measurementFacts,
});

export const HANDOFF_FACTS = factTable({
  file: 'handoffs',
  query: 'handoffFacts',
  type: 'HandoffFact',
  descriptions: {
    row: 'A handoff event, flat, for a warehouse.',
    connection: 'A page of handoff facts.',
    query: `Handoff events as flat rows for BI, by (updatedAt, id); \`first\` up to ${MAX_FACT_PAGE}.`,
  },
  columns: HANDOFF_FACT_COLUMNS,
  read: handoffFacts,
});

export const FRICTION_ITEM_FACTS = factTable({
  file: 'friction-items',
  query: 'frictionFacts',
  type: 'FrictionFact',
  descriptions: {
    row: 'A friction item of a report’s latest revision, flat, for a warehouse.',
    connection: 'A page of friction facts.',
    query: `Friction items of each report’s latest revision as flat rows for BI, by (report updatedAt, report id, position); \`first\` up to ${MAX_FACT_PAGE}. Incremental pulls (\`filter.updatedSince\`) return every item of the reports changed since, with tombstones (\`deleted: true\`) for items a correction dropped.`,
  },
  columns: FRICTION_FACT_COLUMNS,
  read: frictionFacts,
});

/** Every fact table. */
export const FACT_TABLES: readonly FactTable[] = [
  MEASUREMENT_FACTS,
  HANDOFF_FACTS,
  REPORT_REVISION_FACTS,
  EXCLUSION_FACTS,
  AMENDMENT_FACTS,
  AGREEMENT_VERSION_FACTS,
  ESCALATION_FACTS,
  CREDIT_FACTS,
  SCORECARD_FACTS,
  FRICTION_ITEM_FACTS,
] as FactTable[];

/** A fact table by its CSV name (`reports`, `agreement-versions` …), or undefined. */
export function factTableOf(file: string): FactTable | undefined {
  return FACT_TABLES.find((t) => t.file === file);
}
