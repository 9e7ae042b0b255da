import type { Context } from '../../common/context';
import { BadUserInputError, ForbiddenError, UnauthenticatedError, assertIdArgument } from '../../common/errors';
import { EVENT_TYPES } from '../../common/events';
import type { OutboxEvent } from '../../common/outbox';
import { Role } from '../../common/role';
import { Department } from '../departments/department.entity';
import type { LiveFeed, LiveFilter } from './live-feed';

/**
 * The context of a GraphQL operation over graphql-ws (src/http/live.ts): a request context whose
 * principal was authenticated when the connection opened, plus the instance's live feed and a way
 * to close the connection (a subscription that falls too far behind).
 */
export interface LiveContext extends Context {
  live: LiveFeed;
  /** Closes the WebSocket connection with a code and reason (graphql-ws's 4xxx range). */
  disconnect(code: number, reason: string): void;
}

/** The close code of a connection whose subscription fell `queueLimit` events behind. */
export const SLOW_SUBSCRIBER_CLOSE = 4413;

/**
 * `events(types, departments)`: checks the arguments (every type known, every department one the
 * principal may read) before anything is subscribed, then subscribes to the instance's feed. The
 * principal's reading rights are applied per event by the feed (`mayReadEvent`).
 */
export async function subscribeEvents(ctx: Context, types: readonly string[] | null | undefined, departments: readonly string[] | null | undefined): Promise<AsyncIterableIterator<OutboxEvent>> {
  const live = (ctx as Partial<LiveContext>).live;
  const disconnect = (ctx as Partial<LiveContext>).disconnect;
  if (!live || !disconnect) throw new BadUserInputError('Subscriptions are served over WebSocket (the graphql-transport-ws protocol) at /graphql, not over HTTP');
  const principal = ctx.principal;
  if (!principal) throw new UnauthenticatedError();

  const known = new Set<string>(EVENT_TYPES);
  const unknown = (types ?? []).filter((t) => !known.has(t));
  if (unknown.length) throw new BadUserInputError(`types: unknown event type ${unknown.map((t) => JSON.stringify(t)).join(', ')}; expected some of ${EVENT_TYPES.join(', ')}`, 'types');
  if (types && !types.length) throw new BadUserInputError('types: expected at least one event type, or no argument for every type', 'types');

  if (departments) {
    if (!departments.length) throw new BadUserInputError('departments: expected at least one department id, or no argument for every department the principal may read', 'departments');
    for (const id of departments) assertIdArgument('departments', id);
    if (principal.role === Role.ADMIN || principal.role === Role.ANALYST) {
      const found = new Set((await ctx.em.find(Department, { id: { $in: [...departments] } }, { fields: ['id'], disableIdentityMap: true })).map((d) => d.id));
      const missing = departments.filter((id) => !found.has(id));
      if (missing.length) throw new BadUserInputError(`departments: no department has the id ${missing.join(', ')}`, 'departments');
    } else {
      // A HEAD or INTEGRATION principal reads its own departments' events (and CORPORATE ones,
      // which no department filter matches). Another department's id is refused, whether or not it exists.
      const foreign = departments.filter((id) => !principal.departmentIds.includes(id));
      if (foreign.length) throw new ForbiddenError(`departments: this ${principal.role} principal may read only the events of its own department, not of ${foreign.join(', ')}`);
    }
  }

  const filter: LiveFilter = { types: types ? new Set(types) : null, departments: departments ? new Set(departments) : null };
  return live.subscribe(principal, filter, (waiting) => disconnect(SLOW_SUBSCRIBER_CLOSE, `Subscriber too slow: ${waiting} events waiting; reconnect and catch up`));
}
