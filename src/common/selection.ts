import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';

/**
 * The names of the fields a query selects at `path` below the field being resolved (the field
 * names, not their aliases), through every alias, fragment spread and inline fragment of the
 * document; null when nothing at that path is selected. Conservative: fields under `@skip` or
 * `@include` count as selected, and fragments of every type condition count, so the answer is
 * never smaller than what execution will ask for. For resolvers that fetch less when a query asks
 * for less (a scorecard's agreements, say), never for what a user may see.
 */
export function selectedFieldNames(info: GraphQLResolveInfo, path: readonly string[]): Set<string> | null {
  let sets: SelectionSetNode[] = info.fieldNodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
  for (const name of path) {
    const below: SelectionSetNode[] = [];
    visitFields(info, sets, (field) => {
      if (field.name.value === name && field.selectionSet) below.push(field.selectionSet);
    });
    if (!below.length) return null;
    sets = below;
  }
  const names = new Set<string>();
  visitFields(info, sets, (field) => names.add(field.name.value));
  return names;
}

/** Every field of `sets`, fragments followed (each named fragment once). */
function visitFields(info: GraphQLResolveInfo, sets: SelectionSetNode[], visit: (field: { name: { value: string }; selectionSet?: SelectionSetNode }) => void): void {
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) visit(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = info.fragments[s.name.value];
        if (fragment) walk(fragment.selectionSet);
      }
    }
  };
  sets.forEach(walk);
}
