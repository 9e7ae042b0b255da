/*
 * A specialised execution of `recordHandoffEvents` (issue 19, goal 3: ingest at 50,000 events a
 * second), as src/http/facts-execution.ts is for the fact connections. For a batch of 5,000 events,
 * graphql-js's variable coercion ran twice (the gate's cost estimate, then execution), each time
 * through the `DateTime` scalar for every instant, and type-graphql then made an input class of
 * every event: about a quarter of the server's time per event. Here a document whose one operation
 * is `recordHandoffEvents(input: $var)` (with plain fields below it: aliases and `__typename`
 * allowed; no fragments, no directives, no other arguments) has its variables read in one pass by
 * {@link fastHandoffInput}, which checks what the gate's value check and graphql-js's coercion
 * check and builds what they would have built. The gate then uses this input's cost, the same for
 * every value of `$var` and computed once per document by the usual estimate; authentication and
 * the rate limit are unchanged; the resolver's role check is asked the same way, and the service is
 * called as the resolver calls it; the payload is written as JSON by a plan compiled once per
 * document from the schema's types (facts-execution.ts's `compile`).
 *
 * On any doubt graphql-js does what it did: variables the one pass does not take (a missing or
 * extra field, a number for an ID, an instant not in the canonical UTC form, an unstorable string,
 * too many events, …) are coerced, checked and refused by the gate and graphql-js exactly as before;
 * a principal whose role may not ingest is refused by graphql-js; an error thrown by the ingest, or
 * a payload the plan cannot write, is handed to graphql-js's own run of the resolver
 * (`takeOutcome`), which throws or returns it without ingesting again, so errors carry the same
 * path, locations, masking and logging as ever.
 */
import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation, GraphQLRequestContextResponseForOperation } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { type GraphQLField, type GraphQLSchema, isInputObjectType, Kind, type OperationDefinitionNode } from 'graphql';
import type { Context } from '../common/context';
import { authChecker } from '../common/authorization';
import { payload } from '../common/mutation';
import { rolesFor } from '../common/policy';
import { BATCH_FIELDS, EVENT_FIELDS, fastHandoffInput, keepOutcome } from '../modules/handoffs/handoff.fast-input';
import { type HandoffEventsMillis, recordHandoffEvents } from '../modules/handoffs/handoff.service';
import { compile, type JsonText, NotHere, plannedAnswer, type Write } from './facts-execution';
import { operationCost } from './query-limits';

const FIELD = 'recordHandoffEvents';
/** The roles of the resolver's `@Authorized(...rolesFor('handoff:ingest'))`. */
const ROLES = rolesFor('handoff:ingest');

interface Plan {
  /** The variable that carries the input. */
  variable: string;
  /** The root field's response key. */
  key: string;
  write: Write;
  /** The operation's cost, the same whatever the input: estimated at its first request. */
  cost: number | null;
}

/** Whether the schema's input types are the ones {@link fastHandoffInput} reads, field for field. */
function inputsMatch(schema: GraphQLSchema): boolean {
  const same = (name: string, expected: Readonly<Record<string, string>>) => {
    const type = schema.getType(name);
    if (!isInputObjectType(type) || type.isOneOf) return false;
    const fields = Object.values(type.getFields());
    return fields.length === Object.keys(expected).length && fields.every((f) => expected[f.name] === String(f.type) && f.defaultValue === undefined);
  };
  return same('RecordHandoffEventsInput', BATCH_FIELDS) && same('HandoffEventInput', EVENT_FIELDS);
}

/** The plan of an operation, or null when it is not an ingest this executes. */
function planOf(schema: GraphQLSchema, operation: OperationDefinitionNode): Plan | null {
  if (operation.operation !== 'mutation' || operation.directives?.length || operation.selectionSet.selections.length !== 1) return null;
  const root = operation.selectionSet.selections[0];
  const definitions = operation.variableDefinitions ?? [];
  if (root.kind !== Kind.FIELD || root.name.value !== FIELD || root.directives?.length || !root.selectionSet || root.arguments?.length !== 1 || definitions.length !== 1) return null;
  const argument = root.arguments[0];
  const definition = definitions[0];
  if (argument.name.value !== 'input' || argument.value.kind !== Kind.VARIABLE || argument.value.name.value !== definition.variable.name.value) return null;
  // `$var: RecordHandoffEventsInput!`, no default, no directive.
  const type = definition.type;
  if (type.kind !== Kind.NON_NULL_TYPE || type.type.kind !== Kind.NAMED_TYPE || type.type.name.value !== 'RecordHandoffEventsInput' || definition.defaultValue || definition.directives?.length)
    return null;
  const field: GraphQLField<unknown, unknown> | undefined = schema.getMutationType()?.getFields()[FIELD];
  // A cost that reads the field's arguments would differ from input to input.
  if (!field || field.args.length !== 1 || String(field.args[0].type) !== 'RecordHandoffEventsInput!' || field.extensions?.complexity !== undefined || !inputsMatch(schema)) return null;
  try {
    return { variable: definition.variable.name.value, key: root.alias?.value ?? FIELD, write: compile(field.type, root.selectionSet), cost: null };
  } catch (e) {
    if (e instanceof NotHere) return null;
    throw e;
  }
}

/** Plans by operation node: Apollo keeps a parsed document per query text, so every batch of a sender shares one. */
const plans = new WeakMap<OperationDefinitionNode, Plan | null>();
/** The input read by {@link fastIngestCost}, for {@link ingestExecutionPlugin} to run. */
const inputs = new WeakMap<Context, { plan: Plan; input: HandoffEventsMillis }>();

/**
 * For the gate: when the request is an ingest whose variables {@link fastHandoffInput} takes, its
 * cost (the gate's value check and cost estimate would have found nothing to refuse but, perhaps,
 * the cost), with the input kept for execution; else null, and the gate checks as usual.
 */
export function fastIngestCost(schema: GraphQLSchema, requestContext: GraphQLRequestContextDidResolveOperation<Context>): number | null {
  const { operation, document, request, contextValue } = requestContext;
  // One definition: the gate's value check reads every operation of the document.
  if (!operation || document.definitions.length !== 1) return null;
  let plan = plans.get(operation);
  if (plan === undefined) plans.set(operation, (plan = planOf(schema, operation)));
  const variables = request.variables;
  // No other variable: the value check reads unused ones too.
  if (!plan || !variables || Object.keys(variables).length !== 1 || !Object.hasOwn(variables, plan.variable)) return null;
  const input = fastHandoffInput(variables[plan.variable]);
  if (!input) return null;
  if (plan.cost === null) {
    try {
      plan.cost = operationCost(schema, document, requestContext.operationName ?? undefined, variables);
    } catch {
      // Not expected for variables the one pass took; the gate estimates again and says why.
      return null;
    }
  }
  inputs.set(contextValue, { plan, input });
  return plan.cost;
}

/** Runs a request {@link fastIngestCost} took, or null for graphql-js to execute. */
async function executeIngest(requestContext: GraphQLRequestContextResponseForOperation<Context>): Promise<Record<string, JsonText> | null> {
  const ctx = requestContext.contextValue;
  const taken = inputs.get(ctx);
  if (!taken) return null;
  inputs.delete(ctx);
  // The resolver's `@Authorized(...)`, asked as type-graphql asks it; a refusal is graphql-js's to report.
  try {
    authChecker({ context: ctx } as never, ROLES);
  } catch {
    return null;
  }
  let result: unknown;
  try {
    result = payload('batch', await recordHandoffEvents(ctx, taken.input));
  } catch (error) {
    keepOutcome(ctx, { error });
    return null;
  }
  try {
    return plannedAnswer(ctx.request, taken.plan.key, taken.plan.write, result);
  } catch {
    // A value the plan does not write (a null where none may be): graphql-js completes this payload.
    keepOutcome(ctx, { payload: result });
    return null;
  }
}

/** The Apollo plugin: answers the ingests {@link fastIngestCost} took before graphql-js would execute them. */
export function ingestExecutionPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation(requestContext) {
          const data = await executeIngest(requestContext);
          return data ? { http: { status: undefined, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { data } } } : null;
        },
      };
    },
  };
}
