/**
 * Small numeric helpers shared by the scoring rules: input checks that throw a `RangeError` saying
 * what was expected and what was received, rounding away binary floating-point noise, and an
 * order-independent sum.
 */

/** Decimal places kept by {@link clean}: far below anything a user can see, far above float noise. */
export const CLEAN_DECIMALS = 9;

const SCALE = 10 ** CLEAN_DECIMALS;

/**
 * Rounds to {@link CLEAN_DECIMALS} decimal places, so that float noise such as
 * `(1 − 0.9) × 10 = 0.9999999999999998` or `0.1 + 0.2 = 0.30000000000000004` becomes the number a
 * person would write (1, 0.3) before it is floored, compared with a threshold or shown. Numbers too
 * large to carry nine decimals are returned unchanged. Never returns −0.
 */
export function clean(x: number): number {
  if (!Number.isFinite(x) || Math.abs(x) * SCALE >= Number.MAX_SAFE_INTEGER) return x;
  const r = Math.round(x * SCALE) / SCALE;
  return r === 0 ? 0 : r;
}

/**
 * The sum of `values`, added in ascending order, so that the result is bit-for-bit the same
 * whatever order the values arrive in (float addition is not associative). Pooled scores over the
 * same objective-months are therefore identical however a roll-up collected them.
 */
export function orderIndependentSum(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  let total = 0;
  for (const v of sorted) total += v;
  return total;
}

/** How a value looks in an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  return typeof value;
}

/** Throws a `RangeError` "`field`: expected a finite number, received …" unless `value` is one. */
export function assertFinite(field: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${field}: expected a finite number, received ${describe(value)}`);
}

/** Throws a `RangeError` unless `value` is a finite number from `min` to `max` (both included). */
export function assertBetween(field: string, value: unknown, min: number, max: number): asserts value is number {
  assertFinite(field, value);
  if (value < min || value > max) throw new RangeError(`${field}: expected a number from ${min} to ${max}, received ${describe(value)}`);
}

/** Throws a `RangeError` unless `value` is a whole number ≥ 0. */
export function assertCount(field: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new RangeError(`${field}: expected a whole number from 0, received ${describe(value)}`);
}

/** Throws a `RangeError` unless `value` is a `Date` holding a valid instant. */
export function assertDate(field: string, value: unknown): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new RangeError(`${field}: expected a valid Date, received ${describe(value)}`);
}
