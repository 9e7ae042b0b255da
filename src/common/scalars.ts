import { DateTimeResolver } from 'graphql-scalars';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { instantProblem } from './bounds';
import { apiMonthProblem, monthProblem, type Month } from './month';

function invalidInstant(problem: string): GraphQLError {
  return new GraphQLError(`DateTime: ${problem}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

const base = DateTimeResolver.toConfig();

/**
 * ISO 8601 instants (graphql-scalars `DateTime`), accepted on input only from 2000 to 2099 (see
 * `bounds.ts`): `"0000-01-01T00:00:00Z"` reached the database as a year it cannot store, and
 * `"9999-12-31T23:59:59Z"` as an `asOf` asked for thousands of years of work.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, unknown>({
  ...base,
  parseValue(value) {
    const date = base.parseValue(value) as Date;
    const problem = instantProblem(date);
    if (problem) throw invalidInstant(problem);
    return date;
  },
  parseLiteral(ast, variables) {
    const date = base.parseLiteral(ast, variables) as Date;
    const problem = instantProblem(date);
    if (problem) throw invalidInstant(problem);
    return date;
  },
});

function invalidMonth(problem: string): GraphQLError {
  return new GraphQLError(`Month: ${problem}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * `Month`: a calendar month as `"YYYY-MM"`. Strict on input: `"2026-1"`, `"26-01"` and `"2026-13"`
 * are refused with a message saying what was expected, so a dashboard never silently asks for
 * the wrong month.
 */
export const MonthScalar = new GraphQLScalarType<Month, string>({
  name: 'Month',
  description: 'A calendar month as "YYYY-MM", e.g. "2026-06"; from 2000-01 to 2099-12 on input.',
  specifiedByURL: 'https://www.iso.org/iso-8601-date-and-time-format.html',
  serialize(value) {
    const problem = monthProblem(value);
    if (problem) throw invalidMonth(problem);
    return value as string;
  },
  parseValue(value) {
    const problem = apiMonthProblem(value);
    if (problem) throw invalidMonth(problem);
    return value as Month;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw invalidMonth(`expected a month as a "YYYY-MM" string, received a ${ast.kind} literal`);
    const problem = apiMonthProblem(ast.value);
    if (problem) throw invalidMonth(problem);
    return ast.value;
  },
});
