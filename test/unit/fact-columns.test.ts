import { getNamedType, getNullableType, type GraphQLObjectType, isNonNullType } from 'graphql';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { cursorCodec, encodeCursor } from '../../src/common/connection';
import { HANDOFF_COLUMNS, MEASUREMENT_COLUMNS } from '../../src/modules/exports/csv';
import { type FactColumns, HANDOFF_FACT_COLUMNS, type HandoffFact, MEASUREMENT_FACT_COLUMNS, type MeasurementFact } from '../../src/modules/exports/fact-columns';
import { FACT_TABLES } from '../../src/modules/exports/fact-tables';
import { buildApiSchema } from '../../src/schema';

/** The GraphQL named type each column value type must come out as. */
const GRAPHQL_NAME = {
  id: 'ID',
  string: 'String',
  month: 'Month',
  tier: 'Tier',
  unit: 'MetricUnit',
  direction: 'MetricDirection',
  status: 'ObjectiveStatus',
  source: 'MetricSource',
  float: 'Float',
  int: 'Int',
  boolean: 'Boolean',
  date: 'DateTime',
} as const;

describe('the facts’ column tables (one declaration per shape)', () => {
  it('give the CSV exports their headers, in the order the exports have always had', () => {
    // Pinned as text: the CSV a warehouse loads must not change when the table is edited by mistake.
    expect(MEASUREMENT_COLUMNS.join(',')).toBe(
      'id,month,agreementKey,tier,provider,customer,service,metric,unit,direction,target,warning,weight,value,status,attainment,excused,source,reportRevision,updatedAt,disputed,deleted',
    );
    expect(HANDOFF_COLUMNS.join(',')).toBe(
      'id,source,externalId,agreementKey,provider,customer,stage,month,handedOffAt,respondedAt,acceptedAt,rejectedAt,rejectionReason,convertedAt,qualityScore,responseHours,updatedAt',
    );
  });

  it('are the GraphQL object types’ fields: names, types, nullability and descriptions', () => {
    const schema = buildApiSchema();
    const check = (typeName: string, table: FactColumns): void => {
      const fields = (schema.getType(typeName) as GraphQLObjectType).getFields();
      expect(Object.keys(fields)).toEqual(Object.keys(table));
      for (const [name, column] of Object.entries(table)) {
        const field = fields[name];
        expect([name, getNamedType(field.type).name, !isNonNullType(field.type), field.description ?? undefined]).toEqual([
          name,
          GRAPHQL_NAME[column.type],
          column.nullable === true,
          column.description,
        ]);
        expect(getNullableType(field.type)).toBe(getNamedType(field.type));
        // A plain column costs nothing in the cost limit: the row, counted by `first`, is the work.
        expect(field.extensions.complexity).toBe(0);
      }
    };
    check('MeasurementFact', MEASUREMENT_FACT_COLUMNS);
    check('HandoffFact', HANDOFF_FACT_COLUMNS);
    // Every table of the list (issue 16): its row type, and a query returning its connection.
    for (const table of FACT_TABLES) {
      check(table.type, table.columns);
      const query = schema.getQueryType()!.getFields()[table.query];
      expect(getNamedType(query.type).name).toBe(`${table.type}Connection`);
      expect(query.args.map((a) => `${a.name}: ${String(a.type)}`).sort()).toEqual(['after: String', 'filter: FactFilter!', 'first: Int']);
    }
  });

  it('list each table once, with a stable key, an updatedAt, and `deleted` last where rows can go', () => {
    for (const key of ['file', 'query', 'type'] as const) expect(new Set(FACT_TABLES.map((t) => t[key])).size).toBe(FACT_TABLES.length);
    for (const table of FACT_TABLES) {
      const names = Object.keys(table.columns);
      expect([table.file, names[0], table.columns.id.type, table.columns.updatedAt?.type]).toEqual([table.file, 'id', 'id', 'date']);
      if (names.includes('deleted')) expect([table.file, names[names.length - 1]]).toEqual([table.file, 'deleted']);
    }
    expect(FACT_TABLES.filter((t) => 'deleted' in t.columns).map((t) => t.file)).toEqual(['measurements', 'credits', 'scorecards', 'friction-items']);
  });

  it('give the row types (type-level)', () => {
    expectTypeOf<MeasurementFact['provider']>().toEqualTypeOf<string | null>();
    expectTypeOf<MeasurementFact['reportRevision']>().toEqualTypeOf<number | null>();
    expectTypeOf<MeasurementFact['updatedAt']>().toEqualTypeOf<Date>();
    expectTypeOf<MeasurementFact['excused']>().toEqualTypeOf<boolean>();
    expectTypeOf<keyof MeasurementFact>().toEqualTypeOf<(typeof MEASUREMENT_COLUMNS)[number]>();
    expectTypeOf<HandoffFact['respondedAt']>().toEqualTypeOf<Date | null>();
    expectTypeOf<keyof HandoffFact>().toEqualTypeOf<(typeof HANDOFF_COLUMNS)[number]>();
  });
});

describe('cursorCodec (the one cursor codec)', () => {
  const codec = cursorCodec('measurementFacts', ['date', 'string', 'month', 'integer', 'uuid']);
  const values = [new Date('2026-05-01T10:00:00.123Z'), 'IT-SALES-CRM', '2026-04', 3, '00000000-0000-4000-8000-000000000001'] as const;

  it('round-trips its values, typed by part, and writes what encodeCursor writes', () => {
    const cursor = codec.encode([...values]);
    expect(cursor).toBe(encodeCursor('measurementFacts', [...values]));
    const decoded = codec.decode(cursor);
    expectTypeOf(decoded).toEqualTypeOf<[Date, string, string, number, string]>();
    expect(decoded).toEqual([...values]);
  });

  it('refuses another list’s cursor and a value of the wrong part', () => {
    const other = cursorCodec('handoffFacts', ['date', 'date', 'uuid']);
    const theirs = other.encode([values[0], values[0], values[4]]);
    expect(() => codec.decode(theirs)).toThrow('after: expected a cursor returned by this list (endCursor of measurementFacts)');
    expect(() => codec.decode(encodeCursor('measurementFacts', [values[0], 'IT', '2026-04', 1.5, values[4]]))).toThrow(/^after: /);
  });
});
