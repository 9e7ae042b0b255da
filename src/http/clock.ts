import { instantProblem } from '../common/bounds';

/** An ISO 8601 instant with an explicit offset: `2026-03-01T12:00Z`, seconds and fractions optional. */
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The request's "now": the server's clock, or the `X-Clock-Now` header when the configuration
 * allows a test clock (CLOCK_OVERRIDE). Returns `{ problem }` (answered 400 BAD_REQUEST) when the
 * header is sent where it is not allowed, is not an instant, or lies outside the range of every
 * instant argument: the request's "now" sets as much work as an asOf.
 */
export function requestNow(header: string | string[] | undefined, allowed: boolean): { now: Date } | { problem: string } {
  if (header === undefined) return { now: new Date() };
  if (!allowed) return { problem: 'X-Clock-Now is not allowed here (CLOCK_OVERRIDE is off)' };
  const now = new Date(String(header));
  if (!INSTANT_RE.test(String(header)) || Number.isNaN(now.getTime())) return { problem: `X-Clock-Now: expected an ISO 8601 instant, received ${JSON.stringify(header)}` };
  const problem = instantProblem(now);
  return problem ? { problem: `X-Clock-Now: ${problem}` } : { now };
}
