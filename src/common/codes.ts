import type { EntityManager } from '@mikro-orm/core';
import { PostgreSqlPlatform } from '@mikro-orm/postgresql';

/**
 * Catalog codes (departments, services, metrics): upper case, so `mkt` and `MKT` cannot both
 * exist. Inputs are trimmed and upper-cased before this pattern is checked (see `normalizeCode`).
 */
export const CODE_PATTERN = /^\s*[A-Za-z][A-Za-z0-9_-]{1,39}\s*$/;
export const CODE_MESSAGE = 'code: expected 2 to 40 characters of letters, digits, _ or -, starting with a letter';

/** Trims and upper-cases a code. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}

/**
 * A filter matching rows whose code or name contains `text`, ignoring case, on both engines:
 * PostgreSQL's LIKE is case-sensitive (so ILIKE), SQLite's is not and it has no ILIKE. LIKE
 * wildcards in the text are dropped rather than escaped: SQLite has no default escape
 * character, and a code or name search for a bare `%` or `_` means nothing.
 */
export function codeOrNameContains(em: EntityManager, text: string): { $or: Array<Record<string, unknown>> } {
  const pattern = `%${text.trim().replace(/[\\%_]/g, '')}%`;
  const op = em.getPlatform() instanceof PostgreSqlPlatform ? '$ilike' : '$like';
  return { $or: [{ code: { [op]: pattern } }, { name: { [op]: pattern } }] };
}
