/**
 * What every batch ingest (handoff events, measurements, escalations) checks first, before any
 * read: the sending system's name and the batch size. Shared so that the three mutations answer
 * the same input with the same errors.
 */
import { UserError, UserErrorCode, userError } from './user-error';

/**
 * The trimmed `source` and the errors of a batch's header: `source` required and at most 100
 * characters, the list (`field`, items called `noun`s) not empty; a list over `max` items throws at
 * once, since nothing in it is worth reading.
 */
export function checkBatch(source: string, items: readonly unknown[], field: string, noun: string, max: number): { source: string; errors: UserError[] } {
  const errors: UserError[] = [];
  const trimmed = source.trim();
  if (!trimmed) errors.push(new UserError('source', UserErrorCode.REQUIRED, 'source: expected the name of the sending system'));
  else if (trimmed.length > 100) errors.push(new UserError('source', UserErrorCode.INVALID, `source: expected at most 100 characters, received ${trimmed.length}`));
  if (!items.length) errors.push(new UserError(field, UserErrorCode.REQUIRED, `${field}: expected at least one ${noun}`));
  if (items.length > max) userError(field, UserErrorCode.INVALID, `${field}: expected at most ${max} ${noun}s a call, received ${items.length}`);
  return { source: trimmed, errors };
}
