import { UserErrorCode, userError } from './user-error';

/**
 * The checks every request waiting for the other party shares (an exclusion, a month reopening):
 * it must still be REQUESTED, and a rejection says why. Returns the decision's note, trimmed (null
 * when none). `field` names the request's id argument in the user error; `what` the request.
 */
export function decisionNote(status: string, approve: boolean, note: string | null | undefined, field: string, what: string): string | null {
  if (status !== 'REQUESTED') userError(field, UserErrorCode.ILLEGAL_TRANSITION, `the ${what} is ${status}; only a REQUESTED one can be ${approve ? 'approved' : 'rejected'}`);
  const trimmed = note?.trim() || null;
  if (!approve && !trimmed) userError('note', UserErrorCode.REQUIRED, 'note: a rejection says why');
  return trimmed;
}
