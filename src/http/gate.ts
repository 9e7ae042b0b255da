import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { type DocumentNode, GraphQLError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { UnauthenticatedError } from '../common/errors';
import type { Config } from '../common/config';
import type { Context } from '../common/context';
import { authenticateBearer } from './authenticate';
import { inputProblem, isTypenameOnly, operationCost } from './query-limits';
import type { PrincipalCache } from '../modules/auth/principal-cache';

/** An error Apollo answers with `status` and `code` (a refusal, not a failure of ours). */
function refusal(error: GraphQLError | Error, status: number, code: string): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code, http: { status } } });
}

/** What the gate looks at in a request: its document, the operation it runs, and its variables. */
export interface GateRequest {
  document: DocumentNode;
  operation: OperationDefinitionNode | undefined;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
  /**
   * The operation's cost when a faster path has already read its variables and found them valid
   * (a handoff ingest, src/http/ingest-execution.ts), or null: then the gate checks the values and
   * estimates the cost itself.
   */
  knownCost?: () => number | null;
}

/** The gate's checks, in order; throws the refusal (a GraphQLError that Apollo answers), or resolves once the request may run. */
export type Gate = (contextValue: Context, request: GateRequest) => Promise<void>;

/**
 * The checks of a request after parsing and validation, before execution, in this order: the
 * values the request carries, the cost limit (with variables, so `first: 100000` in a variable is
 * caught), then authentication. Everything that refuses a request happens here or earlier, so an
 * abusive request never reaches the database. Run by {@link gatePlugin} for Apollo and by the
 * prepared-query path (src/http/prepared-query.ts).
 */
export function createGate(config: Config, schema: GraphQLSchema, principals: PrincipalCache | null): Gate {
  /** The request's principal from its bearer token, or a 401 UNAUTHENTICATED refusal saying why not. */
  const authenticateContext = async (contextValue: Context): Promise<void> => {
    try {
      // The request's EntityManager is forked only if the token must be read (or its lastUsedAt written).
      contextValue.principal = await authenticateBearer({ cache: principals, em: () => contextValue.em }, contextValue.request.bearer, contextValue.request.bearerHash);
    } catch (e) {
      if (e instanceof UnauthenticatedError) throw refusal(e, 401, 'UNAUTHENTICATED');
      throw e;
    }
  };
  return async (contextValue, { document, operation, operationName, variables = {}, knownCost }) => {
    // A subscription is a stream: graphql-ws serves it on the same path (src/http/live.ts).
    if (operation?.operation === 'subscription') {
      throw refusal(new Error('Subscriptions are served over WebSocket (the graphql-transport-ws protocol) at /graphql, not over HTTP'), 400, 'BAD_REQUEST');
    }
    // `{ __typename }` (health probes, the graphql-http audits) costs nothing and needs no
    // token; a token that is sent is checked all the same (a revoked one is refused).
    if (operation && isTypenameOnly(operation) && document.definitions.length === 1) {
      if (contextValue.request.bearer !== undefined) await authenticateContext(contextValue);
      return;
    }
    // A handoff ingest whose variables were read and found valid in one pass: its cost, without
    // coercing 5,000 events for the estimate. Any other request is checked here.
    let cost = knownCost?.() ?? null;
    if (cost === null) {
      const problem = inputProblem(document, variables);
      if (problem) throw new GraphQLError(`${problem.field}: ${problem.message}`, { extensions: { code: 'BAD_USER_INPUT', field: problem.field, http: { status: 400 } } });
      try {
        cost = operationCost(schema, document, operationName, variables);
      } catch (e) {
        // Variables that do not fit their types (or their bounds: months and instants outside
        // 2000–2099): refused here, before authentication and any SQL, as execution would.
        if (!(e instanceof GraphQLError)) throw e;
        throw new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
      }
    }
    if (cost > config.limits.cost) {
      throw refusal(new Error(`Query cost ${cost} exceeds the limit of ${config.limits.cost}; ask for fewer rows (first) or fewer nested fields`), 400, 'QUERY_TOO_COMPLEX');
    }
    if (operation && isTypenameOnly(operation) && contextValue.request.bearer === undefined) return;
    await authenticateContext(contextValue);
  };
}

/**
 * The gate in Apollo's pipeline (`didResolveOperation`, after parsing and validation). A request
 * the prepared-query path has already gated carries the outcome: its refusal, thrown again here
 * (the same answer, without a second token lookup), or `gated` when it passed. `remember`: told of every document that passed
 * validation and the gate, with its text, for the prepared-query path.
 */
export function gatePlugin(
  gate: Gate,
  remember?: (source: string, document: DocumentNode) => void,
  knownCost?: (requestContext: GraphQLRequestContextDidResolveOperation<Context>) => number | null,
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          const { contextValue, request, document, operation, operationName, source } = requestContext;
          const refused = contextValue.request.gateRefusal;
          if (refused) throw refused;
          if (contextValue.request.gated) return;
          await gate(contextValue, {
            document,
            operation,
            operationName: operationName ?? undefined,
            variables: request.variables,
            knownCost: knownCost && (() => knownCost(requestContext)),
          });
          // Only once let through: a refused request (no token, a bad one) fills nothing.
          remember?.(source, document);
        },
      };
    },
  };
}
