/**
 * The BI facts' columns, declared once (issue 14, "one declaration per shape"). Each table is the
 * source of its fact: the row type (`MeasurementFact`, `HandoffFact`) is derived from it, the CSV
 * export writes its keys as the header and in that order (csv.ts), and the GraphQL object type's
 * fields are generated from it (exports.resolver.ts). Plain data, so the service, the CSV writer
 * and the resolver can all read it without importing one another.
 */
import type { Month } from '../../common/month';
import type { Tier } from '../agreements/agreement.entity';
import type { MetricDirection, MetricSource, MetricUnit } from '../catalog/metric.entity';
import type { ObjectiveStatus } from '../../common/statuses';

/** The value types a column can have, by name, with the TypeScript type of each. */
export interface ColumnValues {
  /** A GraphQL `ID`. */
  id: string;
  string: string;
  month: Month;
  tier: Tier;
  /** Enumerations are GraphQL enums (DESIGN §7); the CSV writes their names. */
  unit: MetricUnit;
  direction: MetricDirection;
  status: ObjectiveStatus;
  source: MetricSource;
  float: number;
  int: number;
  boolean: boolean;
  /** An instant: a GraphQL `DateTime`, ISO 8601 in the CSV. */
  date: Date;
}

/** One column: its value type, whether it may be null, and its description in the GraphQL schema. */
export interface FactColumn {
  readonly type: keyof ColumnValues;
  readonly nullable?: boolean;
  readonly description?: string;
}

/** A table of columns, in CSV order. */
export type FactColumns = Readonly<Record<string, FactColumn>>;

/** The row a table declares: each column's value type, with `null` where it is nullable. */
export type RowOf<T extends FactColumns> = { -readonly [K in keyof T]: ColumnValues[T[K]['type']] | (T[K] extends { readonly nullable: true } ? null : never) };

/** One objective-month, flat, for a warehouse (the columns), in the CSV's column order. */
export const MEASUREMENT_FACT_COLUMNS = {
  id: { type: 'id', description: '`agreementId:month:objectiveId`: stable, the warehouse key.' },
  month: { type: 'month' },
  agreementKey: { type: 'string' },
  tier: { type: 'tier' },
  provider: { type: 'string', nullable: true },
  customer: { type: 'string', nullable: true },
  service: { type: 'string', nullable: true },
  metric: { type: 'string' },
  unit: { type: 'unit' },
  direction: { type: 'direction' },
  target: { type: 'float' },
  warning: { type: 'float', nullable: true },
  weight: { type: 'float' },
  value: { type: 'float', nullable: true },
  status: { type: 'status' },
  attainment: { type: 'float', nullable: true },
  excused: { type: 'boolean' },
  source: { type: 'source', description: 'MANUAL or AUTOMATED.' },
  reportRevision: { type: 'int', nullable: true, description: 'The report revision a MANUAL value comes from.' },
  updatedAt: { type: 'date', description: 'When a value shown in this fact last changed (or an instant such as its month’s end or due instant passed).' },
  disputed: { type: 'boolean', description: 'The month’s latest report revision is disputed: the value and status are contested, the credit provisional.' },
  deleted: {
    type: 'boolean',
    description:
      'A tombstone: the objective-month left the measured set (a suspension, new terms without the objective). Only incremental pulls (`updatedSince`) return these; delete the row by `id`.',
  },
} as const satisfies FactColumns;

/** One objective-month, flat, for a warehouse: the row {@link MEASUREMENT_FACT_COLUMNS} declares. */
export type MeasurementFact = RowOf<typeof MEASUREMENT_FACT_COLUMNS>;

/** A handoff event, flat, for a warehouse, in the CSV's column order. */
export const HANDOFF_FACT_COLUMNS = {
  id: { type: 'id' },
  source: { type: 'string' },
  externalId: { type: 'string' },
  agreementKey: { type: 'string' },
  provider: { type: 'string', nullable: true },
  customer: { type: 'string', nullable: true },
  stage: { type: 'string' },
  month: { type: 'month' },
  handedOffAt: { type: 'date' },
  respondedAt: { type: 'date', nullable: true },
  acceptedAt: { type: 'date', nullable: true },
  rejectedAt: { type: 'date', nullable: true },
  rejectionReason: { type: 'string', nullable: true },
  convertedAt: { type: 'date', nullable: true },
  qualityScore: { type: 'float', nullable: true },
  responseHours: { type: 'float', nullable: true },
  updatedAt: { type: 'date' },
} as const satisfies FactColumns;

/** A handoff event, flat, for a warehouse: the row {@link HANDOFF_FACT_COLUMNS} declares. */
export type HandoffFact = RowOf<typeof HANDOFF_FACT_COLUMNS>;

/** The column names of a table, in its (the CSV's) order. */
export function columnNames<T extends FactColumns>(table: T): Array<keyof T & string> {
  // Object.keys keeps the declaration order of string keys, which is the order the table states.
  return Object.keys(table) as Array<keyof T & string>;
}
