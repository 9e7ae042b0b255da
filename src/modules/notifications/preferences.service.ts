import type { EntityManager } from '@mikro-orm/core';
import { isUUID } from 'class-validator';
import { principalOf } from '../../common/authorization';
import type { Context } from '../../common/context';
import { runMutation, type MutationResult } from '../../common/mutation';
import { assertMay } from '../../common/policy';
import { UserError, UserErrorCode, UserErrorsException } from '../../common/user-error';
import { User } from '../auth/user.entity';
import { EmailPreference } from './notification.entity';

/** A user's e-mail preferences. */
export interface Preferences {
  actions: boolean;
  dailyDigest: boolean;
}

/** Both on: what a user without a stored choice gets. */
export const DEFAULT_PREFERENCES: Preferences = { actions: true, dailyDigest: true };

/** The preferences of `userIds` (the defaults for those who never chose), one statement. */
export async function preferencesOf(em: EntityManager, userIds: readonly string[]): Promise<Map<string, Preferences>> {
  const rows = userIds.length ? await em.find(EmailPreference, { userId: { $in: [...new Set(userIds)] } }, { disableIdentityMap: true }) : [];
  const stored = new Map(rows.map((r) => [r.userId, { actions: r.actions, dailyDigest: r.dailyDigest }]));
  return new Map(userIds.map((id) => [id, stored.get(id) ?? DEFAULT_PREFERENCES]));
}

/**
 * Sets e-mail preferences: a user its own, an admin anyone's (the policy's `user:manage`). An
 * omitted value stays as it was.
 */
export async function setEmailPreferences(
  ctx: Context,
  input: { userId?: string | null; actions?: boolean | null; dailyDigest?: boolean | null },
  now = ctx.request.now,
): Promise<MutationResult<Preferences>> {
  const principal = principalOf(ctx);
  const userId = input.userId ?? principal.userId;
  if (!isUUID(userId)) return { result: null, userErrors: [new UserError('userId', UserErrorCode.INVALID, `userId: expected a user id (a UUID), received ${JSON.stringify(userId.slice(0, 60))}`)] };
  if (userId !== principal.userId) assertMay(ctx, 'user:manage', null, () => 'Only admins set another user’s e-mail preferences');
  return runMutation(ctx, async (em) => {
    const user = await em.findOne(User, userId);
    if (!user) throw new UserErrorsException([new UserError('userId', UserErrorCode.NOT_FOUND, `userId: no user ${userId}`)]);
    const current = (await preferencesOf(em, [userId])).get(userId) as Preferences;
    const next = { actions: input.actions ?? current.actions, dailyDigest: input.dailyDigest ?? current.dailyDigest };
    await em.upsert(EmailPreference, { userId, ...next, updatedAt: now });
    return next;
  });
}
