import { getNamedType, type GraphQLObjectType, isNonNullType } from 'graphql';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { FRICTION_FACT_COLUMNS, type FrictionFact } from '../../src/modules/exports/friction-facts';

const FRICTION_COLUMNS = Object.keys(FRICTION_FACT_COLUMNS) as Array<keyof typeof FRICTION_FACT_COLUMNS>;
import { buildApiSchema } from '../../src/schema';

const GRAPHQL_NAME = { id: 'ID', string: 'String', month: 'Month', tier: 'Tier', float: 'Float', int: 'Int', boolean: 'Boolean', date: 'DateTime' } as const;

describe('the friction facts’ column table (issue 16)', () => {
  it('gives /export/friction-items.csv its header, in this order', () => {
    expect(FRICTION_COLUMNS.join(',')).toBe('id,reportId,agreementKey,provider,customer,month,category,severity,customersAffected,description,revision,updatedAt,deleted');
  });

  it('is the FrictionFact object type’s fields: names, types, nullability, descriptions, no cost', () => {
    const fields = (buildApiSchema().getType('FrictionFact') as GraphQLObjectType).getFields();
    expect(Object.keys(fields)).toEqual(Object.keys(FRICTION_FACT_COLUMNS));
    for (const [name, column] of Object.entries(FRICTION_FACT_COLUMNS)) {
      const field = fields[name];
      expect([name, getNamedType(field.type).name, !isNonNullType(field.type), field.description ?? undefined, field.extensions.complexity]).toEqual([
        name,
        GRAPHQL_NAME[column.type],
        'nullable' in column && column.nullable === true,
        'description' in column ? column.description : undefined,
        0,
      ]);
    }
  });

  it('gives the row type (type-level)', () => {
    expectTypeOf<FrictionFact['provider']>().toEqualTypeOf<string | null>();
    expectTypeOf<FrictionFact['customersAffected']>().toEqualTypeOf<number>();
    expectTypeOf<FrictionFact['updatedAt']>().toEqualTypeOf<Date>();
    expectTypeOf<keyof FrictionFact>().toEqualTypeOf<(typeof FRICTION_COLUMNS)[number]>();
  });
});
