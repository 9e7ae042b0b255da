import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { AbandonedError } from '../common/bounds';
import { PUBLIC_ERROR_CODES } from '../common/errors';
import { capText, loggableError } from '../common/logging';
import type { Context } from '../common/context';

/** Notes the resolved operation's name (capped) for the access log and the metrics. */
export function noteOperation(contextValue: Context, operationName: string | null | undefined): void {
  contextValue.request.operationName = operationName ? capText(operationName, 100) : null;
}

/** Logs in full every error that is masked as INTERNAL (the client sees only "Internal server error"). */
export function logMaskedErrors(logger: Logger, contextValue: Context | undefined, errors: readonly GraphQLError[]): void {
  for (const error of errors) {
    const code = error.extensions?.code;
    if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) continue;
    // Work stopped because the client was already answered TIMEOUT: logged there.
    if (error.originalError instanceof AbandonedError) continue;
    logger.error({ reqId: contextValue?.request.requestId, err: loggableError(error.originalError ?? error), path: error.path }, 'unexpected error while executing GraphQL; masked as INTERNAL');
  }
}

/** Notes the codes of the errors sent (after masking) for the access log and the metrics. */
export function noteSentErrors(contextValue: Context, errors: readonly GraphQLFormattedError[] | undefined): void {
  for (const e of errors ?? []) contextValue.request.errorCodes.push(String(e.extensions?.code ?? 'INTERNAL'));
}

/**
 * Records, per GraphQL request, the resolved operation name and the codes of the errors sent
 * (after masking), for the access log and the metrics, and logs in full every error that is
 * masked as INTERNAL. The prepared-query path (src/http/prepared-query.ts) calls the same functions.
 */
export function graphqlLogPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operationName }) {
          noteOperation(contextValue, operationName);
        },
        async didEncounterErrors({ contextValue, errors }) {
          logMaskedErrors(logger, contextValue, errors);
        },
        async willSendResponse({ contextValue, response }) {
          if (!contextValue) return;
          noteSentErrors(contextValue, response.body.kind === 'single' ? response.body.singleResult.errors : undefined);
        },
      };
    },
  };
}
