import { Arg, Authorized, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { Context } from '../../common/context';
import type { OutboxEvent } from '../../common/outbox';
import { LiveEvent, toLiveEvent } from './live-event.type';
import { subscribeEvents } from './live.service';

/** Live updates over graphql-ws (docs/events.md, "Live updates"). */
@Resolver()
export class LiveResolver {
  @Authorized()
  @Subscription(() => LiveEvent, {
    description:
      "Domain events as they are committed, from now on: those the principal may read (its departments' agreements and CORPORATE ones; everything for admins and analysts), " +
      'optionally only some `types` and only the agreements of some `departments` (as provider or customer). Over WebSocket (graphql-transport-ws) at /graphql only.',
    subscribe: ({ args, context }) => subscribeEvents(context as Context, (args as { types?: string[] | null }).types, (args as { departments?: string[] | null }).departments),
  })
  events(
    @Root() event: OutboxEvent,
    @Arg('types', () => [String], { nullable: true, description: 'Only these event types (docs/events.md); unknown types are refused.' }) _types?: string[] | null,
    @Arg('departments', () => [ID], { nullable: true, description: 'Only events of agreements these departments are a party to; each must be one the principal may read.' })
    _departments?: string[] | null,
  ): LiveEvent {
    return toLiveEvent(event);
  }
}
