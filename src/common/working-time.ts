/**
 * Working time on business calendars: which local dates are working days, when a monthly report is
 * due, how late a submission is, and how much working time lies between two instants (and the
 * inverse: the deadline that lies a number of working hours after an instant).
 *
 * Pure on purpose: no ORM, no GraphQL, no clock. Every function takes the calendar and the instants
 * it needs, so the scoring code and the tests get identical answers, and a calendar stored as JSON
 * can be used as it comes out of the database. Zone rules come from luxon's `IANAZone`, i.e. from
 * the runtime's ICU time-zone data.
 *
 * Conventions used throughout (docs/working-time.md has the reasoning):
 * - A *local date* is a `"YYYY-MM-DD"` string read in the calendar's time zone.
 * - A local day runs from the instant its wall clock first shows 00:00 to the instant the next local
 *   day starts; so a day is 23 or 25 hours long when the clocks change.
 * - A wall-clock time is turned into an instant deterministically: a time that occurs twice (clocks
 *   going back) means its first occurrence; a time that never occurs (clocks going forward) is
 *   moved forward by the length of the gap (02:30 on a 02:00 → 03:00 day means 03:30), as luxon
 *   and Temporal do. luxon's `DateTime.fromObject` is not used for this: it resolves a repeated
 *   time by the zone's offset at the moment the call runs, so the same calendar would give a
 *   different answer in summer than in winter. The zone's offsets still come from luxon
 *   (`IANAZone.offset`).
 * - Calendars are only read. Their parsed form is cached per object and per content (and parsed
 *   again when a field of a cached object has changed in place), and the instants at which local
 *   days and working hours start are cached per zone, so once those caches are warm the hot
 *   functions do no time-zone work and allocate next to nothing.
 */
import { IANAZone } from 'luxon';
import { monthIndex, parseMonth, type Month } from './month';

/**
 * When and where a department works, as stored (JSON) in the database. All times and dates are
 * local to `timeZone`.
 */
export interface BusinessCalendar {
  timeZone: string; // IANA, e.g. 'Europe/Berlin'
  workingDays: number[]; // ISO weekdays, 1 = Monday … 7 = Sunday
  dayStart: string; // "HH:MM" local time, e.g. "09:00"
  dayEnd: string; // "HH:MM" local, after dayStart, e.g. "17:00"; "24:00" is the end of the day
  holidays: string[]; // "YYYY-MM-DD" local dates
}

/** A calendar date as `"YYYY-MM-DD"`, meaningful only together with a time zone. */
export type LocalDate = string;

/** What {@link reportDue} returns: the due date and the instant it ends. */
export interface ReportDue {
  /** The local date on which the report is due (the Nth working day after the month). */
  dueDate: LocalDate;
  /** The instant the due date ends in the calendar's zone: a submission at or before it is on time. */
  dueAt: Date;
}

/**
 * Every hour of every day, in UTC, without holidays: working time equals elapsed time. CRITICAL
 * escalations use it because an outage does not wait for office hours; UTC because elapsed time
 * does not depend on a zone (its "working days" are simply UTC calendar days). Frozen so that no
 * caller can change it for everyone else.
 */
export const AROUND_THE_CLOCK: BusinessCalendar = freezeCalendar({
  timeZone: 'UTC',
  workingDays: [1, 2, 3, 4, 5, 6, 7],
  dayStart: '00:00',
  dayEnd: '24:00',
  holidays: [],
});

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** A JavaScript Date holds ±100,000,000 days around 1970; loops stop there rather than run on. */
const MAX_DAY = 100_000_000;
/** Entries per cache (days per zone, days per working window) before it is emptied and refilled. */
const CACHE_LIMIT = 20_000;
/** Distinct zones / working windows kept before those registries are emptied and refilled. */
const REGISTRY_LIMIT = 1_000;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})$/;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Everything wrong with a calendar, one message per problem, each starting with the field's name
 * (empty when the calendar is usable). Calendars arrive as JSON written by people, so this checks
 * the actual values rather than trusting the type: an unknown zone (checked with luxon's
 * `IANAZone.isValidZone`), no working day, weekdays outside 1–7, day bounds that are not `"HH:MM"`
 * (`dayEnd` may be `"24:00"`) or that end at or before they start, and holidays that are not real
 * `"YYYY-MM-DD"` dates. Every other function here throws a `RangeError` carrying these messages
 * when handed a calendar that has any.
 */
export function validateCalendar(cal: BusinessCalendar): string[] {
  if (typeof cal !== 'object' || cal === null || Array.isArray(cal)) return [`calendar: expected an object, received ${show(cal)}`];
  const problems: string[] = [];
  const { timeZone, workingDays, dayStart, dayEnd, holidays } = cal as Partial<Record<keyof BusinessCalendar, unknown>>;

  if (typeof timeZone !== 'string' || !isValidZone(timeZone)) {
    problems.push(`timeZone: ${show(timeZone)} is not an IANA time zone such as "Europe/Berlin"`);
  }

  if (!Array.isArray(workingDays)) {
    problems.push(`workingDays: expected a list of ISO weekdays (1 = Monday … 7 = Sunday), received ${show(workingDays)}`);
  } else {
    let valid = 0;
    for (const day of workingDays) {
      if (Number.isInteger(day) && day >= 1 && day <= 7) valid++;
      else problems.push(`workingDays: ${show(day)} is not an ISO weekday (1 = Monday … 7 = Sunday)`);
    }
    if (valid === 0) problems.push('workingDays: at least one working day is needed');
  }

  const start = minuteOfDay(dayStart, false);
  const end = minuteOfDay(dayEnd, true);
  if (start === null) problems.push(`dayStart: ${show(dayStart)} is not a time as "HH:MM" from "00:00" to "23:59"`);
  if (end === null) problems.push(`dayEnd: ${show(dayEnd)} is not a time as "HH:MM" from "00:01" to "24:00"`);
  if (start !== null && end !== null && end <= start) {
    problems.push(`dayEnd: ${show(dayEnd)} must be after dayStart ${show(dayStart)}`);
  }

  if (!Array.isArray(holidays)) {
    problems.push(`holidays: expected a list of "YYYY-MM-DD" dates, received ${show(holidays)}`);
  } else {
    for (const holiday of holidays) {
      if (dayNumberOf(holiday) === null) problems.push(`holidays: ${show(holiday)} is not a date as "YYYY-MM-DD"`);
    }
  }
  return problems;
}

/**
 * Whether work is expected on a local date: its weekday is one of the calendar's working days and
 * it is not a holiday. This is the one definition of "working day" behind report due dates and
 * lateness, exported so that callers (and tests) can ask about a single date the same way.
 * Throws a `RangeError` when `date` is not a `"YYYY-MM-DD"` date.
 */
export function isWorkingDay(cal: BusinessCalendar, date: LocalDate): boolean {
  return isWorkingDayNumber(compile(cal), parseLocalDate(date, 'date'));
}

/**
 * The `n`th working day strictly after the local date `date`: with `n = 1`, the next working day
 * (the Monday after a Friday on a Monday–Friday calendar). Due dates are defined this way ("the
 * fifth working day after the month") so that weekends and holidays postpone them. `n = 0` returns
 * `date` itself, whether or not it is a working day: zero working days after a date is no move at
 * all, which keeps the function composable (`after(after(d, a), b) = after(d, a + b)`) and lets a
 * due rule of "0 working days" mean "on the last day of the month". Throws a `RangeError` for a
 * negative or fractional `n` and for a malformed date.
 */
export function nthWorkingDayAfter(cal: BusinessCalendar, date: LocalDate, n: number): LocalDate {
  const c = compile(cal);
  return formatDayNumber(nthWorkingDayNumber(c, parseLocalDate(date, 'date'), checkCount(n, 'n')));
}

/**
 * When the report of `month` is due: on the `workingDays`th working day after the month's last
 * calendar day (see {@link nthWorkingDayAfter}; 0 means the last day itself), and at the end of
 * that day, i.e. at the local midnight that starts the next calendar day in the calendar's zone.
 * The end of the day rather than a time of day, because people read "due on the 8th" as "any time
 * on the 8th": a report submitted at 23:59 local on the due date is on time. `dueAt` is exactly
 * the instant {@link workingDaysLate} and {@link isLate} compare against. Throws a `RangeError` for
 * a malformed month or a negative or fractional number of working days.
 */
export function reportDue(cal: BusinessCalendar, month: Month, workingDays: number): ReportDue {
  const c = compile(cal);
  const index = monthIndex(parseMonth(month)) + 1; // the month after, whose day 1 follows the last day
  const lastDay = daysFromCivil(Math.floor(index / 12), (index % 12) + 1, 1) - 1;
  const dueDay = nthWorkingDayNumber(c, lastDay, checkCount(workingDays, 'workingDays'));
  return { dueDate: formatDayNumber(dueDay), dueAt: new Date(startOfDay(c.zone, dueDay + 1)) };
}

/**
 * Whether something delivered at `at` missed a deadline `dueAt` (such as {@link reportDue}'s):
 * late only when strictly after it, so delivering at the very instant of the deadline is on time.
 * A separate function because being late and how many working days late are different questions:
 * a report due on a Friday and submitted on the Saturday is late, by one working day.
 */
export function isLate(dueAt: Date, at: Date): boolean {
  return instantOf(at, 'at') > instantOf(dueAt, 'dueAt');
}

/**
 * By how many working days a delivery at `at` missed a report due on the local date `dueDate`:
 * 0 when `at` is at or before the end of the due date (the local midnight that starts the next
 * day, as in {@link reportDue}); otherwise the number of working days `d` with
 * `dueDate < d ≤ the local date of at`, but at least 1. So the next working day counts 1 whatever
 * the hour, a weekend or a holiday adds nothing, and a submission on the Saturday after a Friday
 * due date is 1 day late, not 0: a late delivery must never score as punctual. Throws a
 * `RangeError` for a malformed date or an invalid Date.
 */
export function workingDaysLate(cal: BusinessCalendar, dueDate: LocalDate, at: Date): number {
  const c = compile(cal);
  const due = parseLocalDate(dueDate, 'dueDate');
  const t = instantOf(at, 'at');
  if (t <= startOfDay(c.zone, due + 1)) return 0;
  const atDay = localDayOf(c.zone, t);
  let late = 0;
  for (let day = due + 1; day <= atDay; day++) if (isWorkingDayNumber(c, day)) late++;
  return Math.max(1, late);
}

/**
 * The local date, in the calendar's zone, of the instant `at`. Reports, lateness and holidays are
 * all about the department's own dates, not UTC's; only `timeZone` is read, so a full calendar or
 * `{ timeZone }` will do.
 */
export function localDateOf(cal: Pick<BusinessCalendar, 'timeZone'>, at: Date): LocalDate {
  return formatDayNumber(localDayOf(zoneDays(cal.timeZone), instantOf(at, 'at')));
}

/**
 * The instant the local date `date` ends in the calendar's zone, i.e. the local midnight that
 * starts the next day: the deadline instant of anything "due on" that date (see
 * {@link reportDue}). Only `timeZone` is read.
 */
export function endOfLocalDay(cal: Pick<BusinessCalendar, 'timeZone'>, date: LocalDate): Date {
  return new Date(startOfDay(zoneDays(cal.timeZone), parseLocalDate(date, 'date') + 1));
}

/**
 * The end of a customer's acceptance window (DESIGN §5): the end of the `workingDays`-th working
 * day after the local day a revision was submitted on. A revision not acknowledged or disputed by
 * then is deemed acknowledged. Submitted on Friday 3 April 2026 (Berlin) with 5 working days and
 * Easter Monday a holiday, the window ends at the end of Monday 13 April.
 */
export function acceptanceDue(cal: BusinessCalendar, submittedAt: Date, workingDays: number): Date {
  return endOfLocalDay(cal, nthWorkingDayAfter(cal, localDateOf(cal, submittedAt), workingDays));
}

/**
 * The instant `month` ends in the calendar's time zone (DESIGN §4 rule 0): the start of day 1 of
 * the next month there. Before it, nothing of the month is scored. For Europe/Berlin, March 2026
 * ends at 2026-03-31T22:00:00Z (summer time has begun), January at 2026-01-31T23:00:00Z.
 */
export function monthEndsAt(cal: Pick<BusinessCalendar, 'timeZone'>, month: Month): Date {
  const index = monthIndex(parseMonth(month)) + 1;
  return new Date(startOfDay(zoneDays(cal.timeZone), daysFromCivil(Math.floor(index / 12), (index % 12) + 1, 1)));
}

/**
 * Working time, in milliseconds, between two instants: for every local day from the one holding
 * `start` to the one holding `end` that is a working day, the overlap of `[start, end]` with that
 * day's working hours. Hours are turned into instants in the calendar's zone for each date, so a
 * clock change is handled where it happens: a 00:00–24:00 day is 23 or 25 hours long on the days
 * the clocks change, while 09:00–17:00 stays 8 hours unless the change falls inside it. Returns 0
 * when `end` is not after `start`, never a negative duration: a clock that "ran backwards" is an
 * input error the caller should not be able to turn into credit. Runs in O(days spanned) with
 * cached day bounds, so it is cheap enough to call per item in bulk scoring.
 */
export function workingMillisBetween(cal: BusinessCalendar, start: Date, end: Date): number {
  const c = compile(cal);
  return millisBetween(c, instantOf(start, 'start'), instantOf(end, 'end'));
}

/**
 * {@link workingHoursBetween} of two instants given as epoch milliseconds (valid ones): for bulk
 * callers that keep instants as numbers rather than a `Date` each (the handoff ingest).
 */
export function workingHoursBetweenMillis(cal: BusinessCalendar, start: number, end: number): number {
  return millisBetween(compile(cal), start, end) / HOUR_MS;
}

/** {@link workingMillisBetween} on a compiled calendar and two epoch milliseconds. */
function millisBetween(c: CompiledCalendar, s: number, e: number): number {
  if (e <= s) return 0;
  const lastDay = localDayOf(c.zone, e);
  let total = 0;
  for (let day = localDayOf(c.zone, s); day <= lastDay; day++) {
    if (!isWorkingDayNumber(c, day)) continue;
    const w = windowOf(c, day);
    const from = w.start > s ? w.start : s;
    const to = w.end < e ? w.end : e;
    if (to > from) total += to - from;
  }
  return total;
}

/**
 * {@link workingMillisBetween} in hours (milliseconds / 3,600,000), unrounded: SLA targets are
 * stated in hours, and rounding here would make sums over many tickets drift; round for display
 * only.
 */
export function workingHoursBetween(cal: BusinessCalendar, start: Date, end: Date): number {
  return workingMillisBetween(cal, start, end) / HOUR_MS;
}

/**
 * The deadline `hours` of working time after `start`: the earliest instant `t` with
 * `workingHoursBetween(cal, start, t) = hours`, so the two functions are exact inverses. A start
 * outside working hours waits for the next working window; a deadline that exactly uses up a
 * window ends at that window's close (8 hours from Monday 09:00 is Monday 17:00, not Tuesday
 * 09:00); `hours = 0` returns `start` unchanged. A Date holds whole milliseconds, so working time
 * that is not a whole number of milliseconds is rounded up to the next one (a deadline is never
 * earlier than asked); a value within floating-point noise of a whole millisecond counts as that
 * millisecond. Throws a `RangeError` for negative, NaN or infinite hours.
 */
export function addWorkingHours(cal: BusinessCalendar, start: Date, hours: number): Date {
  if (typeof hours !== 'number' || !Number.isFinite(hours) || hours < 0) {
    throw new RangeError(`hours: expected a finite number of hours ≥ 0, received ${show(hours)}`);
  }
  const c = compile(cal);
  const s = instantOf(start, 'start');
  let remaining = wholeMillis(hours * HOUR_MS);
  if (remaining === 0) return new Date(s);
  for (let day = localDayOf(c.zone, s); day <= MAX_DAY; day++) {
    if (!isWorkingDayNumber(c, day)) continue;
    const w = windowOf(c, day);
    const from = w.start > s ? w.start : s;
    if (w.end <= from) continue;
    const available = w.end - from;
    if (remaining <= available) return new Date(from + remaining);
    remaining -= available;
  }
  throw new RangeError(`hours: ${hours} working hours after ${new Date(s).toISOString()} lie beyond the dates a Date can hold`);
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic on day numbers (days since 1970-01-01; no Date, no zone)
// ---------------------------------------------------------------------------------------------

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** The inverse of {@link daysFromCivil}, formatted as `"YYYY-MM-DD"`. */
function formatDayNumber(dayNumber: number): LocalDate {
  const z = dayNumber + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** ISO weekday (1 = Monday … 7 = Sunday) of a day number; 1970-01-01 was a Thursday. */
function isoWeekday(dayNumber: number): number {
  return ((((dayNumber + 3) % 7) + 7) % 7) + 1;
}

/** Whether `value` is a real calendar date as `"YYYY-MM-DD"` (`"2026-02-30"` is not). */
export function isLocalDate(value: unknown): value is LocalDate {
  return dayNumberOf(value) !== null;
}

/** The day number of a valid `"YYYY-MM-DD"` date from year 0001, or null. */
function dayNumberOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = DATE_RE.exec(value);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1) return null;
  const dayNumber = daysFromCivil(year, month, day);
  return formatDayNumber(dayNumber) === value ? dayNumber : null; // rejects 2026-02-30
}

function parseLocalDate(value: unknown, name: string): number {
  const dayNumber = dayNumberOf(value);
  if (dayNumber === null) throw new RangeError(`${name}: expected a local date as "YYYY-MM-DD", received ${show(value)}`);
  return dayNumber;
}

/** Minutes after midnight of `"HH:MM"`, or null; `"24:00"` (1440) only when `endOfDay` is allowed. */
function minuteOfDay(value: unknown, endOfDay: boolean): number | null {
  if (typeof value !== 'string') return null;
  const m = TIME_RE.exec(value);
  if (!m) return null;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (minute > 59) return null;
  if (hour < 24) return hour * 60 + minute;
  return endOfDay && hour === 24 && minute === 0 ? 1440 : null;
}

function checkCount(n: unknown, name: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new RangeError(`${name}: expected a whole number of working days ≥ 0, received ${show(n)}`);
  }
  return n;
}

function instantOf(value: unknown, name: string): number {
  const t = value instanceof Date ? value.getTime() : NaN;
  if (Number.isNaN(t)) throw new RangeError(`${name}: expected a valid Date, received ${show(value)}`);
  return t;
}

/** Milliseconds rounded up to a whole number, ignoring floating-point noise around whole values. */
function wholeMillis(ms: number): number {
  const nearest = Math.round(ms);
  return Math.abs(ms - nearest) <= 1e-6 + Math.abs(ms) * 4 * Number.EPSILON ? nearest : Math.ceil(ms);
}

function freezeCalendar(cal: BusinessCalendar): BusinessCalendar {
  Object.freeze(cal.workingDays);
  Object.freeze(cal.holidays);
  return Object.freeze(cal);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'a list' : `a value of type ${typeof value}`;
}

// ---------------------------------------------------------------------------------------------
// Zones: wall-clock times → instants, cached per local day
// ---------------------------------------------------------------------------------------------

interface ZoneDays {
  readonly zone: IANAZone;
  /** Local day number → the instant (epoch ms) that local day starts. */
  readonly starts: Map<number, number>;
}

const zoneValidity = new Map<string, boolean>();
const zoneRegistry = new Map<string, ZoneDays>();

/** luxon's check, memoised: it builds an `Intl.DateTimeFormat` on every call. */
function isValidZone(name: string): boolean {
  let valid = zoneValidity.get(name);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(name);
    if (zoneValidity.size >= REGISTRY_LIMIT) zoneValidity.clear();
    zoneValidity.set(name, valid);
  }
  return valid;
}

function zoneDays(name: unknown): ZoneDays {
  const known = typeof name === 'string' ? zoneRegistry.get(name) : undefined;
  if (known) return known;
  if (typeof name !== 'string' || !isValidZone(name)) {
    throw new RangeError(`timeZone: ${show(name)} is not an IANA time zone such as "Europe/Berlin"`);
  }
  const created: ZoneDays = { zone: IANAZone.create(name), starts: new Map() };
  if (zoneRegistry.size >= REGISTRY_LIMIT) zoneRegistry.clear();
  zoneRegistry.set(name, created);
  return created;
}

/** The zone's offset from UTC at instant `t`, in whole milliseconds. */
function offsetAt(zone: IANAZone, t: number): number {
  return Math.round(zone.offset(t) * MINUTE_MS);
}

/**
 * The instant at which the zone's wall clock shows `wall` (a local date and time written as if it
 * were UTC epoch milliseconds). The two candidate offsets are those a day before and a day after.
 * A wall time that occurs twice resolves to its first occurrence (the offset before the change is
 * the larger one, so its candidate is the earlier instant and is checked first); one that falls in
 * a gap resolves, via the offset before the gap, to the same wall time shifted forward by the
 * gap's length.
 */
function instantOfWallTime(zone: IANAZone, wall: number): number {
  const before = offsetAt(zone, wall - DAY_MS);
  const first = wall - before;
  if (offsetAt(zone, first) === before) return first;
  const after = offsetAt(zone, wall + DAY_MS);
  const second = wall - after;
  if (offsetAt(zone, second) === after) return second;
  return first;
}

/** The instant local day `day` starts (its first 00:00, or the end of a gap that swallowed it). */
function startOfDay(zd: ZoneDays, day: number): number {
  let t = zd.starts.get(day);
  if (t === undefined) {
    t = instantOfWallTime(zd.zone, day * DAY_MS);
    if (zd.starts.size >= CACHE_LIMIT) zd.starts.clear();
    zd.starts.set(day, t);
  }
  return t;
}

/** The local day holding instant `t`: the `day` with `startOfDay(day) ≤ t < startOfDay(day + 1)`. */
function localDayOf(zd: ZoneDays, t: number): number {
  let day = Math.floor(t / DAY_MS); // the UTC day; UTC offsets keep the local day within one of it
  while (t < startOfDay(zd, day)) day--;
  while (t >= startOfDay(zd, day + 1)) day++;
  return day;
}

// ---------------------------------------------------------------------------------------------
// Calendars: parsed once per object, working windows cached per (zone, dayStart, dayEnd)
// ---------------------------------------------------------------------------------------------

/** A local day's working hours as instants, clipped to the day (so windows never overlap). */
interface Window {
  readonly start: number;
  readonly end: number;
}

interface CompiledCalendar {
  /** Copies of the fields this was built from, to notice a calendar object changed in place. */
  readonly timeZone: string;
  readonly dayStart: string;
  readonly dayEnd: string;
  readonly workingDaysCopy: readonly number[];
  readonly holidaysCopy: readonly string[];

  readonly zone: ZoneDays;
  /** Indexed by ISO weekday. */
  readonly working: readonly boolean[];
  readonly holidays: ReadonlySet<number>;
  readonly startMinute: number;
  readonly endMinute: number;
  readonly windows: Map<number, Window>;
}

/** Parsed calendars by object: the fast path when one calendar object serves many calls. */
const compiledCalendars = new WeakMap<object, CompiledCalendar>();
/** Parsed calendars by content: calendars read afresh from the database are new objects each time. */
const compiledBySignature = new Map<string, CompiledCalendar>();
const windowRegistry = new Map<string, Map<number, Window>>();

function compile(cal: BusinessCalendar): CompiledCalendar {
  const isObject = typeof cal === 'object' && cal !== null;
  const cached = isObject ? compiledCalendars.get(cal) : undefined;
  if (cached && unchanged(cached, cal)) return cached;
  const signature = isObject ? signatureOf(cal) : null;
  const sameContent = signature === null ? undefined : compiledBySignature.get(signature);
  if (sameContent && unchanged(sameContent, cal)) {
    compiledCalendars.set(cal, sameContent);
    return sameContent;
  }

  const problems = validateCalendar(cal);
  if (problems.length > 0) throw new RangeError(`invalid business calendar: ${problems.join('; ')}`);

  const startMinute = minuteOfDay(cal.dayStart, false) as number;
  const endMinute = minuteOfDay(cal.dayEnd, true) as number;
  const working: boolean[] = [false, false, false, false, false, false, false, false];
  for (const day of cal.workingDays) working[day] = true;
  const holidays = new Set<number>();
  for (const holiday of cal.holidays) holidays.add(dayNumberOf(holiday) as number);

  const windowKey = `${cal.timeZone}\u0000${startMinute}\u0000${endMinute}`;
  let windows = windowRegistry.get(windowKey);
  if (!windows) {
    windows = new Map();
    if (windowRegistry.size >= REGISTRY_LIMIT) windowRegistry.clear();
    windowRegistry.set(windowKey, windows);
  }

  const compiled: CompiledCalendar = {
    timeZone: cal.timeZone,
    dayStart: cal.dayStart,
    dayEnd: cal.dayEnd,
    workingDaysCopy: [...cal.workingDays],
    holidaysCopy: [...cal.holidays],
    zone: zoneDays(cal.timeZone),
    working,
    holidays,
    startMinute,
    endMinute,
    windows,
  };
  compiledCalendars.set(cal, compiled);
  if (signature !== null) {
    if (compiledBySignature.size >= REGISTRY_LIMIT) compiledBySignature.clear();
    compiledBySignature.set(signature, compiled);
  }
  return compiled;
}

function signatureOf(cal: BusinessCalendar): string | null {
  try {
    return JSON.stringify([cal.timeZone, cal.dayStart, cal.dayEnd, cal.workingDays, cal.holidays]);
  } catch {
    return null; // not JSON (a BigInt, a cycle): validation will say what is wrong
  }
}

function unchanged(c: CompiledCalendar, cal: BusinessCalendar): boolean {
  return c.timeZone === cal.timeZone && c.dayStart === cal.dayStart && c.dayEnd === cal.dayEnd && sameItems(c.workingDaysCopy, cal.workingDays) && sameItems(c.holidaysCopy, cal.holidays);
}

function sameItems(copy: readonly unknown[], current: unknown): boolean {
  if (!Array.isArray(current) || current.length !== copy.length) return false;
  for (let i = 0; i < copy.length; i++) if (copy[i] !== current[i]) return false;
  return true;
}

function isWorkingDayNumber(c: CompiledCalendar, day: number): boolean {
  return c.working[isoWeekday(day)] && !c.holidays.has(day);
}

function nthWorkingDayNumber(c: CompiledCalendar, day: number, n: number): number {
  let d = day;
  for (let left = n; left > 0;) {
    d++;
    if (d > MAX_DAY) throw new RangeError(`${n} working days after ${formatDayNumber(day)} lie beyond the dates a Date can hold`);
    if (isWorkingDayNumber(c, d)) left--;
  }
  return d;
}

/** The working hours of local day `day` as instants (computed for any day; callers check the date). */
function windowOf(c: CompiledCalendar, day: number): Window {
  let w = c.windows.get(day);
  if (w === undefined) {
    const dayBegins = startOfDay(c.zone, day);
    const dayEnds = startOfDay(c.zone, day + 1);
    const wall = day * DAY_MS;
    const start = c.startMinute === 0 ? dayBegins : instantOfWallTime(c.zone.zone, wall + c.startMinute * MINUTE_MS);
    const end = c.endMinute === 1440 ? dayEnds : instantOfWallTime(c.zone.zone, wall + c.endMinute * MINUTE_MS);
    const clippedStart = clamp(start, dayBegins, dayEnds);
    w = { start: clippedStart, end: clamp(end, clippedStart, dayEnds) };
    if (c.windows.size >= CACHE_LIMIT) c.windows.clear();
    c.windows.set(day, w);
  }
  return w;
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}
