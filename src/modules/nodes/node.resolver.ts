import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { Context } from '../../common/context';
import { BadUserInputError } from '../../common/errors';
import { Node } from '../../common/node';
import { findNode, findNodes } from './node.service';

/** At most this many ids per `nodes(ids:)`. */
export const MAX_NODE_IDS = 100;

/** Relay's object identification (issue 16): any object by its id. */
@Resolver()
export class NodeResolver {
  @Authorized()
  @Query(() => Node, {
    nullable: true,
    description: 'The object with this id, whatever its type; null when there is none. Read as the type’s own query reads it: FORBIDDEN where that query would refuse.',
  })
  node(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<object | null> {
    return findNode(ctx, id);
  }

  @Authorized()
  @Query(() => [Node], {
    nullable: 'items',
    description: `The objects with these ids, in order (at most ${MAX_NODE_IDS}): null for an unknown id, null with a FORBIDDEN error at its index for one the principal may not read.`,
  })
  nodes(@Ctx() ctx: Context, @Arg('ids', () => [ID]) ids: string[]): Promise<Array<object | null | Error>> {
    if (ids.length > MAX_NODE_IDS) throw new BadUserInputError(`ids: expected at most ${MAX_NODE_IDS} ids, received ${ids.length}`, 'ids');
    return findNodes(ctx, ids);
  }
}
