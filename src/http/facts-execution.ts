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
  GraphQLBoolean,
  type GraphQLField,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  type GraphQLLeafType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  GraphQLString,
  getNullableType,
  isEnumType,
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
import { DateTimeScalar, MonthScalar } from '../common/scalars';
import { keptBy, TextBytes } from '../common/text-bytes';
import { FACT_TABLES } from '../modules/exports/fact-tables';
import { type FactTable } from '../modules/exports/fact-table';
import { connectionOf, factPageSize } from '../modules/exports/exports.resolver';
import { byCodes } from '../modules/exports/fact-filter';
import type { FactFilter } from '../modules/exports/facts.service';

/** A selection that is not executed here (graphql-js executes the document). */
export class NotHere extends Error {}

/**
 * Writes a value of one output type for a selection as JSON text into `out`: exactly what
 * `JSON.stringify` makes of graphql-js's completed value (same keys, same order, same numbers), or
 * throws NotHere.
 */
export type Write = (value: unknown, out: TextBytes) => void;

/**
 * The JSON text of a leaf value, after the text of its member up to it (`{"key":` or `,"key":`,
 * empty for a list's item): one string, so that a row of leaves is a string per column.
 */
type Member = (value: unknown) => string;

/**
 * A part of a result already written as JSON (the fact connection's value), as UTF-8 bytes. Over
 * HTTP, src/http/graphql.ts sends the bytes themselves ({@link plannedBody}); {@link stringifyResult}
 * and `toJSON` give the same JSON as text to anything else that serialises the result.
 */
export class JsonText {
  /** What Apollo's `stringifyResult` returns for a result that is this text ({@link apolloStringifyResult}); unique per answer. */
  readonly marker = `\u0000planned facts ${++answers}`;

  constructor(readonly chunks: readonly Buffer[]) {}

  get json(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

let answers = 0;

/** The data of a result that is one {@link JsonText} with its response key, or null. */
function plannedOf(result: FormattedExecutionResult): { key: string; text: JsonText } | null {
  const { data } = result;
  if (result.errors !== undefined || result.extensions !== undefined || !data) return null;
  const keys = Object.keys(data);
  const value = keys.length === 1 ? data[keys[0]] : undefined;
  return value instanceof JsonText ? { key: keys[0], text: value } : null;
}

/**
 * `JSON.stringify(result) + '\n'` as Apollo's default `stringifyResult` does, with a result whose
 * data is one {@link JsonText} (a fact connection written by its plan) put together from its text
 * rather than parsed back.
 */
export function stringifyResult(result: FormattedExecutionResult): string {
  const planned = plannedOf(result);
  if (planned) return `{"data":{${JSON.stringify(planned.key)}:${planned.text.json}}}\n`;
  return `${JSON.stringify(result)}\n`;
}

/**
 * Apollo's `stringifyResult` (src/http/apollo.ts): {@link stringifyResult}, except that a planned
 * answer is not made text at all: its {@link JsonText.marker} stands for it, and
 * src/http/graphql.ts, which owns the HTTP response, sends the bytes ({@link plannedBody}).
 */
export function apolloStringifyResult(result: FormattedExecutionResult): string {
  return plannedOf(result)?.text.marker ?? `${JSON.stringify(result)}\n`;
}

/** The planned answers by request (a context's `request`, which Apollo's copies of the context share). */
const plannedByRequest = new WeakMap<object, { key: string; text: JsonText }>();

/**
 * A root field's value written as JSON bytes by its plan, kept for the request so that
 * src/http/graphql.ts sends those bytes ({@link plannedBody}): the data of an answer to hand Apollo.
 * Throws NotHere (or the value's own error) when the plan cannot write the value.
 */
export function plannedAnswer(request: object, key: string, write: Write, value: unknown): Record<string, JsonText> {
  const out = new TextBytes();
  write(value, out);
  const text = new JsonText(out.take());
  plannedByRequest.set(request, { key, text });
  return { [key]: text };
}

/**
 * The body of a response whose text is a planned answer's marker ({@link apolloStringifyResult}):
 * the bytes Apollo's default would have sent (`{"data":{"<key>":` … `}}\n`), as chunks; else null.
 */
export function plannedBody(request: object | undefined, body: string): Buffer[] | null {
  const planned = request ? plannedByRequest.get(request) : undefined;
  if (!planned || body !== planned.text.marker) return null;
  return [Buffer.from(`{"data":{${JSON.stringify(planned.key)}:`), ...planned.text.chunks, Buffer.from('}}\n')];
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
 * How to write a leaf of `type` after `head` (its member's text up to the value): `head` and what
 * `leafJson(type.serialize(v))` writes, null where `nullable` allows it (else NotHere: graphql-js
 * reports a null for a non-null field). The common cases of each type are written without the
 * call: a finite number for `Float`, an int32 for `Int`, a string for `String` and `ID`; and the
 * whole member text of a boolean, a null, an enum's internal value, a `Month` (by value) and a
 * `DateTime` (by instant) is kept from the first time it was written ({@link keptBy}). Anything else goes through
 * `serialize`, as graphql-js completes it (and throws where it throws: the plan then steps aside).
 */
function memberOf(type: GraphQLLeafType, nullable: boolean, head: string): Member {
  const serialize = type.serialize.bind(type);
  const nothing = nullable ? `${head}null` : null;
  const general = (v: unknown): string => {
    if (v !== null && v !== undefined) return head + leafJson(serialize(v));
    if (nothing === null) throw new NotHere('null for a non-null field');
    return nothing;
  };
  if (type === GraphQLFloat) return (v) => (typeof v === 'number' && Number.isFinite(v) ? head + v : general(v));
  if (type === GraphQLInt) return (v) => (typeof v === 'number' && Number.isInteger(v) && v <= 2147483647 && v >= -2147483648 ? head + v : general(v));
  if (type === GraphQLString || type === GraphQLID) return (v) => (typeof v === 'string' ? (ESCAPED.test(v) ? head + JSON.stringify(v) : `${head}"${v}"`) : general(v));
  if (type === GraphQLBoolean) {
    const yes = `${head}true`;
    const no = `${head}false`;
    return (v) => (v === true ? yes : v === false ? no : general(v));
  }
  if (isEnumType(type)) {
    // graphql-js looks a value up by its internal value (the last of equal ones wins, as in its map).
    const texts = new Map(type.getValues().map((e) => [e.value as unknown, head + JSON.stringify(e.name)]));
    return (v) => texts.get(v) ?? general(v);
  }
  if (type === MonthScalar) return keptBy((v) => (typeof v === 'string' ? v : undefined), general);
  // graphql-scalars' DateTime serialises a valid Date as itself, which JSON.stringify writes as its ISO text.
  if (type === DateTimeScalar) return keptBy((v) => (v instanceof Date ? v.getTime() : undefined), general);
  return general;
}

/**
 * How to write a value of `type` for `selection` (absent for a leaf), as graphql-js completes it
 * with default resolvers and `JSON.stringify` then writes it: null where the type allows it (a
 * null for a non-null type is an error, which graphql-js reports), lists item by item, leaves by
 * their `serialize`, objects field by field in the selection's order.
 */
export function compile(type: GraphQLOutputType, selection: SelectionSetNode | undefined): Write {
  const nullable = !isNonNullType(type);
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isLeafType(inner)) {
    if (selection) throw new NotHere('a selection on a leaf');
    const member = memberOf(inner, nullable, '');
    return (v, out) => {
      out.text += member(v);
    };
  }
  let write: Write;
  if (isListType(inner)) {
    const item = compile(inner.ofType, selection);
    write = (v, out) => {
      if (!Array.isArray(v)) throw new NotHere('not a list');
      out.text += '[';
      for (let i = 0; i < v.length; i++) {
        if (i) out.text += ',';
        item(v[i], out);
        // Item by item into bytes: a page's rows never make one long string.
        out.spill();
      }
      out.text += ']';
    };
  } else if (isObjectType(inner) && selection) {
    write = compileObject(inner, selection);
  } else {
    throw new NotHere(`${getNamedType(inner).name}: not an object type with a selection`);
  }
  return (v, out) => {
    if (v !== null && v !== undefined) write(v, out);
    else if (nullable) out.text += 'null';
    else throw new NotHere('null for a non-null field');
  };
}

/** Writes a (non-null) object: its members in the selection's order, leaves as one string each. */
function compileObject(type: GraphQLObjectType, selection: SelectionSetNode): Write {
  const fields = type.getFields();
  const keys: string[] = [];
  const names: string[] = [];
  const members: Array<Member | null> = [];
  const writes: Array<Write | null> = [];
  for (const s of selection.selections) {
    if (s.kind !== Kind.FIELD || s.directives?.length || s.arguments?.length) throw new NotHere('fragments, directives or arguments');
    const key = s.alias?.value ?? s.name.value;
    // The same key twice is merged by graphql-js: left to it.
    if (keys.includes(key)) throw new NotHere(`${key} selected twice`);
    // The member's text up to its value: `{"key":` for the first, `,"key":` for the others.
    const head = `${keys.length ? ',' : '{'}${JSON.stringify(key)}:`;
    keys.push(key);
    names.push(s.name.value);
    if (s.name.value === '__typename') {
      const text = head + JSON.stringify(type.name);
      members.push(() => text);
      writes.push(null);
      continue;
    }
    const field = fields[s.name.value];
    if (!field || field.args.length) throw new NotHere(`${type.name}.${s.name.value}: unknown or with arguments`);
    const leaf = getNullableType(field.type);
    if (isLeafType(leaf)) {
      if (s.selectionSet) throw new NotHere('a selection on a leaf');
      members.push(memberOf(leaf, !isNonNullType(field.type), head));
      writes.push(null);
    } else {
      members.push(null);
      writes.push(compile(field.type, s.selectionSet));
    }
  }
  const heads = keys.map((k, i) => `${i ? ',' : '{'}${JSON.stringify(k)}:`);
  const n = keys.length;
  return (v, out) => {
    const source = v as Record<string, unknown>;
    for (let i = 0; i < n; i++) {
      const member = members[i];
      if (member) {
        out.text += member(source[names[i]]);
      } else {
        out.text += heads[i];
        (writes[i] as Write)(source[names[i]], out);
      }
    }
    out.text += n ? '}' : '{}';
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
    return plannedAnswer(ctx.request, plan.key, plan.write, connectionOf(page));
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
