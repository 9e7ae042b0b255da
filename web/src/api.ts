/* The dashboard's one way to the API: GraphQL over POST /graphql with the token of this tab. */

const TOKEN_KEY = 'tiered-sla.token';

/** The API token of this browser tab: in session storage (gone with the tab), never in a URL. */
export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

/** A top-level GraphQL error (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND …). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** An expected failure of a mutation, naming the input field it concerns. */
export interface UserError {
  field: string | null;
  code: string;
  message: string;
}

/** Sends one operation; resolves to `data`, or rejects with the first error. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const token = session.token();
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length) {
    const [e] = body.errors;
    throw new ApiError(e.message, e.extensions?.code ?? 'UNKNOWN');
  }
  return body.data as T;
}
