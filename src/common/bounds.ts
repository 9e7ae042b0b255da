/**
 * Bounds on the work one request may ask for (issue 12): every argument that sets an amount of
 * work (instants, months, windows, list sizes, text) is checked against a bound before any work
 * starts, and long loops give the event loop back now and then, so one request can neither freeze
 * the process nor reach the database with a value the database cannot take.
 */
import { BadUserInputError } from './errors';

/** First instant the API accepts (inclusive), as for months (`FIRST_API_MONTH` in `month.ts`). */
export const FIRST_INSTANT = new Date('2000-01-01T00:00:00Z');
/** First instant the API no longer accepts: everything is before 2100. */
export const END_INSTANT = new Date('2100-01-01T00:00:00Z');

/** How far past "now" an `asOf` argument may look (overdue reports, reviews due): a year and a day. */
export const MAX_AS_OF_AHEAD_DAYS = 366;

/** Longest `search` text: codes are 40 characters and names 200; a search is a fragment of one. */
export const MAX_SEARCH_LENGTH = 200;

/**
 * Longest string anywhere in a request's arguments: the longest text field (a report's narrative)
 * takes 20,000 characters; anything longer is refused at the edge, before it is coerced or stored.
 */
export const MAX_STRING_LENGTH = 20_000;

/**
 * Longest list anywhere in a request's arguments: the largest batch (handoff events) takes 5,000
 * items. A longer list is refused before the variables are coerced (once by the cost estimate and
 * once more by execution), which for 40,000 events cost over a second of one core.
 */
export const MAX_LIST_LENGTH = 5_000;

/** Longest cursor (`after`) the API decodes; the ones it writes are far shorter. */
export const MAX_CURSOR_LENGTH = 1_000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot be stored as text, or null: a NUL byte (PostgreSQL's text cannot hold one)
 * or a lone UTF-16 surrogate (not Unicode: it cannot be encoded as UTF-8, and PostgreSQL's JSON
 * refuses its escape, which broke the audit log).
 */
export function textProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character (U+0000), which text cannot hold';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate, which is not Unicode text';
  return null;
}

/** Throws BAD_USER_INPUT naming `field` when `value` is not storable text or is longer than `max`. */
export function assertText(field: string, value: string, max: number): void {
  const problem = textProblem(value);
  if (problem) throw new BadUserInputError(`${field}: ${problem}`, field);
  if (value.length > max) throw new BadUserInputError(`${field}: expected at most ${max} characters, received ${value.length}`, field);
}

/** Why an instant is outside the range the API accepts, or null. */
export function instantProblem(value: Date): string | null {
  const t = value.getTime();
  if (Number.isNaN(t)) return 'expected a valid instant';
  if (t < FIRST_INSTANT.getTime() || t >= END_INSTANT.getTime()) {
    return `expected an instant from ${FIRST_INSTANT.toISOString()} to before ${END_INSTANT.toISOString()}, received ${value.toISOString()}`;
  }
  return null;
}

/**
 * An `asOf` argument: at most {@link MAX_AS_OF_AHEAD_DAYS} days after the request's now. The work
 * of "what is overdue as of t" grows with the months up to t; a forecast further out means nothing.
 */
export function assertAsOf(field: string, asOf: Date, now: Date): void {
  const latest = now.getTime() + MAX_AS_OF_AHEAD_DAYS * 86_400_000;
  if (asOf.getTime() > latest) {
    throw new BadUserInputError(`${field}: expected an instant at most ${MAX_AS_OF_AHEAD_DAYS} days after now (${new Date(latest).toISOString()}), received ${asOf.toISOString()}`, field);
  }
}

/** A request's view of its own deadline: set by the HTTP layer when it abandons the request. */
export interface Abandonable {
  abandoned?: boolean;
}

/** Thrown inside the work of a request that the HTTP layer has already answered with TIMEOUT. */
export class AbandonedError extends Error {
  constructor() {
    super('the request was abandoned (timeout); its work stops here');
  }
}

/** The longest stretch of synchronous work between two turns of the event loop, in milliseconds. */
export const SLICE_MS = 15;

let sliceStarted = performance.now();

/**
 * Cooperative multitasking for long loops (scoring thousands of agreement-months, overdue months):
 * call it often; it costs a clock read, and once the current slice has run {@link SLICE_MS} it
 * yields to the event loop (so `/healthz` and other requests are served) and starts a new slice.
 * Work for a request that was abandoned stops at the next call.
 */
export async function breathe(request?: Abandonable): Promise<void> {
  if (performance.now() - sliceStarted < SLICE_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  sliceStarted = performance.now();
  if (request?.abandoned) throw new AbandonedError();
}

/**
 * `items.map(fn)` that breathes between items (see {@link breathe}): the same results, in order,
 * without holding the event loop for longer than a slice.
 */
export async function mapBreathing<T, R>(items: readonly T[], fn: (item: T, index: number) => R, request?: Abandonable): Promise<R[]> {
  const out = new Array<R>(items.length);
  for (let i = 0; i < items.length; i++) {
    // A clock read per item; an await only when the slice is over.
    if (performance.now() - sliceStarted >= SLICE_MS) await breathe(request);
    out[i] = fn(items[i], i);
  }
  return out;
}
