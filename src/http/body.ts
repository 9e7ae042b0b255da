import type http from 'node:http';
import { sendError } from './respond';

/** Reads a body up to `limit` bytes; stops reading (and says so) as soon as it is larger. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean }> {
  // A declared length over the limit is refused before a byte is read.
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve({ text: '', tooLarge: true });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        // Drained, not kept: the client may still be sending, and the answer must reach it.
        req.resume();
        resolve({ text: '', tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve({ text: Buffer.concat(chunks).toString('utf8'), tooLarge: false });
    });
    req.on('error', reject);
  });
}

/**
 * The body of a GraphQL POST as Apollo takes it: parsed JSON for the JSON media types, the raw
 * text otherwise (Apollo answers those itself). Enforces the body limit while streaming, so an
 * oversized body is refused (413, connection closed) before any parsing; a JSON body that does
 * not parse is 400. Returns `{ answered: true }` when it has already answered.
 */
export async function readGraphQLBody(req: http.IncomingMessage, res: http.ServerResponse, limit: number): Promise<{ answered: true } | { answered: false; body: unknown }> {
  const read = await readBody(req, limit);
  if (read.tooLarge) {
    res.setHeader('connection', 'close');
    sendError(res, 413, 'PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${limit} bytes`);
    return { answered: true };
  }
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/json') && !type.startsWith('application/graphql-response+json')) return { answered: false, body: read.text };
  try {
    return { answered: false, body: read.text.length ? JSON.parse(read.text) : undefined };
  } catch {
    sendError(res, 400, 'BAD_REQUEST', 'Request body is not valid JSON');
    return { answered: true };
  }
}
