import DataLoader from 'dataloader';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { principalOf } from '../../common/authorization';
import { PageArgs } from '../../common/connection';
import type { Context } from '../../common/context';
import { loadOrThrow } from '../../common/loaders';
import { payload } from '../../common/mutation';
import { Agreement } from '../agreements/agreement.entity';
import { User } from '../auth/user.entity';
import { actionItemsOf } from './action-items';
import * as inbox from './inbox.service';
import { ActionItem, EmailPreferences, EmailPreferencesPayload, InboxActor, InboxConnection, InboxFilter, InboxItem, InboxReadPayload, SetEmailPreferencesInput } from './notification.types';
import { preferencesOf, setEmailPreferences } from './preferences.service';

/** The actors of a request's inbox items, by user id, one statement per page (not a loader every request builds). */
const actorLoaders = new WeakMap<Context['em'], DataLoader<string, InboxActor | null>>();
function actorLoader(ctx: Context): DataLoader<string, InboxActor | null> {
  let loader = actorLoaders.get(ctx.em);
  if (!loader) {
    loader = new DataLoader(async (ids: readonly string[]) => {
      const users = await ctx.em.find(User, { id: { $in: [...ids] } }, { fields: ['name'], disableIdentityMap: true });
      const byId = new Map(users.map((u) => [u.id, { id: u.id, name: u.name }]));
      return ids.map((id) => byId.get(id) ?? null);
    });
    actorLoaders.set(ctx.em, loader);
  }
  return loader;
}

/** The preferences of a request's users, one statement per list of users. */
const preferenceLoaders = new WeakMap<Context['em'], DataLoader<string, EmailPreferences>>();
function preferencesLoader(ctx: Context): DataLoader<string, EmailPreferences> {
  let loader = preferenceLoaders.get(ctx.em);
  if (!loader) {
    loader = new DataLoader(async (ids: readonly string[]) => {
      const found = await preferencesOf(ctx.em, ids);
      return ids.map((id) => found.get(id) as EmailPreferences);
    });
    preferenceLoaders.set(ctx.em, loader);
  }
  return loader;
}

@Resolver(() => InboxItem)
export class InboxResolver {
  @Authorized()
  @Query(() => InboxConnection, { description: 'The domain events the principal may read, newest first, with read markers (docs/notifications.md).' })
  inbox(@Ctx() ctx: Context, @Args() page: PageArgs, @Arg('filter', () => InboxFilter, { nullable: true }) filter?: InboxFilter): Promise<InboxConnection> {
    return inbox.listInbox(ctx, filter, page) as Promise<InboxConnection>;
  }

  @Authorized()
  @Query(() => [ActionItem], { description: 'What awaits the principal now: approvals, reports to submit, acknowledge, correct or settle, decisions, escalations to answer.' })
  actionItems(@Ctx() ctx: Context): Promise<ActionItem[]> {
    return actionItemsOf(ctx.em, principalOf(ctx), ctx.request.now);
  }

  @FieldResolver(() => Agreement, { nullable: true })
  async agreement(@Root() item: InboxItem, @Ctx() ctx: Context): Promise<Agreement | null> {
    return item.agreementId ? await ctx.loaders.agreementById.load(item.agreementId) : null;
  }

  @FieldResolver(() => InboxActor, { nullable: true, description: 'Who made the change; null for the system (the scheduler, a seed).' })
  async actor(@Root() item: InboxItem, @Ctx() ctx: Context): Promise<InboxActor | null> {
    return item.actorUserId ? await actorLoader(ctx).load(item.actorUserId) : null;
  }

  @Authorized()
  @Mutation(() => InboxReadPayload, { description: 'Marks inbox items read for the signed-in user (all or none); marking a read item again changes nothing.' })
  async markInboxRead(@Ctx() ctx: Context, @Arg('ids', () => [ID]) ids: string[]): Promise<InboxReadPayload> {
    return payload('unreadCount', await inbox.markInboxRead(ctx, ids));
  }

  @Authorized()
  @Mutation(() => InboxReadPayload, { description: 'Marks every inbox item up to `upTo` (an item id; the newest when omitted) read for the signed-in user.' })
  async markAllInboxRead(@Ctx() ctx: Context, @Arg('upTo', () => ID, { nullable: true }) upTo?: string | null): Promise<InboxReadPayload> {
    return payload('unreadCount', await inbox.markAllInboxRead(ctx, upTo));
  }

  @Authorized()
  @Mutation(() => EmailPreferencesPayload, { description: 'Sets e-mail preferences: your own, or (admins) any user’s.' })
  async setEmailPreferences(@Ctx() ctx: Context, @Arg('input') input: SetEmailPreferencesInput): Promise<EmailPreferencesPayload> {
    return payload('emailPreferences', await setEmailPreferences(ctx, input));
  }
}

@Resolver(() => ActionItem)
export class ActionItemResolver {
  @FieldResolver(() => Agreement)
  async agreement(@Root() item: ActionItem, @Ctx() ctx: Context): Promise<Agreement> {
    return await loadOrThrow(ctx.loaders.agreementById, item.agreementId, 'Agreement');
  }
}

@Resolver(() => User)
export class UserEmailPreferencesResolver {
  @FieldResolver(() => EmailPreferences, { description: 'What e-mail the user gets.' })
  async emailPreferences(@Root() user: User, @Ctx() ctx: Context): Promise<EmailPreferences> {
    return await preferencesLoader(ctx).load(user.id);
  }
}
