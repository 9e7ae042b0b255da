import { Field, ID, InterfaceType } from 'type-graphql';

/**
 * The Relay object-identification interface (issue 16): every stored row the API shows has a
 * UUID `id`, unique across tables, so the id itself is the global id (no typename prefix) and
 * every id a client already holds works with `node(id:)`. `Query.node` and `Query.nodes` live at
 * the top (src/modules/nodes), where every module's loaders and read rules can be reached.
 *
 * The concrete type of a value is its class name (entities are class instances whose class name
 * is their GraphQL name); a plain object (an inbox item) names it in `__typename`.
 */
@InterfaceType('Node', {
  description: 'An object with a stable id, unique across every type: fetch it again with `node(id:)`.',
  resolveType: (value: { __typename?: string; constructor?: { name: string } }) => value.__typename ?? value.constructor?.name,
})
export abstract class Node {
  @Field(() => ID, { description: 'The object’s id (a UUID); the same id `node(id:)` takes.' })
  id!: string;
}
