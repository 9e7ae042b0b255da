/* What a log line may carry: capped text and errors. Used by the HTTP edge and the jobs alike, so
 * it lives here rather than under src/http (which nothing below it may import). */

/** Longest text of one logged value (an error message, a stack, a statement). */
export const LOG_VALUE_LIMIT = 2_000;

/** `text` cut to `limit` characters, saying how long it was. */
export function capText(text: string, limit = LOG_VALUE_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}… [${text.length - limit} more characters]`;
}

/**
 * An error as it is logged: type, code, message and stack, each capped. A driver error's message
 * carries the whole SQL statement with its parameters (for a 5,000-event batch, megabytes), which
 * must not reach the logs whole; its cause is kept, capped the same way, two levels deep.
 */
export function loggableError(e: unknown, depth = 0): Record<string, unknown> {
  if (!(e instanceof Error)) return { message: capText(String(e)) };
  const out: Record<string, unknown> = { type: e.constructor?.name ?? 'Error', message: capText(e.message) };
  if (e.stack) out.stack = capText(e.stack, LOG_VALUE_LIMIT * 2);
  const extra = e as unknown as Record<string, unknown>;
  for (const k of ['code', 'sqlState', 'errno']) if (typeof extra[k] === 'string' || typeof extra[k] === 'number') out[k] = typeof extra[k] === 'string' ? capText(extra[k] as string, 100) : extra[k];
  if (e.cause !== undefined && depth < 2) out.cause = loggableError(e.cause, depth + 1);
  return out;
}
