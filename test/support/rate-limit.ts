import type { TestServer } from './server';

/** The RateLimit fields of an answer, as numbers (NaN where absent). */
export function fields(headers: Headers): { limit: number; remaining: number; reset: number } {
  return { limit: Number(headers.get('ratelimit-limit')), remaining: Number(headers.get('ratelimit-remaining')), reset: Number(headers.get('ratelimit-reset')) };
}

/** A GraphQL POST with a bearer token that may be made up (the typed client sends only real ones). */
export async function meAs(s: TestServer, token: string): Promise<Response> {
  return fetch(`${s.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { id } }' }),
  });
}
