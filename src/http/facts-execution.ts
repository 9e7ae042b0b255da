/*
 * A specialised execution of the BI fact connections (issue 13, speed: a facts pull of 240,000 rows
 * at ≥ 100,000 rows/s through GraphQL, where graphql-js executes 41–49k rows/s in process). A query
 * whose only root field is a fact connection (`measurementFacts`, `handoffFacts` …, fact-tables.ts)
 * and whose selection is plain fields (aliases and `__typename` allowed; no fragments, no
 * directives) is answered here, after Apollo has parsed, validated and gated it (cost,
 * authentication: src/http/gate.ts): the variables and arguments coerced by graphql-js's own
 * functions, the page read by the same `read` the resolver calls, and the result written straight
 * as JSON text by a plan compiled once per document from the schema's types, each leaf through its
 * type's own `serialize` (no completed object tree for Apollo to stringify: {@link JsonText},
 * {@link stringifyResult}). Every other document, and any of these whose arguments, authorisation
 * or result would raise an error, is executed by graphql-js as before, which then reports the
 * error as usual.
 *
 * Why this is the same answer: the types of a fact connection (the row type, its edge, its
 * connection and `PageInfo`) have no field resolvers of their own, only properties, which
 * graphql-js reads with its default resolver, as the plan does; their leaves are completed by
 * `serialize` as graphql-js completes them; keys come in the selection's order, and the text is
 * what `JSON.stringify` writes of that value (test/integration/facts-ledger.test.ts compares the
 * bytes of both answers).
 */
import type { ApolloServerPlugin, GraphQLRequestContextResponseForOperation } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import {
  type FieldNode,
  type FormattedExecutionResult,
  getNamedType,
  getArgumentValues,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  getVariableValues,
} from 'graphql';
import type { Context } from '../common/context';
import { FACT_TABLES } from '../modules/exports/fact-tables';
import { type FactTable } from '../modules/exports/fact-table';
import { connectionOf, factPageSize } from '../modules/exports/exports.resolver';
import { byCodes } from '../modules/exports/fact-filter';
import type { FactFilter } from '../modules/exports/facts.service';

/** A selection that is not executed here (graphql-js executes the document). */
export class NotHere extends Error {}

/**
 * Writes a value of one output type for a selection as JSON text: exactly what `JSON.stringify`
 * makes of graphql-js's completed value (same keys, same order, same numbers), or NotHere.
 */
export type Write = (value: unknown) => string;

/**
 * A part of a result already written as JSON text (the fact connection's value). Apollo hands the
 * result to {@link stringifyResult}, which puts the text in place; anything else that serialises
 * it gets the same JSON through `toJSON`.
 */
export class JsonText {
  constructor(readonly json: string) {}

  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

/**
 * Apollo's `stringifyResult`: `JSON.stringify(result) + '\n'` as Apollo's default does, with a
 * result whose data is one {@link JsonText} (a fact connection written by its plan) put together
 * from its text rather than parsed back.
 */
export function stringifyResult(result: FormattedExecutionResult): string {
  const { data } = result;
  if (result.errors === undefined && result.extensions === undefined && data) {
    const keys = Object.keys(data);
    const value = keys.length === 1 ? data[keys[0]] : undefined;
    if (value instanceof JsonText) return `{"data":{${JSON.stringify(keys[0])}:${value.json}}}\n`;
  }
  return `${JSON.stringify(result)}\n`;
}

/** The fact tables by their connection's root field. */
const TABLES = new Map<string, FactTable>(FACT_TABLES.map((t) => [t.query, t]));

/** A compiled plan: the table, its root field's response key, its field node and how to write the connection. */
interface Plan {
  table: FactTable;
  key: string;
  field: GraphQLField<unknown, unknown>;
  node: FieldNode;
  write: Write;
}

/** What `JSON.stringify` escapes in a string: control characters, the quote, the backslash and (lone) surrogates. */
// eslint-disable-next-line no-control-regex -- the control characters are exactly what JSON escapes.
const ESCAPED = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** A leaf's serialised value as `JSON.stringify` writes it (numbers, booleans and strings that need no escape without a call). */
export function leafJson(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return ESCAPED.test(v) ? JSON.stringify(v) : `"${v}"`;
    case 'number':
      return Number.isFinite(v) ? `${v}` : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      // graphql-js reports a serialize that returns nothing.
      throw new NotHere('serialize returned undefined');
    default:
      return JSON.stringify(v);
  }
}

/**
 * How to write a value of `type` for `selection` (absent for a leaf), as graphql-js completes it
 * with default resolvers and `JSON.stringify` then writes it: null where the type allows it (a
 * null for a non-null type is an error, which graphql-js reports), lists item by item, leaves by
 * their `serialize`, objects field by field in the selection's order.
 */
export function compile(type: GraphQLOutputType, selection: SelectionSetNode | undefined): Write {
  if (isNonNullType(type)) {
    const inner = compile(type.ofType, selection);
    return (v) => {
      if (v === null || v === undefined) throw new NotHere('null for a non-null field');
      return inner(v);
    };
  }
  if (isListType(type)) {
    const item = compile(type.ofType, selection);
    return (v) => {
      if (v === null || v === undefined) return 'null';
      if (!Array.isArray(v)) throw new NotHere('not a list');
      if (!v.length) return '[]';
      let out = `[${item(v[0])}`;
      for (let i = 1; i < v.length; i++) out += `,${item(v[i])}`;
      return `${out}]`;
    };
  }
  if (isLeafType(type)) {
    if (selection) throw new NotHere('a selection on a leaf');
    const serialize = type.serialize.bind(type);
    return (v) => (v === null || v === undefined ? 'null' : leafJson(serialize(v)));
  }
  if (!isObjectType(type) || !selection) throw new NotHere(`${getNamedType(type).name}: not an object type with a selection`);
  return compileObject(type, selection);
}

function compileObject(type: GraphQLObjectType, selection: SelectionSetNode): Write {
  const fields = type.getFields();
  const keys: string[] = [];
  const names: string[] = [];
  const writes: Write[] = [];
  for (const s of selection.selections) {
    if (s.kind !== Kind.FIELD || s.directives?.length || s.arguments?.length) throw new NotHere('fragments, directives or arguments');
    const key = s.alias?.value ?? s.name.value;
    // The same key twice is merged by graphql-js: left to it.
    if (keys.includes(key)) throw new NotHere(`${key} selected twice`);
    keys.push(key);
    names.push(s.name.value);
    if (s.name.value === '__typename') {
      const name = JSON.stringify(type.name);
      writes.push(() => name);
      continue;
    }
    const field = fields[s.name.value];
    if (!field || field.args.length) throw new NotHere(`${type.name}.${s.name.value}: unknown or with arguments`);
    writes.push(compile(field.type, s.selectionSet));
  }
  // Each member's text up to its value: `{"key":` for the first, `,"key":` for the others.
  const heads = keys.map((k, i) => `${i ? ',' : '{'}${JSON.stringify(k)}:`);
  const n = keys.length;
  return (v) => {
    if (v === null || v === undefined) return 'null';
    const source = v as Record<string, unknown>;
    let out = '';
    for (let i = 0; i < n; i++) out += heads[i] + writes[i](source[names[i]]);
    return `${out}}`;
  };
}

/** The plan of an operation, or null when it is not a fact connection query this executes. */
function planOf(schema: GraphQLSchema, operation: OperationDefinitionNode): Plan | null {
  if (operation.operation !== 'query' || operation.directives?.length || operation.selectionSet.selections.length !== 1) return null;
  const root = operation.selectionSet.selections[0];
  if (root.kind !== Kind.FIELD || root.directives?.length) return null;
  const table = TABLES.get(root.name.value);
  const field = schema.getQueryType()?.getFields()[root.name.value];
  if (!table || !field || !root.selectionSet) return null;
  try {
    return { table, key: root.alias?.value ?? root.name.value, field, node: root, write: compile(field.type, root.selectionSet) };
  } catch (e) {
    if (e instanceof NotHere) return null;
    throw e;
  }
}

/** Plans by operation node: Apollo keeps a parsed document per query text, so a pull's pages share one. */
const plans = new WeakMap<OperationDefinitionNode, Plan | null>();

/** Whether an operation is a fact connection query that {@link executeFactQuery} may answer (src/http/prepared-query.ts leaves those to Apollo). */
export function isFactQuery(schema: GraphQLSchema, operation: OperationDefinitionNode): boolean {
  let plan = plans.get(operation);
  if (plan === undefined) plans.set(operation, (plan = planOf(schema, operation)));
  return plan !== null;
}

/**
 * A fact connection query answered without graphql-js's executor, or null for graphql-js to execute.
 * Exported for the tests of the plan's equivalence.
 */
export async function executeFactQuery(schema: GraphQLSchema, requestContext: GraphQLRequestContextResponseForOperation<Context>): Promise<Record<string, JsonText> | null> {
  const { operation, contextValue: ctx } = requestContext;
  // Typed as always there, but absent for an unknown operationName (graphql-js reports it).
  if (!operation) return null;
  let plan = plans.get(operation);
  if (plan === undefined) plans.set(operation, (plan = planOf(schema, operation)));
  // `@Authorized()`: an authenticated principal (graphql-js reports its absence).
  if (!plan || !ctx.principal) return null;
  const variables = getVariableValues(schema, operation.variableDefinitions ?? [], requestContext.request.variables ?? {});
  if (variables.errors) return null;
  try {
    const args = getArgumentValues(plan.field, plan.node, variables.coerced);
    const page = await plan.table.read(ctx, await byCodes(ctx, args.filter as FactFilter), factPageSize(args.first as number | null | undefined), args.after as string | null | undefined);
    return { [plan.key]: new JsonText(plan.write(connectionOf(page))) };
  } catch {
    // A bad argument, cursor or page size, a null where none may be: graphql-js answers, with its errors.
    return null;
  }
}

/** The Apollo plugin: answers fact connection queries before graphql-js would execute them. */
export function factsExecutionPlugin(schema: GraphQLSchema): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation(requestContext) {
          const data = await executeFactQuery(schema, requestContext);
          return data ? { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data } } } : null;
        },
      };
    },
  };
}
