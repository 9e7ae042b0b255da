import { DateTimeResolver } from 'graphql-scalars';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { monthProblem, type Month } from './month';

/** ISO 8601 instants (graphql-scalars `DateTime`). */
export const DateTimeScalar = DateTimeResolver;

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
  description: 'A calendar month as "YYYY-MM", e.g. "2026-06".',
  specifiedByURL: 'https://www.iso.org/iso-8601-date-and-time-format.html',
  serialize(value) {
    const problem = monthProblem(value);
    if (problem) throw invalidMonth(problem);
    return value as string;
  },
  parseValue(value) {
    const problem = monthProblem(value);
    if (problem) throw invalidMonth(problem);
    return value as Month;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw invalidMonth(`expected a month as a "YYYY-MM" string, received a ${ast.kind} literal`);
    const problem = monthProblem(ast.value);
    if (problem) throw invalidMonth(problem);
    return ast.value;
  },
});
