/*
 * Queries answered without Apollo's request pipeline (issue 19, goal 1: `{ me { id } }` and
 * `{ __typename }` near a bare Apollo's `{ hello }`). Apollo's pipeline costs per request: a hash
 * of the query text for its document cache, the `Accept` header negotiated twice, and a dozen
 * plugin hooks, each an async call. A query
 * whose text Apollo has already parsed and validated, sent with an `Accept` header Apollo has
 * already answered, is executed here instead, by graphql-js's own `execute` as Apollo calls it,
 * with the same steps Apollo's plugins take (src/http/gate.ts, read-routing, graphql-log) and the
 * response Apollo writes (its errors normalised and formatted the same way, the same headers).
 *
 * Everything else goes to Apollo: GET, mutations and subscriptions, fact connection queries
 * (src/http/facts-execution.ts), a body Apollo would refuse or treat specially (extensions,
 * variables that are not an object …), a document it has not validated (a parse or validation
 * error is always Apollo's answer), and a request the gate refuses, whose refusal Apollo then
 * answers (the gate does not run twice: the refusal is carried in the context). Since the
 * documents and the `Accept` values are those Apollo answered, validation (every rule, the
 * introspection switch included) and content negotiation are Apollo's own.
 */
import { HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { type DocumentNode, execute, type FormattedExecutionResult, getOperationAST, GraphQLError, type GraphQLFormattedError, type GraphQLSchema, Kind, type OperationDefinitionNode } from 'graphql';
import type { Logger } from 'pino';
import type { Context } from '../common/context';
import { chooseReadSource, READ_SOURCE_HEADER, type ReadRouting } from '../common/read-route';
import { isFactQuery, stringifyResult } from './facts-execution';
import type { Gate } from './gate';
import { logMaskedErrors, noteOperation, noteSentErrors } from './graphql-log';

/**
 * Query texts kept at most (the oldest go first), the longest text kept, and the most characters
 * of text kept in all: a parsed document is some tens of times its text, so this bounds the memory
 * of the documents to a few tens of MB whatever the clients send.
 */
const MAX_DOCUMENTS = 1000;
const MAX_QUERY_LENGTH = 16_384;
const MAX_TOTAL_LENGTH = 512 * 1024;
/** `Accept` values kept at most. */
const MAX_ACCEPTS = 100;

/** A query Apollo has validated, by its text. */
interface Prepared {
  document: DocumentNode;
  /** The operation for each `operationName` asked (the empty string for none), or null where it is not a plain query run here. */
  operations: Map<string, OperationDefinitionNode | null>;
}

/** A request the prepared path can answer: its document, operation and variables. */
export interface PreparedRequest {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
  contentType: string;
}

const isRecord = (o: unknown): o is Record<string, unknown> => !!o && typeof o === 'object' && !Buffer.isBuffer(o) && !Array.isArray(o);

export class PreparedQueries {
  private readonly documents = new Map<string, Prepared>();
  private readonly accepts = new Map<string, string>();
  /** Characters of the query texts kept. */
  private totalLength = 0;
  /** Requests answered here so far (for tests). */
  answeredHere = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly gate: Gate,
    private readonly routing: ReadRouting,
    private readonly logger: Logger,
    private readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
  ) {}

  /** Keeps a document Apollo parsed and validated from `source`, once its gate let a request of it through (src/http/gate.ts). */
  remember(source: string, document: DocumentNode): void {
    if (source.length > MAX_QUERY_LENGTH || this.documents.has(source)) return;
    while (this.documents.size && (this.documents.size >= MAX_DOCUMENTS || this.totalLength + source.length > MAX_TOTAL_LENGTH)) {
      const oldest = this.documents.keys().next().value as string;
      this.documents.delete(oldest);
      this.totalLength -= oldest.length;
    }
    this.documents.set(source, { document, operations: new Map() });
    this.totalLength += source.length;
  }

  /**
   * Keeps the content type Apollo chose for an `Accept` value (absent: the empty string), from an
   * answer of its pipeline (status 200), where the type is its negotiation's and not a default.
   */
  answered(accept: string | undefined, response: HTTPGraphQLResponse): void {
    if ((response.status ?? 200) !== 200 || response.body.kind !== 'complete') return;
    const type = response.headers.get('content-type');
    const key = accept ?? '';
    if (!type || this.accepts.has(key)) return;
    if (this.accepts.size >= MAX_ACCEPTS) this.accepts.delete(this.accepts.keys().next().value as string);
    this.accepts.set(key, type);
  }

  /** The request as the prepared path runs it, or null for Apollo. `body`: the parsed JSON body of a POST. */
  match(body: unknown, accept: string | undefined): PreparedRequest | null {
    // The checks of Apollo's POST (runHttpQuery): anything it would refuse or read otherwise is its own.
    if (!isRecord(body)) return null;
    const { query, variables, operationName, extensions } = body;
    if (typeof query !== 'string' || extensions !== undefined) return null;
    if (variables !== undefined && variables !== null && !isRecord(variables)) return null;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
    const contentType = this.accepts.get(accept ?? '');
    const prepared = contentType && this.documents.get(query);
    if (!prepared) return null;
    const name = typeof operationName === 'string' ? operationName : undefined;
    let operation = prepared.operations.get(name ?? '');
    if (operation === undefined) {
      const found = getOperationAST(prepared.document, name);
      operation = found && found.operation === 'query' && !isFactQuery(this.schema, found) ? found : null;
      prepared.operations.set(name ?? '', operation);
    }
    if (!operation) return null;
    return { document: prepared.document, operation, operationName: name, variables: isRecord(variables) ? variables : undefined, contentType };
  }

  /**
   * Runs a matched request: the gate, the read routing, execution and the answer, as Apollo would.
   * Resolves to null when Apollo must answer instead: the gate refused (the refusal is in
   * `ctx.request.gateRefusal`), or execution did not start (no data: variables, which the gate
   * has already coerced, or the operation).
   */
  async run(request: PreparedRequest, ctx: Context, forcePrimary: boolean): Promise<HTTPGraphQLResponse | null> {
    const { document, operation, operationName, variables } = request;
    const resolvedName = operation.name?.value || null;
    noteOperation(ctx, resolvedName);
    try {
      await this.gate(ctx, { document, operation, operationName: resolvedName ?? undefined, variables });
    } catch (refusal) {
      ctx.request.gateRefusal = refusal instanceof Error ? refusal : new Error(String(refusal));
      return null;
    }
    ctx.request.gated = true;
    chooseReadSource(ctx, this.routing, { mutation: false, forcePrimary });
    const result = await execute({ schema: this.schema, document, contextValue: ctx, variableValues: variables, operationName });
    if (result.data === undefined) return null;
    const headers = new HeaderMap();
    let status: number | undefined;
    let errors: GraphQLFormattedError[] | undefined;
    if (result.errors) {
      const resultErrors = result.errors.map(userInputError);
      logMaskedErrors(this.logger, ctx, resultErrors);
      errors = resultErrors.map((error) => {
        try {
          const { formatted, http } = enrich(error);
          if (http?.status) status = http.status;
          for (const [k, v] of http?.headers ?? []) headers.set(k, v);
          return this.formatError(formatted, error);
        } catch {
          return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
        }
      });
    }
    // What Apollo's plugins set as it sends, in their order: the read routing, then `no-store`
    // (src/http/apollo.ts's noStorePlugin, as the cache-control plugin it replaces set it), the codes for the log.
    headers.set(READ_SOURCE_HEADER, ctx.request.readSource);
    headers.set('cache-control', 'no-store');
    noteSentErrors(ctx, errors);
    headers.set('content-type', request.contentType);
    const body: FormattedExecutionResult = { errors, data: result.data, extensions: result.extensions };
    this.answeredHere++;
    return { status, headers, body: { kind: 'complete', string: stringifyResult(body) } };
  }
}

/** Apollo's UserInputError for a variable that does not coerce (`isBadUserInputGraphQLError` in its request pipeline). */
function userInputError(e: GraphQLError): GraphQLError {
  const node = e.nodes?.length === 1 ? e.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION || e.extensions?.code != null) return e;
  const prefix = `Variable "$${node.variable.name.value}" `;
  const bad = ['has invalid value', 'got invalid value ', 'of required type ', 'of non-null type '].some((p) => e.message.startsWith(prefix + p));
  return bad ? new GraphQLError(e.message, { nodes: e.nodes, originalError: e.originalError ?? e, extensions: { ...e.extensions, code: 'BAD_USER_INPUT' } }) : e;
}

/** Apollo's `enrichError` (normalizeAndFormatErrors): a code for every error, and its `http` extension taken out. */
function enrich(error: GraphQLError): { formatted: GraphQLFormattedError; http: { status?: number; headers?: Map<string, string> } | undefined } {
  const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions.code ?? 'INTERNAL_SERVER_ERROR' };
  const http = extensions.http as { status?: unknown; headers?: unknown } | undefined;
  let head: { status?: number; headers?: Map<string, string> } | undefined;
  if (!!http && typeof http === 'object' && (!('status' in http) || typeof http.status === 'number') && (!('headers' in http) || http.headers instanceof Map)) {
    head = http as { status?: number; headers?: Map<string, string> };
    delete extensions.http;
  }
  return { formatted: { ...error.toJSON(), extensions }, http: head };
}
