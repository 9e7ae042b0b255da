import { DateTimeResolver } from 'graphql-scalars';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { instantProblem } from './bounds';
import { apiMonthProblem, FIRST_API_MONTH, LAST_API_MONTH, monthProblem, type Month } from './month';
import { isLocalDate, type LocalDate } from './working-time';

function invalidInstant(problem: string): GraphQLError {
  return new GraphQLError(`DateTime: ${problem}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

const base = DateTimeResolver.toConfig();

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/**
 * The instant of a string in the canonical UTC form (`2026-05-01T08:30:00.000Z`, or without the
 * milliseconds) that names a real instant, else null (and the full RFC 3339 check decides). A
 * canonical string that round-trips through `Date` has every field in range, so the full check
 * would accept it and return the same instant; checking it this way costs a fifth as much, which
 * counts for the 5,000-event ingests (issue 19).
 */
function canonicalInstant(value: unknown): Date | null {
  if (typeof value !== 'string' || !CANONICAL.test(value)) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString();
  return iso === value || (value.length === 20 && iso === `${value.slice(0, 19)}.000Z`) ? date : null;
}

/**
 * ISO 8601 instants (graphql-scalars `DateTime`), accepted on input only from 2000 to 2099 (see
 * `bounds.ts`): `"0000-01-01T00:00:00Z"` reached the database as a year it cannot store, and
 * `"9999-12-31T23:59:59Z"` as an `asOf` asked for thousands of years of work.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, unknown>({
  ...base,
  parseValue(value) {
    const date = canonicalInstant(value) ?? (base.parseValue(value) as Date);
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

function invalidDate(problem: string): GraphQLError {
  return new GraphQLError(`Date: ${problem}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

/** What is wrong with a `Date` on input, or null: a real calendar date from 2000 to 2099, as Months and instants are. */
function apiDateProblem(value: unknown): string | null {
  if (!isLocalDate(value)) return `expected a calendar date as "YYYY-MM-DD", received ${JSON.stringify(value)}`;
  const month = value.slice(0, 7);
  if (month < FIRST_API_MONTH || month > LAST_API_MONTH) return `expected a date from ${FIRST_API_MONTH}-01 to ${LAST_API_MONTH}-31, received "${value}"`;
  return null;
}

/**
 * `Date` (DESIGN §7): a calendar date as `"YYYY-MM-DD"`, with no time and no zone (a day on an
 * agreement's business calendar: a report's due date, a holiday, a review date). Kept as the same
 * string inside (`LocalDate`), never as a JavaScript `Date`, whose midnight in UTC would move the
 * day in any zone west of Greenwich. graphql-scalars' `DateResolver` parses into such a `Date`,
 * hence this one. Strict on input like `Month`: `"2026-2-3"` and `"2026-02-30"` are refused.
 */
export const DateScalar = new GraphQLScalarType<LocalDate, string>({
  name: 'Date',
  description: 'A calendar date as "YYYY-MM-DD", e.g. "2026-06-30", with no time or zone (a day on the business calendar); from 2000-01-01 to 2099-12-31 on input.',
  specifiedByURL: 'https://www.iso.org/iso-8601-date-and-time-format.html',
  serialize(value) {
    if (!isLocalDate(value)) throw invalidDate(`expected a calendar date as "YYYY-MM-DD", received ${JSON.stringify(value)}`);
    return value;
  },
  parseValue(value) {
    const problem = apiDateProblem(value);
    if (problem) throw invalidDate(problem);
    return value as LocalDate;
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw invalidDate(`expected a date as a "YYYY-MM-DD" string, received a ${ast.kind} literal`);
    const problem = apiDateProblem(ast.value);
    if (problem) throw invalidDate(problem);
    return ast.value;
  },
});
