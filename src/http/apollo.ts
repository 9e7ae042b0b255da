import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { PUBLIC_ERROR_CODES } from '../common/errors';
import type { Config } from '../common/config';
import type { Context } from '../common/context';
import { apolloStringifyResult, factsExecutionPlugin } from './facts-execution';
import { createGate, gatePlugin } from './gate';
import { fastIngestCost, ingestExecutionPlugin } from './ingest-execution';
import { graphqlLogPlugin } from './graphql-log';
import { PreparedQueries } from './prepared-query';
import { readRoutingPlugin } from './read-routing';
import type { ReadRouting } from '../common/read-route';
import type { PrincipalCache } from '../modules/auth/principal-cache';
import { aliasLimitRule, depthLimitRule, knownOperationTypesRule } from './query-limits';

/** Masks everything that is not a known, public error as INTERNAL (it is logged by the plugin). */
export function formatError(formatted: GraphQLFormattedError): GraphQLFormattedError {
  let code = formatted.extensions?.code;
  // graphql-js reports its token limit as an ordinary syntax error; it is a refusal, not a typo.
  if (code === 'GRAPHQL_PARSE_FAILED' && /Document contains more tha[nt] \d+ tokens/.test(formatted.message)) {
    code = 'TOO_MANY_TOKENS';
    formatted = { ...formatted, extensions: { ...formatted.extensions, code } };
  }
  // Public only with one of the known codes. Apollo labels any other thrown error (a driver
  // error, a bug) INTERNAL_SERVER_ERROR, which is not in the set: its message never leaves.
  if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) {
    const { stacktrace: _drop, refusal, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: typeof refusal === 'string' ? { ...extensions, code: refusal } : extensions };
  }
  return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL' } };
}

/**
 * `cache-control: no-store` on every GraphQL response, as Apollo's cache-control plugin sets it
 * when nothing carries a cache hint (none of our types or fields does). That plugin is disabled:
 * to compute hints it wraps every field's resolver (`willResolveField`), 4 % of a large
 * organisation scorecard's CPU, for a header that is always the same.
 */
const noStorePlugin: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        response.http.headers.set('cache-control', 'no-store');
      },
    };
  },
};

/**
 * The Apollo server of the API, not yet started: every GraphQL limit (tokens, depth, aliases,
 * then cost and authentication in the gate), error masking, and no schema details, batching or
 * persisted queries. HTTP is ours (src/http/graphql.ts calls `executeHTTPGraphQLRequest`), and so
 * are the queries Apollo has already validated (`prepared`, src/http/prepared-query.ts), which
 * share its gate, plugins' steps and error formatting.
 */
export function createApollo(
  config: Config,
  schema: GraphQLSchema,
  logger: Logger,
  readRouting: ReadRouting,
  principals: PrincipalCache | null,
): { apollo: ApolloServer<Context>; prepared: PreparedQueries } {
  const production = config.nodeEnv === 'production';
  const gate = createGate(config, schema, principals);
  const prepared = new PreparedQueries(schema, gate, readRouting, logger, formatError);
  const apollo = new ApolloServer<Context>({
    schema,
    formatError,
    introspection: !production,
    // No "Did you mean …?" field suggestions in production: they leak the schema.
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // No automatic persisted queries: clients send whole documents, and hashing each one costs.
    persistedQueries: false,
    parseOptions: { maxTokens: config.limits.tokens },
    validationRules: [knownOperationTypesRule, depthLimitRule(config.limits.depth), aliasLimitRule(config.limits.aliases)],
    // We own shutdown (see `close`): Apollo's own signal handlers would stop it under the
    // requests still in flight and re-raise the signal.
    stopOnTerminationSignals: false,
    // Order matters: the gate (cost, then authentication) runs before anything touches data; fact
    // connection queries are then executed by src/http/facts-execution.ts, handoff ingests whose
    // variables the gate read in one pass by src/http/ingest-execution.ts, the rest by graphql-js.
    // No landing page: Apollo's loads its sandbox from a CDN, which a machine without internet
    // cannot reach; browsers get the offline GraphiQL instead (src/http/ide.ts).
    // Apollo's own (JSON.stringify and a newline), except that a fact connection's page (or a fast
    // handoff ingest's payload) arrives already written as JSON bytes by its plan
    // (src/http/facts-execution.ts), which src/http/graphql.ts sends as they are.
    stringifyResult: apolloStringifyResult,
    plugins: [
      gatePlugin(
        gate,
        (source, document) => prepared.remember(source, document),
        (requestContext) => fastIngestCost(schema, requestContext),
      ),
      readRoutingPlugin(readRouting),
      graphqlLogPlugin(logger),
      factsExecutionPlugin(schema),
      ingestExecutionPlugin(),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      noStorePlugin,
    ],
  });
  return { apollo, prepared };
}
