import { DateTimeResolver } from 'graphql-scalars';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { instantProblem } from './bounds';
import { apiMonthProblem, FIRST_API_MONTH, LAST_API_MONTH, monthProblem, type Month } from './month';
import { isLocalDate, type LocalDate } from './working-time';

function invalidInstant(problem: string): GraphQLError {
  return new GraphQLError(`DateTime: ${problem}`, { extensions: { code: 'BAD_USER_INPUT' } });
}

const base = DateTimeResolver.toConfig();

/** Days in each month of a common year; February gains one in a leap year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The value of the `n` ASCII digits of `s` from `at`, or -1 if one is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The instant of a string in the canonical UTC form (`2026-05-01T08:30:00.000Z`, or without the
 * milliseconds) that names a real instant, else null (and the full RFC 3339 check decides): every
 * field in range (a real day of its month, 00–23 hours, 00–59 minutes and seconds, so no leap
 * second), which are the strings that round-trip through `Date`, the full check's answer for them.
 * Read digit by digit with no regular expression, string parse or ISO string built: a tenth of
 * the `Date` round trip, for the 25,000 instants of a 5,000-event ingest (issue 19).
 * test/unit/datetime-scalar.test.ts compares it with the round trip on generated strings.
 */
export function canonicalInstant(value: unknown): Date | null {
  const t = canonicalMillis(value);
  return t === null ? null : new Date(t);
}

/** {@link canonicalInstant} as epoch milliseconds, without a `Date` (the handoff ingest's fast path). */
export function canonicalMillis(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const n = value.length;
  if (n !== 20 && n !== 24) return null;
  if (
    value.charCodeAt(4) !== 45 /* - */ ||
    value.charCodeAt(7) !== 45 ||
    value.charCodeAt(10) !== 84 /* T */ ||
    value.charCodeAt(13) !== 58 /* : */ ||
    value.charCodeAt(16) !== 58 ||
    value.charCodeAt(n - 1) !== 90 /* Z */
  ) {
    return null;
  }
  let ms = 0;
  if (n === 24) {
    if (value.charCodeAt(19) !== 46 /* . */) return null;
    ms = digits(value, 20, 3);
    if (ms < 0) return null;
  }
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : MONTH_DAYS[month - 1])) return null;
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC reads the years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.setUTCHours(hour, minute, second, ms);
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
