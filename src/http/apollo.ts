import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { PUBLIC_ERROR_CODES } from '../common/errors';
import type { Config } from '../common/config';
import type { Context } from '../common/context';
import { apolloStringifyResult, factsExecutionPlugin } from './facts-execution';
import { gatePlugin } from './gate';
import { graphqlLogPlugin } from './graphql-log';
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
 * The Apollo server of the API, not yet started: every GraphQL limit (tokens, depth, aliases,
 * then cost and authentication in the gate), error masking, and no schema details, batching or
 * persisted queries. HTTP is ours (src/http/graphql.ts calls `executeHTTPGraphQLRequest`).
 */
export function createApollo(config: Config, schema: GraphQLSchema, logger: Logger, readRouting: ReadRouting, principals: PrincipalCache | null): ApolloServer<Context> {
  const production = config.nodeEnv === 'production';
  return new ApolloServer<Context>({
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
    // connection queries are then executed by src/http/facts-execution.ts, the rest by graphql-js.
    // No landing page: Apollo's loads its sandbox from a CDN, which a machine without internet
    // cannot reach; browsers get the offline GraphiQL instead (src/http/ide.ts).
    // Apollo's own (JSON.stringify and a newline), except that a fact connection's page arrives
    // already written as JSON bytes by its plan (src/http/facts-execution.ts), which
    // src/http/graphql.ts sends as they are.
    stringifyResult: apolloStringifyResult,
    plugins: [gatePlugin(config, schema, principals), readRoutingPlugin(readRouting), graphqlLogPlugin(logger), factsExecutionPlugin(schema), ApolloServerPluginLandingPageDisabled()],
  });
}
