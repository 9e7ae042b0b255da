import { describe, expect, it } from 'vitest';
import { buildSchema, graphql, type GraphQLSchema } from 'graphql';
import { addMonths, compareMonths, monthFromIndex, monthIndex, monthOf, monthProblem, monthRange, parseMonth } from '../../src/common/month';
import { MonthScalar } from '../../src/common/scalars';

describe('month helpers', () => {
  it('accepts canonical months', () => {
    for (const m of ['2026-01', '2026-12', '0001-01', '9999-12']) expect(monthProblem(m)).toBeNull();
  });

  it.each([
    ['2026-13', 'expected a month number from 01 to 12, received "2026-13"'],
    ['2026-00', 'expected a month number from 01 to 12, received "2026-00"'],
    ['2026-1', 'expected a month as "YYYY-MM" (four-digit year, two-digit month), received "2026-1"'],
    ['26-01', 'expected a month as "YYYY-MM" (four-digit year, two-digit month), received "26-01"'],
    ['2026-01-01', 'expected a month as "YYYY-MM" (four-digit year, two-digit month), received "2026-01-01"'],
    [' 2026-01', 'expected a month as "YYYY-MM" (four-digit year, two-digit month), received " 2026-01"'],
    ['0000-05', 'expected a year from 0001, received "0000-05"'],
  ])('refuses %j', (input, message) => {
    expect(monthProblem(input)).toBe(message);
    expect(() => parseMonth(input)).toThrow(message);
  });

  it('refuses non-strings', () => {
    expect(monthProblem(202601)).toBe('expected a month as a "YYYY-MM" string, received number 202601');
    expect(monthProblem(null)).toBe('expected a month as a "YYYY-MM" string, received null');
  });

  it('does arithmetic across year ends', () => {
    expect(addMonths('2026-11', 3)).toBe('2027-02');
    expect(addMonths('2026-01', -1)).toBe('2025-12');
    expect(addMonths('2026-06', -18)).toBe('2024-12');
    expect(monthFromIndex(monthIndex('2031-07'))).toBe('2031-07');
    expect(compareMonths('2026-02', '2025-12')).toBe(2);
    expect(monthRange('2025-11', '2026-02')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthRange('2026-02', '2026-01')).toEqual([]);
    expect(monthOf(new Date('2026-03-31T23:59:59Z'))).toBe('2026-03');
  });
});

describe('Month scalar through GraphQL', () => {
  // A schema with one Month argument, so literals and variables go through graphql-js
  // validation and coercion exactly as they do in the API.
  const schema: GraphQLSchema = buildSchema('scalar Month\ntype Query { echo(month: Month!): Month! }');
  Object.assign(schema.getType('Month') as object, {
    serialize: MonthScalar.serialize,
    parseValue: MonthScalar.parseValue,
    parseLiteral: MonthScalar.parseLiteral,
  });
  const rootValue = { echo: ({ month }: { month: string }) => month };

  it('passes a valid month as a literal and as a variable', async () => {
    expect((await graphql({ schema, rootValue, source: '{ echo(month: "2026-06") }' })).data).toEqual({ echo: '2026-06' });
    const viaVar = await graphql({ schema, rootValue, source: 'query($m: Month!) { echo(month: $m) }', variableValues: { m: '2026-12' } });
    expect(viaVar.data).toEqual({ echo: '2026-12' });
  });

  it.each(['2026-13', '2026-1', '26-01'])('refuses %j with a clear message and BAD_USER_INPUT', async (bad) => {
    const literal = await graphql({ schema, rootValue, source: `{ echo(month: "${bad}") }` });
    expect(literal.errors?.[0].message).toContain(`Month: expected`);
    expect(literal.errors?.[0].message).toContain(JSON.stringify(bad));
    const variable = await graphql({ schema, rootValue, source: 'query($m: Month!) { echo(month: $m) }', variableValues: { m: bad } });
    expect(variable.errors?.[0].message).toContain(`Month: expected`);
    expect(variable.errors?.[0].message).toContain(JSON.stringify(bad));
  });

  it('refuses a number literal', async () => {
    const r = await graphql({ schema, rootValue, source: '{ echo(month: 202606) }' });
    expect(r.errors?.[0].message).toContain('received a IntValue literal');
  });
});
