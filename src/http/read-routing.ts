import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../common/context';
import { chooseReadSource, READ_FROM_HEADER, READ_SOURCE_HEADER, readFromHeader, type ReadRouting } from '../common/read-route';

/**
 * Read replicas for GraphQL (src/common/read-route.ts). Before execution (after the gate has
 * authenticated), the request is routed: a mutation, a principal within its read-your-writes
 * window, or `X-Read-From: primary` reads from the primary, any other query's dashboard and BI
 * reads from a replica. A mutation notes its principal's write when it starts and again when it
 * answers, so the principal's next reads, on this instance, see it. The answer says where the
 * reads went (`X-Read-Source`). `X-Read-From` was checked by the route (400 when malformed).
 */
export function readRoutingPlugin(routing: ReadRouting): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      let mutation = false;
      return {
        // Not `executionDidStart`: a plugin after this one may answer in its own
        // `responseForOperation` (the fact connections, src/http/facts-execution.ts), and those hooks
        // run in order, after every `didResolveOperation` (the gate's authentication) has finished.
        async responseForOperation({ contextValue, operation, request }) {
          // No operation: an unknown operationName, which graphql-js answers with its error.
          mutation = operation?.operation === 'mutation';
          const header = readFromHeader(request.http?.headers.get(READ_FROM_HEADER) ?? undefined);
          chooseReadSource(contextValue, routing, { mutation, forcePrimary: 'forcePrimary' in header && header.forcePrimary });
          if (mutation && contextValue.principal) routing.writes.wrote(contextValue.principal.userId);
          return null;
        },
        async willSendResponse({ contextValue, response }) {
          if (mutation && contextValue.principal) routing.writes.wrote(contextValue.principal.userId);
          response.http.headers.set(READ_SOURCE_HEADER, contextValue.request.readSource);
        },
      };
    },
  };
}
