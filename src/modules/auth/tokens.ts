import { createHash, randomBytes } from 'node:crypto';

/** Every token starts with this, so leaked tokens are easy to recognise (and to scan for). */
export const TOKEN_PREFIX = 'tsla_';
/** Random bytes in a token's secret (the issue asks for at least 32). */
export const TOKEN_BYTES = 32;
/** Characters of the token kept in clear for recognition: `tsla_` and six of the secret. */
export const VISIBLE_PREFIX_LENGTH = TOKEN_PREFIX.length + 6;

/** A new random token: `tsla_` + 43 base64url characters (32 bytes). */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
}

/** What is stored and looked up: the hex SHA-256 of the whole token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The bearer token of an Authorization header: undefined when absent, null when malformed. */
export function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined || header === '') return undefined;
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]{10,512})\s*$/i.exec(header);
  return m ? m[1] : null;
}
