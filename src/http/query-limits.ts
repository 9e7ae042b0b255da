/* Limits on what one GraphQL document may ask for, checked before execution: depth, aliases,
 * operation types, the values it carries, and its estimated cost. (The parser's token limit is
 * graphql-js's own `maxTokens`; see docs/decisions.md for why these are not graphql-armor's.) */
import {
  type ArgumentNode,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  isListType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  type VariableDefinitionNode,
  visit,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { type ComplexityEstimator, fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { MAX_LIST_LENGTH, MAX_STRING_LENGTH, textProblem } from '../common/bounds';
import { DEFAULT_PAGE_SIZE } from '../common/connection';

/** How many items a plain list field (not a connection) is assumed to return, for cost. */
const LIST_ESTIMATE = 10;

/**
 * Refuses documents nested deeper than `max` selection levels. Introspection (`__schema`,
 * `__type`) is not counted: tools' introspection queries are deep by nature and cheap.
 */
export function depthLimitRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    const depthOf = (set: SelectionSetNode, seen: Set<string>): number => {
      let deepest = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue;
          deepest = Math.max(deepest, 1 + (sel.selectionSet ? depthOf(sel.selectionSet, seen) : 0));
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(sel.selectionSet, seen));
        } else {
          const frag = fragments.get(sel.name.value);
          if (!frag || seen.has(frag.name.value)) continue; // unknown or cyclic: other rules report it
          deepest = Math.max(deepest, depthOf(frag.selectionSet, new Set(seen).add(frag.name.value)));
        }
        if (deepest > max) return deepest; // no need to walk further
      }
      return deepest;
    };
    return {
      OperationDefinition(node: OperationDefinitionNode) {
        const depth = depthOf(node.selectionSet, new Set());
        if (depth > max) {
          context.reportError(new GraphQLError(`Query depth ${depth} exceeds the limit of ${max}`, { nodes: [node], extensions: { refusal: 'QUERY_TOO_DEEP' } }));
        }
      },
    };
  };
}

/**
 * Refuses operations of a type the schema does not have (`subscription { … }` to a server without
 * subscriptions). graphql-js 16 only notices at execution, with an error that has no code and
 * was answered as INTERNAL; graphql-js 17 and the GraphQL-over-HTTP spec make it a validation
 * error, which is what this rule does.
 */
export function knownOperationTypesRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node: OperationDefinitionNode) {
      const schema = context.getSchema();
      const root = node.operation === 'query' ? schema.getQueryType() : node.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
      if (!root) context.reportError(new GraphQLError(`This server does not support ${node.operation} operations: the schema has no ${node.operation} type`, { nodes: [node] }));
    },
  };
}

/** How deep a variable's value may nest (objects in lists in objects …); inputs nest a few levels. */
const MAX_VALUE_DEPTH = 32;

/**
 * The first problem with the values a request carries, or null: every string (in variables and in
 * literals) must be storable text (no NUL, no lone surrogate) of at most MAX_STRING_LENGTH
 * characters, every list at most MAX_LIST_LENGTH items, and nothing nested deeper than
 * MAX_VALUE_DEPTH. Checked before the variables are coerced, so a hostile value costs a walk of
 * the parsed body, never a coercion, a query or a driver error. `field` names the argument path
 * (`input.events[3].externalId`) or, for a variable that no argument uses, `$name`.
 */
export function inputProblem(document: DocumentNode, variables: Record<string, unknown>): { field: string; message: string } | null {
  let found: { field: string; message: string } | null = null;
  const seen = new Set<string>();
  const check = (path: string, value: unknown, depth: number): boolean => {
    if (depth > MAX_VALUE_DEPTH) return !!(found = { field: path, message: `nested deeper than ${MAX_VALUE_DEPTH} levels` });
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) return !!(found = { field: path, message: problem });
      if (value.length > MAX_STRING_LENGTH) return !!(found = { field: path, message: `expected at most ${MAX_STRING_LENGTH} characters, received ${value.length}` });
      return false;
    }
    if (Array.isArray(value)) {
      if (value.length > MAX_LIST_LENGTH) return !!(found = { field: path, message: `expected at most ${MAX_LIST_LENGTH} items, received ${value.length}` });
      return value.some((item, i) => check(`${path}[${i}]`, item, depth + 1));
    }
    if (value && typeof value === 'object') {
      return Object.entries(value).some(
        ([k, v]) => check(path ? `${path}.${k}` : k, v, depth + 1) || (textProblem(k) ? !!(found = { field: `${path}.${k}`, message: `a key ${textProblem(k)}` }) : false),
      );
    }
    return false;
  };
  const checkNode = (path: string, node: ValueNode, depth: number): boolean => {
    switch (node.kind) {
      case Kind.VARIABLE:
        seen.add(node.name.value);
        return check(path, variables[node.name.value], depth);
      case Kind.STRING:
        return check(path, node.value, depth);
      case Kind.LIST:
        if (node.values.length > MAX_LIST_LENGTH) return !!(found = { field: path, message: `expected at most ${MAX_LIST_LENGTH} items, received ${node.values.length}` });
        return node.values.some((v, i) => checkNode(`${path}[${i}]`, v, depth + 1));
      case Kind.OBJECT:
        return node.fields.some((f) => checkNode(`${path}.${f.name.value}`, f.value, depth + 1));
      default:
        return false;
    }
  };
  for (const node of valueNodesOf(document)) {
    if (node.kind === Kind.ARGUMENT ? checkNode(node.name.value, node.value, 0) : node.defaultValue && checkNode(`$${node.variable.name.value}`, node.defaultValue, 0)) break;
  }
  if (found) return found;
  for (const [name, value] of Object.entries(variables)) if (!seen.has(name) && check(`$${name}`, value, 0)) break;
  return found;
}

/** The nodes that carry values in a document: its arguments and variable definitions, in document order. */
const valueNodes = new WeakMap<DocumentNode, Array<ArgumentNode | VariableDefinitionNode>>();

/**
 * The arguments (of fields and directives, fragments included) and variable definitions of a
 * document, in the order a walk meets them: found once per document (Apollo hands the same parsed
 * document to every request of one query text), so {@link inputProblem} walks only these.
 */
function valueNodesOf(document: DocumentNode): Array<ArgumentNode | VariableDefinitionNode> {
  let nodes = valueNodes.get(document);
  if (!nodes) {
    const found: Array<ArgumentNode | VariableDefinitionNode> = [];
    visit(document, {
      Argument(node) {
        found.push(node);
        return false;
      },
      VariableDefinition(node) {
        found.push(node);
        return false;
      },
    });
    valueNodes.set(document, (nodes = found));
  }
  return nodes;
}

/** Refuses documents with more than `max` aliased fields (alias flooding multiplies work). */
export function aliasLimitRule(max: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    let reported = false;
    return {
      Field(node) {
        if (!node.alias) return;
        aliases++;
        if (aliases > max && !reported) {
          reported = true;
          context.reportError(new GraphQLError(`The document has more than ${max} aliased fields`, { nodes: [node], extensions: { refusal: 'TOO_MANY_ALIASES' } }));
        }
      },
    };
  };
}

/**
 * Cost of a field: a connection (a field with `first`, or of a `…Connection` type) costs its
 * selection `first` times (50 when not given); a plain list costs its selection LIST_ESTIMATE
 * times, except `edges`, already counted by its connection; introspection costs nothing.
 */
const connectionEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (field.name.startsWith('__')) return 0;
  const named = getNamedType(field.type);
  if (field.args.some((a) => a.name === 'first') || named.name.endsWith('Connection')) {
    const first = typeof args.first === 'number' ? args.first : DEFAULT_PAGE_SIZE;
    return 1 + Math.max(1, first) * Math.max(1, childComplexity);
  }
  if (isListType(getNullableType(field.type)) && field.name !== 'edges') return 1 + LIST_ESTIMATE * childComplexity;
  return undefined;
};

/** Costs of operations without variables, by schema, document and operation name (see {@link operationCost}). */
const costs = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, number>>>();

/**
 * The estimated cost of an operation with its variables. A field may declare its own cost
 * (type-graphql's `complexity` option): the flat columns of BI fact rows cost nothing, since the
 * row, counted by its connection's `first`, is the work.
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>): number {
  const compute = () => getComplexity({ schema, query: document, operationName, variables, estimators: [connectionEstimator, fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })] });
  // An operation that defines no variables costs the same whatever the request sends (undefined
  // variables are never read): its cost is kept with the document. One that defines some is
  // estimated each time, which also coerces (and refuses) its variables.
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.variableDefinitions?.length) return compute();
  let bySchema = costs.get(schema);
  if (!bySchema) costs.set(schema, (bySchema = new WeakMap()));
  let byOperation = bySchema.get(document);
  if (!byOperation) bySchema.set(document, (byOperation = new Map()));
  const key = operationName ?? '';
  let cost = byOperation.get(key);
  if (cost === undefined) byOperation.set(key, (cost = compute()));
  return cost;
}

/** Whether an operation selects nothing but `__typename` at its root: the one open operation. */
export function isTypenameOnly(op: OperationDefinitionNode): boolean {
  return op.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value === '__typename');
}
