import type http from 'node:http';

/** Writes `payload` as a complete JSON answer with its length (no chunked encoding for small bodies). */
export function sendJson(res: http.ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Answers with one error in the GraphQL response shape (`{ errors: [{ message, extensions: { code } }] }`),
 * so clients read refusals from the HTTP edge (401, 404, 413, 429 …) the way they read GraphQL's.
 */
export function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}
