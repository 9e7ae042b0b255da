import type http from 'node:http';

/**
 * One request as the routes see it. The GraphQL route fills `operationName` and `errorCodes`,
 * which the access log and the metrics read back once the answer is out.
 */
export interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  /** The client's `x-request-id` when safe, otherwise a fresh UUID; echoed and logged. */
  requestId: string;
  operationName: string | null;
  errorCodes: string[];
}

/**
 * A route of the HTTP edge: the methods it answers (any other is 404, as for an unknown path,
 * except where the route answers 405 itself) and its handler.
 */
export interface Route {
  methods: 'any' | readonly string[];
  handle(exchange: Exchange): Promise<void>;
}
